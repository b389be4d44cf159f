"""Every write to petitions. Each transition is one service: it runs in `transaction.atomic`,
locks the petition (`select_for_update`), checks permission, scope and state, applies the move,
writes a PetitionEvent and sends notifications (the inbox row in the transaction, SMS by a task
after commit, see core.services)."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import ROLES_SEEING_CONTACTS, RoleCode, User
from accounts.selectors import user_scope
from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from core.services import notification_send, sms_queue
from core.uploads import attachment_clean
from grids.models import Region
from petitions import deadlines, matching, personal_data
from petitions.models import (
    DELIVERED_ON_ISSUE,
    OFFICER_CHANNELS,
    OPEN_STATES,
    REGION_LEVEL_TO_PETITION_LEVEL,
    SATISFIED_VALUES,
    TRANSITIONS,
    BacklogReason,
    DeliveryManner,
    OpinionKind,
    Outcome,
    Petition,
    PetitionAttachment,
    PetitionCategory,
    PetitionChannel,
    Petitioner,
    PetitionEvent,
    PetitionKind,
    PetitionLevel,
    PetitionMerge,
    PetitionMergeSuggestion,
    PetitionOpinion,
    PetitionPolicy,
    PetitionState,
    Satisfaction,
)

S = PetitionState
MAX_JOINT_VISIT_REPRESENTATIVES = 5  # Art. 20
MAX_PETITIONERS = 50
ATTACHMENT_EXTENSIONS = {".pdf", ".jpg", ".jpeg", ".png", ".heic", ".doc", ".docx", ".txt"}
TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
# L4: at most this many attachments per petition, and this many bytes together.
MAX_ATTACHMENTS = 9
MAX_ATTACHMENTS_TOTAL_BYTES = 30 * 1024 * 1024


def backlog_repeat_threshold(policy: PetitionPolicy | None = None) -> int:
    """A petition raised again this many times joins the backlog (积案): PetitionPolicy."""
    return int((policy or PetitionPolicy.current()).backlog_repeats)


@dataclass
class PetitionerInput:
    name: str
    id_number: str = ""
    phone: str = ""
    address: str = ""
    is_representative: bool = True


@dataclass
class OpinionInput:
    request: str
    facts_and_reasons: str
    decision: str
    legal_basis: str
    outcome: str
    unit: str = ""
    # How it reaches the petitioner: online (their portal account) and in person are delivered
    # when issued; post/other wait for the officer to record the day received. Empty: online
    # when the petitioner has a portal account, else by post.
    delivery_manner: str = ""


# ---------------------------------------------------------------------------------------------
# Permission and scope helpers (one place).


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


def _require_officer(actor: User, petition: Petition, *, receiving_unit: bool = False) -> None:
    if not is_officer(actor):
        raise PermissionDeniedError(_("Only petition officers may do this."))
    if receiving_unit:
        if not user_scope(actor).covers_code(petition.handling_region_code):
            raise NotFoundError(_("Petition not found."))
    elif not covers(actor, petition):
        raise NotFoundError(_("Petition not found."))


def _require_owner_or_officer(actor: User, petition: Petition) -> None:
    if petition.owner_id is not None and petition.owner_id == actor.pk:
        return
    _require_officer(actor, petition)


def _lock(petition_id: int) -> Petition:
    petition = Petition.objects.select_for_update().filter(pk=petition_id).first()
    if petition is None:
        raise NotFoundError(_("Petition not found."))
    return petition


def _check_move(petition: Petition, to_state: str) -> None:
    if to_state not in TRANSITIONS.get(petition.state, set()):
        raise ConflictError(
            _("A petition that is %(state)s cannot become %(target)s.")
            % {"state": petition.get_state_display(), "target": S(to_state).label}
        )


def _event(
    petition: Petition,
    *,
    actor: User | None,
    action: str,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    public: bool = True,
    data: dict | None = None,
) -> PetitionEvent:
    return PetitionEvent.objects.create(
        petition=petition,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        public=public,
        data=data or {},
    )


def _move(
    petition: Petition,
    to_state: str,
    *,
    actor: User | None,
    action: str,
    note: str = "",
    public: bool = True,
    data: dict | None = None,
) -> PetitionEvent:
    _check_move(petition, to_state)
    from_state = petition.state
    petition.state = to_state
    return _event(
        petition,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        public=public,
        data=data,
    )


def current_due(petition: Petition) -> datetime | None:
    """The deadline the unit is working against in the current state."""
    if petition.state in (S.RECEIVED, S.TRANSFERRED):
        return petition.accept_due_at
    if petition.state in (S.ACCEPTED, S.IN_HANDLING, S.EXTENDED):
        return petition.reply_due_at
    if petition.state == S.REVIEW_REQUESTED:
        return petition.review_due_at
    if petition.state == S.REEXAM_REQUESTED:
        return petition.reexam_due_at
    return None


def _refresh_due(petition: Petition) -> None:
    due = current_due(petition)
    if due != petition.due_at:
        petition.due_at = due
        petition.warned_for = None
        petition.overdue = False
        petition.overdue_since = None


def _mark_backlog(petition: Petition, reason: str, now: datetime) -> None:
    if not petition.backlog:
        petition.backlog = True
        petition.backlog_since = now
        petition.backlog_reason = reason
        petition.backlog_resolved_at = None


def _detail_url(petition: Petition) -> str:
    return reverse("petitions:detail", args=[petition.pk])


def _petitioner_mobiles(petition: Petition) -> list[str]:
    return [p.phone for p in petition.petitioners.all() if personal_data.is_mobile(p.phone)]


def _tell_petitioner(petition: Petition, *, key: str, title: str, body: str = "") -> None:
    """Inbox message to the petitioner's account and an SMS to the first mobile (after commit).
    Texts are rendered in the portal's default language (Chinese)."""
    if petition.owner_id:
        with _default_language():
            notification_send(
                user_ids=[petition.owner_id],
                title=title,
                body=body,
                url=_detail_url(petition),
                dedupe_key=f"petition-{petition.pk}-{key}",
            )
    mobiles = _petitioner_mobiles(petition)
    if mobiles:
        sms_queue(
            phone=mobiles[0],
            text=f"{title} {body}".strip(),
            dedupe_key=f"petition-{petition.pk}-{key}",
        )


def officer_ids_for(
    petition: Petition, *, roles: Sequence[str] = (RoleCode.PETITION_OFFICER,)
) -> list[int]:
    """Active users holding one of `roles` whose region covers the petition."""
    candidates = (
        User.objects.filter(is_active=True, roles__code__in=list(roles))
        .select_related("scope_region")
        .distinct()
    )
    result = []
    for user in candidates:
        if user.scope_region is None:
            continue
        prefix = user.scope_region.prefix
        if petition.region_code.startswith(prefix) or (
            petition.handling_region_code and petition.handling_region_code.startswith(prefix)
        ):
            result.append(user.pk)
    return result


def _tracking_number(now: datetime) -> str:
    stamp = timezone.localtime(now).strftime("%y%m%d")
    for _attempt in range(20):
        suffix = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(6))
        number = f"XF{stamp}{suffix}"
        if not Petition.objects.filter(tracking_number=number).exists():
            return number
    raise ConflictError(_("Could not allocate a tracking number; try again."))


def _default_language():
    """Stored texts (notifications, SMS, written notices) are in the portal's default language
    (Chinese), whatever the language of the request that caused them."""
    return translation.override(settings.LANGUAGE_CODE)


# ---------------------------------------------------------------------------------------------
# Intake and "file once".


def _validate_intake(
    *,
    actor: User,
    channel: str,
    kind: str,
    matter: str,
    request: str,
    facts_and_reasons: str,
    category: PetitionCategory,
    region: Region,
    petitioners: Sequence[PetitionerInput],
    is_joint: bool,
    headcount: int,
    level: str | None,
    attachments: Sequence[UploadedFile],
) -> tuple[list[PetitionerInput], list]:
    """The cleaned petitioners and the files to store (each checked, and each image decoded,
    once), or ValidationFailed with field messages before anything is written."""
    errors: dict[str, list[str]] = {}
    if channel not in PetitionChannel.values:
        errors["channel"] = [_("Unknown channel.")]
    if kind not in PetitionKind.values:
        errors["kind"] = [_("Choose the kind of petition.")]
    if not (matter or "").strip():
        errors["matter"] = [_("Say what the petition is about.")]
    if not (request or "").strip():
        errors["request"] = [_("State the request.")]
    if not (facts_and_reasons or "").strip():
        errors["facts_and_reasons"] = [_("State the facts and reasons.")]
    if category is None or not category.active:
        errors["category"] = [_("Choose an active category.")]
    if region is None or region.level not in REGION_LEVEL_TO_PETITION_LEVEL:
        errors["region"] = [_("Choose where the matter arose.")]
    if level and level not in PetitionLevel.values:
        errors["level"] = [_("Unknown level.")]
    if not petitioners:
        errors["petitioners"] = [_("Name at least one petitioner.")]
    if len(petitioners) > MAX_PETITIONERS:
        errors["petitioners"] = [_("Too many petitioners.")]
    if headcount < 1:
        errors["headcount"] = [_("The number of people must be at least 1.")]
    if is_joint and len(petitioners) < 2 and headcount < 2:
        errors["headcount"] = [_("A joint petition speaks for at least two people.")]
    if not is_joint and len(petitioners) > 1:
        errors["petitioners"] = [_("Mark the petition as joint to name several petitioners.")]
    cleaned: list[PetitionerInput] = []
    allow_landline = channel != PetitionChannel.WEB
    for index, person in enumerate(petitioners):
        prefix = f"petitioners.{index}."
        name = (person.name or "").strip()
        if not name:
            errors[prefix + "name"] = [_("Enter the petitioner's name.")]
        try:
            id_number = personal_data.validate_id_number(person.id_number)
        except ValidationFailed as exc:
            errors[prefix + "id_number"] = [exc.message]
            id_number = ""
        try:
            phone = personal_data.validate_phone(person.phone, allow_landline=allow_landline)
        except ValidationFailed as exc:
            errors[prefix + "phone"] = [exc.message]
            phone = ""
        if index == 0 and not (person.id_number or person.phone):
            errors[prefix + "phone"] = [
                _("Give an ID number or a phone number so the petitioner can be reached.")
            ]
        cleaned.append(
            PetitionerInput(
                name=name,
                id_number=id_number,
                phone=phone,
                address=(person.address or "").strip(),
                is_representative=person.is_representative,
            )
        )
    representatives = sum(1 for p in cleaned if p.is_representative)
    if (
        channel == PetitionChannel.VISIT
        and is_joint
        and representatives > MAX_JOINT_VISIT_REPRESENTATIVES
    ):
        errors["petitioners"] = [_("A joint visit sends at most 5 representatives (Art. 20).")]
    stored: list = []
    attachments = list(attachments or [])
    if len(attachments) > MAX_ATTACHMENTS:
        errors["attachments"] = [_("Attach at most %(count)s files.") % {"count": MAX_ATTACHMENTS}]
    elif sum(upload.size or 0 for upload in attachments) > MAX_ATTACHMENTS_TOTAL_BYTES:
        errors["attachments"] = [
            _("The attachments together may not exceed %(mb)s MB.")
            % {"mb": MAX_ATTACHMENTS_TOTAL_BYTES // (1024 * 1024)}
        ]
    else:
        for upload in attachments:
            name = (upload.name or "").lower()
            if not any(name.endswith(ext) for ext in ATTACHMENT_EXTENSIONS):
                errors["attachments"] = [_("Attach PDF, Word, text or image files only.")]
            elif upload.size > settings.PHOTO_MAX_BYTES:
                errors["attachments"] = [_("An attachment is too large.")]
            else:  # by content too: a script named .jpg, a decompression bomb ... (core.uploads)
                try:
                    stored.append(attachment_clean(upload))  # images re-encoded here, once
                except ValidationFailed as exc:
                    errors["attachments"] = exc.extra["attachments"]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, extra=errors)
    return cleaned, stored


def _keys(people: Sequence[PetitionerInput]) -> list[tuple[str, str]]:
    """(kind, key) per petitioner: the ID number when given, else the phone."""
    result = []
    for person in people:
        if person.id_number:
            result.append(("id_number", personal_data.lookup_key("id", person.id_number)))
        elif person.phone:
            result.append(("phone", personal_data.lookup_key("phone", person.phone)))
    return result


def find_same_matter(
    *,
    people: Sequence[PetitionerInput],
    matter: str,
    request: str,
    category: PetitionCategory,
    region: Region,
    states: Sequence[str],
    exclude_id: int | None = None,
    extra_filter: Q | None = None,
    owner: User | None = None,
    policy: PetitionPolicy | None = None,
) -> matching.Match | None:
    """The best-matching earlier petition among `states`: of the account `owner` when given
    (proof of the same person, matched_by "account"), else of a petitioner with the same ID
    number or phone (free-typed identifiers: only ever a suggestion for an officer, H1)."""
    best: matching.Match | None = None
    policy = policy or PetitionPolicy.current()
    new_text = f"{matter} {request}"
    if owner is not None:
        searches = [("account", Q(owner=owner))]
    else:
        searches = [
            (
                matched_by,
                Q(petitioners__id_key=key)
                if matched_by == "id_number"
                else Q(petitioners__phone_key=key),
            )
            for matched_by, key in _keys(people)
        ]
    for matched_by, key_filter in searches:
        qs = Petition.objects.filter(key_filter, state__in=list(states)).distinct()
        if extra_filter is not None:
            qs = qs.filter(extra_filter)
        if exclude_id:
            qs = qs.exclude(pk=exclude_id)
        for candidate in qs.only("pk", "matter", "request", "category_id", "region_code"):
            match = matching.evaluate(
                candidate_id=candidate.pk,
                matched_by=matched_by,
                new_text=new_text,
                old_text=f"{candidate.matter} {candidate.request}",
                same_category=candidate.category_id == category.pk,
                same_region=candidate.region_code == region.code,
                policy=policy,
            )
            if match and (best is None or match.score > best.score):
                best = match
    return best


def _resolve_owner(actor: User, channel: str, people: Sequence[PetitionerInput]) -> User | None:
    if channel == PetitionChannel.WEB:
        return actor
    for person in people:
        if personal_data.is_mobile(person.phone):
            owner = User.objects.filter(
                phone=person.phone, is_active=True, roles__code=RoleCode.RESIDENT
            ).first()
            if owner is not None:
                return owner
    return None


def petition_file(
    *,
    actor: User,
    channel: str,
    kind: str,
    matter: str,
    request: str,
    facts_and_reasons: str,
    category: PetitionCategory,
    region: Region,
    petitioners: Sequence[PetitionerInput],
    addressed_to: str = "",
    is_joint: bool = False,
    headcount: int | None = None,
    level: str | None = None,
    attachments: Sequence[UploadedFile] = (),
    received_at: datetime | None = None,
) -> Petition:
    """Register a petition (Art. 19, 21). Online: the signed-in resident files for themself.
    Letter, phone, fax, visit: a petition officer whose region covers `region` registers it.

    "File once" (H1: only what provably comes from the same person is merged): an online
    submission whose signed-in account has an open petition on the same matter is merged into
    it (state merged, a PetitionMerge with the reasons), the same matter after re-examination
    (Art. 36) of the account's petition is not taken, and a closed one raised again is linked.
    A match by a free-typed ID number or phone only (and every match of an officer-recorded
    intake) is a PetitionMergeSuggestion: the submission is filed as a petition of its own, the
    officer sees "possible repeat of XF…" and decides (petition_merge_confirm / _dismiss); the
    filer learns nothing of the other petition and no count moves until then.
    Transaction; notifications to officers and the petitioner; SMS after commit.
    """
    if actor is None or not actor.is_authenticated:
        raise PermissionDeniedError(_("Sign in to file a petition."))
    now = timezone.now()
    if channel == PetitionChannel.WEB:
        if received_at is not None:
            raise ValidationFailed(_("An online petition is received when it is filed."))
        received_at = now
        petitioners = list(petitioners)[:1] if petitioners else []
        if petitioners and not petitioners[0].phone and actor.phone:
            petitioners[0].phone = actor.phone
        is_joint = False
        # I2: a resident does not set the level or the number of people of an online petition.
        headcount = None
        level = None
    else:
        if channel not in OFFICER_CHANNELS:
            raise ValidationFailed(
                _("Unknown channel."), extra={"channel": [_("Unknown channel.")]}
            )
        if not is_officer(actor):
            raise PermissionDeniedError(
                _("Only petition officers register letters, calls and visits.")
            )
        if region is not None and not user_scope(actor).covers_code(region.code):
            raise PermissionDeniedError(_("This region is outside your area."))
        received_at = received_at or now
        if received_at > now:
            raise ValidationFailed(
                _("The date received cannot be in the future."),
                extra={"received_at": [_("The date received cannot be in the future.")]},
            )
    headcount = headcount or max(1, len(petitioners))
    people, files = _validate_intake(
        actor=actor,
        channel=channel,
        kind=kind,
        matter=matter,
        request=request,
        facts_and_reasons=facts_and_reasons,
        category=category,
        region=region,
        petitioners=petitioners,
        is_joint=is_joint,
        headcount=headcount,
        level=level,
        attachments=attachments,
    )
    policy = PetitionPolicy.current()

    with transaction.atomic():
        match_args = {
            "people": people,
            "matter": matter,
            "request": request,
            "category": category,
            "region": region,
            "policy": policy,
        }
        # Proven: the same signed-in account (online only). Suggested: the same identifiers.
        proven = _find_matches(match_args, owner=actor) if channel == PetitionChannel.WEB else {}
        suggested = {} if proven else _find_matches(match_args, owner=None)

        petition = Petition.objects.create(
            tracking_number=_tracking_number(now),
            channel=channel,
            kind=kind,
            is_joint=is_joint,
            headcount=headcount,
            matter=matter.strip(),
            request=request.strip(),
            facts_and_reasons=facts_and_reasons.strip(),
            category=category,
            region=region,
            region_code=region.code,
            level=level or REGION_LEVEL_TO_PETITION_LEVEL[region.level],
            addressed_to=addressed_to.strip(),
            owner=_resolve_owner(actor, channel, people),
            registered_by=None if channel == PetitionChannel.WEB else actor,
            state=S.RECEIVED,
            received_at=received_at,
            accept_due_at=deadlines.accept_due(received_at),
        )
        for position, person in enumerate(people):
            petitioner = Petitioner(
                petition=petition,
                position=position,
                name=person.name,
                address=person.address,
                is_representative=person.is_representative,
            )
            petitioner.id_number = person.id_number
            petitioner.set_phone(person.phone)
            petitioner.save()
        for stored in files:  # checked (and images re-encoded) once, in _validate_intake
            PetitionAttachment.objects.create(
                petition=petition,
                file=stored,
                name=PurePath(stored.name or "file").name[:255],
                uploaded_by=actor,
            )
        _event(
            petition,
            actor=actor,
            action="received",
            to_state=S.RECEIVED,
            data={"channel": channel},
        )

        if "open" in proven:
            _merge(petition, proven["open"], actor=actor, now=now, policy=policy)
        elif "final" in proven:
            _refuse_after_reexamination(petition, proven["final"], actor=actor, now=now)
        else:
            if "closed" in proven:
                _link_raised_again(petition, proven["closed"].petition_id)
            for match in suggested.values():
                _suggest(petition, match)
            _refresh_due(petition)
            petition.save()
            with _default_language():
                _tell_petitioner(
                    petition,
                    key="received",
                    title=_("Petition %(number)s received") % {"number": petition.tracking_number},
                    body=_("Follow it online with this tracking number."),
                )
            with _default_language():
                notification_send(
                    user_ids=officer_ids_for(petition),
                    title=_("New petition %(number)s") % {"number": petition.tracking_number},
                    body=petition.matter,
                    url=_detail_url(petition),
                    dedupe_key=f"petition-{petition.pk}-new",
                )
    return petition


def _find_matches(args: dict, *, owner: User | None) -> dict[str, matching.Match]:
    """The earlier petitions of the same matter: "open" (merge), else "final" (settled by
    re-examination, Art. 36), else "closed" (raised again after it was closed)."""
    found: dict[str, matching.Match] = {}
    # A re-examined petition is settled for good (Art. 36): refused, not merged.
    open_match = find_same_matter(
        states=[state for state in OPEN_STATES if state != S.REEXAMINED], owner=owner, **args
    )
    if open_match is not None:
        found["open"] = open_match
        return found
    final_match = find_same_matter(
        states=[S.REEXAMINED, S.CLOSED],
        extra_filter=Q(reexamined_at__isnull=False),
        owner=owner,
        **args,
    )
    if final_match is not None:
        found["final"] = final_match
        return found
    closed_match = find_same_matter(states=[S.CLOSED], owner=owner, **args)
    if closed_match is not None:
        found["closed"] = closed_match
    return found


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
        action="merge_suggested",
        public=False,
        data={"candidate": match.petition_id, "score": match.score, "suggestion": suggestion.pk},
    )
    return suggestion


def same_account(petition: Petition, other: Petition) -> bool:
    """Both petitions belong to the same portal account: only then may one be named to the
    petitioner of the other."""
    return petition.owner_id is not None and petition.owner_id == other.owner_id


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
    primary = Petition.objects.select_for_update().get(pk=match.petition_id)
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
        action="merged",
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
        action="duplicate_merged",
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
        action="refused_after_reexamination",
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
        primary = Petition.objects.select_for_update().get(pk=merge.primary_id)
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
        _move(petition, S.RECEIVED, actor=actor, action="merge_undone", note=reason.strip())
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
            action="duplicate_unmerged",
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
        candidate = Petition.objects.select_for_update().get(pk=suggestion.candidate_id)
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
            action="merge_confirmed",
            note=(note or "").strip(),
            public=False,
            data={"candidate": candidate.pk, "suggestion": suggestion.pk},
        )
        if candidate.reexamined_at is not None and candidate.state in (S.REEXAMINED, S.CLOSED):
            _check_move(petition, S.NOT_TAKEN)
            _refuse_after_reexamination(petition, match, actor=actor, now=now)
        elif candidate.state == S.CLOSED:
            _link_raised_again(petition, candidate.pk)
            petition.save()
        elif candidate.state in OPEN_STATES:
            _check_move(petition, S.MERGED)
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
            action="merge_dismissed",
            note=(note or "").strip(),
            public=False,
            data={"candidate": suggestion.candidate_id, "suggestion": suggestion.pk},
        )
    return petition


# ---------------------------------------------------------------------------------------------
# Decision within 15 days: accept, transfer, not taken; objection to a transfer.


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
        _check_move(petition, S.ACCEPTED)
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
        _move(petition, S.ACCEPTED, actor=actor, action="accepted", note=note.strip())
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
        _check_move(petition, S.TRANSFERRED)
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
            action="transferred",
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
        _check_move(petition, S.RECEIVED)
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
            action="transfer_objected",
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
        _check_move(petition, S.NOT_TAKEN)
        now = timezone.now()
        _told(petition, now)
        note = reason.strip() + (f" ({legal_basis.strip()})" if legal_basis.strip() else "")
        petition.decision_note = note
        _move(petition, S.NOT_TAKEN, actor=actor, action="not_taken", note=note)
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


# ---------------------------------------------------------------------------------------------
# Handling, extension, reply.


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
        _check_move(petition, S.IN_HANDLING)
        petition.handler = handler
        _move(
            petition,
            S.IN_HANDLING,
            actor=actor,
            action="handling_started",
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
        _check_move(petition, S.EXTENDED)
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
            action="extension_requested",
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
                action="extension_refused",
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
        petition.reply_due_at = deadlines.reply_due(petition.accepted_at, days)
        _move(
            petition,
            S.EXTENDED,
            actor=actor,
            action="extended",
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


def _opinion(
    petition: Petition, *, kind: str, opinion: OpinionInput, actor: User, now: datetime
) -> PetitionOpinion:
    errors: dict[str, list[str]] = {}
    for name in ("request", "facts_and_reasons", "decision", "legal_basis"):
        if not (getattr(opinion, name) or "").strip():
            errors[name] = [_("This field is required.")]
    if opinion.outcome not in Outcome.values:
        errors["outcome"] = [_("Choose support, explain or not support (Art. 32).")]
    manner = opinion.delivery_manner or (
        DeliveryManner.ONLINE if petition.owner_id else DeliveryManner.POST
    )
    if manner not in DeliveryManner.values:
        errors["delivery_manner"] = [_("Choose how the opinion reaches the petitioner.")]
    elif manner == DeliveryManner.ONLINE and not petition.owner_id:
        errors["delivery_manner"] = [
            _("Online delivery needs the petitioner's portal account; choose another manner.")
        ]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], extra=errors)
    if petition.opinions.filter(kind=kind).exists():
        raise ConflictError(_("This opinion has already been issued."))
    return PetitionOpinion.objects.create(
        petition=petition,
        kind=kind,
        unit=(opinion.unit or petition.handling_unit or str(petition.handling_region or "")).strip()
        or _("Petition office"),
        request=opinion.request.strip(),
        facts_and_reasons=opinion.facts_and_reasons.strip(),
        decision=opinion.decision.strip(),
        legal_basis=opinion.legal_basis.strip(),
        outcome=opinion.outcome,
        issued_by=actor,
        issued_at=now,
        issuing_region=actor.scope_region,
        delivery_manner=manner,
        # Online and in person: received when issued; post and other: recorded later.
        delivered_at=now if manner in DELIVERED_ON_ISSUE else None,
    )


def _request_window_due(opinion: PetitionOpinion) -> datetime | None:
    """Art. 35/36: 30 days from the day the petitioner received the written opinion; None
    while its delivery is not recorded (a request is still accepted, see docs/petitions.md)."""
    if opinion.delivered_at is None:
        return None
    return deadlines.review_request_due(opinion.delivered_at)


def _unit_above(actor: User, region: Region | None) -> bool:
    """The actor's unit is above `region` (the issuing unit): its scope covers the region's
    parent, or it sees everything (portal admins) and is not that very region."""
    scope = user_scope(actor)
    if scope.everything:
        return region is None or actor.scope_region_id != region.pk
    if region is None or region.parent_id is None:
        return False
    return scope.covers_code(region.parent.code)


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


def _require_unit_above(actor: User, petition: Petition, kind: str) -> None:
    _require_officer(actor, petition)
    if not can_answer(actor, petition, kind):
        if kind == OpinionKind.REVIEW:
            raise PermissionDeniedError(
                _("The review is answered by the unit above the one that replied (Art. 35).")
            )
        raise PermissionDeniedError(
            _("The re-examination is answered by the unit above the one that reviewed (Art. 36).")
        )


def petition_reply(*, actor: User, petition_id: int, opinion: OpinionInput) -> Petition:
    """Issue the handling opinion (处理意见书, Art. 32) and reply. Opens the 30 days in which the
    petitioner may ask for review (Art. 35). Petition officer in scope; lock."""
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_officer(actor, petition)
        _check_move(petition, S.REPLIED)
        now = timezone.now()
        issued = _opinion(petition, kind=OpinionKind.REPLY, opinion=opinion, actor=actor, now=now)
        petition.replied_at = now
        petition.replied_on_time = petition.reply_due_at is None or now <= petition.reply_due_at
        if not petition.replied_on_time:
            petition.ever_overdue = True
        petition.review_request_due_at = _request_window_due(issued)
        _move(
            petition,
            S.REPLIED,
            actor=actor,
            action="replied",
            data={"outcome": opinion.outcome},
        )
        _refresh_due(petition)
        petition.save()
        with _default_language():
            _tell_petitioner(
                petition,
                key="replied",
                title=_("Petition %(number)s answered") % {"number": petition.tracking_number},
                body=(
                    _(
                        "Read the handling opinion and rate it online. "
                        "You may ask for review by %(date)s."
                    )
                    % {
                        "date": timezone.localtime(petition.review_request_due_at).strftime(
                            "%Y-%m-%d"
                        )
                    }
                    if petition.review_request_due_at
                    else _(
                        "The written handling opinion is on its way. You may ask for review "
                        "within 30 days of receiving it."
                    )
                ),
            )
    return petition


def petition_rate(
    *, actor: User, petition_id: int, satisfaction: str, comment: str = ""
) -> Petition:
    """The petitioner rates the answer online (Art. 21), once. Owner only; lock."""
    if satisfaction not in Satisfaction.values:
        raise ValidationFailed(
            _("Choose a rating."), extra={"satisfaction": [_("Choose a rating.")]}
        )
    with transaction.atomic():
        petition = _lock(petition_id)
        if petition.owner_id is None or petition.owner_id != actor.pk:
            raise PermissionDeniedError(_("Only the petitioner rates the answer."))
        if petition.replied_at is None or petition.state == S.MERGED:
            raise ConflictError(_("There is no answer to rate yet."))
        if petition.satisfaction:
            raise ConflictError(_("This petition has already been rated."))
        petition.satisfaction = satisfaction
        petition.satisfaction_comment = (comment or "").strip()
        petition.rated_at = timezone.now()
        _event(
            petition,
            actor=actor,
            action="rated",
            data={"satisfaction": satisfaction},
        )
        petition.save()
    return petition


# ---------------------------------------------------------------------------------------------
# Review (复查) and re-examination (复核).


def petition_review_request(*, actor: User, petition_id: int, reason: str) -> Petition:
    """The petitioner (online, or an officer recording a written request) asks for review within
    30 days of the reply (Art. 35); the answer is due 30 days later. Lock."""
    if not (reason or "").strip():
        raise ValidationFailed(
            _("Say what you disagree with."), extra={"reason": [_("Say what you disagree with.")]}
        )
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_owner_or_officer(actor, petition)
        _check_move(petition, S.REVIEW_REQUESTED)
        now = timezone.now()
        # The window runs from the day the reply was received; a request before its delivery
        # is recorded is accepted (it shows the petitioner has the reply).
        if petition.review_request_due_at and now > petition.review_request_due_at:
            raise ConflictError(
                _("Review must be requested within 30 days of receiving the reply (Art. 35).")
            )
        petition.review_requested_at = now
        petition.review_due_at = deadlines.review_due(now)
        petition.raised_again_after_reply = True
        _move(
            petition,
            S.REVIEW_REQUESTED,
            actor=actor,
            action="review_requested",
            note=reason.strip(),
        )
        _refresh_due(petition)
        petition.save()
        with _default_language():
            notification_send(
                user_ids=officer_ids_for(petition),
                title=_("Review requested for %(number)s") % {"number": petition.tracking_number},
                body=reason.strip(),
                url=_detail_url(petition),
                dedupe_key=f"petition-{petition.pk}-review-requested",
            )
    return petition


def petition_review(*, actor: User, petition_id: int, opinion: OpinionInput) -> Petition:
    """The review opinion (复查意见, Art. 35); opens 30 days for re-examination. Officer; lock."""
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_officer(actor, petition)
        _check_move(petition, S.REVIEWED)
        _require_unit_above(actor, petition, OpinionKind.REVIEW)
        now = timezone.now()
        issued = _opinion(petition, kind=OpinionKind.REVIEW, opinion=opinion, actor=actor, now=now)
        petition.reviewed_at = now
        if petition.review_due_at and now > petition.review_due_at:
            petition.ever_overdue = True
        petition.reexam_request_due_at = _request_window_due(issued)
        _move(
            petition,
            S.REVIEWED,
            actor=actor,
            action="reviewed",
            data={"outcome": opinion.outcome},
        )
        _refresh_due(petition)
        petition.save()
        with _default_language():
            _tell_petitioner(
                petition,
                key="reviewed",
                title=_("Review of petition %(number)s answered")
                % {"number": petition.tracking_number},
                body=(
                    _("You may ask for re-examination by %(date)s.")
                    % {
                        "date": timezone.localtime(petition.reexam_request_due_at).strftime(
                            "%Y-%m-%d"
                        )
                    }
                    if petition.reexam_request_due_at
                    else _(
                        "The written review opinion is on its way. You may ask for "
                        "re-examination within 30 days of receiving it."
                    )
                ),
            )
    return petition


def petition_reexam_request(*, actor: User, petition_id: int, reason: str) -> Petition:
    """Re-examination requested within 30 days of the review answer (Art. 36). Lock."""
    if not (reason or "").strip():
        raise ValidationFailed(
            _("Say what you disagree with."), extra={"reason": [_("Say what you disagree with.")]}
        )
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_owner_or_officer(actor, petition)
        _check_move(petition, S.REEXAM_REQUESTED)
        now = timezone.now()
        if petition.reexam_request_due_at and now > petition.reexam_request_due_at:
            raise ConflictError(
                _(
                    "Re-examination must be requested within 30 days of receiving the review "
                    "opinion (Art. 36)."
                )
            )
        petition.reexam_requested_at = now
        petition.reexam_due_at = deadlines.reexam_due(now, petition.hearing_days)
        _move(
            petition,
            S.REEXAM_REQUESTED,
            actor=actor,
            action="reexam_requested",
            note=reason.strip(),
        )
        _refresh_due(petition)
        petition.save()
        with _default_language():
            notification_send(
                user_ids=officer_ids_for(petition),
                title=_("Re-examination requested for %(number)s")
                % {"number": petition.tracking_number},
                body=reason.strip(),
                url=_detail_url(petition),
                dedupe_key=f"petition-{petition.pk}-reexam-requested",
            )
    return petition


def petition_hearing_record(
    *, actor: User, petition_id: int, days: int, note: str = ""
) -> Petition:
    """A hearing held during re-examination: its days are not counted (Art. 36), so the answer
    deadline moves by that many days. Petition officer in scope; lock."""
    if not isinstance(days, int) or days < 1 or days > 365:
        raise ValidationFailed(
            _("Enter the number of hearing days."),
            extra={"days": [_("Enter the number of hearing days.")]},
        )
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_officer(actor, petition)
        if petition.state != S.REEXAM_REQUESTED:
            raise ConflictError(_("A hearing is recorded only during re-examination."))
        _require_unit_above(actor, petition, OpinionKind.REEXAMINATION)
        petition.hearing_days += days
        petition.reexam_due_at = deadlines.reexam_due(
            petition.reexam_requested_at, petition.hearing_days
        )
        _event(petition, actor=actor, action="hearing", note=note.strip(), data={"days": days})
        _refresh_due(petition)
        petition.save()
    return petition


def petition_reexamine(*, actor: User, petition_id: int, opinion: OpinionInput) -> Petition:
    """The re-examination opinion (复核意见, Art. 36): final; the same facts and reasons are not
    taken again. Petition officer in scope; lock. The sweep closes it."""
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_officer(actor, petition)
        _check_move(petition, S.REEXAMINED)
        _require_unit_above(actor, petition, OpinionKind.REEXAMINATION)
        now = timezone.now()
        _opinion(petition, kind=OpinionKind.REEXAMINATION, opinion=opinion, actor=actor, now=now)
        petition.reexamined_at = now
        if petition.reexam_due_at and now > petition.reexam_due_at:
            petition.ever_overdue = True
        _move(
            petition,
            S.REEXAMINED,
            actor=actor,
            action="reexamined",
            data={"outcome": opinion.outcome},
        )
        _refresh_due(petition)
        petition.save()
        with _default_language():
            _tell_petitioner(
                petition,
                key="reexamined",
                title=_("Re-examination of petition %(number)s answered")
                % {"number": petition.tracking_number},
                body=_("The re-examination opinion is final (Art. 36)."),
            )
    return petition


def petition_delivery_record(
    *, actor: User, petition_id: int, kind: str, delivered_on: date, manner: str
) -> Petition:
    """Record the day the petitioner received a written opinion (post, in person, other) sent
    other than online. For the reply and the review opinion the request window (Art. 35/36:
    30 days from receipt) now runs from that day. Once per opinion; petition officer in scope;
    lock."""
    errors: dict[str, list[str]] = {}
    if kind not in OpinionKind.values:
        errors["kind"] = [_("Choose the written opinion.")]
    if manner not in DeliveryManner.values or manner == DeliveryManner.ONLINE:
        errors["manner"] = [_("Choose how the opinion was delivered.")]
    if not isinstance(delivered_on, date):
        errors["delivered_on"] = [_("Enter the day the petitioner received it.")]
    elif delivered_on > timezone.localdate():
        errors["delivered_on"] = [_("The day received cannot be in the future.")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], extra=errors)
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_officer(actor, petition)
        opinion = petition.opinions.filter(kind=kind).first()
        if opinion is None:
            raise ConflictError(_("This opinion has not been issued."))
        if opinion.delivered_at is not None:
            raise ConflictError(_("The delivery of this opinion is already recorded."))
        if delivered_on < timezone.localtime(opinion.issued_at).date():
            message = _("The opinion cannot be received before it was issued.")
            raise ValidationFailed(message, extra={"delivered_on": [message]})
        delivered_at = timezone.make_aware(datetime.combine(delivered_on, time(12, 0)))
        opinion.delivered_at = delivered_at
        opinion.delivery_manner = manner
        opinion.delivery_recorded_by = actor
        opinion.save(update_fields=["delivered_at", "delivery_manner", "delivery_recorded_by"])
        due = _request_window_due(opinion)
        if kind == OpinionKind.REPLY and petition.state == S.REPLIED:
            petition.review_request_due_at = due
        elif kind == OpinionKind.REVIEW and petition.state == S.REVIEWED:
            petition.reexam_request_due_at = due
        _event(
            petition,
            actor=actor,
            action="opinion_delivered",
            note=str(DeliveryManner(manner).label),
            data={"kind": kind, "manner": manner, "delivered_on": delivered_on.isoformat()},
        )
        petition.save()
    return petition


def _closable(petition: Petition, now: datetime) -> bool:
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


def petition_close(*, actor: User | None, petition_id: int, note: str = "") -> Petition:
    """Close (办结): a re-examined petition at once; a replied or reviewed one when the window to
    ask further has passed (or the petitioner said they are satisfied). `actor` None is the
    system (the sweep). Lock."""
    with transaction.atomic():
        petition = _lock(petition_id)
        if actor is not None:
            _require_officer(actor, petition)
        _check_move(petition, S.CLOSED)
        now = timezone.now()
        if not _closable(petition, now):
            raise ConflictError(
                _("The petitioner may still ask for review or re-examination; close it later.")
            )
        petition.closed_at = now
        if petition.backlog and petition.backlog_resolved_at is None:
            petition.backlog_resolved_at = now
        _move(petition, S.CLOSED, actor=actor, action="closed", note=note.strip())
        _refresh_due(petition)
        petition.save()
    return petition


# ---------------------------------------------------------------------------------------------
# Links: mediation (访调对接) and incidents.


@dataclass
class RespondentInput:
    """The other party of the dispute, needed by a mediation case."""

    name: str
    phone: str = ""
    address: str = ""


def mediation_rooms():
    """Active mediation rooms when the mediation app is installed (访调对接 rooms first)."""
    try:
        from mediation.models import MediationRoom, RoomType
    except ImportError:
        return None
    from django.db.models import Case, IntegerField, Value, When

    return (
        MediationRoom.objects.filter(active=True)
        .annotate(
            window_first=Case(
                When(room_type=RoomType.PETITION_WINDOW, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("window_first", "sort_order", "name")
    )


def _mediation_create_case(
    petition: Petition,
    *,
    actor: User,
    room_id: int | None,
    respondent: RespondentInput | None,
    note: str,
) -> int | None:
    """Open a case in the mediation app (mediation.services.case_create_from_petition) with the
    petitioners as applicants. Returns the case id, or None when the app or a room is missing
    (the referral then stays a recorded request)."""
    if room_id is None:
        return None
    try:
        from mediation import services as mediation_services
    except ImportError:
        return None
    create = getattr(mediation_services, "case_create_from_petition", None)
    if create is None:
        return None
    parties = [
        {
            "role": "applicant",
            "name": person.name,
            "id_number": person.id_number,
            "phone": person.phone if personal_data.is_mobile(person.phone) else "",
            "address": person.address,
            "user_id": petition.owner_id if position == 0 else None,
        }
        for position, person in enumerate(petition.petitioners.all())
    ]
    if respondent is not None and respondent.name.strip():
        parties.append(
            {
                "role": "respondent",
                "name": respondent.name.strip(),
                "id_number": "",
                "phone": respondent.phone.strip(),
                "address": respondent.address.strip(),
            }
        )
    facts = f"{petition.matter}\n{petition.facts_and_reasons}" + (f"\n{note}" if note else "")
    case = create(
        actor=actor,
        petition_id=petition.pk,
        room_id=room_id,
        parties=parties,
        facts=facts,
        category_code=None,
    )
    return case.pk


def petition_refer_to_mediation(
    *,
    actor: User,
    petition_id: int,
    room_id: int | None = None,
    room_name: str = "",
    respondent: RespondentInput | None = None,
    note: str = "",
) -> Petition:
    """Refer the dispute in a petition to a mediation room (访调对接, Art. 33) while it is being
    handled. With a room of the mediation app, a case is opened there
    (mediation.services.case_create_from_petition: petitioners as applicants, `respondent` as
    the other party) and linked by id; without one, the referral is a recorded request.
    Petition officer in scope; lock; handling of the petition goes on."""
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_officer(actor, petition)
        if petition.state not in (S.ACCEPTED, S.IN_HANDLING, S.EXTENDED):
            raise ConflictError(_("Only a petition being handled can be referred to mediation."))
        if petition.mediation_requested_at is not None:
            raise ConflictError(_("This petition has already been referred to mediation."))
        rooms = mediation_rooms()
        if room_id is not None and rooms is not None:
            room = rooms.filter(pk=room_id).first()
            if room is None:
                message = _("Choose an active mediation room.")
                raise ValidationFailed(message, extra={"room": [message]})
            room_name = room.name
        note = (note or "").strip()
        case_id = _mediation_create_case(
            petition, actor=actor, room_id=room_id, respondent=respondent, note=note
        )
        petition.mediation_requested_at = timezone.now()
        petition.mediation_room_name = (room_name or "").strip()
        petition.mediation_note = note
        petition.mediation_case_id = case_id
        _event(
            petition,
            actor=actor,
            action="referred_to_mediation",
            note=petition.mediation_room_name,
            data={"case_id": case_id},
        )
        petition.save()
    return petition


def _region_centre(region: Region) -> tuple[float | None, float | None]:
    """A point inside the region where the matter arose (when the officer gives none)."""
    from shapely.geometry import shape

    try:
        point = shape(region.boundary).representative_point()
    except (ValueError, TypeError, KeyError, AttributeError):
        return None, None
    return point.y, point.x


def petition_turn_into_incident(
    *,
    actor: User,
    petition_id: int,
    category,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    note: str = "",
) -> Petition:
    """A concrete local problem goes to the grid loop: an incident is reported through
    incidents.services.incident_report and linked here. Officer in scope; lock; handling of the
    petition continues (the reply reports the outcome)."""
    from incidents.models import Channel
    from incidents.services import incident_report  # the incidents team's contract

    with transaction.atomic():
        petition = _lock(petition_id)
        _require_officer(actor, petition)
        if petition.state not in (S.ACCEPTED, S.IN_HANDLING, S.EXTENDED):
            raise ConflictError(_("Only a petition being handled can be turned into an incident."))
        if petition.incident_id is not None:
            raise ConflictError(_("This petition has already been turned into an incident."))
        first = petition.petitioners.first()
        channel = "petition" if "petition" in Channel.values else Channel.API
        if (lat is None or lng is None) and petition.region.boundary:
            lat, lng = _region_centre(petition.region)
        with translation.override(settings.LANGUAGE_CODE):
            description = _("From petition %(number)s: %(matter)s") % {
                "number": petition.tracking_number,
                "matter": petition.matter,
            }
        description = f"{description}\n{petition.request}" + (
            f"\n{note.strip()}" if note.strip() else ""
        )
        incident = incident_report(
            actor=actor,
            category=category,
            description=description,
            channel=channel,
            lat=lat,
            lng=lng,
            address=address or (first.address if first else ""),
            reporter_name=first.name if first else "",
            reporter_phone=first.phone if first and personal_data.is_mobile(first.phone) else "",
        )
        petition.incident = incident
        _event(
            petition,
            actor=actor,
            action="turned_into_incident",
            note=incident.tracking_number,
            data={"incident_id": incident.pk},
        )
        petition.save()
    return petition


# ---------------------------------------------------------------------------------------------
# The deadline sweep (Celery beat, petitions.tasks.sweep_deadlines).


def petitions_sweep_deadlines(*, now: datetime | None = None) -> dict[str, int]:
    """Warn officers before each deadline, flag what is overdue (it joins the backlog), and
    close replied/reviewed petitions whose window to ask further has passed and re-examined
    ones. Idempotent: each petition is re-read under a lock, notifications are deduped."""
    now = now or timezone.now()
    counts = {"warned": 0, "overdue": 0, "closed": 0}
    warn_until = now + timedelta(days=deadlines.warn_before_days(PetitionPolicy.current()))

    to_warn = Petition.objects.filter(
        state__in=OPEN_STATES, due_at__gt=now, due_at__lte=warn_until
    ).exclude(warned_for=F("due_at"))
    for petition_id in list(to_warn.values_list("pk", flat=True)):
        with transaction.atomic():
            petition = Petition.objects.select_for_update().get(pk=petition_id)
            if petition.due_at is None or petition.warned_for == petition.due_at:
                continue
            if not (now < petition.due_at <= warn_until):
                continue
            with _default_language():
                notification_send(
                    user_ids=officer_ids_for(petition),
                    title=_("Petition %(number)s is due %(date)s")
                    % {
                        "number": petition.tracking_number,
                        "date": timezone.localtime(petition.due_at).strftime("%Y-%m-%d"),
                    },
                    body=petition.get_state_display(),
                    url=_detail_url(petition),
                    dedupe_key=f"petition-{petition.pk}-warn-{petition.state}-{petition.due_at:%Y%m%d}",
                )
            Petition.objects.filter(pk=petition.pk).update(warned_for=petition.due_at)
            counts["warned"] += 1

    to_flag = Petition.objects.filter(state__in=OPEN_STATES, due_at__lt=now, overdue=False)
    for petition_id in list(to_flag.values_list("pk", flat=True)):
        with transaction.atomic():
            petition = Petition.objects.select_for_update().get(pk=petition_id)
            if petition.overdue or petition.due_at is None or petition.due_at >= now:
                continue
            petition.overdue = True
            petition.overdue_since = now
            petition.ever_overdue = True
            _mark_backlog(petition, BacklogReason.OVERDUE, now)
            _event(
                petition,
                actor=None,
                action="overdue",
                public=False,
                data={"state": petition.state, "due_at": petition.due_at.isoformat()},
            )
            petition.save()
            with _default_language():
                notification_send(
                    user_ids=officer_ids_for(petition)
                    + officer_ids_for(petition, roles=(RoleCode.SUPERVISOR,)),
                    title=_("Petition %(number)s is overdue")
                    % {"number": petition.tracking_number},
                    body=petition.get_state_display(),
                    url=_detail_url(petition),
                    dedupe_key=f"petition-{petition.pk}-overdue-{petition.state}-{petition.due_at:%Y%m%d}",
                )
            counts["overdue"] += 1

    closable = Petition.objects.filter(
        Q(state=S.REEXAMINED)
        | Q(state=S.REPLIED, review_request_due_at__lt=now)
        | Q(state=S.REVIEWED, reexam_request_due_at__lt=now)
    )
    for petition_id in list(closable.values_list("pk", flat=True)):
        try:
            petition_close(actor=None, petition_id=petition_id)
        except (ConflictError, NotFoundError):
            continue  # the state moved on meanwhile
        counts["closed"] += 1
    return counts
