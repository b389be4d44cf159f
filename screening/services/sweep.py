"""The sweeps: follow-ups past the colour's deadline, communities that have not reported."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.services import Notice, notifications_send_many
from grids.models import Region
from screening import policies, selectors
from screening.models import (
    OPEN_STATES,
    Dispute,
    ReportState,
    ScreeningReport,
)
from screening.services._steps import (
    A,
    _event,
    _level_label,
    _now,
    _url,
    _users_with,
)

# --- the sweeps -------------------------------------------------------------------------------


def dispute_flag_overdue(*, dispute_id: int, now: datetime | None = None) -> bool:
    """Flag one open dispute whose follow-up is past due (a timeline row, and the registrar and
    the street's 综治 staff told once per deadline). Re-reads under the lock; False when it has
    moved on (followed up, closed, already flagged)."""
    now = now or _now()
    with transaction.atomic():
        dispute = Dispute.objects.select_for_update().filter(pk=dispute_id).first()
        if (
            dispute is None
            or dispute.state not in OPEN_STATES
            or dispute.overdue
            or dispute.follow_up_due_at is None
            or dispute.follow_up_due_at > now
        ):
            return False
        dispute.overdue = True
        dispute.save(update_fields=["overdue", "updated_at"])
        _event(
            dispute,
            actor=None,
            action=A.OVERDUE,
            data={"due": dispute.follow_up_due_at.isoformat(), "level": dispute.level},
        )
        recipients = {dispute.registered_by_id}
        if dispute.region.parent_id is not None:
            recipients |= _users_with(
                policies.STREET_ALERT_ROLES, scope_region_id=dispute.region.parent_id
            )
        notifications_send_many(
            Notice(
                user_id=pk,
                title=_("Follow-up overdue: dispute %(number)s (%(level)s)")
                % {"number": dispute.number, "level": _level_label(dispute.level)},
                url=_url(dispute),
                dedupe_key=f"screening:{dispute.pk}:overdue:{dispute.follow_up_due_at.isoformat()}",
            )
            for pk in sorted(p for p in recipients if p)
        )
        return True


def disputes_sweep_deadlines(now: datetime | None = None) -> dict[str, int]:
    """Flag every open dispute past its follow-up deadline (each under its own lock)."""
    now = now or _now()
    ids = list(
        Dispute.objects.filter(
            state__in=OPEN_STATES, overdue=False, follow_up_due_at__lte=now
        ).values_list("pk", flat=True)
    )
    flagged = sum(1 for pk in ids if dispute_flag_overdue(dispute_id=pk, now=now))
    return {"overdue": flagged}


def report_due_day() -> int:
    """Reports for a month are due by this day of the next month (settings, default the 5th)."""
    return int(getattr(settings, "SCREENING_REPORT_DUE_DAY", 5))


def reports_sweep_missing(now: datetime | None = None) -> dict[str, int]:
    """After the due day, every community without a report for the previous month gets a
    MISSING row (flagged) and its staff and the street's 综治 staff are told. Idempotent: the
    unique (community, month) row is made once; notices are deduped."""
    now = now or _now()
    today = timezone.localtime(now).date()
    if today.day < report_due_day():
        return {"flagged": 0}
    month = selectors.previous_month(today)
    reported = set(ScreeningReport.objects.filter(month=month).values_list("region_id", flat=True))
    flagged = 0
    for region in Region.objects.filter(level=Region.Level.COMMUNITY).exclude(pk__in=reported):
        with transaction.atomic():
            _report, created = ScreeningReport.objects.get_or_create(
                region=region,
                month=month,
                defaults={
                    "region_code": region.code,
                    "state": ReportState.MISSING,
                    "flagged_at": now,
                },
            )
            if not created:
                continue
            flagged += 1
            recipients = _users_with(policies.COMMUNITY_ALERT_ROLES, scope_region_id=region.pk)
            if region.parent_id is not None:
                recipients |= _users_with(
                    policies.STREET_ALERT_ROLES, scope_region_id=region.parent_id
                )
            notifications_send_many(
                Notice(
                    user_id=pk,
                    title=_("%(community)s has not sent its screening report for %(month)s")
                    % {"community": region.name, "month": f"{month:%Y-%m}"},
                    url=reverse("screening:reports"),
                    dedupe_key=f"screening:report:{region.pk}:{month:%Y-%m}:missing",
                )
                for pk in sorted(recipients)
            )
    return {"flagged": flagged}
