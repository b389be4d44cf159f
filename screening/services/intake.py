"""Logging a dispute: parties (linked to registry people), factors, the place, the colour from
the rules (raised by hand with a reason), the alert."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User, mainland_mobile_validator
from accounts.selectors import user_scope
from core.exceptions import (
    ConflictError,
    PermissionDeniedError,
    ValidationFailed,
)
from grids.models import GridCell, Region
from screening import policies, rules
from screening.models import (
    LEVEL_RANK,
    Dispute,
    DisputeKind,
    DisputeParty,
    DisputeSource,
    PartySide,
    RiskFactor,
    RiskLevel,
)
from screening.services._steps import (
    MAX_PARTIES,
    A,
    _alert,
    _event,
    _factors,
    _level_label,
    _now,
    _policy,
    _required,
)

# --- register -------------------------------------------------------------------------------


def _clean_parties(parties: Sequence[dict], *, actor: User) -> list[dict]:
    """Validate the parties: a side each, a name (or a linked person record the actor sees,
    whose name and phone are then taken), a well-formed phone. Raises ValidationFailed listing
    every problem, so bad input never half-writes a dispute."""
    from screening import people

    rows = list(parties or [])
    linked = people.persons_visible(actor, [raw.get("person_id") for raw in rows])
    errors: list[str] = []
    cleaned: list[dict] = []
    for index, raw in enumerate(rows):
        number = index + 1
        name = (raw.get("name") or "").strip()
        phone = (raw.get("phone") or "").strip()
        side = (raw.get("side") or "").strip()
        person_id = raw.get("person_id") or None
        if not name and not phone and not person_id:
            continue  # an empty row of the form
        person = linked.get(int(person_id)) if person_id else None
        if person_id and person is None:
            errors.append(_("Party %(n)s: person record not found.") % {"n": number})
        if person is not None:
            name = name or person.name
            phone = phone or person.phone
        if not name:
            errors.append(_("Party %(n)s: the name is required.") % {"n": number})
        elif len(name) > 64:
            errors.append(_("Party %(n)s: the name is too long.") % {"n": number})
        if side not in PartySide.values:
            errors.append(_("Party %(n)s: choose a side.") % {"n": number})
        if phone:
            try:
                mainland_mobile_validator(phone)
            except DjangoValidationError:
                errors.append(_("Party %(n)s: the phone number is not valid.") % {"n": number})
        cleaned.append(
            {
                "name": name,
                "phone": phone,
                "side": side,
                "vulnerable": bool(raw.get("vulnerable")),
                "person_id": person.pk if person is not None else None,
            }
        )
    if not cleaned:
        errors.append(_("Name at least one party."))
    if len(cleaned) > MAX_PARTIES:
        errors.append(_("At most %(n)s parties.") % {"n": MAX_PARTIES})
    if errors:
        raise ValidationFailed(errors[0], extra={"parties": errors})
    return cleaned


def _location(actor: User, region_code: str, cell_id: int | None) -> tuple[Region, GridCell | None]:
    cell = None
    if cell_id:
        cell = GridCell.objects.select_related("community").filter(pk=cell_id).first()
        if cell is None:
            message = _("Choose a grid cell.")
            raise ValidationFailed(message, extra={"grid_cell": [message]})
        region = cell.community
    else:
        found = Region.objects.filter(code=region_code, level=Region.Level.COMMUNITY).first()
        if found is None:
            message = _("Choose the community where the dispute arose.")
            raise ValidationFailed(message, extra={"region": [message]})
        region = found
    if not actor.is_portal_admin:
        scope = user_scope(actor)
        own_cell = cell is not None and cell.pk in scope.cell_ids
        if not (scope.covers_code(region.code) or own_cell):
            message = _("This place is outside your region.")
            raise ValidationFailed(message, extra={"region": [message]})
    return region, cell


def _next_number(now: datetime) -> str:
    prefix = f"PC{timezone.localtime(now):%Y%m%d}"
    last = (
        Dispute.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{sequence:04d}"


def _key_person_linked(parties: list[dict]) -> bool:
    """Is a linked person an active key person (registry)?"""
    from screening import people

    return people.any_key_person([p["person_id"] for p in parties if p.get("person_id")])


@transaction.atomic
def dispute_register(
    *,
    actor: User,
    kind_code: str,
    place: str,
    story: str,
    parties: Sequence[dict],
    factor_codes: Iterable[str] = (),
    region_code: str = "",
    grid_cell_id: int | None = None,
    source: str = DisputeSource.SCREENING,
    incident_id: int | None = None,
    petition_id: int | None = None,
    level: str = "",
    level_reason: str = "",
) -> Dispute:
    """A grid worker or mediator logs a dispute found by screening or referred (incident,
    petition, hotline). The colour follows from the ticked factors by the rules; `level` may
    raise it (with `level_reason`), never lower it. A red or orange dispute alerts at once.
    Requires a handler role and the place inside the actor's region; a referring incident or
    petition must be one the actor sees."""
    if not policies.may_register(actor):
        raise PermissionDeniedError(_("Only grid workers, mediators and dispatchers log disputes."))
    kind = DisputeKind.objects.filter(code=kind_code, active=True).first()
    if kind is None:
        message = _("Choose the kind of dispute.")
        raise ValidationFailed(message, extra={"kind": [message]})
    place = _required(place, "place", _("Say where the dispute is."))[:255]
    story = _required(story, "story", _("Tell what happened."))
    if source not in DisputeSource.values:
        message = _("Choose where the dispute came from.")
        raise ValidationFailed(message, extra={"source": [message]})
    cleaned = _clean_parties(parties, actor=actor)
    factors = _factors(factor_codes)
    region, cell = _location(actor, region_code, grid_cell_id)
    incident = petition = None
    if incident_id:
        from incidents.selectors import incidents_visible

        incident = incidents_visible(actor).filter(pk=incident_id).first()
        if incident is None:
            message = _("Incident not found.")
            raise ValidationFailed(message, extra={"incident": [message]})
    if petition_id:
        from petitions.selectors import petitions_visible

        petition = petitions_visible(user=actor).filter(pk=petition_id).first()
        if petition is None:
            message = _("Petition not found.")
            raise ValidationFailed(message, extra={"petition": [message]})
    automatic = []
    if _key_person_linked(cleaned):
        automatic.append(RiskFactor.KEY_PERSON)
    if any(party["vulnerable"] for party in cleaned):
        automatic.append(RiskFactor.VULNERABLE)
    for factor in RiskFactor.objects.filter(code__in=automatic, active=True):
        if factor not in factors:
            factors.append(factor)
    computed = rules.level_for_factors(f.code for f in factors)
    final = computed
    if level:
        if level not in RiskLevel.values:
            message = _("Choose a risk level.")
            raise ValidationFailed(message, extra={"level": [message]})
        if LEVEL_RANK[RiskLevel(level)] < LEVEL_RANK[RiskLevel(computed)]:
            message = _("The rules give %(level)s: a level is raised by hand, never lowered.") % {
                "level": _level_label(computed)
            }
            raise ValidationFailed(message, extra={"level": [message]})
        if level != computed:
            level_reason = _required(
                level_reason, "level_reason", _("Give the reason for raising the level.")
            )
            final = level
    now = _now()
    dispute = None
    for _attempt in range(5):
        try:
            with transaction.atomic():
                dispute = Dispute.objects.create(
                    number=_next_number(now),
                    source=source,
                    incident=incident,
                    petition=petition,
                    kind=kind,
                    region=region,
                    region_code=region.code,
                    grid_cell=cell,
                    place=place,
                    story=story,
                    computed_level=computed,
                    level=final,
                    level_reason=level_reason.strip() if final != computed else "",
                    registered_by=actor,
                    registered_at=now,
                    follow_up_due_at=now + timedelta(days=_policy(final).follow_up_days),
                )
            break
        except IntegrityError:
            continue  # two disputes numbered at once: take the next number
    if dispute is None:
        raise ConflictError(_("Could not number the dispute; please try again."))
    dispute.factors.set(factors)
    for position, party in enumerate(cleaned):
        party_row = DisputeParty(
            dispute=dispute,
            position=position,
            side=party["side"],
            name=party["name"],
            phone=party["phone"],
            vulnerable=party["vulnerable"],
            person_id=party["person_id"],
        )
        party_row.save()
    _event(
        dispute,
        actor=actor,
        action=A.REGISTER,
        to_state=dispute.state,
        note=dispute.level_reason,
        data={
            "level": dispute.level,
            "computed_level": computed,
            "factors": sorted(f.code for f in factors),
            "source": source,
        },
    )
    _alert(dispute, actor=actor)
    return dispute
