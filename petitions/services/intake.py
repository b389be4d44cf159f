"""Intake (Art. 17-21): validate a submission, register it, and find whether it is the same
matter as an earlier petition ("file once"; what follows a match is in services.merging)."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import RoleCode, User
from accounts.selectors import user_scope
from core.exceptions import ConflictError, PermissionDeniedError, ValidationFailed
from core.services import notification_send
from core.uploads import attachment_clean
from grids.models import Region
from petitions import deadlines, matching, personal_data
from petitions.models import (
    OFFICER_CHANNELS,
    OPEN_STATES,
    REGION_LEVEL_TO_PETITION_LEVEL,
    Petition,
    PetitionAction,
    PetitionAttachment,
    PetitionCategory,
    PetitionChannel,
    Petitioner,
    PetitionKind,
    PetitionLevel,
    PetitionPolicy,
)
from petitions.policies import is_officer
from petitions.services._steps import (
    S,
    _default_language,
    _detail_url,
    _event,
    _refresh_due,
    _tell_petitioner,
    officer_ids_for,
)
from petitions.services.merging import (
    _link_raised_again,
    _merge,
    _refuse_after_reexamination,
    _suggest,
)

MAX_JOINT_VISIT_REPRESENTATIVES = 5  # Art. 20
MAX_PETITIONERS = 50
ATTACHMENT_EXTENSIONS = {".pdf", ".jpg", ".jpeg", ".png", ".heic", ".doc", ".docx", ".txt"}
TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
# L4: at most this many attachments per petition, and this many bytes together.
MAX_ATTACHMENTS = 9
MAX_ATTACHMENTS_TOTAL_BYTES = 30 * 1024 * 1024


@dataclass
class PetitionerInput:
    name: str
    id_number: str = ""
    phone: str = ""
    address: str = ""
    is_representative: bool = True


def _tracking_number(now: datetime) -> str:
    stamp = timezone.localtime(now).strftime("%y%m%d")
    for _attempt in range(20):
        suffix = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(6))
        number = f"XF{stamp}{suffix}"
        if not Petition.objects.filter(tracking_number=number).exists():
            return number
    raise ConflictError(_("Could not allocate a tracking number; try again."))


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
            elif (upload.size or 0) > settings.PHOTO_MAX_BYTES:
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
            action=PetitionAction.RECEIVED,
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
