"""Consultation meetings (协商议事会): topics from accepted proposals, participants by kind, the
notice, agenda and minutes; the decisions (议定事项) tracked to completion with progress updates,
photos and the residents' ratings (评议). Each has its append-only timeline."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import TimelineEvent
from core.workflow import Graph, Move
from deliberation.models.proposals import Proposal
from deliberation.models.settings import ParticipantKind


class MeetingState(models.TextChoices):
    PLANNED = "planned", _("being prepared")
    NOTICED = "noticed", _("notice published")
    HELD = "held", _("held: minutes recorded")
    CLOSED = "closed", _("closed")
    CANCELLED = "cancelled", _("cancelled")


class MeetingAction(models.TextChoices):
    PLAN = "plan", _("meeting planned")
    EDIT = "edit", _("meeting details changed")
    PARTICIPANT = "participant", _("participant added")
    PUBLISH_NOTICE = "publish_notice", _("notice published")
    RECORD_MINUTES = "record_minutes", _("minutes recorded")
    DECIDE = "decide", _("decision recorded")
    CLOSE = "close", _("meeting closed")
    CANCEL = "cancel", _("meeting cancelled")


MS = MeetingState
MA = MeetingAction
MEETING_GRAPH = Graph(
    {
        MA.EDIT: Move([MS.PLANNED, MS.NOTICED]),
        MA.PARTICIPANT: Move([MS.PLANNED, MS.NOTICED, MS.HELD]),
        MA.PUBLISH_NOTICE: Move([MS.PLANNED], MS.NOTICED),
        MA.RECORD_MINUTES: Move([MS.NOTICED, MS.HELD], MS.HELD),
        MA.DECIDE: Move([MS.HELD]),
        MA.CLOSE: Move([MS.HELD], MS.CLOSED),
        MA.CANCEL: Move([MS.PLANNED, MS.NOTICED], MS.CANCELLED),
    }
)
PUBLIC_MEETING_STATES = [MS.NOTICED, MS.HELD, MS.CLOSED, MS.CANCELLED]


class Meeting(models.Model):
    community = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        related_name="consultation_meetings",
        verbose_name=_("community"),
    )
    region_code = models.CharField(_("division code"), max_length=12, db_index=True)
    title = models.CharField(_("title"), max_length=120)
    place = models.CharField(_("place"), max_length=255)
    starts_at = models.DateTimeField(_("starts at"))
    agenda = models.TextField(_("agenda"), blank=True)
    topics = models.ManyToManyField(
        Proposal, blank=True, related_name="meetings", verbose_name=_("topics")
    )
    state = models.CharField(
        _("state"), max_length=16, choices=MeetingState.choices, default=MS.PLANNED
    )
    notice_published_at = models.DateTimeField(_("notice published at"), null=True, blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    options_discussed = models.TextField(_("options discussed"), blank=True)
    held_at = models.DateTimeField(_("held at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organiser"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("consultation meeting")
        verbose_name_plural = _("consultation meetings")

    def __str__(self) -> str:
        return self.title


class MeetingParticipant(models.Model):
    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="participants", verbose_name=_("meeting")
    )
    kind = models.ForeignKey(
        ParticipantKind, on_delete=models.PROTECT, related_name="+", verbose_name=_("kind")
    )
    name = models.CharField(_("name"), max_length=64)
    organisation = models.CharField(_("organisation"), max_length=120, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("account"),
    )

    class Meta:
        ordering = ["kind__order", "id"]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")

    def __str__(self) -> str:
        return self.name


class MeetingSpeech(models.Model):
    """One line of the minutes: who spoke and what they said (the options they put)."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="speeches", verbose_name=_("meeting")
    )
    participant = models.ForeignKey(
        MeetingParticipant, on_delete=models.PROTECT, related_name="+", verbose_name=_("speaker")
    )
    summary = models.TextField(_("what was said"))
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("speech")
        verbose_name_plural = _("speeches")

    def __str__(self) -> str:
        return f"{self.meeting_id}:{self.participant_id}"


class MeetingEvent(TimelineEvent):
    meeting = models.ForeignKey(
        Meeting, on_delete=models.PROTECT, related_name="events", verbose_name=_("meeting")
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    from_state = models.CharField(pgettext_lazy("state change", "from"), max_length=16, blank=True)
    to_state = models.CharField(pgettext_lazy("state change", "to"), max_length=16, blank=True)
    public = models.BooleanField(_("shown to the public"), default=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("meeting event")
        verbose_name_plural = _("meeting events")

    def __str__(self) -> str:
        return f"{self.meeting_id} {self.action}"

    @property
    def label(self) -> str:
        try:
            return str(MeetingAction(self.action).label)
        except ValueError:
            return self.action


class DecisionState(models.TextChoices):
    OPEN = "open", _("to be carried out")
    IN_PROGRESS = "in_progress", _("being carried out")
    DONE = "done", _("done")


class DecisionAction(models.TextChoices):
    DECIDE = "decide", _("decided")
    PROGRESS = "progress", _("progress reported")
    COMPLETE = "complete", _("completed")
    OVERDUE = "overdue", _("past its date")
    RATE = "rate", _("rated by a resident")


DS = DecisionState
DA = DecisionAction
DECISION_GRAPH = Graph(
    {
        DA.PROGRESS: Move([DS.OPEN, DS.IN_PROGRESS], DS.IN_PROGRESS),
        DA.COMPLETE: Move([DS.OPEN, DS.IN_PROGRESS], DS.DONE),
        DA.OVERDUE: Move([DS.OPEN, DS.IN_PROGRESS]),
        DA.RATE: Move([DS.DONE]),
    }
)


class Decision(models.Model):
    """A matter the meeting agreed (议定事项): public, with who carries it out and by when."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.PROTECT, related_name="decisions", verbose_name=_("meeting")
    )
    proposal = models.ForeignKey(
        Proposal,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions",
        verbose_name=_("proposal"),
    )
    region_code = models.CharField(_("division code"), max_length=12, db_index=True)
    text = models.TextField(_("what was agreed"))
    carried_by = models.CharField(_("carried out by"), max_length=120)
    carried_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deliberation_decisions",
        verbose_name=_("responsible account"),
        help_text=_("May report progress and completion."),
    )
    due_date = models.DateField(_("to be done by"))
    state = models.CharField(
        _("state"), max_length=16, choices=DecisionState.choices, default=DS.OPEN
    )
    created_at = models.DateTimeField(_("decided at"), default=timezone.now)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("flagged overdue at"), null=True, blank=True)
    ratings_count = models.PositiveIntegerField(_("ratings"), default=0)
    ratings_total = models.PositiveIntegerField(_("sum of ratings"), default=0)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="done") | models.Q(done_at__isnull=False),
                name="deliberation_decision_done_has_time",
            )
        ]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def done_on_time(self) -> bool:
        return self.done_at is not None and timezone.localdate(self.done_at) <= self.due_date

    @property
    def rating_average(self) -> float | None:
        return round(self.ratings_total / self.ratings_count, 1) if self.ratings_count else None


class DecisionProgress(models.Model):
    decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, related_name="progress", verbose_name=_("decision")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    note = models.TextField(_("progress"))
    created_at = models.DateTimeField(_("reported at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("progress update")
        verbose_name_plural = _("progress updates")

    def __str__(self) -> str:
        return f"{self.decision_id}:{self.pk}"


class DecisionPhoto(models.Model):
    progress = models.ForeignKey(
        DecisionProgress,
        on_delete=models.CASCADE,
        related_name="photos",
        verbose_name=_("progress"),
    )
    image = models.ImageField(_("photo"), upload_to="deliberation/%Y/%m/")
    thumbnail = models.ImageField(_("thumbnail"), upload_to="deliberation/thumbs/%Y/%m/")

    class Meta:
        ordering = ["id"]
        verbose_name = _("progress photo")
        verbose_name_plural = _("progress photos")

    def __str__(self) -> str:
        return self.image.name


class DecisionRating(models.Model):
    """A resident's rating of a done decision (评议): one per resident, residents of the area."""

    decision = models.ForeignKey(
        Decision, on_delete=models.CASCADE, related_name="ratings", verbose_name=_("decision")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("resident"),
    )
    score = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("rated at"), default=timezone.now)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.UniqueConstraint(fields=["decision", "user"], name="deliberation_one_rating"),
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="deliberation_rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision_id}:{self.score}"


class DecisionEvent(TimelineEvent):
    decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, related_name="events", verbose_name=_("decision")
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    from_state = models.CharField(pgettext_lazy("state change", "from"), max_length=16, blank=True)
    to_state = models.CharField(pgettext_lazy("state change", "to"), max_length=16, blank=True)
    public = models.BooleanField(_("shown to the public"), default=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("decision event")
        verbose_name_plural = _("decision events")

    def __str__(self) -> str:
        return f"{self.decision_id} {self.action}"

    @property
    def label(self) -> str:
        try:
            return str(DecisionAction(self.action).label)
        except ValueError:
            return self.action
