"""Petitions (信访): intake, "file once" merging, statutory deadlines, opinions and reviews.

The state graph is declared once (TRANSITIONS); petitions.services is the only code that moves
a petition along it, and every move writes an append-only PetitionEvent.
"""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedCharField
from core.models import TimelineEvent, TimeStampedModel
from core.workflow import Graph
from petitions import personal_data


class PetitionChannel(models.TextChoices):
    """Art. 17: information network, letter, phone, fax, visit."""

    WEB = "web", _("online")
    LETTER = "letter", _("letter")
    PHONE = "phone", _("phone call")
    FAX = "fax", _("fax")
    VISIT = "visit", _("visit")


OFFICER_CHANNELS = [
    PetitionChannel.LETTER,
    PetitionChannel.PHONE,
    PetitionChannel.FAX,
    PetitionChannel.VISIT,
]


class PetitionKind(models.TextChoices):
    """Art. 29-31."""

    SUGGESTION = "suggestion", _("suggestion or opinion")
    ACCUSATION = "accusation", _("accusation or complaint")
    REQUEST = "request", _("appeal or request")


class PetitionLevel(models.TextChoices):
    """The level where the matter arose."""

    VILLAGE = "village", _("village / community")
    TOWNSHIP = "township", _("township / street")
    COUNTY = "county", _("county / district")
    CITY = "city", _("city")


REGION_LEVEL_TO_PETITION_LEVEL = {
    "community": PetitionLevel.VILLAGE,
    "street": PetitionLevel.TOWNSHIP,
    "district": PetitionLevel.COUNTY,
    "city": PetitionLevel.CITY,
    "province": PetitionLevel.CITY,
}


class PetitionState(models.TextChoices):
    RECEIVED = "received", _("received")
    MERGED = "merged", _("merged into an open petition")
    ACCEPTED = "accepted", _("accepted")
    TRANSFERRED = "transferred", _("transferred")
    NOT_TAKEN = "not_taken", _("not taken")
    IN_HANDLING = "in_handling", _("in handling")
    EXTENDED = "extended", _("extended")
    REPLIED = "replied", _("replied")
    REVIEW_REQUESTED = "review_requested", _("review requested")
    REVIEWED = "reviewed", _("reviewed")
    REEXAM_REQUESTED = "reexam_requested", _("re-examination requested")
    REEXAMINED = "reexamined", _("re-examined")
    CLOSED = "closed", pgettext_lazy("petition state", "closed")


S = PetitionState
# The allowed moves, declared once.
TRANSITIONS: dict[str, set[str]] = {
    # Intake registers every submission as received, then merges it into an open petition of
    # the same matter ("file once") or refuses it after re-examination (Art. 36) at once.
    S.RECEIVED: {S.ACCEPTED, S.TRANSFERRED, S.NOT_TAKEN, S.MERGED},
    # Undoing a wrong merge makes the submission a petition of its own.
    S.MERGED: {S.RECEIVED},
    # The receiving unit accepts, or objects within 5 working days (back to the sender).
    S.TRANSFERRED: {S.ACCEPTED, S.RECEIVED},
    S.ACCEPTED: {S.IN_HANDLING, S.EXTENDED, S.REPLIED},
    S.IN_HANDLING: {S.EXTENDED, S.REPLIED},
    S.EXTENDED: {S.REPLIED},
    S.REPLIED: {S.REVIEW_REQUESTED, S.CLOSED},
    S.REVIEW_REQUESTED: {S.REVIEWED},
    S.REVIEWED: {S.REEXAM_REQUESTED, S.CLOSED},
    S.REEXAM_REQUESTED: {S.REEXAMINED},
    S.REEXAMINED: {S.CLOSED},
    S.NOT_TAKEN: set(),
    S.CLOSED: set(),
}
# The same graph for core.workflow (check/move): every action may take any of these edges; the
# services name the action (PetitionAction) they record with each move.
GRAPH = Graph(transitions=TRANSITIONS)
FINAL_STATES = [S.NOT_TAKEN, S.CLOSED, S.MERGED]
OPEN_STATES = [s for s in PetitionState.values if s not in FINAL_STATES]
HANDLING_STATES = [S.ACCEPTED, S.IN_HANDLING, S.EXTENDED]
# States in which the unit has given its reply (处理意见书) or more.
REPLIED_OR_LATER = [
    S.REPLIED,
    S.REVIEW_REQUESTED,
    S.REVIEWED,
    S.REEXAM_REQUESTED,
    S.REEXAMINED,
    S.CLOSED,
]


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", _("basically satisfied")
    DISSATISFIED = "dissatisfied", _("dissatisfied")


SATISFIED_VALUES = [Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED]


class BacklogReason(models.TextChoices):
    OVERDUE = "overdue", _("open past its deadline")
    REPEATED = "repeated", _("raised again repeatedly")


class PetitionCategory(models.Model):
    """Content classes of petitions (信访内容分类); configuration data edited by admins."""

    code = models.CharField(_("code"), max_length=8, unique=True)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=128, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("petition category")
        verbose_name_plural = _("petition categories")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name


class Petition(TimeStampedModel):
    tracking_number = models.CharField(
        pgettext_lazy("petition", "tracking number"), max_length=16, unique=True
    )
    channel = models.CharField(_("channel"), max_length=16, choices=PetitionChannel.choices)
    kind = models.CharField(
        pgettext_lazy("petition", "kind"), max_length=16, choices=PetitionKind.choices
    )
    is_joint = models.BooleanField(_("joint petition"), default=False)
    headcount = models.PositiveIntegerField(
        _("number of people"),
        default=1,
        help_text=_("For a joint petition: how many people it speaks for."),
    )
    matter = models.CharField(_("matter"), max_length=200)
    request = models.TextField(_("request"))
    facts_and_reasons = models.TextField(_("facts and reasons"))
    category = models.ForeignKey(
        PetitionCategory,
        on_delete=models.PROTECT,
        related_name="petitions",
        verbose_name=_("category"),
    )
    # Where the matter arose: the region decides scope (prefix match on the denormalised code).
    region = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        related_name="petitions",
        verbose_name=_("region where the matter arose"),
    )
    region_code = models.CharField(_("region code"), max_length=12, db_index=True)
    level = models.CharField(_("level"), max_length=16, choices=PetitionLevel.choices)
    addressed_to = models.CharField(_("addressed to"), max_length=128, blank=True)

    # The petitioner's portal account (web intake, or a resident whose phone matched).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="petitions",
        verbose_name=_("petitioner's account"),
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registered_petitions",
        verbose_name=_("registered by"),
    )

    state = models.CharField(
        _("state"), max_length=20, choices=PetitionState.choices, default=S.RECEIVED, db_index=True
    )
    # Handling unit: the region of the unit now responsible (after a transfer: the receiver).
    handling_region = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handled_petitions",
        verbose_name=_("handling unit (region)"),
    )
    handling_region_code = models.CharField(
        _("handling region code"), max_length=12, blank=True, db_index=True
    )
    handling_unit = models.CharField(_("handling unit"), max_length=128, blank=True)
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handled_petitions",
        verbose_name=_("handling officer"),
    )

    received_at = models.DateTimeField(_("received at"), db_index=True)
    told_at = models.DateTimeField(_("petitioner told at"), null=True, blank=True)
    told_on_time = models.BooleanField(_("told in time"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    transferred_at = models.DateTimeField(_("transferred at"), null=True, blank=True)
    transfer_count = models.PositiveSmallIntegerField(_("times transferred"), default=0)
    extension_days = models.PositiveSmallIntegerField(_("extension (days)"), default=0)
    extension_reason = models.TextField(_("extension reason"), blank=True)
    extension_requested_at = models.DateTimeField(
        _("extension requested at"), null=True, blank=True
    )
    extension_requested_days = models.PositiveSmallIntegerField(
        _("extension requested (days)"), default=0
    )
    extension_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("extension approved by"),
    )
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    replied_on_time = models.BooleanField(_("replied in time"), null=True, blank=True)
    review_requested_at = models.DateTimeField(_("review requested at"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reexam_requested_at = models.DateTimeField(
        _("re-examination requested at"), null=True, blank=True
    )
    hearing_days = models.PositiveSmallIntegerField(_("hearing days (not counted)"), default=0)
    reexamined_at = models.DateTimeField(_("re-examined at"), null=True, blank=True)
    closed_at = models.DateTimeField(pgettext_lazy("petition", "closed at"), null=True, blank=True)

    # Deadlines live in columns; due_at is the current stage's (None: nothing is due from us).
    accept_due_at = models.DateTimeField(_("tell the petitioner by"), null=True, blank=True)
    objection_due_at = models.DateTimeField(_("object to the transfer by"), null=True, blank=True)
    reply_due_at = models.DateTimeField(_("reply by"), null=True, blank=True)
    review_request_due_at = models.DateTimeField(
        _("review may be requested until"), null=True, blank=True
    )
    review_due_at = models.DateTimeField(_("review answer by"), null=True, blank=True)
    reexam_request_due_at = models.DateTimeField(
        _("re-examination may be requested until"), null=True, blank=True
    )
    reexam_due_at = models.DateTimeField(_("re-examination answer by"), null=True, blank=True)
    due_at = models.DateTimeField(_("current deadline"), null=True, blank=True, db_index=True)
    warned_for = models.DateTimeField(_("warning sent for deadline"), null=True, blank=True)
    overdue = models.BooleanField(_("overdue"), default=False, db_index=True)
    overdue_since = models.DateTimeField(_("overdue since"), null=True, blank=True)
    # Told late or finished late, at any stage: kept for the KPIs.
    ever_overdue = models.BooleanField(_("was overdue"), default=False)

    # "最多投一次": submissions of the same matter merged into this one.
    repeat_count = models.PositiveIntegerField(_("times raised again"), default=0)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_submissions",
        verbose_name=_("merged into"),
    )
    prior_petition = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="later_petitions",
        verbose_name=_("earlier petition on the same matter"),
    )
    raised_again_after_reply = models.BooleanField(_("raised again after the reply"), default=False)
    # Backlog (积案): open past its deadline, or raised again repeatedly.
    backlog = models.BooleanField(_("backlog"), default=False, db_index=True)
    backlog_since = models.DateTimeField(_("backlog since"), null=True, blank=True)
    backlog_reason = models.CharField(
        _("backlog reason"), max_length=16, choices=BacklogReason.choices, blank=True
    )
    backlog_resolved_at = models.DateTimeField(_("backlog resolved at"), null=True, blank=True)

    satisfaction = models.CharField(
        _("satisfaction"), max_length=24, choices=Satisfaction.choices, blank=True
    )
    satisfaction_comment = models.TextField(_("satisfaction comment"), blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)

    # Links to the other loops. The mediation case is stored by id: the mediation app is
    # optional to this one (访调对接).
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("incident"),
    )
    mediation_case_id = models.PositiveBigIntegerField(_("mediation case"), null=True, blank=True)
    mediation_requested_at = models.DateTimeField(
        _("referred to mediation at"), null=True, blank=True
    )
    mediation_room_name = models.CharField(_("mediation room"), max_length=128, blank=True)
    mediation_note = models.TextField(_("mediation referral note"), blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("petition")
        verbose_name_plural = _("petitions")
        indexes = [
            models.Index(fields=["state", "due_at"]),
            models.Index(fields=["region_code", "state"]),
            models.Index(fields=["handling_region_code", "state"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(extension_days__lte=30), name="petition_extension_at_most_30"
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_number

    @property
    def is_open(self) -> bool:
        return self.state not in FINAL_STATES

    @property
    def can_rate(self) -> bool:
        return self.state in REPLIED_OR_LATER and not self.satisfaction


class Petitioner(models.Model):
    """One person of a petition; a joint petition has several (the visiting representatives
    at most 5, Art. 20). The ID number is read only through `id_number` / `id_number_for`."""

    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="petitioners", verbose_name=_("petition")
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=64)
    # Encrypted at rest (core.crypto); matched only through id_key. Read it via `id_number`.
    id_number_value = EncryptedCharField(_("ID number"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    is_representative = models.BooleanField(_("representative"), default=True)
    id_key = models.CharField(_("ID lookup key"), max_length=48, blank=True, db_index=True)
    phone_key = models.CharField(_("phone lookup key"), max_length=48, blank=True, db_index=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("petitioner")
        verbose_name_plural = _("petitioners")

    def __str__(self) -> str:
        return self.name

    @property
    def id_number(self) -> str:
        return self.id_number_value

    @id_number.setter
    def id_number(self, value: str) -> None:
        value = personal_data.normalise_id_number(value)
        self.id_number_value = value
        self.id_key = personal_data.lookup_key("id", value)

    def set_phone(self, value: str) -> None:
        value = personal_data.normalise_phone(value)
        self.phone = value
        self.phone_key = personal_data.lookup_key("phone", value)

    @property
    def masked_id_number(self) -> str:
        return personal_data.masked_id(self.id_number)

    @property
    def masked_phone(self) -> str:
        return personal_data.masked_phone(self.phone)


class PetitionMerge(models.Model):
    """A submission merged into an open petition of the same petitioner and matter, with the
    explanation of the match; an officer can undo it."""

    primary = models.ForeignKey(
        Petition, on_delete=models.PROTECT, related_name="merges", verbose_name=_("open petition")
    )
    duplicate = models.ForeignKey(
        Petition,
        on_delete=models.PROTECT,
        related_name="merge_records",
        verbose_name=_("merged submission"),
    )
    score = models.FloatField(_("text similarity"))
    reasons = models.JSONField(_("why it matched"), default=list)
    matched_by = models.CharField(_("matched by"), max_length=16)
    created_at = models.DateTimeField(_("merged at"), auto_now_add=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("undone by"),
    )
    undo_reason = models.TextField(_("reason for undoing"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("merge")
        verbose_name_plural = _("merges")

    def __str__(self) -> str:
        return f"{self.duplicate_id} → {self.primary_id}"

    @property
    def active(self) -> bool:
        return self.undone_at is None

    @property
    def reason_texts(self) -> list[str]:
        texts = []
        for reason in self.reasons or []:
            code = reason.get("code")
            if code == "text_similarity":
                texts.append(
                    str(
                        _("matter text similarity %(score).2f (threshold %(threshold).2f)")
                        % {"score": reason.get("score", 0), "threshold": reason.get("threshold", 0)}
                    )
                )
            else:
                texts.append(str(MERGE_REASON_LABELS.get(code, code)))
        return texts


class OpinionKind(models.TextChoices):
    REPLY = "reply", _("handling opinion")
    REVIEW = "review", _("review opinion")
    REEXAMINATION = "reexamination", _("re-examination opinion")


class Outcome(models.TextChoices):
    """Art. 32."""

    SUPPORT = "support", _("supported")
    EXPLAIN = "explain", _("explained")
    NOT_SUPPORT = "not_support", _("not supported")


class DeliveryManner(models.TextChoices):
    """How the written opinion reached the petitioner (Art. 35/36 count from receipt)."""

    ONLINE = "online", _("online (portal account)")
    IN_PERSON = "in_person", _("handed over in person")
    POST = "post", _("by post")
    OTHER = "other", _("other means")


# Delivered when issued: online (the petitioner's portal account) and in person at the desk.
DELIVERED_ON_ISSUE = [DeliveryManner.ONLINE, DeliveryManner.IN_PERSON]


class PetitionMergeSuggestion(models.Model):
    """A possible repeat found only by a free-typed identifier (ID number or phone): the
    submission is filed as a petition of its own and an officer decides
    (services.petition_merge_confirm / petition_merge_dismiss). Never shown to the filer."""

    class Decision(models.TextChoices):
        PENDING = "", _("waiting for an officer")
        CONFIRMED = "confirmed", _("confirmed")
        DISMISSED = "dismissed", _("dismissed")

    petition = models.ForeignKey(
        Petition,
        on_delete=models.CASCADE,
        related_name="merge_suggestions",
        verbose_name=_("new submission"),
    )
    candidate = models.ForeignKey(
        Petition,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("earlier petition"),
    )
    score = models.FloatField(_("text similarity"))
    reasons = models.JSONField(_("why it matched"), default=list)
    matched_by = models.CharField(_("matched by"), max_length=16)
    created_at = models.DateTimeField(_("suggested at"), default=timezone.now)
    decision = models.CharField(
        _("decision"), max_length=16, choices=Decision.choices, blank=True, default=""
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["-score", "id"]
        verbose_name = _("possible repeat")
        verbose_name_plural = _("possible repeats")
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "candidate"], name="petition_one_suggestion_per_candidate"
            )
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} ? {self.candidate_id}"

    @property
    def pending(self) -> bool:
        return not self.decision

    @property
    def reason_texts(self) -> list[str]:
        return PetitionMerge(reasons=self.reasons).reason_texts


_SHARE = [MinValueValidator(0.0), MaxValueValidator(1.0)]


class PetitionPolicy(models.Model):
    """Local practice for petitions, edited by admins (one row; `current()`). The statutory
    limits of the 信访工作条例 are law and live in petitions.deadlines."""

    warn_days = models.PositiveSmallIntegerField(
        _("warn officers this many days before a deadline"), default=3
    )
    backlog_repeats = models.PositiveSmallIntegerField(
        _("a petition raised again this many times joins the backlog"),
        default=2,
        validators=[MinValueValidator(1)],
    )
    match_same_region = models.FloatField(
        _("repeat threshold: same category and region"), default=0.35, validators=_SHARE
    )
    match_same_category = models.FloatField(
        _("repeat threshold: same category"), default=0.45, validators=_SHARE
    )
    match_any_category = models.FloatField(
        _("repeat threshold: any category"), default=0.75, validators=_SHARE
    )

    class Meta:
        verbose_name = _("petition policy")
        verbose_name_plural = _("petition policy")

    def __str__(self) -> str:
        return str(_("petition policy"))

    @classmethod
    def current(cls) -> "PetitionPolicy":
        policy = cls.objects.order_by("pk").first()
        return policy if policy is not None else cls()


class PetitionOpinion(models.Model):
    """The written opinion (处理意见书 / 复查意见书 / 复核意见书, Art. 32, 35, 36)."""

    petition = models.ForeignKey(
        Petition, on_delete=models.PROTECT, related_name="opinions", verbose_name=_("petition")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=OpinionKind.choices)
    unit = models.CharField(_("issuing unit"), max_length=128)
    request = models.TextField(_("request"))
    facts_and_reasons = models.TextField(_("facts and reasons"))
    decision = models.TextField(_("decision"))
    legal_basis = models.TextField(_("legal basis"))
    outcome = models.CharField(
        pgettext_lazy("petition opinion", "outcome"), max_length=16, choices=Outcome.choices
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued by"),
    )
    issued_at = models.DateTimeField(_("issued at"))
    # The issuing unit in the data model: the region the issuing officer is scoped to. The
    # review (Art. 35) is answered above it, the re-examination (Art. 36) above the reviewer.
    issuing_region = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issuing unit (region)"),
    )
    # Art. 35/36: the request windows run from the day the petitioner received the opinion.
    delivery_manner = models.CharField(
        _("delivered by"), max_length=16, choices=DeliveryManner.choices, blank=True
    )
    delivered_at = models.DateTimeField(_("received by the petitioner at"), null=True, blank=True)
    delivery_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("delivery recorded by"),
    )

    class Meta:
        ordering = ["issued_at", "id"]
        verbose_name = _("written opinion")
        verbose_name_plural = _("written opinions")
        constraints = [
            models.UniqueConstraint(fields=["petition", "kind"], name="petition_one_opinion_each")
        ]

    def __str__(self) -> str:
        return f"{self.petition_id} {self.kind}"


def attachment_path(instance: "PetitionAttachment", filename: str) -> str:
    """A random stored name (uuid4): the uploader's file name never reaches the storage path;
    it is kept in `name` for the download's Content-Disposition."""
    suffix = PurePath(filename or "").suffix.lower()[:10]
    stamp = timezone.now().strftime("%Y/%m")
    return f"petitions/{stamp}/{uuid.uuid4().hex}{suffix}"


class PetitionAttachment(models.Model):
    petition = models.ForeignKey(
        Petition, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("petition")
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    # The uploader's file name, for display and the download's name only.
    name = models.CharField(_("file name"), max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class PetitionAction(models.TextChoices):
    """What a timeline event records (PetitionEvent.action): the stored values are the event
    names the services have always written (past tense: what happened), so no data moves.
    Pages and the API name their moves in the imperative (petitions.moves maps each to the
    event it records)."""

    RECEIVED = "received", _("received")
    MERGED = "merged", _("merged into an open petition of the same matter")
    DUPLICATE_MERGED = "duplicate_merged", _("the same matter was raised again and merged here")
    DUPLICATE_UNMERGED = "duplicate_unmerged", _("a wrong merge was undone")
    MERGE_UNDONE = "merge_undone", _("merge undone: handled on its own")
    REFUSED_AFTER_REEXAMINATION = (
        "refused_after_reexamination",
        _("not taken: settled by re-examination (Art. 36)"),
    )
    ACCEPTED = "accepted", _("accepted")
    TRANSFERRED = "transferred", _("transferred")
    TRANSFER_OBJECTED = "transfer_objected", _("the receiving unit objected to the transfer")
    NOT_TAKEN = "not_taken", _("not taken")
    HANDLING_STARTED = "handling_started", _("handling started")
    EXTENSION_REQUESTED = "extension_requested", _("extension requested")
    EXTENSION_REFUSED = "extension_refused", _("extension refused")
    EXTENDED = "extended", _("handling time extended")
    REPLIED = "replied", _("reply issued")
    RATED = "rated", _("rated by the petitioner")
    REVIEW_REQUESTED = "review_requested", _("review requested")
    REVIEWED = "reviewed", _("review opinion issued")
    REEXAM_REQUESTED = "reexam_requested", _("re-examination requested")
    HEARING = "hearing", _("hearing held (time not counted)")
    REEXAMINED = "reexamined", _("re-examination opinion issued")
    CLOSED = "closed", pgettext_lazy("petition state", "closed")
    OVERDUE = "overdue", _("deadline passed")
    REFERRED_TO_MEDIATION = "referred_to_mediation", _("referred to mediation")
    TURNED_INTO_INCIDENT = "turned_into_incident", _("turned into an incident")
    MERGE_SUGGESTED = (
        "merge_suggested",
        _("possible repeat of an earlier petition: an officer decides"),
    )
    MERGE_CONFIRMED = "merge_confirmed", _("an officer confirmed the repeat")
    MERGE_DISMISSED = "merge_dismissed", _("an officer found it is not a repeat")
    OPINION_DELIVERED = "opinion_delivered", _("written opinion received by the petitioner")


# The label of each event action (kept for old imports; PetitionAction is the vocabulary).
EVENT_LABELS = dict(PetitionAction.choices)

MERGE_REASON_LABELS = {
    "same_account": _("same petitioner (the same signed-in account)"),
    "same_id_number": _("same petitioner (ID number)"),
    "same_phone": _("same petitioner (phone)"),
    "same_category": _("same category"),
    "same_region": _("same region"),
}


class PetitionEvent(TimelineEvent):
    """The append-only timeline: one row per action, never updated or deleted."""

    petition = models.ForeignKey(
        Petition, on_delete=models.PROTECT, related_name="events", verbose_name=_("petition")
    )
    # Set from the clock the service reads (time travel in tests), not auto_now_add.
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    from_state = models.CharField(pgettext_lazy("state change", "from"), max_length=20, blank=True)
    to_state = models.CharField(pgettext_lazy("state change", "to"), max_length=20, blank=True)
    public = models.BooleanField(_("shown to the petitioner"), default=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")

    def __str__(self) -> str:
        return f"{self.petition_id} {self.action}"

    @property
    def label(self) -> str:
        return str(EVENT_LABELS.get(self.action, self.action))

    @property
    def detail(self) -> str:
        """What the data adds, rendered in the reader's language."""
        data = self.data or {}
        if "outcome" in data:
            return str(Outcome(data["outcome"]).label)
        if "satisfaction" in data:
            return str(Satisfaction(data["satisfaction"]).label)
        if "days" in data:
            return str(_("%(days)s days") % {"days": data["days"]})
        return ""
