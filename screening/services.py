"""Every write of screening: register a dispute, the "4+2" moves, the alerts, the sweeps and the
monthly reports.

Each move runs in one transaction: lock the dispute (core.workflow.lock), check the viewer sees
it (selectors.disputes_visible) and their role (policies), move it along models.GRAPH, save,
write one DisputeEvent, and put notifications in the inbox / SMS queue (the SMS leaves from a
task on commit: core.services.sms_queue). Nothing is half-written: a refusal raises before any
save, and the transaction rolls the rest back.

Alerts and SMS name the dispute's number, colour, kind and community: never a party's name or
phone (those stay on the scoped, masked pages).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import RoleCode, User, mainland_mobile_validator
from accounts.selectors import user_scope
from core.exceptions import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from core.masking import mask_text
from core.services import Notice, notifications_send_many, sms_queue
from core.workflow import check, lock, move, record
from grids.models import GridCell, Region
from screening import policies, rules, selectors
from screening.models import (
    ALERT_LEVELS,
    GRAPH,
    LEVEL_RANK,
    OPEN_STATES,
    Dispute,
    DisputeAction,
    DisputeEvent,
    DisputeKind,
    DisputeOutcome,
    DisputeParty,
    DisputeSource,
    LevelPolicy,
    PartySide,
    ReportState,
    RiskFactor,
    RiskLevel,
    RouteTarget,
    ScreeningReport,
)

A = DisputeAction
MAX_PARTIES = 20
# Fallbacks when an admin deleted a colour's policy row.
DEFAULT_FOLLOW_UP_DAYS = {"red": 1, "orange": 3, "yellow": 7, "blue": 15}
DEFAULT_VISIT_DAYS = 15


def _now() -> datetime:
    return timezone.now()


def _url(dispute: Dispute) -> str:
    return reverse("screening:detail", args=[dispute.pk])


def _level_label(level: str) -> str:
    return str(RiskLevel(level).label)


def _policy(level: str) -> LevelPolicy:
    policy = LevelPolicy.objects.filter(level=level).first()
    if policy is None:
        return LevelPolicy(
            level=level,
            follow_up_days=DEFAULT_FOLLOW_UP_DAYS[level],
            alerts=level in ALERT_LEVELS,
            visit_days=DEFAULT_VISIT_DAYS,
        )
    return policy


def _required(value: str | None, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(message, extra={field: [message]})
    return value


def _event(
    dispute: Dispute,
    *,
    actor: User | None,
    action: str,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    data: dict | None = None,
) -> DisputeEvent:
    """One timeline row; a move passes from_state (to_state defaults to the state now)."""
    return record(
        DisputeEvent,
        dispute,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state or (dispute.state if from_state else ""),
        note=note,
        data=data,
        created_at=_now(),
    )


def _load(actor: User, dispute_id: int, action: str) -> Dispute:
    """Lock the dispute, then check it is visible to the actor, the role may do `action`, and
    the state allows it (in that order: a hidden dispute is a 404 whatever the state)."""
    dispute = lock(Dispute, dispute_id, not_found=NotFoundError(_("Dispute not found.")))
    if not selectors.disputes_visible(actor).filter(pk=dispute.pk).exists():
        raise NotFoundError(_("Dispute not found."))
    if not policies.may_act(actor, action):
        raise PermissionDeniedError(_("Your role may not do that with a dispute."))
    check(dispute, GRAPH, action)
    return dispute


def _next_due(dispute: Dispute, now: datetime) -> datetime:
    return now + timedelta(days=_policy(dispute.level).follow_up_days)


# --- who is told ---------------------------------------------------------------------------


def _users_with(roles: Iterable[str], **filters) -> set[int]:
    return set(
        User.objects.filter(is_active=True, roles__code__in=list(roles), **filters)
        .distinct()
        .values_list("pk", flat=True)
    )


def _police_officer_ids(dispute: Dispute) -> set[int]:
    """The paired officer of the dispute's cell; without a cell, those of the community's cells."""
    if dispute.grid_cell_id is not None:
        cells = GridCell.objects.filter(pk=dispute.grid_cell_id)
    else:
        cells = GridCell.objects.filter(community_id=dispute.region_id)
    return {pk for pk in cells.values_list("police_officer_id", flat=True) if pk}


def alert_recipient_ids(dispute: Dispute) -> set[int]:
    """The community's staff, the street's 综治 staff (dispatchers and supervisors scoped to the
    street) and the cell's paired police officer."""
    ids = _users_with(policies.COMMUNITY_ALERT_ROLES, scope_region_id=dispute.region_id)
    if dispute.grid_cell_id is not None:
        ids |= set(
            User.objects.filter(
                is_active=True, grid_worker__cells=dispute.grid_cell_id
            ).values_list("pk", flat=True)
        )
    if dispute.region.parent_id is not None:
        ids |= _users_with(policies.STREET_ALERT_ROLES, scope_region_id=dispute.region.parent_id)
    ids |= _police_officer_ids(dispute)
    return ids


def _alert(dispute: Dispute, *, actor: User | None) -> int:
    """Tell the community, the street and the police of a red or orange dispute, in the inbox and
    by SMS, once per dispute and colour (dedupe keys). Returns how many were told."""
    if dispute.level not in ALERT_LEVELS or not _policy(dispute.level).alerts:
        return 0
    recipients = alert_recipient_ids(dispute)
    key = f"screening:{dispute.pk}:alert:{dispute.level}"
    title = _("%(level)s dispute warning: %(number)s") % {
        "level": _level_label(dispute.level),
        "number": dispute.number,
    }
    body = _("%(kind)s in %(community)s, %(place)s. Follow up within %(days)s days.") % {
        "kind": dispute.kind.display_name,
        "community": dispute.region.name,
        "place": mask_text(dispute.place),
        "days": _policy(dispute.level).follow_up_days,
    }
    notifications_send_many(
        Notice(user_id=pk, title=title, body=body, url=_url(dispute), dedupe_key=key)
        for pk in sorted(recipients)
    )
    phones = User.objects.filter(pk__in=recipients).exclude(phone__isnull=True)
    for pk, phone in phones.values_list("pk", "phone"):
        if phone:
            sms_queue(
                phone=phone,
                text=_("[GridGov] %(title)s (%(kind)s, %(community)s). Please follow up.")
                % {
                    "title": title,
                    "kind": dispute.kind.display_name,
                    "community": dispute.region.name,
                },
                dedupe_key=f"{key}:{pk}",
            )
    _event(
        dispute,
        actor=actor,
        action=A.ALERT,
        data={"level": dispute.level, "recipients": len(recipients)},
    )
    return len(recipients)


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


def _factors(codes: Iterable[str]) -> list[RiskFactor]:
    codes = {str(c) for c in codes if c}
    found = list(RiskFactor.objects.filter(code__in=codes, active=True))
    unknown = codes - {f.code for f in found}
    if unknown:
        message = _("Unknown risk factor: %(codes)s") % {"codes": ", ".join(sorted(unknown))}
        raise ValidationFailed(message, extra={"factors": [message]})
    return found


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


# --- the moves ------------------------------------------------------------------------------


def _save_move(
    dispute: Dispute,
    *,
    actor: User,
    action: str,
    target: str | None = None,
    note: str = "",
    data: dict | None = None,
    fields: Sequence[str] = (),
    reset_due: bool = True,
) -> Dispute:
    now = _now()
    previous = move(dispute, GRAPH, action, target)
    update = ["state", "updated_at", *fields]
    if reset_due and dispute.state in OPEN_STATES:
        dispute.follow_up_due_at = _next_due(dispute, now)
        dispute.overdue = False
        update += ["follow_up_due_at", "overdue"]
    dispute.save(update_fields=sorted(set(update)))
    _event(dispute, actor=actor, action=action, from_state=previous, note=note, data=data)
    return dispute


@transaction.atomic
def dispute_mediate_on_spot(*, actor: User, dispute_id: int, note: str) -> Dispute:
    """先行调解: what was tried on the spot and how it went."""
    dispute = _load(actor, dispute_id, A.MEDIATE_ON_SPOT)
    dispute.on_spot_note = _required(note, "note", _("Say what was tried on the spot."))
    return _save_move(
        dispute,
        actor=actor,
        action=A.MEDIATE_ON_SPOT,
        note=dispute.on_spot_note,
        fields=["on_spot_note"],
    )


@transaction.atomic
def dispute_assess(
    *,
    actor: User,
    dispute_id: int,
    factor_codes: Iterable[str],
    note: str,
    lower_reason: str = "",
) -> Dispute:
    """风险研判: the factors ticked again; the rules give a colour. A more serious colour is
    taken (and alerts if red or orange); a less serious one than the current level is taken
    only with `lower_reason` (never lowered silently), else the current level stays."""
    dispute = _load(actor, dispute_id, A.ASSESS)
    note = _required(note, "note", _("Write the assessment."))
    factors = _factors(factor_codes)
    if RiskFactor.KEY_PERSON in set(dispute.factors.values_list("code", flat=True)):
        key_factor = RiskFactor.objects.filter(code=RiskFactor.KEY_PERSON).first()
        if key_factor is not None and key_factor not in factors and not lower_reason:
            factors.append(key_factor)  # found by the registry: kept unless explicitly dropped
    computed = rules.level_for_factors(f.code for f in factors)
    before = dispute.level
    if LEVEL_RANK[RiskLevel(computed)] >= LEVEL_RANK[RiskLevel(before)]:
        dispute.level = computed
    elif lower_reason.strip():
        dispute.level = computed
        dispute.level_reason = lower_reason.strip()
    dispute.computed_level = computed
    dispute.assessment_note = note
    dispute.assessed_at = _now()
    dispute.factors.set(factors)
    _save_move(
        dispute,
        actor=actor,
        action=A.ASSESS,
        note=note,
        data={
            "factors": sorted(f.code for f in factors),
            "computed_level": computed,
            "level_before": before,
            "level": dispute.level,
            **(
                {"lowered_because": lower_reason.strip()}
                if dispute.level != before
                and LEVEL_RANK[RiskLevel(dispute.level)] < LEVEL_RANK[RiskLevel(before)]
                else {}
            ),
        },
        fields=["level", "level_reason", "computed_level", "assessment_note", "assessed_at"],
    )
    if dispute.level != before and dispute.level in ALERT_LEVELS:
        _alert(dispute, actor=actor)
    return dispute


@transaction.atomic
def dispute_raise_level(*, actor: User, dispute_id: int, level: str, reason: str) -> Dispute:
    """Raise the colour by hand, with a reason; a red or orange one alerts. Lowering is refused
    here (only an assessment may, with its reason)."""
    dispute = _load(actor, dispute_id, A.RAISE_LEVEL)
    if level not in RiskLevel.values:
        message = _("Choose a risk level.")
        raise ValidationFailed(message, extra={"level": [message]})
    reason = _required(reason, "reason", _("Give the reason for raising the level."))
    if LEVEL_RANK[RiskLevel(level)] <= LEVEL_RANK[RiskLevel(dispute.level)]:
        message = _("Choose a more serious level than %(level)s.") % {
            "level": _level_label(dispute.level)
        }
        raise ValidationFailed(message, extra={"level": [message]})
    before = dispute.level
    dispute.level = level
    dispute.level_reason = reason
    now = _now()
    due = now + timedelta(days=_policy(level).follow_up_days)
    update = ["level", "level_reason", "updated_at"]
    if dispute.follow_up_due_at is None or due < dispute.follow_up_due_at:
        dispute.follow_up_due_at = due
        update.append("follow_up_due_at")
    move(dispute, GRAPH, A.RAISE_LEVEL)
    dispute.save(update_fields=update)
    _event(
        dispute,
        actor=actor,
        action=A.RAISE_LEVEL,
        note=reason,
        data={"level_before": before, "level": level},
    )
    _alert(dispute, actor=actor)
    return dispute


def _room_for(dispute: Dispute, room_id: int | None):
    """The room chosen, or the nearest that takes the kind (mediation.selectors.rooms_proposed:
    community, then street, district, city)."""
    from incidents.models import Category
    from mediation.models import MediationRoom
    from mediation.selectors import rooms_proposed

    category = None
    if dispute.kind.mediation_category_code:
        category = Category.objects.filter(code=dispute.kind.mediation_category_code).first()
    if room_id:
        room = MediationRoom.objects.filter(pk=room_id, active=True).first()
        if room is None:
            message = _("Choose a mediation room.")
            raise ValidationFailed(message, extra={"room": [message]})
        return room, category
    proposals = rooms_proposed(region_code=dispute.region_code, category=category)
    if not proposals:
        message = _("No mediation room near this dispute has a free slot; choose one.")
        raise ValidationFailed(message, extra={"room": [message]})
    return proposals[0].room, category


def _refer_to_mediation(dispute: Dispute, *, actor: User, room_id: int | None, note: str):
    from mediation.models import CaseAction, CaseSource
    from mediation.services.intake import _case_create

    room, category = _room_for(dispute, room_id)
    parties = list(dispute.parties.all())
    sides = {p.side for p in parties}
    if not {PartySide.APPLICANT, PartySide.RESPONDENT} <= sides:
        message = _("Mediation needs a party on each side (applicant and respondent).")
        raise ValidationFailed(message, extra={"target": [message]})
    case_parties = [
        {
            "role": "applicant" if p.side == PartySide.APPLICANT else "respondent",
            "name": p.name,
            "phone": p.phone,
        }
        for p in parties
        if p.side in (PartySide.APPLICANT, PartySide.RESPONDENT)
    ]
    source = CaseSource.INCIDENT if dispute.incident_id else CaseSource.WALK_IN
    if dispute.petition_id and not dispute.incident_id:
        source = CaseSource.PETITION
    return _case_create(
        actor=actor,
        room_id=room.pk,
        source=source,
        category=category,
        facts=dispute.story,
        requests=note,
        parties=case_parties,
        region_code=dispute.region_code,
        petition_id=dispute.petition_id,
        action=CaseAction.REGISTERED,
        note=_("Screened dispute %(number)s") % {"number": dispute.number},
    )


def _route_recipients(dispute: Dispute, target: str, unit: str) -> set[int]:
    street_or_above = Q(scope_region__isnull=False)
    if target == RouteTarget.POLICE:
        return _police_officer_ids(dispute)
    if target == RouteTarget.DEPARTMENT:
        users = User.objects.filter(
            street_or_above,
            is_active=True,
            roles__code=RoleCode.DEPARTMENT_HANDLER,
            department=unit,
        ).select_related("scope_region")
    elif target == RouteTarget.PETITION:
        users = User.objects.filter(
            street_or_above, is_active=True, roles__code=RoleCode.PETITION_OFFICER
        ).select_related("scope_region")
    else:
        return set()
    return {
        user.pk
        for user in users
        if user.scope_region is not None
        and dispute.region_code.startswith(user.scope_region.prefix)
    }


@transaction.atomic
def dispute_route(
    *,
    actor: User,
    dispute_id: int,
    target: str,
    unit: str = "",
    note: str = "",
    room_id: int | None = None,
) -> Dispute:
    """分类流转: to mediation (the chosen room, or the nearest that takes the kind: a mediation
    case is opened there), a department (named), the police (the cell's officer is told) or the
    petition office. Follow-up deadlines run from here by colour."""
    dispute = _load(actor, dispute_id, A.ROUTE)
    if target not in RouteTarget.values:
        message = _("Choose where to route the dispute.")
        raise ValidationFailed(message, extra={"target": [message]})
    note = (note or "").strip()
    unit = (unit or "").strip()[:128]
    data: dict = {"target": target}
    if target == RouteTarget.MEDIATION:
        case = _refer_to_mediation(dispute, actor=actor, room_id=room_id, note=note)
        dispute.mediation_case = case
        unit = case.room.name
        data["case_number"] = case.case_number
    elif target == RouteTarget.DEPARTMENT:
        unit = _required(unit, "unit", _("Name the department."))
    dispute.route_target = target
    dispute.route_unit = unit
    dispute.routed_at = _now()
    data["unit"] = unit
    _save_move(
        dispute,
        actor=actor,
        action=A.ROUTE,
        target=None,
        note=note,
        data=data,
        fields=["route_target", "route_unit", "routed_at", "mediation_case"],
    )
    recipients = _route_recipients(dispute, target, unit)
    if recipients:
        notifications_send_many(
            Notice(
                user_id=pk,
                title=_("Dispute %(number)s routed to you (%(level)s)")
                % {"number": dispute.number, "level": _level_label(dispute.level)},
                body=f"{dispute.kind.display_name} · {dispute.region.name}",
                url=_url(dispute),
                dedupe_key=f"screening:{dispute.pk}:route:{dispute.routed_at.isoformat()}",
            )
            for pk in sorted(recipients)
        )
    return dispute


@transaction.atomic
def dispute_follow_up(*, actor: User, dispute_id: int, note: str) -> Dispute:
    """跟踪督办: a follow-up note. On time when recorded before the colour's deadline; the next
    one is due the colour's number of days from now."""
    dispute = _load(actor, dispute_id, A.FOLLOW_UP)
    note = _required(note, "note", _("Say what was followed up."))
    now = _now()
    on_time = dispute.follow_up_due_at is None or now <= dispute.follow_up_due_at
    dispute.follow_ups += 1
    dispute.follow_ups_on_time += 1 if on_time else 0
    return _save_move(
        dispute,
        actor=actor,
        action=A.FOLLOW_UP,
        note=note,
        data={"on_time": on_time},
        fields=["follow_ups", "follow_ups_on_time"],
    )


@transaction.atomic
def dispute_close(*, actor: User, dispute_id: int, outcome: str, note: str) -> Dispute:
    """案结事了: the outcome; a visit back is then due by the colour's policy."""
    dispute = _load(actor, dispute_id, A.CLOSE)
    if outcome not in DisputeOutcome.values:
        message = _("Choose the outcome.")
        raise ValidationFailed(message, extra={"outcome": [message]})
    dispute.outcome = outcome
    dispute.outcome_note = _required(note, "note", _("Describe how the dispute ended."))
    now = _now()
    dispute.closed_at = now
    dispute.visit_due_at = now + timedelta(days=_policy(dispute.level).visit_days)
    dispute.follow_up_due_at = None
    dispute.overdue = False
    return _save_move(
        dispute,
        actor=actor,
        action=A.CLOSE,
        note=dispute.outcome_note,
        data={"outcome": outcome},
        fields=[
            "outcome",
            "outcome_note",
            "closed_at",
            "visit_due_at",
            "follow_up_due_at",
            "overdue",
        ],
        reset_due=False,
    )


@transaction.atomic
def dispute_visit(*, actor: User, dispute_id: int, note: str) -> Dispute:
    """The visit back (回访) after closing."""
    dispute = _load(actor, dispute_id, A.VISIT)
    dispute.visit_note = _required(note, "note", _("Say how the visit back went."))
    dispute.visited_at = _now()
    return _save_move(
        dispute,
        actor=actor,
        action=A.VISIT,
        note=dispute.visit_note,
        fields=["visit_note", "visited_at"],
        reset_due=False,
    )


@transaction.atomic
def dispute_link_escalation(
    *, actor: User, dispute_id: int, incident_id: int, note: str = ""
) -> Dispute:
    """民转刑: link a later criminal incident (one the actor sees) to the dispute: counted as an
    escalation in the KPIs. The street's 综治 staff are told."""
    from incidents.selectors import incidents_visible

    dispute = _load(actor, dispute_id, A.LINK_ESCALATION)
    if dispute.escalated_incident_id is not None:
        raise ConflictError(_("An escalation is already linked to this dispute."))
    incident = incidents_visible(actor).filter(pk=incident_id).first() if incident_id else None
    if incident is None:
        message = _("Incident not found.")
        raise ValidationFailed(message, extra={"incident": [message]})
    dispute.escalated_incident = incident
    dispute.escalated_at = _now()
    move(dispute, GRAPH, A.LINK_ESCALATION)
    dispute.save(update_fields=["escalated_incident", "escalated_at", "updated_at"])
    _event(
        dispute,
        actor=actor,
        action=A.LINK_ESCALATION,
        note=(note or "").strip(),
        data={"incident": incident.tracking_number},
    )
    street = dispute.region.parent_id
    if street is not None:
        notifications_send_many(
            Notice(
                user_id=pk,
                title=_("Dispute %(number)s escalated to a criminal incident")
                % {"number": dispute.number},
                url=_url(dispute),
                dedupe_key=f"screening:{dispute.pk}:escalated",
            )
            for pk in sorted(_users_with(policies.STREET_ALERT_ROLES, scope_region_id=street))
        )
    return dispute


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
