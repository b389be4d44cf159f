"""The deadline sweep (Celery beat, petitions.tasks.sweep_deadlines)."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import RoleCode
from core import workflow
from core.exceptions import ConflictError, NotFoundError
from core.services import notification_send
from petitions import deadlines
from petitions.models import (
    OPEN_STATES,
    BacklogReason,
    Petition,
    PetitionAction,
    PetitionPolicy,
)
from petitions.services._steps import (
    S,
    _default_language,
    _detail_url,
    _event,
    _mark_backlog,
    officer_ids_for,
)
from petitions.services.closing import petition_close


def petitions_sweep_deadlines(*, now: datetime | None = None) -> dict[str, int]:
    """Warn officers before each deadline, flag what is overdue (it joins the backlog), and
    close replied/reviewed petitions whose window to ask further has passed and re-examined
    ones. Idempotent: each petition is re-read under a lock, notifications are deduped."""
    now = now or timezone.now()
    counts = {"warned": 0, "overdue": 0, "closed": 0}
    warn_until = now + timedelta(days=deadlines.warn_before_days(PetitionPolicy.current()))

    to_warn = Petition.objects.filter(
        state__in=OPEN_STATES, due_at__gt=now, due_at__lte=warn_until
    ).exclude(warned_for=F("due_at"))
    for petition_id in list(to_warn.values_list("pk", flat=True)):
        with transaction.atomic():
            petition = workflow.lock(Petition, petition_id)
            if petition.due_at is None or petition.warned_for == petition.due_at:
                continue
            if not (now < petition.due_at <= warn_until):
                continue
            with _default_language():
                notification_send(
                    user_ids=officer_ids_for(petition),
                    title=_("Petition %(number)s is due %(date)s")
                    % {
                        "number": petition.tracking_number,
                        "date": timezone.localtime(petition.due_at).strftime("%Y-%m-%d"),
                    },
                    body=petition.get_state_display(),
                    url=_detail_url(petition),
                    dedupe_key=f"petition-{petition.pk}-warn-{petition.state}-{petition.due_at:%Y%m%d}",
                )
            Petition.objects.filter(pk=petition.pk).update(warned_for=petition.due_at)
            counts["warned"] += 1

    to_flag = Petition.objects.filter(state__in=OPEN_STATES, due_at__lt=now, overdue=False)
    for petition_id in list(to_flag.values_list("pk", flat=True)):
        with transaction.atomic():
            petition = workflow.lock(Petition, petition_id)
            if petition.overdue or petition.due_at is None or petition.due_at >= now:
                continue
            petition.overdue = True
            petition.overdue_since = now
            petition.ever_overdue = True
            _mark_backlog(petition, BacklogReason.OVERDUE, now)
            _event(
                petition,
                actor=None,
                action=PetitionAction.OVERDUE,
                public=False,
                data={"state": petition.state, "due_at": petition.due_at.isoformat()},
            )
            petition.save()
            with _default_language():
                notification_send(
                    user_ids=officer_ids_for(petition)
                    + officer_ids_for(petition, roles=(RoleCode.SUPERVISOR,)),
                    title=_("Petition %(number)s is overdue")
                    % {"number": petition.tracking_number},
                    body=petition.get_state_display(),
                    url=_detail_url(petition),
                    dedupe_key=f"petition-{petition.pk}-overdue-{petition.state}-{petition.due_at:%Y%m%d}",
                )
            counts["overdue"] += 1

    closable = Petition.objects.filter(
        Q(state=S.REEXAMINED)
        | Q(state=S.REPLIED, review_request_due_at__lt=now)
        | Q(state=S.REVIEWED, reexam_request_due_at__lt=now)
    )
    for petition_id in list(closable.values_list("pk", flat=True)):
        try:
            petition_close(actor=None, petition_id=petition_id)
        except (ConflictError, NotFoundError):
            continue  # the state moved on meanwhile
        counts["closed"] += 1
    return counts
