"""The decision within 15 days (accept, transfer, not taken; the receiving unit's objection,
Art. 22-23), the start of handling and the one extension (Art. 34)."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import RoleCode, User
from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from core.services import notification_send
from grids.models import Region
from petitions import deadlines
from petitions.models import (
    Petition,
    PetitionAction,
)
from petitions.policies import covers, is_officer, is_supervisor
from petitions.services._steps import (
    S,
    _check_move,
    _default_language,
    _detail_url,
    _event,
    _lock,
    _move,
    _refresh_due,
    _require_officer,
    _tell_petitioner,
    officer_ids_for,
)


def _told(petition: Petition, now: datetime) -> None:
    if petition.told_at is None:
        petition.told_at = now
        petition.told_on_time = petition.accept_due_at is None or now <= petition.accept_due_at
        if not petition.told_on_time:
            petition.ever_overdue = True


def petition_accept(
    *, actor: User, petition_id: int, note: str = "", handling_unit: str = ""
) -> Petition:
    """Accept (受理): from received (this unit) or transferred (the receiving unit). Starts the
    60-day limit (Art. 34). Petition officer in scope; lock; petitioner told."""
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_officer(actor, petition, receiving_unit=petition.state == S.TRANSFERRED)
        _check_move(petition, S.ACCEPTED, PetitionAction.ACCEPTED)
        now = timezone.now()
        if (
            petition.state == S.TRANSFERRED
            and petition.accept_due_at
            and now > petition.accept_due_at
        ):
            petition.ever_overdue = True
        _told(petition, now)
        petition.accepted_at = now
        petition.reply_due_at = deadlines.reply_due(now)
        if petition.handling_region_id is None:
            petition.handling_region = actor.scope_region or petition.region
            petition.handling_region_code = petition.handling_region.code
        if handling_unit:
            petition.handling_unit = handling_unit.strip()
        petition.decision_note = note.strip()
        _move(petition, S.ACCEPTED, actor=actor, action=PetitionAction.ACCEPTED, note=note.strip())
        _refresh_due(petition)
        petition.save()
        with _default_language():
            _tell_petitioner(
                petition,
                key="accepted",
                title=_("Petition %(number)s accepted") % {"number": petition.tracking_number},
                body=_("A reply is due by %(date)s.")
                % {"date": timezone.localtime(petition.reply_due_at).strftime("%Y-%m-%d")},
            )
    return petition


def petition_transfer(
    *, actor: User, petition_id: int, to_region: Region, unit_name: str, note: str = ""
) -> Petition:
    """Transfer (转送/交办) to the unit with power to handle it; the petitioner is told where it
    went. The receiving unit has 15 days to tell the petitioner and 5 working days to object
    (Art. 23). Petition officer in scope; lock."""
    if to_region is None or not (unit_name or "").strip():
        raise ValidationFailed(
            _("Name the receiving unit and its region."),
            extra={"unit_name": [_("Name the receiving unit and its region.")]},
        )
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_officer(actor, petition)
        _check_move(petition, S.TRANSFERRED, PetitionAction.TRANSFERRED)
        now = timezone.now()
        _told(petition, now)
        petition.transferred_at = now
        petition.transfer_count += 1
        petition.handling_region = to_region
        petition.handling_region_code = to_region.code
        petition.handling_unit = unit_name.strip()
        petition.accept_due_at = deadlines.accept_due(now)
        petition.objection_due_at = deadlines.objection_due(now)
        _move(
            petition,
            S.TRANSFERRED,
            actor=actor,
            action=PetitionAction.TRANSFERRED,
            note=unit_name.strip() + (f" — {note.strip()}" if note.strip() else ""),
            data={"to_region": to_region.code},
        )
        _refresh_due(petition)
        petition.save()
        with _default_language():
            _tell_petitioner(
                petition,
                key=f"transferred-{petition.transfer_count}",
                title=_("Petition %(number)s transferred to %(unit)s")
                % {"number": petition.tracking_number, "unit": petition.handling_unit},
            )
        with _default_language():
            notification_send(
                user_ids=officer_ids_for(petition),
                title=_("Petition %(number)s transferred to you")
                % {"number": petition.tracking_number},
                body=_("Object within 5 working days if it is not yours."),
                url=_detail_url(petition),
                dedupe_key=f"petition-{petition.pk}-transfer-{petition.transfer_count}",
            )
    return petition


def petition_transfer_object(*, actor: User, petition_id: int, reason: str) -> Petition:
    """The receiving unit is not responsible: it objects within 5 working days (Art. 23) with
    its reasons and the petition goes back to the sender (received, 15 days to decide again).
    Petition officer of the receiving unit; lock."""
    if not (reason or "").strip():
        raise ValidationFailed(
            _("Give the reasons for the objection."),
            extra={"reason": [_("Give the reasons for the objection.")]},
        )
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_officer(actor, petition, receiving_unit=petition.state == S.TRANSFERRED)
        _check_move(petition, S.RECEIVED, PetitionAction.TRANSFER_OBJECTED)
        now = timezone.now()
        if petition.objection_due_at and now > petition.objection_due_at:
            raise ConflictError(
                _("The 5 working days to object to this transfer have passed (Art. 23).")
            )
        petition.handling_region = None
        petition.handling_region_code = ""
        petition.handling_unit = ""
        petition.objection_due_at = None
        petition.accept_due_at = deadlines.accept_due(now)
        _move(
            petition,
            S.RECEIVED,
            actor=actor,
            action=PetitionAction.TRANSFER_OBJECTED,
            note=reason.strip(),
            public=False,
        )
        _refresh_due(petition)
        petition.save()
        with _default_language():
            notification_send(
                user_ids=officer_ids_for(petition),
                title=_("Transfer of %(number)s objected") % {"number": petition.tracking_number},
                body=reason.strip(),
                url=_detail_url(petition),
                dedupe_key=f"petition-{petition.pk}-objected-{petition.transfer_count}",
            )
    return petition


def petition_decline(
    *, actor: User, petition_id: int, reason: str, legal_basis: str = ""
) -> Petition:
    """Not taken (不予受理): outside the powers of this system; the petitioner is told in writing
    where to go (Art. 23). Petition officer in scope; lock."""
    if not (reason or "").strip():
        raise ValidationFailed(
            _("Tell the petitioner why and where to go."),
            extra={"reason": [_("Tell the petitioner why and where to go.")]},
        )
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_officer(actor, petition)
        _check_move(petition, S.NOT_TAKEN, PetitionAction.NOT_TAKEN)
        now = timezone.now()
        _told(petition, now)
        note = reason.strip() + (f" ({legal_basis.strip()})" if legal_basis.strip() else "")
        petition.decision_note = note
        _move(petition, S.NOT_TAKEN, actor=actor, action=PetitionAction.NOT_TAKEN, note=note)
        _refresh_due(petition)
        petition.save()
        with _default_language():
            _tell_petitioner(
                petition,
                key="not_taken",
                title=_("Petition %(number)s not taken") % {"number": petition.tracking_number},
                body=note,
            )
    return petition


def petition_start_handling(
    *, actor: User, petition_id: int, handler: User | None = None
) -> Petition:
    """Assign the handling officer (accepted → in handling). Petition officer in scope."""
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_officer(actor, petition)
        handler = handler or actor
        if not is_officer(handler) or not covers(handler, petition):
            raise ValidationFailed(
                _("The handling officer must be a petition officer of this area."),
                extra={
                    "handler": [_("The handling officer must be a petition officer of this area.")]
                },
            )
        _check_move(petition, S.IN_HANDLING, PetitionAction.HANDLING_STARTED)
        petition.handler = handler
        _move(
            petition,
            S.IN_HANDLING,
            actor=actor,
            action=PetitionAction.HANDLING_STARTED,
            data={"handler": handler.pk},
        )
        _refresh_due(petition)
        petition.save()
    return petition


def petition_extension_request(
    *, actor: User, petition_id: int, days: int, reason: str
) -> Petition:
    """Ask the unit head for the one extension Art. 34 allows (at most 30 days), before the
    reply deadline. Petition officer in scope; the supervisors in scope are notified."""
    if not (reason or "").strip():
        raise ValidationFailed(
            _("Give the reason for the extension."),
            extra={"reason": [_("Give the reason for the extension.")]},
        )
    if not isinstance(days, int) or days < 1 or days > deadlines.MAX_EXTENSION_DAYS:
        raise ValidationFailed(
            _("An extension is 1 to 30 days (Art. 34)."),
            extra={"days": [_("An extension is 1 to 30 days (Art. 34).")]},
        )
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_officer(actor, petition)
        _check_move(petition, S.EXTENDED, PetitionAction.EXTENDED)
        if petition.extension_days or petition.extension_requested_at:
            raise ConflictError(_("A petition may be extended only once (Art. 34)."))
        if petition.reply_due_at and timezone.now() > petition.reply_due_at:
            raise ConflictError(_("The reply deadline has passed; it can no longer be extended."))
        petition.extension_requested_at = timezone.now()
        petition.extension_requested_days = days
        petition.extension_reason = reason.strip()
        _event(
            petition,
            actor=actor,
            action=PetitionAction.EXTENSION_REQUESTED,
            note=reason.strip(),
            public=False,
            data={"days": days},
        )
        petition.save()
        with _default_language():
            notification_send(
                user_ids=officer_ids_for(petition, roles=(RoleCode.SUPERVISOR,)),
                title=_("Extension requested for %(number)s")
                % {"number": petition.tracking_number},
                body=reason.strip(),
                url=_detail_url(petition),
                dedupe_key=f"petition-{petition.pk}-extension-request",
            )
    return petition


def petition_extension_decide(
    *, actor: User, petition_id: int, approve: bool, note: str = ""
) -> Petition:
    """The unit head (a supervisor in scope) approves or refuses the requested extension.
    Approved: the reply deadline becomes 60 + n days from acceptance, and the petitioner is
    told the reason (Art. 34). Lock."""
    with transaction.atomic():
        petition = _lock(petition_id)
        if not is_supervisor(actor):
            raise PermissionDeniedError(_("Only the head of the unit approves an extension."))
        if not covers(actor, petition):
            raise NotFoundError(_("Petition not found."))
        if not petition.extension_requested_at or petition.extension_days:
            raise ConflictError(_("No extension is waiting for a decision."))
        if not approve:
            _event(
                petition,
                actor=actor,
                action=PetitionAction.EXTENSION_REFUSED,
                note=note.strip(),
                public=False,
                data={"days": petition.extension_requested_days},
            )
            petition.extension_requested_at = None
            petition.extension_requested_days = 0
            petition.save()
            return petition
        if petition.reply_due_at and timezone.now() > petition.reply_due_at:
            raise ConflictError(_("The reply deadline has passed; it can no longer be extended."))
        days = min(petition.extension_requested_days, deadlines.MAX_EXTENSION_DAYS)
        petition.extension_days = days
        petition.extension_approved_by = actor
        if petition.accepted_at is None:  # an extension is asked only after acceptance
            raise AssertionError("an extension is asked only after acceptance")
        petition.reply_due_at = deadlines.reply_due(petition.accepted_at, days)
        _move(
            petition,
            S.EXTENDED,
            actor=actor,
            action=PetitionAction.EXTENDED,
            note=petition.extension_reason,
            data={"days": days},
        )
        _refresh_due(petition)
        petition.save()
        with _default_language():
            _tell_petitioner(
                petition,
                key="extended",
                title=_("Petition %(number)s: handling extended by %(days)s days")
                % {"number": petition.tracking_number, "days": days},
                body=_("Reason: %(reason)s. New reply date: %(date)s.")
                % {
                    "reason": petition.extension_reason,
                    "date": timezone.localtime(petition.reply_due_at).strftime("%Y-%m-%d"),
                },
            )
    return petition
