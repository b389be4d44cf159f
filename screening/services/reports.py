"""The communities' monthly screening reports (零报告 included)."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import (
    ConflictError,
    PermissionDeniedError,
    ValidationFailed,
)
from grids.models import Region
from screening import policies, selectors
from screening.models import (
    Dispute,
    ReportState,
    ScreeningReport,
)
from screening.services._steps import (
    _now,
)


@transaction.atomic
def report_submit(
    *, actor: User, region_id: int, month: date, zero_report: bool, note: str = ""
) -> ScreeningReport:
    """A community's monthly report. `zero_report` (零报告) only when no dispute was logged in
    that community that month; the count is taken from the disputes themselves. A report after
    the sweep flagged it missing is kept as LATE; a second report for the month is refused."""
    region = Region.objects.filter(pk=region_id, level=Region.Level.COMMUNITY).first()
    if region is None:
        message = _("Choose a community.")
        raise ValidationFailed(message, extra={"region": [message]})
    if not policies.may_report(actor, region.code):
        raise PermissionDeniedError(_("You may not report for this community."))
    month = selectors.month_start(month)
    today = timezone.localdate()
    if month > selectors.month_start(today):
        message = _("A month not yet begun cannot be reported.")
        raise ValidationFailed(message, extra={"month": [message]})
    start, end = selectors.month_bounds(month)
    found = Dispute.objects.filter(
        region=region, registered_at__gte=start, registered_at__lt=end
    ).count()
    if zero_report and found:
        message = _("%(n)s disputes were logged that month: this is not a zero report.") % {
            "n": found
        }
        raise ValidationFailed(message, extra={"zero_report": [message]})
    if not zero_report and not found:
        message = _("No dispute was logged that month: tick the zero report.")
        raise ValidationFailed(message, extra={"zero_report": [message]})
    now = _now()
    report = ScreeningReport.objects.select_for_update().filter(region=region, month=month).first()
    if report is not None and report.state != ReportState.MISSING:
        raise ConflictError(_("This month is already reported."))
    if report is None:
        report = ScreeningReport(region=region, region_code=region.code, month=month)
        report.state = ReportState.REPORTED
    else:
        report.state = ReportState.LATE
    report.zero_report = zero_report
    report.disputes_found = found
    report.note = (note or "").strip()
    report.reported_by = actor
    report.reported_at = now
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        raise ConflictError(_("This month is already reported.")) from None
    return report
