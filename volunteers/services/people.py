"""Volunteers (apply, approve, decline), teams ("2+N"), the police pairing and on-duty."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NoReturn

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import Role, RoleCode, User
from core.exceptions import ConflictError, PermissionDeniedError, ValidationFailed
from core.services import notification_send
from core.workflow import lock, move, record
from grids.models import GridCell, GridWorker, Region
from volunteers import policies
from volunteers.models import (
    VOLUNTEER_GRAPH,
    Team,
    TeamKind,
    TeamMember,
    Volunteer,
    VolunteerAction,
    VolunteerEvent,
    VolunteerState,
)
from volunteers.services._common import fail, not_found, now, text

ID_NUMBER_LENGTH = 18


def _volunteer_locked(actor: User, volunteer_id: int) -> Volunteer:
    volunteer = lock(Volunteer, volunteer_id, not_found=not_found(_("Volunteer not found.")))
    if not policies.organises(actor, volunteer.region_code):
        raise not_found(_("Volunteer not found."))
    return volunteer


def volunteer_apply(
    *,
    actor: User,
    community_id: int | None,
    real_name: str,
    skills: str = "",
    availability: str = "",
    id_number: str = "",
) -> Volunteer:
    """A verified resident (phone proven, home community set) applies to volunteer for a
    community; a declined applicant may apply again. Locks the user row (one application per
    person). Notifies nobody: organisers see the queue."""
    if not actor.is_authenticated or not actor.is_verified_resident:
        raise PermissionDeniedError(
            _("Only residents with a verified phone and a home community may volunteer.")
        )
    errors: dict[str, list[str]] = {}
    community = Region.objects.filter(pk=community_id or 0, level=Region.Level.COMMUNITY).first()
    if community is None:
        errors["community"] = [_("Choose the community you will serve.")]
    name = (real_name or "").strip()
    if not name:
        errors["real_name"] = [_("Enter your real name.")]
    elif len(name) > 64:
        errors["real_name"] = [_("At most %(n)s characters.") % {"n": 64}]
    number = (id_number or "").strip().upper()
    if number and (len(number) != ID_NUMBER_LENGTH or not number[:17].isdigit()):
        errors["id_number"] = [_("An ID number has 18 characters.")]
    if errors:
        _raise(errors)
    skills_text = text(skills, "skills", limit=500)
    availability_text = text(availability, "availability")
    if not (community is not None):
        raise AssertionError("unreachable: community is not None")
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=actor.pk).first()
        volunteer = Volunteer.objects.select_for_update().filter(user=actor).first()
        if volunteer is not None and volunteer.state != VolunteerState.DECLINED:
            raise ConflictError(_("You have already applied to volunteer."))
        if volunteer is None:
            volunteer = Volunteer(user=actor, state=VolunteerState.APPLIED)
            previous = ""
        else:
            previous = move(volunteer, VOLUNTEER_GRAPH, VolunteerAction.APPLY)
        volunteer.community = community
        volunteer.region_code = community.code
        volunteer.real_name = name
        volunteer.id_number = number
        volunteer.skills = skills_text
        volunteer.availability = availability_text
        volunteer.decline_reason = ""
        volunteer.save()
        record(
            VolunteerEvent,
            volunteer,
            actor=actor,
            action=VolunteerAction.APPLY,
            from_state=previous,
            to_state=volunteer.state,
        )
        return volunteer


def _raise(errors: dict[str, list[str]]) -> NoReturn:
    raise ValidationFailed(next(iter(errors.values()))[0], extra=errors)


def _next_number(volunteer: Volunteer) -> str:
    return f"ZY{volunteer.region_code}{volunteer.pk:06d}"


def volunteer_approve(*, actor: User, volunteer_id: int) -> Volunteer:
    """An organiser of the volunteer's community approves: the volunteer role and a volunteer
    number are granted; the applicant is notified (inbox, in the same transaction)."""
    with transaction.atomic():
        volunteer = _volunteer_locked(actor, volunteer_id)
        previous = move(volunteer, VOLUNTEER_GRAPH, VolunteerAction.APPROVE)
        volunteer.decided_by = actor
        volunteer.decided_at = now()
        volunteer.number = volunteer.number or _next_number(volunteer)
        volunteer.save()
        role, _created = Role.objects.get_or_create(code=RoleCode.VOLUNTEER)
        volunteer.user.roles.add(role)
        record(
            VolunteerEvent,
            volunteer,
            actor=actor,
            action=VolunteerAction.APPROVE,
            from_state=previous,
            to_state=volunteer.state,
        )
        notification_send(
            user_ids=[volunteer.user_id],
            title=_("Your application to volunteer was approved"),
            url="/volunteers/",
            dedupe_key=f"volunteer-approved-{volunteer.pk}",
        )
        return volunteer


def volunteer_decline(*, actor: User, volunteer_id: int, reason: str) -> Volunteer:
    """An organiser declines with a reason (required), shown to the applicant."""
    reason_text = text(reason, "reason", required=True, limit=500)
    with transaction.atomic():
        volunteer = _volunteer_locked(actor, volunteer_id)
        previous = move(volunteer, VOLUNTEER_GRAPH, VolunteerAction.DECLINE)
        volunteer.decided_by = actor
        volunteer.decided_at = now()
        volunteer.decline_reason = reason_text
        volunteer.save()
        record(
            VolunteerEvent,
            volunteer,
            actor=actor,
            action=VolunteerAction.DECLINE,
            from_state=previous,
            to_state=volunteer.state,
            note=reason_text,
        )
        notification_send(
            user_ids=[volunteer.user_id],
            title=_("Your application to volunteer was declined"),
            body=reason_text,
            url="/volunteers/",
        )
        return volunteer


# --- teams --------------------------------------------------------------------------------------


def _region_for_staff(actor: User, region_id: int | None) -> Region:
    region = Region.objects.filter(pk=region_id or 0).first()
    if region is None or not policies.organises(actor, region.code):
        raise fail("region", _("Choose a region in your area."))
    return region


def team_save(
    *,
    actor: User,
    team_id: int | None = None,
    name: str,
    kind_id: int | None,
    region_id: int | None,
    leader_id: int | None = None,
    cell_ids: Sequence[int] = (),
    on_duty: bool = True,
) -> Team:
    """Create or edit a team of the organiser's region: kind (admin-editable), leader, the
    cells it serves (cells of that region), on duty or not."""
    team_name = text(name, "name", required=True, limit=64)
    kind = TeamKind.objects.filter(pk=kind_id or 0, active=True).first()
    if kind is None:
        raise fail("kind", _("Choose a kind of team."))
    region = _region_for_staff(actor, region_id)
    cells = list(GridCell.objects.filter(pk__in=list(cell_ids or [])))
    if len(cells) != len(set(cell_ids or [])) or any(
        not region.contains_code(c.code) for c in cells
    ):
        raise fail("cells", _("Choose cells of the team's region."))
    leader = None
    if leader_id:
        leader = User.objects.filter(pk=leader_id, is_active=True).first()
        if leader is None:
            raise fail("leader", _("Choose an active user as leader."))
    with transaction.atomic():
        if team_id is None:
            team = Team(region=region)
        else:
            team = lock(Team, team_id, not_found=not_found(_("Team not found.")))
            if not policies.organises(actor, team.region_code):
                raise not_found(_("Team not found."))
        team.name = team_name
        team.kind = kind
        team.region = region
        team.region_code = region.code
        team.leader = leader
        team.on_duty = bool(on_duty)
        try:
            with transaction.atomic():
                team.save()
        except IntegrityError:
            raise fail("name", _("A team of that name exists in this region.")) from None
        team.cells.set(cells)
        if leader is not None:
            TeamMember.objects.get_or_create(
                team=team, user=leader, defaults={"kind": _member_kind(leader)}
            )
        return team


def _member_kind(user: User) -> str:
    if user.has_role(RoleCode.POLICE_OFFICER):
        return TeamMember.Kind.POLICE
    if user.has_role(RoleCode.GRID_WORKER):
        return TeamMember.Kind.GRID_WORKER
    if user.has_role(RoleCode.VOLUNTEER):
        return TeamMember.Kind.VOLUNTEER
    return TeamMember.Kind.OTHER


def team_member_add(*, actor: User, team_id: int, user_id: int | None) -> TeamMember:
    """Add a volunteer, a grid worker or the police officer to a team (once)."""
    with transaction.atomic():
        team = lock(Team, team_id, not_found=not_found(_("Team not found.")))
        if not policies.organises(actor, team.region_code):
            raise not_found(_("Team not found."))
        user = User.objects.filter(pk=user_id or 0, is_active=True).first()
        if user is None or not user.role_codes & {
            RoleCode.VOLUNTEER,
            RoleCode.GRID_WORKER,
            RoleCode.POLICE_OFFICER,
        }:
            raise fail("user", _("Choose a volunteer, a grid worker or a police officer."))
        member, created = TeamMember.objects.get_or_create(
            team=team, user=user, defaults={"kind": _member_kind(user)}
        )
        if not created:
            raise ConflictError(_("Already a member of this team."))
        return member


def team_member_remove(*, actor: User, team_id: int, user_id: int) -> None:
    with transaction.atomic():
        team = lock(Team, team_id, not_found=not_found(_("Team not found.")))
        if not policies.organises(actor, team.region_code):
            raise not_found(_("Team not found."))
        TeamMember.objects.filter(team=team, user_id=user_id).delete()
        if team.leader_id == user_id:
            team.leader = None
            team.save(update_fields=["leader", "updated_at"])


def cell_pairing_set(
    *, actor: User, cell_id: int, police_officer_id: int | None, worker_on_duty: dict[int, bool]
) -> GridCell:
    """The community edits its cell's "2+N": the paired police officer (an account with the
    police officer role, or none) and which of the cell's grid workers are on duty."""
    with transaction.atomic():
        cell = lock(GridCell.objects.select_related("community"), cell_id, not_found=not_found())
        if not policies.organises(actor, cell.community.code):
            raise not_found()
        officer = None
        if police_officer_id:
            officer = User.objects.filter(
                pk=police_officer_id, is_active=True, roles__code=RoleCode.POLICE_OFFICER
            ).first()
            if officer is None:
                raise fail("police_officer", _("Choose an account with the police officer role."))
        cell.police_officer = officer
        cell.save(update_fields=["police_officer", "updated_at"])
        for worker in GridWorker.objects.filter(cells=cell, user_id__in=list(worker_on_duty)):
            wanted = bool(worker_on_duty[worker.user_id])
            if worker.on_duty != wanted:
                worker.on_duty = wanted
                worker.save(update_fields=["on_duty", "updated_at"])
        return cell
