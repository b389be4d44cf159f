"""Proposals (议题): submit, support, comment and moderate, the community's review, conversion."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ConflictError, NotFoundError, ValidationFailed
from core.workflow import check, lock, move, record
from deliberation import conversions, photos, policies
from deliberation.models import (
    GRAPH,
    DeliberationPolicy,
    Proposal,
    ProposalAction,
    ProposalCategory,
    ProposalComment,
    ProposalEvent,
    ProposalPhoto,
    ProposalState,
    ProposalSupport,
)
from deliberation.services._common import (
    notify,
    now,
    optional_text,
    refuse,
    require_manager,
    require_verified_resident,
    required_text,
    staff_ids,
)

A = ProposalAction
S = ProposalState
NOT_FOUND = _("Proposal not found.")


def _url(proposal: Proposal) -> str:
    return reverse("deliberation:proposal-detail", args=[proposal.pk])


def _lock(proposal_id: int) -> Proposal:
    return lock(Proposal, proposal_id, not_found=NotFoundError(str(NOT_FOUND)))


def proposal_submit(
    *,
    actor: User,
    title: str,
    description: str,
    category: ProposalCategory | None,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    uploads: Sequence = (),
) -> Proposal:
    """A verified resident proposes a matter for their home community (state `collecting`).
    Everything is validated first (all field errors at once); photos are checked by content.
    Writes the proposal, its photos and the `submit` event; nothing is enqueued."""
    require_verified_resident(actor)
    community = actor.home_region
    errors: dict[str, list[str]] = {}

    def attempt(field: str, function: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ValidationFailed as exc:
            errors.update(exc.extra or {field: [exc.message]})
            return None

    clean_title = attempt("title", required_text, title, "title", limit=120)
    clean_description = attempt(
        "description", required_text, description, "description", limit=4000
    )
    clean_address = attempt("address", optional_text, address, "address", limit=255)
    if not isinstance(category, ProposalCategory) or not category.active:
        errors["category"] = [_("Choose a category.")]
    if (lat is None) != (lng is None):
        errors["location"] = [_("Mark the place on the map, or leave it empty.")]
    elif lat is not None and lng is not None:
        try:
            lat, lng = float(lat), float(lng)
        except (TypeError, ValueError):
            lat = lng = float("nan")
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            errors["location"] = [_("The coordinates are not valid.")]
    prepared = attempt("photos", photos.prepare, uploads) or []
    if community is None or community.level != "community":
        errors["community"] = [_("Your home community is not set; ask the community to set it.")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], extra=errors)
    if community is None or not isinstance(category, ProposalCategory):
        raise AssertionError("checked above")
    with photos.files_removed_on_error() as saved, transaction.atomic():
        moment = now()
        proposal = Proposal.objects.create(
            community=community,
            region_code=community.code,
            author=actor,
            title=clean_title,
            description=clean_description,
            category=category,
            lat=lat,
            lng=lng,
            address=clean_address or "",
            created_at=moment,
            updated_at=moment,
        )
        for item in prepared:
            photos.save(ProposalPhoto(proposal=proposal), item, saved)
        record(ProposalEvent, proposal, actor=actor, action=A.SUBMIT, to_state=proposal.state)
    return proposal


def proposal_support(*, proposal_id: int, actor: User) -> ProposalSupport:
    """One support per verified resident (ConflictError for a second; the unique constraint
    decides a race). It counts toward the threshold only when the supporter lives in the
    proposal's community; the support that reaches the threshold moves the proposal to
    `reviewing`, starts the review clock and notifies the community's staff. Locks the
    proposal (the counters are updated under the lock)."""
    require_verified_resident(actor)
    with transaction.atomic():
        proposal = _lock(proposal_id)
        if not proposal.is_open_for_review:
            raise ConflictError(_("This proposal no longer takes supports."))
        counts = actor.home_region_id == proposal.community_id
        try:
            with transaction.atomic():
                support = ProposalSupport.objects.create(
                    proposal=proposal, user=actor, counts=counts, created_at=now()
                )
        except IntegrityError:
            raise ConflictError(_("You have already supported this proposal.")) from None
        proposal.supports_all = F("supports_all") + 1
        if counts:
            proposal.supports_area = F("supports_area") + 1
        proposal.updated_at = now()
        proposal.save(update_fields=["supports_all", "supports_area", "updated_at"])
        proposal.refresh_from_db(fields=["supports_all", "supports_area"])
        policy = DeliberationPolicy.get()
        if (
            counts
            and proposal.state == S.COLLECTING
            and proposal.supports_area >= policy.support_threshold
        ):
            previous = move(proposal, GRAPH, A.THRESHOLD, S.REVIEWING)
            proposal.review_due_at = now() + timedelta(days=policy.review_days)
            proposal.save(update_fields=["state", "review_due_at"])
            record(
                ProposalEvent,
                proposal,
                actor=None,
                action=A.THRESHOLD,
                from_state=previous,
                to_state=proposal.state,
                data={"supports": proposal.supports_area, "threshold": policy.support_threshold},
            )
            notify(
                staff_ids(proposal.region_code),
                _("A proposal awaits the community's review: %(title)s")
                % {"title": proposal.title},
                url=_url(proposal),
                key=f"deliberation:review:{proposal.pk}",
            )
    return support


def proposal_comment(*, proposal_id: int, actor: User, body: str) -> ProposalComment:
    """A verified resident, or staff of the community, comments. Shown at once; moderators
    may hide it later (never delete)."""
    text = required_text(body, "body", limit=1000)
    with transaction.atomic():
        proposal = _lock(proposal_id)
        if not (
            policies.is_verified_resident(actor) or policies.may_manage(actor, proposal.region_code)
        ):
            require_verified_resident(actor)
        return ProposalComment.objects.create(
            proposal=proposal, author=actor, body=text, created_at=now()
        )


def _comment_visibility(
    *, comment_id: int, actor: User, hide: bool, reason: str
) -> ProposalComment:
    with transaction.atomic():
        try:
            comment = ProposalComment.objects.select_for_update().get(pk=comment_id)
        except ProposalComment.DoesNotExist:
            raise NotFoundError(_("Comment not found.")) from None
        proposal = _lock(comment.proposal_id)
        require_manager(actor, proposal.region_code, NOT_FOUND)
        action = A.COMMENT_HIDE if hide else A.COMMENT_SHOW
        check(proposal, GRAPH, action)
        if comment.hidden == hide:
            raise ConflictError(
                _("The comment is already hidden.") if hide else _("The comment is not hidden.")
            )
        comment.hidden = hide
        comment.hidden_at = now() if hide else None
        comment.hidden_by = actor if hide else None
        comment.hidden_reason = reason if hide else ""
        comment.save(update_fields=["hidden", "hidden_at", "hidden_by", "hidden_reason"])
        record(
            ProposalEvent,
            proposal,
            actor=actor,
            action=action,
            note=reason,
            public=False,
            data={"comment": comment.pk},
        )
    return comment


def comment_hide(*, comment_id: int, actor: User, reason: str) -> ProposalComment:
    """A moderator (staff of the community) hides a comment, with a reason. The text stays in
    the database and in the staff's view; the public sees that a comment was hidden."""
    clean_reason = required_text(reason, "reason", limit=255, message=_("Give the reason."))
    return _comment_visibility(comment_id=comment_id, actor=actor, hide=True, reason=clean_reason)


def comment_show(*, comment_id: int, actor: User) -> ProposalComment:
    return _comment_visibility(comment_id=comment_id, actor=actor, hide=False, reason="")


REVIEW_DECISIONS = {
    "accept": (A.ACCEPT, S.ACCEPTED),
    "merge": (A.MERGE, S.MERGED),
    "answer": (A.ANSWER, S.ANSWERED),
    "decline": (A.DECLINE, S.DECLINED),
}


def proposal_review(
    *,
    proposal_id: int,
    actor: User,
    decision: str,
    reply: str = "",
    merge_into_id: int | None = None,
) -> Proposal:
    """The community's review (支部审议题): accept for consultation, merge into another open
    proposal of the same community, answer directly, or decline. Answering and declining need
    a public reply (the reason); merging needs the target. Staff of the community only; locks
    both proposals of a merge (lower id first). Notifies the proposer."""
    if decision not in REVIEW_DECISIONS:
        raise refuse("decision", _("Choose accept, merge, answer or decline."))
    action, target = REVIEW_DECISIONS[decision]
    if decision in ("answer", "decline"):
        clean_reply = required_text(
            reply, "reply", limit=4000, message=_("Give the public answer or reason.")
        )
    else:
        clean_reply = optional_text(reply, "reply", limit=4000)
    if decision == "merge" and not merge_into_id:
        raise refuse("merge_into", _("Choose the proposal to merge into."))
    with transaction.atomic():
        if decision == "merge" and merge_into_id:
            first, second = sorted([proposal_id, int(merge_into_id)])
            locked = {first: _lock(first)}
            if second != first:
                locked[second] = _lock(second)
            proposal, other = locked[proposal_id], locked[int(merge_into_id)]
        else:
            proposal, other = _lock(proposal_id), None
        require_manager(actor, proposal.region_code, NOT_FOUND)
        check(proposal, GRAPH, action)
        if decision == "merge":
            if (
                other is None
                or other.pk == proposal.pk
                or other.community_id != proposal.community_id
            ):
                raise refuse(
                    "merge_into", _("Merge only into another proposal of the same community.")
                )
            if other.state in (S.MERGED, S.DECLINED, S.CONVERTED):
                raise refuse("merge_into", _("That proposal is closed; choose an open one."))
            proposal.merged_into = other
        previous = move(proposal, GRAPH, action, target)
        moment = now()
        proposal.public_reply = clean_reply
        proposal.reviewed_at = moment
        proposal.reviewed_by = actor
        proposal.updated_at = moment
        proposal.save()
        record(
            ProposalEvent,
            proposal,
            actor=actor,
            action=action,
            from_state=previous,
            to_state=proposal.state,
            note=clean_reply,
            data={"merged_into": other.pk} if other is not None else {},
        )
        if other is not None:
            record(
                ProposalEvent,
                other,
                actor=actor,
                action=A.MERGE,
                note=_("%(title)s was merged into this proposal.") % {"title": proposal.title},
                data={"merged_from": proposal.pk},
            )
        notify(
            [proposal.author_id],
            _("Your proposal “%(title)s”: %(state)s")
            % {"title": proposal.title, "state": proposal.get_state_display()},
            url=_url(proposal),
            key=f"deliberation:reviewed:{proposal.pk}",
        )
    return proposal


def proposal_convert(*, proposal_id: int, actor: User, kind: str, option: str = "") -> Proposal:
    """Staff turn a proposal into another matter when that is what it is: an incident, a
    service request or a library project (the converters of deliberation.conversions). The
    converter runs inside this transaction, under the proposal's lock: if it fails, nothing is
    written. Records the reference of the new matter and notifies the proposer."""
    converter = conversions.get(kind)
    if converter is None:
        raise refuse("kind", _("Choose what to convert it into."))
    with transaction.atomic():
        proposal = _lock(proposal_id)
        require_manager(actor, proposal.region_code, NOT_FOUND)
        check(proposal, GRAPH, A.CONVERT)
        result = converter.convert(proposal, actor, option)
        previous = move(proposal, GRAPH, A.CONVERT, S.CONVERTED)
        proposal.converted_kind = converter.kind
        proposal.converted_reference = result.reference[:64]
        proposal.reviewed_at = proposal.reviewed_at or now()
        proposal.reviewed_by = proposal.reviewed_by or actor
        proposal.updated_at = now()
        proposal.save()
        record(
            ProposalEvent,
            proposal,
            actor=actor,
            action=A.CONVERT,
            from_state=previous,
            to_state=proposal.state,
            note=str(converter.label),
            data={"kind": converter.kind, "reference": result.reference},
        )
        notify(
            [proposal.author_id],
            _("Your proposal “%(title)s” is handled as %(kind)s %(reference)s")
            % {"title": proposal.title, "kind": converter.label, "reference": result.reference},
            url=_url(proposal),
            key=f"deliberation:converted:{proposal.pk}",
        )
    return proposal
