"""Service records (confirm, correct), certificates and points (积分)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ConflictError, PermissionDeniedError
from core.workflow import lock
from volunteers import policies
from volunteers.models import (
    Certificate,
    PointEntry,
    PointRule,
    ServiceRecord,
    Volunteer,
    VolunteerState,
)
from volunteers.services._common import fail, not_found, now, text

ZERO = Decimal("0")


def _rules() -> dict[str, Decimal]:
    return {
        rule.kind: rule.points for rule in PointRule.objects.filter(active=True).order_by("kind")
    }


def points_for_record(service_record: ServiceRecord) -> tuple[Decimal, str]:
    """(points, reason) that the active rules give a confirmed record."""
    rules = _rules()
    claim = service_record.claim
    hazards = claim.hazards.count() if claim is not None else 0
    kind_rule = (
        PointRule.Kind.PER_SHIFT
        if service_record.task_kind == "shift"
        else PointRule.Kind.PER_PATROL
    )
    per_hour = rules.get(PointRule.Kind.PER_HOUR, ZERO)
    per_hazard = rules.get(PointRule.Kind.PER_HAZARD, ZERO)
    per_task = rules.get(kind_rule, ZERO)
    total = (service_record.hours * per_hour + hazards * per_hazard + per_task).quantize(
        Decimal("0.1")
    )
    reason = _(
        "%(hours)s h × %(per_hour)s, %(hazards)s hazard(s) × %(per_hazard)s, task %(task)s"
    ) % {
        "hours": service_record.hours,
        "per_hour": per_hour,
        "hazards": hazards,
        "per_hazard": per_hazard,
        "task": per_task,
    }
    return total, reason


def _record_locked(actor: User, record_id: int) -> ServiceRecord:
    service_record = lock(
        ServiceRecord.objects.select_related("volunteer", "claim"),
        record_id,
        not_found=not_found(_("Record not found.")),
    )
    if not policies.organises(actor, service_record.region_code):
        raise not_found(_("Record not found."))
    return service_record


def record_confirm(*, actor: User, record_id: int) -> ServiceRecord:
    """The organiser confirms a record (the only later write to a record); the points of the
    active rules go to the ledger (once per record: a unique constraint)."""
    with transaction.atomic():
        service_record = _record_locked(actor, record_id)
        if service_record.confirmed_at is not None:
            raise ConflictError(_("This record is already confirmed."))
        if hasattr(service_record, "corrected_by"):
            raise ConflictError(_("This record was corrected: confirm the correction."))
        service_record.confirmed_by = actor
        service_record.confirmed_at = now()
        service_record.save(update_fields=["confirmed_by", "confirmed_at"])
        points, reason = points_for_record(service_record)
        if points:
            PointEntry.objects.create(
                volunteer=service_record.volunteer,
                region_code=service_record.volunteer.region_code,
                kind=PointEntry.Kind.EARNED,
                points=points,
                reason=reason,
                record=service_record,
                created_by=actor,
            )
        return service_record


def record_correct(*, actor: User, record_id: int, hours: Any, reason: str) -> ServiceRecord:
    """A correction is a new record naming the one it corrects (which then no longer counts);
    points already given are corrected by a ledger row of the difference once it is confirmed."""
    reason_text = text(reason, "reason", required=True)
    try:
        new_hours = Decimal(str(hours)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise fail("hours", _("Enter the hours as a number.")) from None
    if not ZERO <= new_hours <= Decimal("24"):
        raise fail("hours", _("Between 0 and 24 hours."))
    with transaction.atomic():
        old = _record_locked(actor, record_id)
        if hasattr(old, "corrected_by"):
            raise ConflictError(_("This record was already corrected."))
        try:
            with transaction.atomic():
                correction = ServiceRecord.objects.create(
                    volunteer=old.volunteer,
                    claim=old.claim,
                    region_code=old.region_code,
                    content=old.content,
                    task_kind=old.task_kind,
                    place=old.place,
                    started_at=old.started_at,
                    ended_at=old.ended_at,
                    hours=new_hours,
                    organiser_name=old.organiser_name,
                    recorded_by=actor,
                    corrects=old,
                    correction_reason=reason_text,
                )
        except IntegrityError:
            raise ConflictError(_("This record was already corrected.")) from None
        earned = old.point_entries.aggregate(total=Sum("points"))["total"] or ZERO
        if earned:
            PointEntry.objects.create(
                volunteer=old.volunteer,
                region_code=old.volunteer.region_code,
                kind=PointEntry.Kind.CORRECTION,
                points=-earned,
                reason=_("Record corrected: %(reason)s") % {"reason": reason_text},
                record=old,
                created_by=actor,
            )
        return correction


def points_redeem(*, actor: User, volunteer_id: int, points: Any, reason: str) -> PointEntry:
    """Staff record a redemption (兑换): a negative ledger row, never beyond the balance."""
    reason_text = text(reason, "reason", required=True)
    try:
        amount = Decimal(str(points)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise fail("points", _("Enter the points as a number.")) from None
    if amount <= 0:
        raise fail("points", _("Redeem a positive number of points."))
    with transaction.atomic():
        volunteer = lock(Volunteer, volunteer_id, not_found=not_found(_("Volunteer not found.")))
        if not policies.organises(actor, volunteer.region_code):
            raise not_found(_("Volunteer not found."))
        balance = volunteer.points.aggregate(total=Sum("points"))["total"] or ZERO
        if amount > balance:
            raise fail("points", _("Only %(n)s points are available.") % {"n": balance})
        return PointEntry.objects.create(
            volunteer=volunteer,
            region_code=volunteer.region_code,
            kind=PointEntry.Kind.REDEEMED,
            points=-amount,
            reason=reason_text,
            created_by=actor,
        )


def certificate_issue(
    *, actor: User, volunteer_id: int | None = None, contact: str = "", person_in_charge: str = ""
) -> Certificate:
    """A numbered certificate of the confirmed hours, by activity. The volunteer asks for their
    own, or an organiser issues it; the issuer is the community that recorded the service
    ("谁记录谁证明")."""
    with transaction.atomic():
        if volunteer_id is None:
            volunteer = Volunteer.objects.filter(user_id=actor.pk).first()
            if volunteer is None or volunteer.state != VolunteerState.APPROVED:
                raise PermissionDeniedError(_("Only approved volunteers have a certificate."))
            volunteer = lock(Volunteer, volunteer.pk)
        else:
            volunteer = lock(
                Volunteer, volunteer_id, not_found=not_found(_("Volunteer not found."))
            )
            if not policies.organises(actor, volunteer.region_code):
                raise not_found(_("Volunteer not found."))
        rows = _confirmed_by_activity(volunteer)
        if not rows:
            raise ConflictError(_("There are no confirmed service records yet."))
        total = sum((Decimal(r["hours"]) for r in rows), ZERO)
        moment = now()
        # The volunteer row is locked: their own count + 1 is unique.
        count = volunteer.certificates.count() + 1
        year = timezone.localtime(moment).strftime("%Y")
        return Certificate.objects.create(
            number=f"ZYZM{year}{volunteer.region_code[:6]}{volunteer.pk:07d}{count:03d}",
            volunteer=volunteer,
            organiser_name=volunteer.community.name,
            person_in_charge=text(person_in_charge, "person_in_charge", limit=64),
            contact=text(contact, "contact", limit=64),
            total_hours=total,
            lines=rows,
        )


def _confirmed_by_activity(volunteer: Volunteer) -> list[dict[str, Any]]:
    from volunteers.selectors import records_counting

    totals: dict[tuple[str, str], Decimal] = {}
    for service_record in records_counting(volunteer).filter(confirmed_at__isnull=False):
        key = (service_record.content, service_record.organiser_name)
        totals[key] = totals.get(key, ZERO) + service_record.hours
    return [
        {"content": content, "organiser": organiser, "hours": str(hours)}
        for (content, organiser), hours in sorted(totals.items())
    ]
