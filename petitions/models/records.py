"""What is recorded about a petition: merges and possible repeats ("file once"), the written
opinions, attachments, the timeline (PetitionEvent), and the admins' PetitionPolicy."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import TimelineEvent
from petitions.models.choices import (
    EVENT_LABELS,
    MERGE_REASON_LABELS,
    DeliveryManner,
    OpinionKind,
    Outcome,
    Satisfaction,
)
from petitions.models.petition import Petition


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
