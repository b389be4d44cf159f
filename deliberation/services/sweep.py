"""The deliberation sweep (Celery beat, every 5 minutes): warn the community before a
proposal's review deadline, escalate to the street when it passed, flag overdue decisions.
Idempotent: each row is re-read under its lock and marked (warned/escalated/overdue_at), and
notifications are deduplicated, so a second or overlapping run changes nothing."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.workflow import lock, record
from deliberation.models import (
    DECISION_GRAPH,
    GRAPH,
    Decision,
    DecisionAction,
    DecisionEvent,
    DecisionState,
    DeliberationPolicy,
    Proposal,
    ProposalAction,
    ProposalEvent,
    ProposalState,
)
from deliberation.services._common import notify, now, staff_ids

OPEN = [ProposalState.COLLECTING, ProposalState.REVIEWING]


def _street_code(code: str) -> str:
    return code[:9] + "000"


def deliberation_sweep() -> dict[str, int]:
    moment = now()
    policy = DeliberationPolicy.get()
    counts = {"warned": 0, "escalated": 0, "overdue": 0}
    warn_before = moment + timedelta(days=policy.review_warn_days)
    for pk in Proposal.objects.filter(
        state__in=OPEN, review_due_at__lte=warn_before, review_warned_at__isnull=True
    ).values_list("pk", flat=True):
        with transaction.atomic():
            proposal = lock(Proposal, pk)
            if (
                proposal.state not in OPEN
                or proposal.review_warned_at
                or not proposal.review_due_at
            ):
                continue
            if not GRAPH.can(ProposalAction.WARN, proposal.state):
                continue
            proposal.review_warned_at = moment
            proposal.save(update_fields=["review_warned_at"])
            record(ProposalEvent, proposal, actor=None, action=ProposalAction.WARN, public=False)
            notify(
                staff_ids(proposal.region_code),
                _("Review due soon: %(title)s") % {"title": proposal.title},
                url=reverse("deliberation:proposal-detail", args=[pk]),
                key=f"deliberation:warn:{pk}",
            )
            counts["warned"] += 1
    for pk in Proposal.objects.filter(
        state__in=OPEN, review_due_at__lte=moment, review_escalated_at__isnull=True
    ).values_list("pk", flat=True):
        with transaction.atomic():
            proposal = lock(Proposal, pk)
            if (
                proposal.state not in OPEN
                or proposal.review_escalated_at
                or not proposal.review_due_at
            ):
                continue
            proposal.review_escalated_at = moment
            proposal.save(update_fields=["review_escalated_at"])
            record(ProposalEvent, proposal, actor=None, action=ProposalAction.ESCALATE)
            notify(
                staff_ids(_street_code(proposal.region_code)),
                _("Review overdue: %(title)s") % {"title": proposal.title},
                url=reverse("deliberation:proposal-detail", args=[pk]),
                key=f"deliberation:escalate:{pk}",
            )
            counts["escalated"] += 1
    today = timezone.localdate(moment)
    for pk in Decision.objects.filter(
        state__in=[DecisionState.OPEN, DecisionState.IN_PROGRESS],
        due_date__lt=today,
        overdue_at__isnull=True,
    ).values_list("pk", flat=True):
        with transaction.atomic():
            decision = lock(Decision, pk)
            if decision.overdue_at or not DECISION_GRAPH.can(
                DecisionAction.OVERDUE, decision.state
            ):
                continue
            decision.overdue_at = moment
            decision.save(update_fields=["overdue_at"])
            record(DecisionEvent, decision, actor=None, action=DecisionAction.OVERDUE)
            notify(
                [decision.carried_by_user_id, *staff_ids(decision.region_code)],
                _("Decision past its date: %(text)s") % {"text": decision.text[:80]},
                url=reverse("deliberation:decision-detail", args=[pk]),
                key=f"deliberation:overdue:{pk}",
            )
            counts["overdue"] += 1
    return counts
