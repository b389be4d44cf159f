""" "File once" after a match: merge into an open petition of the same account, refuse after
re-examination (Art. 36), link a closed one raised again, record a possible repeat for an
officer (H1), and the officer's decisions on those (confirm, dismiss, undo a merge)."""

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core import workflow
from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from core.services import notification_send
from petitions import deadlines, matching
from petitions.models import (
    OPEN_STATES,
    BacklogReason,
    Petition,
    PetitionAction,
    PetitionMerge,
    PetitionMergeSuggestion,
    PetitionPolicy,
)
from petitions.policies import covers, is_officer, same_account
from petitions.services._steps import (
    S,
    _check_move,
    _default_language,
    _detail_url,
    _event,
    _lock,
    _mark_backlog,
    _move,
    _refresh_due,
    _require_officer,
    _tell_petitioner,
    backlog_repeat_threshold,
    officer_ids_for,
)


def _link_raised_again(petition: Petition, earlier_id: int) -> None:
    """A closed petition raised again: a new case, linked, and the earlier one no longer
    counts as settled (息诉息访)."""
    petition.prior_petition_id = earlier_id
    Petition.objects.filter(pk=earlier_id).update(raised_again_after_reply=True)


def _suggest(petition: Petition, match: matching.Match) -> PetitionMergeSuggestion:
    """Record a possible repeat for the officers (internal event); nothing else moves."""
    suggestion = PetitionMergeSuggestion.objects.create(
        petition=petition,
        candidate_id=match.petition_id,
        score=match.score,
        reasons=match.reasons,
        matched_by=match.matched_by,
    )
    _event(
        petition,
        actor=None,
        action=PetitionAction.MERGE_SUGGESTED,
        public=False,
        data={"candidate": match.petition_id, "score": match.score, "suggestion": suggestion.pk},
    )
    return suggestion


def _merge(
    petition: Petition,
    match: matching.Match,
    *,
    actor: User,
    now: datetime,
    policy: PetitionPolicy | None = None,
    event_actor: User | None = None,
) -> None:
    """Merge `petition` (received) into the open petition of `match`: only for a proven same
    person (the same account) or an officer's decision (petition_merge_confirm)."""
    primary = workflow.lock(Petition, match.petition_id)
    # Named to the filer only when both are theirs (the same account).
    reveal = same_account(petition, primary)
    PetitionMerge.objects.create(
        primary=primary,
        duplicate=petition,
        score=match.score,
        reasons=match.reasons,
        matched_by=match.matched_by,
    )
    petition.merged_into = primary
    petition.accept_due_at = None
    _move(
        petition,
        S.MERGED,
        actor=event_actor,
        action=PetitionAction.MERGED,
        note=primary.tracking_number if reveal else "",
        data={"primary": primary.pk, "score": match.score},
    )
    petition.told_at = now
    petition.told_on_time = True
    _refresh_due(petition)
    petition.save()

    primary.repeat_count = F("repeat_count") + 1
    if primary.replied_at is not None:
        primary.raised_again_after_reply = True
    primary.save(update_fields=["repeat_count", "raised_again_after_reply", "updated_at"])
    primary.refresh_from_db()
    if primary.repeat_count >= backlog_repeat_threshold(policy) and not primary.backlog:
        _mark_backlog(primary, BacklogReason.REPEATED, now)
        primary.save(
            update_fields=["backlog", "backlog_since", "backlog_reason", "backlog_resolved_at"]
        )
    _event(
        primary,
        actor=event_actor,
        action=PetitionAction.DUPLICATE_MERGED,
        note=petition.tracking_number if reveal else "",
        public=reveal,
        data={"duplicate": petition.pk, "score": match.score, "reasons": match.reasons},
    )
    with _default_language():
        if reveal:
            _tell_petitioner(
                petition,
                key="merged",
                title=_("Your petition %(number)s joins %(primary)s")
                % {"number": petition.tracking_number, "primary": primary.tracking_number},
                body=_(
                    "The same matter is already being handled (file once). It is now: %(state)s."
                )
                % {"state": primary.get_state_display()},
            )
        else:
            _tell_petitioner(
                petition,
                key="merged",
                title=_("Your petition %(number)s is handled together with an earlier petition")
                % {"number": petition.tracking_number},
                body=_("The same matter is already being handled (file once)."),
            )
    with _default_language():
        notification_send(
            user_ids=officer_ids_for(primary),
            title=_("Petition %(number)s raised again") % {"number": primary.tracking_number},
            body=_("Merged: %(number)s") % {"number": petition.tracking_number},
            url=_detail_url(primary),
            dedupe_key=f"petition-{primary.pk}-merged-{petition.pk}",
        )


def _refuse_after_reexamination(
    petition: Petition, match: matching.Match, *, actor: User, now: datetime
) -> None:
    earlier = Petition.objects.get(pk=match.petition_id)
    petition.prior_petition = earlier
    with _default_language():
        if same_account(petition, earlier):
            note = _(
                "Not taken: the same facts and reasons were settled by re-examination of "
                "%(number)s; under Art. 36 of the Regulations on Letters and Visits they are not "
                "taken again."
            ) % {"number": earlier.tracking_number}
        else:  # the earlier petition is not named to this filer (H1)
            note = _(
                "Not taken: the same facts and reasons were settled by re-examination; under "
                "Art. 36 of the Regulations on Letters and Visits they are not taken again."
            )
    petition.decision_note = note
    petition.told_at = now
    petition.told_on_time = True
    petition.accept_due_at = None
    _move(
        petition,
        S.NOT_TAKEN,
        actor=actor if is_officer(actor) else None,
        action=PetitionAction.REFUSED_AFTER_REEXAMINATION,
        note=note,
        data={"earlier": earlier.pk, "score": match.score, "reasons": match.reasons},
    )
    _refresh_due(petition)
    petition.save()
    Petition.objects.filter(pk=earlier.pk).update(raised_again_after_reply=True)
    with _default_language():
        _tell_petitioner(
            petition,
            key="refused",
            title=_("Petition %(number)s not taken") % {"number": petition.tracking_number},
            body=note,
        )


def petition_merge_undo(*, actor: User, petition_id: int, reason: str) -> Petition:
    """Undo a wrong merge: the submission becomes a petition of its own (state received, the
    15-day limit counted from its own receipt) and the open petition's count goes down.
    Petition officer covering either petition. Locks both."""
    if not (reason or "").strip():
        raise ValidationFailed(
            _("Say why the merge was wrong."), extra={"reason": [_("Say why the merge was wrong.")]}
        )
    with transaction.atomic():
        petition = _lock(petition_id)
        merge = petition.merge_records.filter(undone_at__isnull=True).first()
        if merge is None:
            raise ConflictError(_("This petition is not merged."))
        primary = workflow.lock(Petition, merge.primary_id)
        if not (covers(actor, petition) or covers(actor, primary)) or not is_officer(actor):
            raise PermissionDeniedError(_("Only petition officers may do this."))
        now = timezone.now()
        merge.undone_at = now
        merge.undone_by = actor
        merge.undo_reason = reason.strip()
        merge.save()
        petition.merged_into = None
        petition.told_at = None
        petition.told_on_time = None
        petition.accept_due_at = deadlines.accept_due(petition.received_at)
        _move(
            petition,
            S.RECEIVED,
            actor=actor,
            action=PetitionAction.MERGE_UNDONE,
            note=reason.strip(),
        )
        _refresh_due(petition)
        petition.save()

        primary.repeat_count = max(0, primary.repeat_count - 1)
        if (
            primary.backlog
            and primary.backlog_reason == BacklogReason.REPEATED
            and primary.repeat_count < backlog_repeat_threshold()
        ):
            primary.backlog = False
            primary.backlog_since = None
            primary.backlog_reason = ""
        _event(
            primary,
            actor=actor,
            action=PetitionAction.DUPLICATE_UNMERGED,
            note=petition.tracking_number,
            public=False,
            data={"duplicate": petition.pk},
        )
        primary.save()
        with _default_language():
            _tell_petitioner(
                petition,
                key=f"unmerged-{merge.pk}",
                title=_("Petition %(number)s is handled on its own")
                % {"number": petition.tracking_number},
            )
    return petition


def _pending_suggestion(actor: User, petition: Petition, suggestion_id: int):
    suggestion = (
        petition.merge_suggestions.select_related("candidate").filter(pk=suggestion_id).first()
    )
    if suggestion is None or not covers(actor, suggestion.candidate):
        raise NotFoundError(_("Possible repeat not found."))
    if not suggestion.pending:
        raise ConflictError(_("This possible repeat has already been decided."))
    return suggestion


def petition_merge_confirm(
    *, actor: User, petition_id: int, suggestion_id: int, note: str = ""
) -> Petition:
    """An officer confirms a possible repeat (H1: the officer's decision is the proof of the
    same person). Open earlier petition: the submission is merged into it (its count, backlog
    and raised-again flag move now); settled by re-examination: not taken (Art. 36); closed:
    linked as raised again. The filer is not told the other petition's number unless both are
    of the same account. Petition officer covering both petitions; locks both."""
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_officer(actor, petition)
        suggestion = _pending_suggestion(actor, petition, suggestion_id)
        candidate = workflow.lock(Petition, suggestion.candidate_id)
        now = timezone.now()
        match = matching.Match(
            petition_id=candidate.pk,
            score=suggestion.score,
            matched_by=suggestion.matched_by,
            reasons=suggestion.reasons,
        )
        _event(
            petition,
            actor=actor,
            action=PetitionAction.MERGE_CONFIRMED,
            note=(note or "").strip(),
            public=False,
            data={"candidate": candidate.pk, "suggestion": suggestion.pk},
        )
        if candidate.reexamined_at is not None and candidate.state in (S.REEXAMINED, S.CLOSED):
            _check_move(petition, S.NOT_TAKEN, PetitionAction.REFUSED_AFTER_REEXAMINATION)
            _refuse_after_reexamination(petition, match, actor=actor, now=now)
        elif candidate.state == S.CLOSED:
            _link_raised_again(petition, candidate.pk)
            petition.save()
        elif candidate.state in OPEN_STATES:
            _check_move(petition, S.MERGED, PetitionAction.MERGED)
            _merge(petition, match, actor=actor, now=now, event_actor=actor)
        else:
            raise ConflictError(_("The earlier petition can no longer take a repeat."))
        suggestion.decision = PetitionMergeSuggestion.Decision.CONFIRMED
        suggestion.decided_at = now
        suggestion.decided_by = actor
        suggestion.decision_note = (note or "").strip()
        suggestion.save()
    return petition


def petition_merge_dismiss(
    *, actor: User, petition_id: int, suggestion_id: int, note: str = ""
) -> Petition:
    """An officer finds a possible repeat is not one: the petition goes on as its own and
    nothing about the earlier petition changes. Petition officer covering both; lock."""
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_officer(actor, petition)
        suggestion = _pending_suggestion(actor, petition, suggestion_id)
        now = timezone.now()
        suggestion.decision = PetitionMergeSuggestion.Decision.DISMISSED
        suggestion.decided_at = now
        suggestion.decided_by = actor
        suggestion.decision_note = (note or "").strip()
        suggestion.save()
        _event(
            petition,
            actor=actor,
            action=PetitionAction.MERGE_DISMISSED,
            note=(note or "").strip(),
            public=False,
            data={"candidate": suggestion.candidate_id, "suggestion": suggestion.pk},
        )
    return petition
