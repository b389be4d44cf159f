"""Proposals (议题, 群众点单): what residents propose for their community, the supports, the
moderated comments, the photos and the append-only timeline. The state graph is declared once
here (GRAPH)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import TimelineEvent
from core.workflow import Graph, Move
from deliberation.models.settings import ProposalCategory


class ProposalState(models.TextChoices):
    COLLECTING = "collecting", _("collecting supports")
    REVIEWING = "reviewing", _("under review by the community")
    ACCEPTED = "accepted", _("accepted for consultation")
    SCHEDULED = "scheduled", _("on a meeting's agenda")
    DECIDED = "decided", _("decided by a meeting")
    MERGED = "merged", _("merged into another proposal")
    ANSWERED = "answered", _("answered directly")
    DECLINED = "declined", _("declined")
    CONVERTED = "converted", _("handled as another matter")


class ProposalAction(models.TextChoices):
    SUBMIT = "submit", _("proposed")
    THRESHOLD = "threshold", _("enough supports: sent for review")
    ACCEPT = "accept", _("accepted for consultation")
    MERGE = "merge", _("merged")
    ANSWER = "answer", _("answered directly")
    DECLINE = "decline", _("declined")
    CONVERT = "convert", _("converted")
    SCHEDULE = "schedule", _("put on a meeting's agenda")
    UNSCHEDULE = "unschedule", _("taken off the agenda: the meeting was cancelled")
    DECIDE = "decide", _("decided by the meeting")
    WARN = "warn", _("review deadline near")
    ESCALATE = "escalate", _("review overdue: escalated")
    COMMENT_HIDE = "comment_hide", _("comment hidden")
    COMMENT_SHOW = "comment_show", _("comment shown again")


S = ProposalState
A = ProposalAction
OPEN_FOR_REVIEW = [S.COLLECTING, S.REVIEWING]
REVIEW_STATES = {S.COLLECTING, S.REVIEWING}
FINAL_STATES = {S.MERGED, S.ANSWERED, S.DECLINED, S.CONVERTED, S.DECIDED}

GRAPH = Graph(
    {
        A.THRESHOLD: Move([S.COLLECTING], S.REVIEWING),
        A.ACCEPT: Move(OPEN_FOR_REVIEW, S.ACCEPTED),
        A.MERGE: Move(OPEN_FOR_REVIEW, S.MERGED),
        A.ANSWER: Move(OPEN_FOR_REVIEW, S.ANSWERED),
        A.DECLINE: Move(OPEN_FOR_REVIEW, S.DECLINED),
        A.CONVERT: Move([S.COLLECTING, S.REVIEWING, S.ACCEPTED], S.CONVERTED),
        A.SCHEDULE: Move([S.ACCEPTED, S.SCHEDULED], S.SCHEDULED),
        A.UNSCHEDULE: Move([S.SCHEDULED], S.ACCEPTED),
        A.DECIDE: Move([S.SCHEDULED, S.ACCEPTED], S.DECIDED),
        A.WARN: Move(OPEN_FOR_REVIEW),
        A.ESCALATE: Move(OPEN_FOR_REVIEW),
        A.COMMENT_HIDE: Move(list(S.values)),
        A.COMMENT_SHOW: Move(list(S.values)),
    }
)


class Proposal(models.Model):
    """A matter a resident proposes for their community (群众点单)."""

    community = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        related_name="proposals",
        limit_choices_to={"level": "community"},
        verbose_name=_("community"),
    )
    region_code = models.CharField(_("division code"), max_length=12, db_index=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="proposals",
        verbose_name=_("proposed by"),
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"))
    category = models.ForeignKey(
        ProposalCategory, on_delete=models.PROTECT, related_name="+", verbose_name=_("category")
    )
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    address = models.CharField(_("place"), max_length=255, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=ProposalState.choices, default=S.COLLECTING
    )
    # Supports from residents of the community (what the threshold counts) and from everybody.
    supports_area = models.PositiveIntegerField(_("supports from residents"), default=0)
    supports_all = models.PositiveIntegerField(_("all supports"), default=0)
    created_at = models.DateTimeField(_("proposed at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    review_due_at = models.DateTimeField(_("review due"), null=True, blank=True)
    review_warned_at = models.DateTimeField(_("review warning sent"), null=True, blank=True)
    review_escalated_at = models.DateTimeField(_("review escalated"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    public_reply = models.TextField(
        _("public reply"), blank=True, help_text=_("The answer or the reason for declining.")
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_from",
        verbose_name=_("merged into"),
    )
    converted_kind = models.CharField(_("converted into"), max_length=32, blank=True)
    converted_reference = models.CharField(
        _("reference of the new matter"), max_length=64, blank=True
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        indexes = [models.Index(fields=["state", "review_due_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(supports_area__lte=models.F("supports_all")),
                name="deliberation_proposal_area_supports_within_all",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="merged") | models.Q(merged_into__isnull=False),
                name="deliberation_proposal_merged_has_target",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def reference(self) -> str:
        return f"YT{self.pk:06d}"

    @property
    def is_open_for_review(self) -> bool:
        return self.state in REVIEW_STATES


class ProposalPhoto(models.Model):
    proposal = models.ForeignKey(
        Proposal, on_delete=models.CASCADE, related_name="photos", verbose_name=_("proposal")
    )
    image = models.ImageField(_("photo"), upload_to="deliberation/%Y/%m/")
    thumbnail = models.ImageField(_("thumbnail"), upload_to="deliberation/thumbs/%Y/%m/")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("proposal photo")
        verbose_name_plural = _("proposal photos")

    def __str__(self) -> str:
        return self.image.name


class ProposalSupport(models.Model):
    """One support per person and proposal (the unique constraint decides a race)."""

    proposal = models.ForeignKey(
        Proposal, on_delete=models.CASCADE, related_name="supports", verbose_name=_("proposal")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="proposal_supports",
        verbose_name=_("resident"),
    )
    counts = models.BooleanField(
        _("counts toward the threshold"),
        help_text=_("The supporter lived in the proposal's community when supporting."),
    )
    created_at = models.DateTimeField(_("supported at"), default=timezone.now)

    class Meta:
        verbose_name = _("support")
        verbose_name_plural = _("supports")
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "user"], name="deliberation_one_support_per_resident"
            )
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}:{self.user_id}"


class ProposalComment(models.Model):
    """A comment on a proposal. Moderation hides it; nothing ever deletes it."""

    proposal = models.ForeignKey(
        Proposal, on_delete=models.PROTECT, related_name="comments", verbose_name=_("proposal")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("written at"), default=timezone.now)
    hidden = models.BooleanField(_("hidden by a moderator"), default=False)
    hidden_at = models.DateTimeField(_("hidden at"), null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hidden by"),
    )
    hidden_reason = models.CharField(_("why it was hidden"), max_length=255, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")

    def __str__(self) -> str:
        return f"{self.proposal_id}:{self.pk}"

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("Comments are hidden, never deleted")


class ProposalEvent(TimelineEvent):
    proposal = models.ForeignKey(
        Proposal, on_delete=models.PROTECT, related_name="events", verbose_name=_("proposal")
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    from_state = models.CharField(pgettext_lazy("state change", "from"), max_length=16, blank=True)
    to_state = models.CharField(pgettext_lazy("state change", "to"), max_length=16, blank=True)
    public = models.BooleanField(_("shown to the public"), default=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("proposal event")
        verbose_name_plural = _("proposal events")

    def __str__(self) -> str:
        return f"{self.proposal_id} {self.action}"

    @property
    def label(self) -> str:
        try:
            return str(ProposalAction(self.action).label)
        except ValueError:
            return self.action
