"""Consultation meetings (协商议事会) and their decisions (议定事项), tracked to completion."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError
from core.workflow import check, lock, move, record
from deliberation import photos, policies
from deliberation.models import (
    DECISION_GRAPH,
    GRAPH,
    MEETING_GRAPH,
    Decision,
    DecisionAction,
    DecisionEvent,
    DecisionPhoto,
    DecisionProgress,
    DecisionRating,
    DecisionState,
    DeliberationPolicy,
    Meeting,
    MeetingAction,
    MeetingEvent,
    MeetingParticipant,
    MeetingSpeech,
    MeetingState,
    ParticipantKind,
    Proposal,
    ProposalAction,
    ProposalEvent,
    ProposalState,
)
from deliberation.services._common import (
    notify,
    now,
    optional_text,
    refuse,
    require_manager,
    require_verified_resident,
    required_text,
)
from grids.models import Region

MA = MeetingAction
MS = MeetingState
DA = DecisionAction
DS = DecisionState
MEETING_NOT_FOUND = _("Meeting not found.")
DECISION_NOT_FOUND = _("Decision not found.")


def _meeting_url(meeting: Meeting) -> str:
    return reverse("deliberation:meeting-detail", args=[meeting.pk])


def _decision_url(decision: Decision) -> str:
    return reverse("deliberation:decision-detail", args=[decision.pk])


def _lock_meeting(meeting_id: int) -> Meeting:
    return lock(Meeting, meeting_id, not_found=NotFoundError(str(MEETING_NOT_FOUND)))


def meeting_plan(
    *,
    actor: User,
    community: Region | None,
    title: str,
    place: str,
    starts_at: datetime | None,
    agenda: str = "",
    topic_ids: Iterable[int] = (),
) -> Meeting:
    """Staff of a community plan a meeting on accepted proposals of that community (each
    topic moves to `scheduled`). Locks the topics."""
    if community is None or community.level != "community":
        raise refuse("community", _("Choose a community."))
    require_manager(actor, community.code, _("Community not found."))
    clean_title = required_text(title, "title", limit=120)
    clean_place = required_text(place, "place", limit=255)
    clean_agenda = optional_text(agenda, "agenda", limit=4000)
    if starts_at is None:
        raise refuse("starts_at", _("Give the date and time."))
    if starts_at <= now():
        raise refuse("starts_at", _("The meeting must lie in the future."))
    with transaction.atomic():
        topics = [
            lock(Proposal, pk, not_found=NotFoundError(_("Proposal not found.")))
            for pk in sorted({int(pk) for pk in topic_ids})
        ]
        for topic in topics:
            if topic.community_id != community.pk or topic.state not in (
                ProposalState.ACCEPTED,
                ProposalState.SCHEDULED,
            ):
                raise refuse("topics", _("Topics are accepted proposals of the same community."))
        meeting = Meeting.objects.create(
            community=community,
            region_code=community.code,
            title=clean_title,
            place=clean_place,
            starts_at=starts_at,
            agenda=clean_agenda,
            created_by=actor,
            created_at=now(),
        )
        meeting.topics.set(topics)
        record(
            MeetingEvent, meeting, actor=actor, action=MA.PLAN, to_state=meeting.state, public=False
        )
        for topic in topics:
            previous = move(topic, GRAPH, ProposalAction.SCHEDULE, ProposalState.SCHEDULED)
            topic.updated_at = now()
            topic.save(update_fields=["state", "updated_at"])
            record(
                ProposalEvent,
                topic,
                actor=actor,
                action=ProposalAction.SCHEDULE,
                from_state=previous,
                to_state=topic.state,
                data={"meeting": meeting.pk},
            )
    return meeting


def meeting_participant_add(
    *, meeting_id: int, actor: User, kind: ParticipantKind | None, name: str, organisation: str = ""
) -> MeetingParticipant:
    """Add a participant by kind (居民代表, 党员 ...). Staff of the community; before closing."""
    if not isinstance(kind, ParticipantKind) or not kind.active:
        raise refuse("kind", _("Choose the kind of participant."))
    clean_name = required_text(name, "name", limit=64)
    clean_organisation = optional_text(organisation, "organisation", limit=120)
    with transaction.atomic():
        meeting = _lock_meeting(meeting_id)
        require_manager(actor, meeting.region_code, MEETING_NOT_FOUND)
        check(meeting, MEETING_GRAPH, MA.PARTICIPANT)
        participant = MeetingParticipant.objects.create(
            meeting=meeting, kind=kind, name=clean_name, organisation=clean_organisation
        )
        record(
            MeetingEvent,
            meeting,
            actor=actor,
            action=MA.PARTICIPANT,
            note=str(kind),
            public=False,
        )
    return participant


def meeting_notice_publish(*, meeting_id: int, actor: User) -> Meeting:
    """Publish the notice (公告): only while the meeting still lies at least the policy's
    notice days ahead. Notifies the proposers and supporters of its topics."""
    with transaction.atomic():
        meeting = _lock_meeting(meeting_id)
        require_manager(actor, meeting.region_code, MEETING_NOT_FOUND)
        check(meeting, MEETING_GRAPH, MA.PUBLISH_NOTICE)
        policy = DeliberationPolicy.get()
        latest = meeting.starts_at - timedelta(days=policy.notice_days)
        if now() > latest:
            raise ConflictError(
                _("The notice must be published at least %(days)s days before the meeting.")
                % {"days": policy.notice_days}
            )
        previous = move(meeting, MEETING_GRAPH, MA.PUBLISH_NOTICE, MS.NOTICED)
        meeting.notice_published_at = now()
        meeting.save(update_fields=["state", "notice_published_at"])
        record(
            MeetingEvent,
            meeting,
            actor=actor,
            action=MA.PUBLISH_NOTICE,
            from_state=previous,
            to_state=meeting.state,
        )
        people: set[int] = set()
        for topic in meeting.topics.all():
            people.add(topic.author_id)
            people.update(topic.supports.values_list("user_id", flat=True))
        notify(
            people,
            _("Consultation meeting “%(title)s” on %(when)s at %(place)s")
            % {
                "title": meeting.title,
                "when": meeting.starts_at.strftime("%Y-%m-%d %H:%M"),
                "place": meeting.place,
            },
            url=_meeting_url(meeting),
            key=f"deliberation:notice:{meeting.pk}",
        )
    return meeting


def meeting_minutes_record(
    *,
    meeting_id: int,
    actor: User,
    minutes: str,
    options_discussed: str = "",
    speeches: Sequence[tuple[int, str]] = (),
) -> Meeting:
    """Record the minutes, during or after the meeting (not before it starts): the text, the
    options discussed and who spoke. Moves it to `held` (again: minutes may be completed)."""
    clean_minutes = required_text(minutes, "minutes", limit=20000)
    clean_options = optional_text(options_discussed, "options_discussed", limit=8000)
    with transaction.atomic():
        meeting = _lock_meeting(meeting_id)
        require_manager(actor, meeting.region_code, MEETING_NOT_FOUND)
        check(meeting, MEETING_GRAPH, MA.RECORD_MINUTES)
        if now() < meeting.starts_at:
            raise ConflictError(_("Minutes are recorded once the meeting has started."))
        participants = {p.pk: p for p in meeting.participants.all()}
        for participant_id, summary in speeches:
            if int(participant_id) not in participants:
                raise refuse("speeches", _("A speaker must be one of the participants."))
            text = required_text(summary, "speeches", limit=4000)
            MeetingSpeech.objects.create(
                meeting=meeting, participant=participants[int(participant_id)], summary=text
            )
        previous = move(meeting, MEETING_GRAPH, MA.RECORD_MINUTES, MS.HELD)
        meeting.minutes = clean_minutes
        meeting.options_discussed = clean_options
        meeting.held_at = meeting.held_at or now()
        meeting.save(update_fields=["state", "minutes", "options_discussed", "held_at"])
        record(
            MeetingEvent,
            meeting,
            actor=actor,
            action=MA.RECORD_MINUTES,
            from_state=previous,
            to_state=meeting.state,
        )
    return meeting


def meeting_decide(
    *,
    meeting_id: int,
    actor: User,
    text: str,
    carried_by: str,
    due_date: date | None,
    carried_by_user: User | None = None,
    proposal_id: int | None = None,
) -> Decision:
    """Record a decision (议定事项) of a held meeting: what, who carries it out, by when. A
    decision on one of the meeting's topics moves that proposal to `decided`. Notifies the
    responsible account and the proposer."""
    clean_text = required_text(text, "text", limit=4000)
    clean_by = required_text(carried_by, "carried_by", limit=120)
    if due_date is None:
        raise refuse("due_date", _("Give the date it is to be done by."))
    with transaction.atomic():
        meeting = _lock_meeting(meeting_id)
        require_manager(actor, meeting.region_code, MEETING_NOT_FOUND)
        check(meeting, MEETING_GRAPH, MA.DECIDE)
        if due_date < (meeting.held_at or now()).date():
            raise refuse("due_date", _("The date cannot lie before the meeting."))
        proposal = None
        if proposal_id:
            proposal = lock(
                Proposal, int(proposal_id), not_found=NotFoundError(_("Proposal not found."))
            )
            if not meeting.topics.filter(pk=proposal.pk).exists():
                raise refuse("proposal", _("Choose one of the meeting's topics."))
        decision = Decision.objects.create(
            meeting=meeting,
            proposal=proposal,
            region_code=meeting.region_code,
            text=clean_text,
            carried_by=clean_by,
            carried_by_user=carried_by_user,
            due_date=due_date,
            created_at=now(),
        )
        record(DecisionEvent, decision, actor=actor, action=DA.DECIDE, to_state=decision.state)
        record(MeetingEvent, meeting, actor=actor, action=MA.DECIDE, note=clean_text[:200])
        if proposal is not None and proposal.state in (
            ProposalState.SCHEDULED,
            ProposalState.ACCEPTED,
        ):
            previous = move(proposal, GRAPH, ProposalAction.DECIDE, ProposalState.DECIDED)
            proposal.updated_at = now()
            proposal.save(update_fields=["state", "updated_at"])
            record(
                ProposalEvent,
                proposal,
                actor=actor,
                action=ProposalAction.DECIDE,
                from_state=previous,
                to_state=proposal.state,
                note=clean_text,
                data={"decision": decision.pk},
            )
        notify(
            [
                carried_by_user.pk if carried_by_user else None,
                proposal.author_id if proposal else None,
            ],
            _("Decision to carry out by %(date)s: %(text)s")
            % {"date": due_date.isoformat(), "text": clean_text[:80]},
            url=_decision_url(decision),
            key=f"deliberation:decided:{decision.pk}",
        )
    return decision


def meeting_close(*, meeting_id: int, actor: User) -> Meeting:
    with transaction.atomic():
        meeting = _lock_meeting(meeting_id)
        require_manager(actor, meeting.region_code, MEETING_NOT_FOUND)
        previous = move(meeting, MEETING_GRAPH, MA.CLOSE, MS.CLOSED)
        meeting.save(update_fields=["state"])
        record(
            MeetingEvent,
            meeting,
            actor=actor,
            action=MA.CLOSE,
            from_state=previous,
            to_state=meeting.state,
        )
    return meeting


def meeting_cancel(*, meeting_id: int, actor: User, reason: str) -> Meeting:
    """Cancel a meeting not yet held (a public reason); its topics return to `accepted`."""
    clean_reason = required_text(reason, "reason", limit=1000, message=_("Give the reason."))
    with transaction.atomic():
        meeting = _lock_meeting(meeting_id)
        require_manager(actor, meeting.region_code, MEETING_NOT_FOUND)
        previous = move(meeting, MEETING_GRAPH, MA.CANCEL, MS.CANCELLED)
        meeting.save(update_fields=["state"])
        record(
            MeetingEvent,
            meeting,
            actor=actor,
            action=MA.CANCEL,
            from_state=previous,
            to_state=meeting.state,
            note=clean_reason,
        )
        for topic in meeting.topics.select_for_update().filter(state=ProposalState.SCHEDULED):
            # Back to waiting for a meeting (unless another meeting has it on its agenda too).
            if topic.meetings.exclude(pk=meeting.pk).exclude(state=MS.CANCELLED).exists():
                continue
            previous = move(topic, GRAPH, ProposalAction.UNSCHEDULE, ProposalState.ACCEPTED)
            topic.save(update_fields=["state"])
            record(
                ProposalEvent,
                topic,
                actor=actor,
                action=ProposalAction.UNSCHEDULE,
                from_state=previous,
                to_state=topic.state,
                note=clean_reason,
            )
    return meeting


# --- decisions ----------------------------------------------------------------------------


def _lock_decision(decision_id: int) -> Decision:
    return lock(Decision, decision_id, not_found=NotFoundError(str(DECISION_NOT_FOUND)))


def may_report(actor: User, decision: Decision) -> bool:
    return policies.may_manage(actor, decision.region_code) or (
        decision.carried_by_user_id is not None and decision.carried_by_user_id == actor.pk
    )


def decision_progress(
    *, decision_id: int, actor: User, note: str, uploads: Sequence = (), complete: bool = False
) -> Decision:
    """The responsible account or the community's staff report progress (with photos), or
    completion (`complete`): the decision moves to in progress / done. Public."""
    clean_note = required_text(note, "note", limit=4000)
    prepared = photos.prepare(uploads)
    with photos.files_removed_on_error() as saved, transaction.atomic():
        decision = _lock_decision(decision_id)
        if not may_report(actor, decision):
            if policies.covers(actor, decision.region_code):
                raise PermissionDeniedError(_("Only the responsible account or staff may report."))
            raise NotFoundError(str(DECISION_NOT_FOUND))
        action = DA.COMPLETE if complete else DA.PROGRESS
        previous = move(decision, DECISION_GRAPH, action, DS.DONE if complete else DS.IN_PROGRESS)
        if complete:
            decision.done_at = now()
        decision.save(update_fields=["state", "done_at"])
        progress = DecisionProgress.objects.create(
            decision=decision, author=actor, note=clean_note, created_at=now()
        )
        for item in prepared:
            photos.save(DecisionPhoto(progress=progress), item, saved)
        record(
            DecisionEvent,
            decision,
            actor=actor,
            action=action,
            from_state=previous,
            to_state=decision.state,
            note=clean_note,
            data={"progress": progress.pk},
        )
        if complete and decision.proposal_id:
            notify(
                [decision.proposal.author_id if decision.proposal else None],
                _("Done: %(text)s. Rate the result.") % {"text": decision.text[:80]},
                url=_decision_url(decision),
                key=f"deliberation:done:{decision.pk}",
            )
    return decision


def decision_rate(
    *, decision_id: int, actor: User, score: int, comment: str = ""
) -> DecisionRating:
    """A verified resident of the community rates a done decision (评议), once."""
    require_verified_resident(actor)
    try:
        value = int(score)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise refuse("score", _("Choose 1 to 5 stars."))
    clean_comment = optional_text(comment, "comment", limit=500)
    with transaction.atomic():
        decision = _lock_decision(decision_id)
        if not policies.lives_in(actor, decision.region_code):
            raise PermissionDeniedError(_("Only residents of the community rate its decisions."))
        check(decision, DECISION_GRAPH, DA.RATE)
        try:
            with transaction.atomic():
                rating = DecisionRating.objects.create(
                    decision=decision,
                    user=actor,
                    score=value,
                    comment=clean_comment,
                    created_at=now(),
                )
        except IntegrityError:
            raise ConflictError(_("You have already rated this decision.")) from None
        decision.ratings_count += 1
        decision.ratings_total += value
        decision.save(update_fields=["ratings_count", "ratings_total"])
        record(DecisionEvent, decision, actor=None, action=DA.RATE, data={"score": value})
    return rating
