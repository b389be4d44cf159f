"""The petition, its petitioners and its categories."""

from django.conf import settings
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedCharField
from core.models import TimeStampedModel
from petitions import personal_data
from petitions.models.choices import (
    FINAL_STATES,
    REPLIED_OR_LATER,
    BacklogReason,
    PetitionChannel,
    PetitionKind,
    PetitionLevel,
    PetitionState,
    S,
    Satisfaction,
)


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
