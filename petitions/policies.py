"""Who may do what with a petition: the permission predicates, read by the services (before a
write), the selectors (which actions a viewer is offered, what personal data they see) and the
pages. Pure reads: nothing here writes, so selectors import it without importing the services.
"""

from __future__ import annotations

from datetime import datetime

from accounts.models import ROLES_SEEING_CONTACTS, RoleCode, User
from accounts.selectors import user_scope
from grids.models import Region
from petitions.models import SATISFIED_VALUES, OpinionKind, Petition, PetitionState

S = PetitionState


def is_officer(user: User | None) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and (user.has_role(RoleCode.PETITION_OFFICER) or user.is_portal_admin)
    )


def is_supervisor(user: User | None) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and (user.has_role(RoleCode.SUPERVISOR) or user.is_portal_admin)
    )


def covers(user: User | None, petition: Petition) -> bool:
    """The user's region covers where the matter arose or the unit now handling it."""
    if user is None or not user.is_authenticated:
        return False
    scope = user_scope(user)
    return scope.covers_code(petition.region_code) or scope.covers_code(
        petition.handling_region_code
    )


def can_see_id_number(viewer: User | None, petition: Petition) -> bool:
    """ID numbers are shown in full only to petition officers in scope."""
    return bool(
        viewer is not None
        and viewer.is_authenticated
        and viewer.has_role(RoleCode.PETITION_OFFICER)
        and covers(viewer, petition)
    )


def can_see_phone(viewer: User | None, petition: Petition) -> bool:
    if viewer is None or not viewer.is_authenticated:
        return False
    if petition.owner_id is not None and petition.owner_id == viewer.pk:
        return True
    return bool(
        (viewer.is_superuser or viewer.role_codes & ROLES_SEEING_CONTACTS)
        and covers(viewer, petition)
    )


def same_account(petition: Petition, other: Petition) -> bool:
    """Both petitions belong to the same portal account: only then may one be named to the
    petitioner of the other."""
    return petition.owner_id is not None and petition.owner_id == other.owner_id


def closable(petition: Petition, now: datetime) -> bool:
    """May the petition be closed now (办结)? A re-examined one at once; a replied or reviewed
    one once the window to ask further has run out (or the petitioner said they are
    satisfied)."""
    if petition.state == S.REEXAMINED:
        return True
    if petition.state == S.REPLIED:
        # Not before the window has run out: it starts only once the reply was received.
        return petition.satisfaction in SATISFIED_VALUES or (
            petition.review_request_due_at is not None and now > petition.review_request_due_at
        )
    if petition.state == S.REVIEWED:
        return petition.reexam_request_due_at is not None and now > petition.reexam_request_due_at
    return False


def _unit_above(actor: User, region: Region | None) -> bool:
    """The actor's unit is above `region` (the issuing unit): its scope covers the region's
    parent, or it sees everything (portal admins) and is not that very region."""
    scope = user_scope(actor)
    if scope.everything:
        return region is None or actor.scope_region_id != region.pk
    if region is None or region.parent_id is None:
        return False
    parent = region.parent  # select_related by _issuing_region
    return parent is not None and scope.covers_code(parent.code)


def _issuing_region(petition: Petition, kind: str) -> Region | None:
    opinion = petition.opinions.select_related("issuing_region__parent").filter(kind=kind).first()
    if opinion is None:
        return None
    return opinion.issuing_region


def can_answer(user: User, petition: Petition, kind: str) -> bool:
    """Domain #6: the review (复查, Art. 35) is answered by the unit above the one that
    replied, the re-examination (复核, Art. 36) by the unit above the reviewer. A unit is the
    region of the officer who issued the opinion (docs/petitions.md)."""
    below = OpinionKind.REPLY if kind == OpinionKind.REVIEW else OpinionKind.REVIEW
    return bool(
        is_officer(user)
        and covers(user, petition)
        and _unit_above(user, _issuing_region(petition, below))
    )
