"""便民服务 (全市通办): the catalogue admins keep, residents' requests and their timeline, the
consultation hours legal advisers and family doctors publish, and the bookings residents make.

The request workflow (core.workflow):

    submitted ──accept──▶ accepted ──complete──▶ completed ──rate (side move)
        │  ╲                 │
        │   ask_materials    ask_materials          (补正: the clock stops)
        │        ▼           ▼
        │     awaiting_materials ──supply──▶ submitted | accepted (the clock resumes)
        └──────decline (from any open state)──▶ declined ──rate (side move)
"""

from __future__ import annotations

import uuid
from datetime import time as dtime
from pathlib import PurePath

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import TimelineEvent
from core.workflow import Graph, Move


class HandlerKind(models.TextChoices):
    COMMUNITY_STAFF = "community_staff", _("community staff")
    LEGAL_ADVISER = "legal_adviser", _("community legal adviser (村居法律顾问)")
    FAMILY_DOCTOR = "family_doctor", _("family doctor")
    DEPARTMENT = "department", _("a department")


# Who publishes consultation hours.
CONSULTING_KINDS = (HandlerKind.LEGAL_ADVISER, HandlerKind.FAMILY_DOCTOR)


class Reach(models.TextChoices):
    OWN_COMMUNITY = "own_community", _("the resident's own community only")
    ANY_COMMUNITY = "any_community", _("any community (全市通办)")


class ServiceGroup(models.Model):
    """法律服务, 医疗健康, 证明办理, 生活服务 … (admin-editable)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("service group")
        verbose_name_plural = _("service groups")

    def __str__(self) -> str:
        return self.name


class ServiceItem(models.Model):
    """One service a resident may ask for (the admins' catalogue)."""

    code = models.SlugField(_("code"), max_length=48, unique=True)
    name = models.CharField(_("name"), max_length=100)
    group = models.ForeignKey(
        ServiceGroup, on_delete=models.PROTECT, related_name="items", verbose_name=_("group")
    )
    description = models.TextField(_("description"), blank=True)
    materials = models.TextField(
        _("required materials"), blank=True, help_text=_("One material per line.")
    )
    handler_kind = models.CharField(_("handled by"), max_length=20, choices=HandlerKind.choices)
    department = models.CharField(
        _("department"), max_length=64, blank=True, help_text=_("When a department handles it.")
    )
    time_limit_days = models.PositiveSmallIntegerField(
        _("time limit (working days)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    reach = models.CharField(
        _("where it can be handled"),
        max_length=20,
        choices=Reach.choices,
        default=Reach.ANY_COMMUNITY,
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["group__order", "order", "code"]
        verbose_name = _("service item")
        verbose_name_plural = _("service items")
        constraints = [
            models.CheckConstraint(
                condition=Q(time_limit_days__gte=1), name="service_item_time_limit_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def material_list(self) -> list[str]:
        return [line.strip() for line in self.materials.splitlines() if line.strip()]


class ServiceProvider(models.Model):
    """What kind of handler a service_handler account is (no row: community staff, who handle
    every kind in their community). Legal advisers and family doctors publish consultation
    hours; their communities are those under their scope region."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="service_provider",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=HandlerKind.choices)
    title = models.CharField(
        _("shown as"), max_length=64, blank=True, help_text=_("e.g. 张律师 (福建某律师事务所)")
    )

    class Meta:
        verbose_name = _("service provider")
        verbose_name_plural = _("service providers")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_kind_display()})"


class ServicePolicy(models.Model):
    """The admins' settings for services (the first row; defaults when there is none)."""

    cancel_hours_before = models.PositiveSmallIntegerField(
        _("a booking may be cancelled until this many hours before it"), default=2
    )
    cancellations_per_30_days = models.PositiveSmallIntegerField(
        _("cancellations a resident may make in 30 days"), default=3
    )
    warn_hours_before_due = models.PositiveSmallIntegerField(
        _("warn handlers this many hours before a request is due"), default=24
    )
    escalate_after_working_days = models.PositiveSmallIntegerField(
        _("escalate to the district this many working days after the deadline"), default=2
    )
    booking_days_ahead = models.PositiveSmallIntegerField(
        _("slots are offered this many days ahead"), default=14
    )

    class Meta:
        verbose_name = _("service settings")
        verbose_name_plural = _("service settings")

    def __str__(self) -> str:
        return str(_("service settings"))

    @classmethod
    def current(cls) -> ServicePolicy:
        policy = cls.objects.order_by("pk").first()
        return policy if policy is not None else cls()


class RequestState(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    ACCEPTED = "accepted", _("being handled")
    AWAITING_MATERIALS = "awaiting_materials", _("waiting for materials (补正)")
    COMPLETED = "completed", pgettext_lazy("service request", "completed")
    DECLINED = "declined", pgettext_lazy("service request", "declined")


OPEN_STATES = [RequestState.SUBMITTED, RequestState.ACCEPTED, RequestState.AWAITING_MATERIALS]
# The clock runs in these (补正 stops it).
CLOCK_STATES = [RequestState.SUBMITTED, RequestState.ACCEPTED]
FINAL_STATES = [RequestState.COMPLETED, RequestState.DECLINED]


class RequestAction(models.TextChoices):
    SUBMIT = "submit", _("submitted")
    ACCEPT = "accept", _("accept")
    ASK_MATERIALS = "ask_materials", _("ask for missing materials")
    SUPPLY = "supply", _("supply materials")
    COMPLETE = "complete", pgettext_lazy("service request action", "complete")
    DECLINE = "decline", pgettext_lazy("service request action", "decline")
    RATE = "rate", _("rate")
    WARN = "warn", _("deadline near")
    OVERDUE = "overdue", _("overdue")
    ESCALATE = "escalate", _("escalated")


S = RequestState
A = RequestAction
GRAPH = Graph(
    {
        A.ACCEPT: Move([S.SUBMITTED], S.ACCEPTED),
        A.ASK_MATERIALS: Move([S.SUBMITTED, S.ACCEPTED], S.AWAITING_MATERIALS),
        A.SUPPLY: Move([S.AWAITING_MATERIALS], [S.SUBMITTED, S.ACCEPTED]),
        A.COMPLETE: Move([S.ACCEPTED], S.COMPLETED),
        A.DECLINE: Move(OPEN_STATES, S.DECLINED),
        A.RATE: Move(FINAL_STATES),
        A.WARN: Move(CLOCK_STATES),
        A.OVERDUE: Move(CLOCK_STATES),
        A.ESCALATE: Move(CLOCK_STATES),
    }
)

EVENT_LABELS = {
    A.SUBMIT: _("Submitted"),
    A.ACCEPT: _("Accepted"),
    A.ASK_MATERIALS: _("Missing materials asked for (the clock stops)"),
    A.SUPPLY: _("Materials supplied (the clock resumes)"),
    A.COMPLETE: _("Completed"),
    A.DECLINE: _("Declined"),
    A.RATE: _("Rated"),
    A.WARN: _("Deadline near"),
    A.OVERDUE: _("Overdue"),
    A.ESCALATE: _("Escalated"),
}

RATING_CHOICES = [
    (5, _("very satisfied")),
    (4, _("satisfied")),
    (3, _("basically satisfied")),
    (2, _("dissatisfied")),
    (1, _("very dissatisfied")),
]
SATISFIED_MIN = 3  # 满意率 counts 基本满意 and better, like the other apps' satisfaction


class ServiceRequest(models.Model):
    number = models.CharField(_("number"), max_length=24, unique=True)
    item = models.ForeignKey(
        ServiceItem, on_delete=models.PROTECT, related_name="requests", verbose_name=_("service")
    )
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="service_requests",
        verbose_name=_("resident"),
    )
    community = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        related_name="service_requests",
        verbose_name=_("community"),
    )
    # The community's code, for scoped filters by prefix (like every other app's region_code).
    region_code = models.CharField(_("region code"), max_length=12, db_index=True)
    details = models.TextField(_("details"), blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=RequestState.choices, default=S.SUBMITTED
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True, db_index=True)
    paused_at = models.DateTimeField(_("clock stopped at"), null=True, blank=True)
    missing_materials = models.TextField(_("missing materials"), blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    result = models.TextField(_("result"), blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_on_time = models.BooleanField(_("closed on time"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, choices=RATING_CHOICES
    )
    rating_comment = models.TextField(_("comment"), blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    # The sweep's marks (so that running it twice changes nothing).
    warned_for = models.DateTimeField(_("warned for deadline"), null=True, blank=True)
    overdue = models.BooleanField(_("overdue"), default=False)
    ever_overdue = models.BooleanField(_("was overdue"), default=False)
    escalation_level = models.PositiveSmallIntegerField(
        _("escalation level"),
        default=0,
        help_text=_("0: the community; 1: the street; 2: the district."),
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="service_request_rating_1_5",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=OPEN_STATES) | Q(closed_at__isnull=True),
                name="service_request_open_not_closed",
            ),
        ]
        indexes = [models.Index(fields=["state", "due_at"])]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


def attachment_path(instance: ServiceRequestAttachment, filename: str) -> str:
    """A random stored name: the uploader's file name never reaches the storage path."""
    suffix = PurePath(filename or "").suffix.lower()[:10]
    stamp = timezone.now().strftime("%Y/%m")
    return f"services/{stamp}/{uuid.uuid4().hex}{suffix}"


class ServiceRequestAttachment(models.Model):
    request = models.ForeignKey(
        ServiceRequest,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("service request"),
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    name = models.CharField(_("file name"), max_length=255)
    supplement = models.BooleanField(_("supplied on request (补正)"), default=False)
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


class ServiceRequestEvent(TimelineEvent):
    """The append-only timeline of a request."""

    request = models.ForeignKey(
        ServiceRequest,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("service request"),
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    from_state = models.CharField(pgettext_lazy("state change", "from"), max_length=20, blank=True)
    to_state = models.CharField(pgettext_lazy("state change", "to"), max_length=20, blank=True)
    public = models.BooleanField(_("shown to the resident"), default=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")

    def __str__(self) -> str:
        return f"{self.request_id} {self.action}"

    @property
    def label(self) -> str:
        return str(EVENT_LABELS.get(self.action, self.action))


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class ConsultationHours(models.Model):
    """Weekly hours a legal adviser or family doctor holds in one community, cut into slots."""

    provider = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="consultation_hours",
        verbose_name=_("provider"),
    )
    community = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        related_name="consultation_hours",
        verbose_name=_("community"),
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("from"), default=dtime(9, 0))
    end = models.TimeField(_("until"), default=dtime(11, 0))
    slot_minutes = models.PositiveSmallIntegerField(
        _("minutes per slot"), default=30, validators=[MinValueValidator(10)]
    )
    place = models.CharField(_("place"), max_length=128, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["weekday", "start", "id"]
        verbose_name = _("consultation hours")
        verbose_name_plural = _("consultation hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="hours_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=10), name="hours_slot_minutes_min"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class BookingState(models.TextChoices):
    BOOKED = "booked", _("booked")
    CANCELLED = "cancelled", pgettext_lazy("booking", "cancelled")


class ConsultationBooking(models.Model):
    hours = models.ForeignKey(
        ConsultationHours,
        on_delete=models.PROTECT,
        related_name="bookings",
        verbose_name=_("consultation hours"),
    )
    provider = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("provider"),
    )
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="consultation_bookings",
        verbose_name=_("resident"),
    )
    community = models.ForeignKey(
        "grids.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    topic = models.CharField(_("topic"), max_length=200, blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=BookingState.choices, default=BookingState.BOOKED
    )
    created_at = models.DateTimeField(_("booked at"), default=timezone.now)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("consultation booking")
        verbose_name_plural = _("consultation bookings")
        constraints = [
            # No double booking: one live booking per provider and start, whatever the race.
            models.UniqueConstraint(
                fields=["provider", "starts_at"],
                condition=Q(state="booked"),
                name="one_live_booking_per_provider_slot",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="booking_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.starts_at:%Y-%m-%d %H:%M}"
