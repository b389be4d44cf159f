"""The loop's local policy, the append-only timeline, photos and patrol logs."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TimelineEvent, TimeStampedModel
from incidents.models.incident import Incident


class IncidentPolicy(models.Model):
    """Local practice of the incident loop, edited by admins (one row; `current()`): the
    fallback stage limits of a category without its own, the urgent verify and dispatch limits
    (RULES: urgent cases are filed and dispatched within 10 minutes) and the on-site check
    limits (Taiyuan: 1 h in towns, 2 h in villages). Limits are written like the categories':
    a number and m, h, d, wh (working hours) or wd (working days)."""

    verify_within = models.CharField(_("verify within (default)"), max_length=8, default="1h")
    dispatch_within = models.CharField(_("dispatch within (default)"), max_length=8, default="30m")
    resolve_within = models.CharField(_("resolve within (default)"), max_length=8, default="5wd")
    urgent_verify_within = models.CharField(
        _("verify an urgent case within"), max_length=8, default="10m"
    )
    urgent_dispatch_within = models.CharField(
        _("dispatch an urgent case within"), max_length=8, default="10m"
    )
    check_within_urban = models.CharField(
        _("on-site check within (community)"), max_length=8, default="1h"
    )
    check_within_rural = models.CharField(
        _("on-site check within (villagers' committee)"), max_length=8, default="2h"
    )
    follow_within_days = models.PositiveSmallIntegerField(
        _("offer to follow reports of the last (days)"),
        default=30,
        help_text=_("附议: open reports made within this many days are offered to follow."),
    )

    LIMIT_FIELDS = (
        "verify_within",
        "dispatch_within",
        "resolve_within",
        "urgent_verify_within",
        "urgent_dispatch_within",
        "check_within_urban",
        "check_within_rural",
    )

    class Meta:
        verbose_name = _("incident policy")
        verbose_name_plural = _("incident policy")

    def __str__(self) -> str:
        return str(_("incident policy"))

    @classmethod
    def current(cls) -> "IncidentPolicy":
        policy = cls.objects.order_by("pk").first()
        return policy if policy is not None else cls()


class IncidentEvent(TimelineEvent):
    """The append-only timeline: one row per action, never updated or deleted."""

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="events", verbose_name=_("incident")
    )
    from_state = models.CharField(_("from"), max_length=16, blank=True)
    to_state = models.CharField(_("to"), max_length=16, blank=True)
    public = models.BooleanField(_("public"), default=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")

    def __str__(self) -> str:
        return f"{self.incident_id} {self.action}"


class IncidentPhoto(models.Model):
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="photos", verbose_name=_("incident")
    )
    event = models.ForeignKey(
        IncidentEvent,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="photos",
        verbose_name=_("timeline event"),
    )
    image = models.ImageField(_("photo"), upload_to="incidents/%Y/%m/")
    thumbnail = models.ImageField(_("thumbnail"), upload_to="incidents/thumbs/%Y/%m/", blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # 办理公开 and 附议: only photos staff marked public are ever shown to the public.
    public = models.BooleanField(_("public"), default=False)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self) -> str:
        return self.image.name


class PatrolLog(TimeStampedModel):
    """A grid worker's patrol (巡查日志): when, where (GPS track and cells), notes, and the
    incidents reported on the way. One open patrol per worker."""

    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="patrols",
        verbose_name=_("grid worker"),
    )
    # The worker's community code when the patrol started: dispatchers' scope is a prefix match.
    region_code = models.CharField(_("region code"), max_length=12, blank=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), db_index=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    cells = models.ManyToManyField(
        "grids.GridCell", blank=True, related_name="patrols", verbose_name=_("grid cells patrolled")
    )
    # [[lat, lng, "ISO time"], ...] in time order.
    track = models.JSONField(_("GPS track"), default=list, blank=True)
    distance_m = models.FloatField(_("distance (m)"), default=0)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("patrol log")
        verbose_name_plural = _("patrol logs")
        constraints = [
            models.UniqueConstraint(
                fields=["worker"],
                condition=models.Q(ended_at__isnull=True),
                name="patrol_one_open_per_worker",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.worker} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class IncidentFollower(models.Model):
    """A resident who follows an incident (附议, "这是同一个问题") instead of filing a duplicate,
    or the reporter of a duplicate merged into it. Followers get the reporter's public
    notifications; the queue and the detail show how many there are."""

    class Source(models.TextChoices):
        FOLLOW = "follow", _("followed")
        MERGE = "merge", _("merged duplicate")

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="followers", verbose_name=_("incident")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="followed_incidents",
        verbose_name=_("follower"),
    )
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("follower")
        verbose_name_plural = _("followers")
        constraints = [
            models.UniqueConstraint(fields=["incident", "user"], name="incident_follower_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.incident_id}"
