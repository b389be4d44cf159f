"""The "4+2" moves after logging: on the spot, assessment, raising the colour, routing
(mediation through the nearest room, a department, the police, the petition office), follow-up,
closing, the visit back and the link to a later criminal incident (民转刑)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import RoleCode, User
from core.exceptions import (
    ConflictError,
    ValidationFailed,
)
from core.services import Notice, notifications_send_many
from core.workflow import move
from screening import policies, rules
from screening.models import (
    ALERT_LEVELS,
    GRAPH,
    LEVEL_RANK,
    Dispute,
    DisputeOutcome,
    PartySide,
    RiskFactor,
    RiskLevel,
    RouteTarget,
)
from screening.services._steps import (
    A,
    _alert,
    _event,
    _factors,
    _level_label,
    _load,
    _now,
    _police_officer_ids,
    _policy,
    _required,
    _save_move,
    _url,
    _users_with,
)

# --- the moves ------------------------------------------------------------------------------


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
