"""The mediation agreement (调解协议书, 人民调解法 Art. 28-30): record it, sign it, seal it; a
written agreement takes effect on the latest signature or seal date (Art. 29).
"""

from datetime import date, datetime, timedelta
from datetime import time as dtime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.calendar import add_calendar_days_statutory
from core.exceptions import (
    ConflictError,
    PermissionDeniedError,
    ValidationFailed,
)
from mediation.models import (
    AgreementSignature,
    CaseAction,
    CaseOutcome,
    CaseState,
    MediationAgreement,
    MediationCase,
    MediationPolicy,
)
from mediation.selectors import user_is_room_staff
from mediation.services._steps import (
    CLOCK_TOLERANCE,
    CONFIRMATION_DAYS,
    _case_for_update,
    _conclude,
    _event,
    _notify_parties,
    _require_staff,
    _require_state,
    _required_text,
    _room_mediator,
)

# --- agreement ----------------------------------------------------------------------------


def _parties_details(case: MediationCase) -> str:
    lines = []
    for party in case.parties.all():
        line = f"{party.get_role_display()}：{party.name}"
        if party.address:
            line += f"，{party.address}"
        lines.append(line)
    return "\n".join(lines)


def _written_agreement_takes_effect_at(
    case: MediationCase, agreement: MediationAgreement
) -> datetime | None:
    """When a written agreement took effect (人民调解法 Art. 29): the latest of every party's
    signature, the mediator's signature and the committee's seal, as dated on the agreement.
    None while one of them is missing."""
    if agreement.sealed_at is None:
        return None
    signatures = list(agreement.signatures.values_list("party_id", "signed_at"))
    signed_parties = {party_id for party_id, _at in signatures if party_id is not None}
    if not set(case.parties.values_list("pk", flat=True)) <= signed_parties:
        return None
    if not any(party_id is None for party_id, _at in signatures):
        return None
    return max([agreement.sealed_at, *(at for _party, at in signatures)])


def _agreement_effective(
    case: MediationCase,
    agreement: MediationAgreement,
    actor: User,
    effective_at: datetime | None = None,
) -> None:
    """The agreement is in effect from `effective_at` (default: now, for an oral agreement):
    the judicial confirmation window (Art. 33) counts from that date, not from data entry."""
    now = timezone.now()
    effective_at = effective_at or now
    agreement.effective_at = effective_at
    agreement.save()
    policy = MediationPolicy.current()
    if agreement.form == MediationAgreement.Form.WRITTEN:
        case.confirmation_due_at = add_calendar_days_statutory(effective_at, CONFIRMATION_DAYS)
    base_day = max(agreement.performance_deadline or now.date(), timezone.localdate(now))
    case.follow_up_due_at = datetime.combine(
        base_day + timedelta(days=policy.follow_up_days),
        dtime(17, 30),
        tzinfo=timezone.get_current_timezone(),
    )
    _conclude(
        case,
        actor=actor,
        target=CaseState.AGREEMENT_REACHED,
        outcome=CaseOutcome.AGREEMENT,
        action=CaseAction.AGREEMENT_EFFECTIVE,
        note=agreement.terms[:500],
        data={"form": agreement.form, "effective_at": effective_at.isoformat()},
    )
    _notify_parties(
        case,
        title=_("Mediation agreement in effect: %(number)s") % {"number": case.case_number},
        body=agreement.terms[:500],
        key="agreement_effective",
        sms_text=_("The mediation agreement of case %(number)s is in effect.")
        % {"number": case.case_number},
    )


@transaction.atomic
def agreement_record(
    *,
    actor: User,
    case_id: int,
    form: str,
    facts: str,
    disputed_matters: str,
    terms: str,
    performance_method: str,
    responsibilities: str = "",
    performance_deadline: date | None = None,
) -> MediationAgreement:
    """Record the agreement reached in session (Art. 29 fields). Written: it waits for every
    party's and the mediator's signature and the committee's seal. Oral (Art. 28): recorded by
    the mediator and in effect at once (Art. 30), so the case becomes "agreement reached". A
    written agreement may be corrected until the first signature or the seal."""
    if form not in MediationAgreement.Form.values:
        message = _("Choose written or oral.")
        raise ValidationFailed(message, extra={"form": [message]})
    facts = _required_text(facts, "facts", _("State the main facts."))
    disputed_matters = _required_text(
        disputed_matters, "disputed_matters", _("State the disputed matters.")
    )
    terms = _required_text(terms, "terms", _("State what was agreed."))
    performance_method = _required_text(
        performance_method,
        "performance_method",
        _("State how and by when the agreement is performed."),
    )
    case = _case_for_update(case_id, actor)
    _require_staff(actor, case)
    _require_state(case, (CaseState.IN_SESSION,))
    if performance_deadline is not None and performance_deadline < timezone.localdate():
        message = _("The performance deadline is in the past.")
        raise ValidationFailed(message, extra={"performance_deadline": [message]})
    if case.mediator_id is None:
        case.mediator = _room_mediator(case.room_id, actor.pk)
        case.save()
    agreement = MediationAgreement.objects.select_for_update().filter(case=case).first()
    if agreement is not None and agreement.signatures.exists():
        raise ConflictError(_("The agreement has signatures; it can no longer be changed."))
    if agreement is not None and agreement.is_sealed:
        raise ConflictError(_("The agreement is sealed; it can no longer be changed."))
    if agreement is None:
        agreement = MediationAgreement(case=case, recorded_by=actor)
    agreement.form = form
    agreement.parties_details = _parties_details(case)
    agreement.facts = facts
    agreement.disputed_matters = disputed_matters
    agreement.responsibilities = (responsibilities or "").strip()
    agreement.terms = terms
    agreement.performance_method = performance_method
    agreement.performance_deadline = performance_deadline
    agreement.recorded_by = actor
    agreement.save()
    _event(case, actor=actor, action=CaseAction.AGREEMENT_RECORDED, data={"form": form})
    if form == MediationAgreement.Form.ORAL:
        _agreement_effective(case, agreement, actor)
    else:
        _notify_parties(
            case,
            title=_("Mediation agreement ready to sign: %(number)s") % {"number": case.case_number},
            body=terms[:500],
            key=f"agreement:{agreement.pk}:{agreement.updated_at:%Y%m%d%H%M%S%f}",
        )
    return agreement


@transaction.atomic
def agreement_sign(
    *,
    actor: User,
    case_id: int,
    party_id: int | None,
    method: str = AgreementSignature.Method.SIGNATURE,
    signed_at: datetime | None = None,
) -> AgreementSignature:
    """Record one signature (signature, seal or fingerprint) on the written agreement: a party's
    (recorded by a mediator of the room, or by the party's own account) or, with party_id None,
    the case mediator's. `signed_at` may be back-dated to the day it was signed on paper. Once
    every party and the mediator have signed and the committee has sealed it (agreement_seal),
    the agreement is in effect from the latest of those dates (Art. 29)."""
    case = _case_for_update(case_id, actor)
    agreement = MediationAgreement.objects.select_for_update().filter(case=case).first()
    if agreement is None:
        raise ConflictError(_("No agreement has been recorded yet."))
    if agreement.form != MediationAgreement.Form.WRITTEN:
        raise ConflictError(_("An oral agreement takes effect when it is recorded."))
    if agreement.is_effective:
        raise ConflictError(_("The agreement is already in effect."))
    _require_state(case, (CaseState.IN_SESSION,))
    if method not in AgreementSignature.Method.values:
        message = _("Choose signature, seal or fingerprint.")
        raise ValidationFailed(message, extra={"method": [message]})
    now = timezone.now()
    signed_at = signed_at or now
    if signed_at > now + CLOCK_TOLERANCE:
        message = _("A signature cannot be dated in the future.")
        raise ValidationFailed(message, extra={"signed_at": [message]})
    staff = user_is_room_staff(actor, case.room_id)
    party = None
    if party_id is None:
        if not (actor.pk == case.mediator_id or actor.is_portal_admin):
            raise PermissionDeniedError(_("Only the case's mediator signs as mediator."))
        signer_name = str(case.mediator)
    else:
        party = case.parties.filter(pk=party_id).first()
        if party is None:
            message = _("This person is not a party to the case.")
            raise ValidationFailed(message, extra={"party": [message]})
        if not (staff or (party.user_id is not None and party.user_id == actor.pk)):
            raise PermissionDeniedError(_("Only the party or a mediator may record this."))
        signer_name = party.name
    if agreement.signatures.filter(party=party).exists():
        raise ConflictError(_("%(name)s has already signed.") % {"name": signer_name})
    signature = AgreementSignature.objects.create(
        agreement=agreement,
        party=party,
        signer_name=signer_name,
        method=method,
        signed_at=signed_at,
        recorded_by=actor,
    )
    _event(
        case,
        actor=actor,
        action=CaseAction.AGREEMENT_SIGNED,
        note=signer_name,
        data={"party_id": party_id, "method": method, "signed_at": signed_at.isoformat()},
    )
    effective_at = _written_agreement_takes_effect_at(case, agreement)
    if effective_at is not None:
        _agreement_effective(case, agreement, actor, effective_at)
    return signature


@transaction.atomic
def agreement_seal(
    *, actor: User, case_id: int, sealed_at: datetime | None = None
) -> MediationAgreement:
    """Record that the people's mediation committee sealed the written agreement (加盖人民调解
    委员会印章, 人民调解法 Art. 29), applied by a mediator of the room (or an admin). `sealed_at`
    may be back-dated to the day the seal was applied on paper, but not into the future nor
    before the agreement was recorded. With every signature there, the agreement is in effect
    from the latest of the signatures' and the seal's dates."""
    case = _case_for_update(case_id, actor)
    agreement = MediationAgreement.objects.select_for_update().filter(case=case).first()
    if agreement is None:
        raise ConflictError(_("No agreement has been recorded yet."))
    if agreement.form != MediationAgreement.Form.WRITTEN:
        raise ConflictError(_("An oral agreement takes effect when it is recorded."))
    if agreement.is_effective:
        raise ConflictError(_("The agreement is already in effect."))
    _require_state(case, (CaseState.IN_SESSION,))
    _require_staff(actor, case)
    if agreement.is_sealed:
        raise ConflictError(_("The committee's seal has already been applied."))
    now = timezone.now()
    sealed_at = sealed_at or now
    if timezone.is_naive(sealed_at):
        sealed_at = timezone.make_aware(sealed_at)
    if sealed_at > now + CLOCK_TOLERANCE:
        message = _("The seal cannot be dated in the future.")
        raise ValidationFailed(message, extra={"sealed_at": [message]})
    if sealed_at < agreement.created_at:
        message = _("The seal cannot be dated before the agreement was recorded.")
        raise ValidationFailed(message, extra={"sealed_at": [message]})
    agreement.sealed_at = sealed_at
    agreement.sealed_by = actor
    agreement.save()
    _event(
        case,
        actor=actor,
        action=CaseAction.AGREEMENT_SEALED,
        note=case.room.name,
        data={"sealed_at": sealed_at.isoformat()},
    )
    effective_at = _written_agreement_takes_effect_at(case, agreement)
    if effective_at is not None:
        _agreement_effective(case, agreement, actor, effective_at)
    return agreement
