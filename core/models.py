from datetime import time as dtime

from django.core.exceptions import ValidationError
from django.db import models
from django.dispatch import Signal
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class CalendarDay(models.Model):
    """An exception to the ordinary week: a public holiday on a weekday, or a make-up workday
    (调休) on a weekend. Admins edit these each year when the State Council publishes them."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("public holiday")
        WORKDAY = "workday", _("make-up workday")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=64, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("working calendar")

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}".strip()


class OfficeHours(models.Model):
    """The office hours limits in working hours ("5wh") count, and working-day limits end at
    (the close of the afternoon): local practice, edited by admins (one row). Without a row, the
    defaults: 08:30-12:00 and 14:00-17:30. core.calendar reads it (cached for 30 s per process;
    saving or deleting clears this process's copy at once: core.calendar.calendar_changed)."""

    morning_start = models.TimeField(_("morning starts"), default=dtime(8, 30))
    morning_end = models.TimeField(_("morning ends"), default=dtime(12, 0))
    afternoon_start = models.TimeField(_("afternoon starts"), default=dtime(14, 0))
    afternoon_end = models.TimeField(_("afternoon ends"), default=dtime(17, 30))

    class Meta:
        verbose_name = _("office hours")
        verbose_name_plural = _("office hours")

    def __str__(self) -> str:
        return (
            f"{self.morning_start:%H:%M}-{self.morning_end:%H:%M}, "
            f"{self.afternoon_start:%H:%M}-{self.afternoon_end:%H:%M}"
        )

    def clean(self) -> None:
        times = [self.morning_start, self.morning_end, self.afternoon_start, self.afternoon_end]
        if None not in times and not (times[0] < times[1] <= times[2] < times[3]):
            raise ValidationError(
                _(
                    "Office hours must run in order: the morning starts before it ends, and "
                    "the afternoon starts no earlier than the morning ends and before it ends."
                )
            )

    @classmethod
    def current(cls) -> "OfficeHours":
        hours = cls.objects.order_by("pk").first()
        return hours if hours is not None else cls()

    def shifts(self) -> list[tuple[dtime, dtime]]:
        return [(self.morning_start, self.morning_end), (self.afternoon_start, self.afternoon_end)]


class WorkerHeartbeat(models.Model):
    """The last time a Celery worker ran the heartbeat task (sent by beat). /healthz reads it."""

    hostname = models.CharField(_("worker"), max_length=255, unique=True)
    seen_at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return f"{self.hostname} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class Notification(models.Model):
    """The in-app inbox. Written only by core.services.notification_send (and so on commit)."""

    user = models.ForeignKey(
        "accounts.User",
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
        db_index=False,  # the (user, read_at) index leads with it
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    # Idempotency: a task that runs twice must not notify twice.
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["user", "read_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notification_unique_dedupe_key",
            )
        ]

    def __str__(self) -> str:
        return self.title


class SmsMessage(models.Model):
    """An SMS to send: one row per message, sent by core.tasks.sms_send with retries."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    phone = models.CharField(_("phone"), max_length=20)
    text = models.CharField(_("text"), max_length=500)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("SMS message")
        verbose_name_plural = _("SMS messages")
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="sms_unique_dedupe_key",
            )
        ]

    def __str__(self) -> str:
        return f"SMS {self.pk} {self.status}"


# Sent after TimelineEvent subclasses' bulk_create (post_save is not): the audit log listens.
timeline_events_bulk_created = Signal()


class TimelineEventQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        timeline_events_bulk_created.send(sender=self.model, events=created)
        return created


class TimelineEvent(models.Model):
    """Base of every append-only timeline (incidents, mediation cases, petitions): one row per
    action, never updated or deleted. Subclasses add the FK to their object, the from/to state
    columns sized to their own state names, and anything else they show."""

    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
        help_text=_("Empty means the system."),
    )
    action = models.CharField(_("action"), max_length=32)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    objects = TimelineEventQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Timeline events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Timeline events are append-only")
