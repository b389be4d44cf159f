"""Partners that talk to GridGov by machine: their API keys, the tickets they sent, the
Open311 service attributes, and the status webhooks we send them.

- A Partner (the 12345 platform, the 110 diversion desk, an Open311 client) has a shared HMAC
  secret and any number of ApiKeys (hashed at rest, shown once, revocable, scoped).
- An IncomingTicket links what a partner sent to the Incident it became. The pair
  (partner, external_id) is unique: the same ticket never files two incidents.
- WebhookSubscription + WebhookDelivery: each status change of a subscribed incident is one
  delivery row, POSTed by a Celery task in order per incident and subscription.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import TimeStampedModel


class KeyScope(models.TextChoices):
    """What an API key may do."""

    OPEN311_POST = "open311-post", _("Open311: post service requests")
    HOTLINE = "hotline", _("hotline intake (12345 / 110)")
    WEBHOOKS = "webhooks", _("webhook subscriptions")


class Partner(TimeStampedModel):
    class Kind(models.TextChoices):
        HOTLINE_12345 = "hotline_12345", _("12345 hotline platform")
        DIVERSION_110 = "diversion_110", _("110 diversion desk")
        OPEN311_CLIENT = "open311_client", _("Open311 client")
        OTHER = "other", _("other system")

    name = models.CharField(_("name"), max_length=128)
    code = models.SlugField(
        _("code"),
        max_length=24,
        unique=True,
        help_text=_("Short identifier, e.g. zz12345. Part of the incidents' external ids."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # A shared secret: stored retrievably (signatures are verified with it), never listed.
    hmac_secret = models.CharField(_("HMAC secret"), max_length=128, editable=False)
    region = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region it may follow"),
        help_text=_("Webhook subscriptions by region must lie inside it. Empty: none."),
    )
    default_time_limit = models.CharField(
        _("default time limit"),
        max_length=8,
        default="5wd",
        help_text=_("Used when a ticket carries none (12345 practice: 5 working days)."),
    )
    open311_token_responses = models.BooleanField(
        _("answer Open311 posts with a token"),
        default=False,
        help_text=_("For batch clients: the answer carries a token instead of the request id."),
    )
    contact = models.CharField(_("contact"), max_length=255, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from core.calendar import LIMIT_PATTERN

        if self.default_time_limit and not LIMIT_PATTERN.match(self.default_time_limit):
            raise ValidationError(
                {"default_time_limit": _("Use a number and m, h, d, wh or wd, e.g. 5wd.")}
            )


class ApiKey(TimeStampedModel):
    """A key looks like gg_<prefix>_<secret>. Only the prefix (for lookup) and the SHA-256 of
    the whole key are stored; the key itself is shown once, when it is made."""

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("partner")
    )
    name = models.CharField(_("name"), max_length=64)
    prefix = models.CharField(_("key prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    rate_limit = models.PositiveIntegerField(
        _("requests allowed per window"), default=120, help_text=_("0 = no limit.")
    )
    rate_window_seconds = models.PositiveIntegerField(_("rate window (seconds)"), default=60)
    usage_count = models.PositiveBigIntegerField(_("requests made"), default=0, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
        editable=False,
    )

    class Meta:
        ordering = ["partner", "name"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.partner} / {self.name} (gg_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class IncomingTicket(TimeStampedModel):
    """What a partner sent and the incident it became (the idempotency key of the intake)."""

    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("partner")
    )
    api_key = models.ForeignKey(
        ApiKey,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("API key"),
    )
    channel = models.CharField(_("channel"), max_length=16)
    # The partner's own ticket id (12345 work order number ...); empty for Open311 posts.
    external_id = models.CharField(_("partner's ticket id"), max_length=64, blank=True)
    # Set in the same transaction as the ticket; null only inside it.
    incident = models.OneToOneField(
        "incidents.Incident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incoming_ticket",
        verbose_name=_("incident"),
    )
    token = models.CharField(_("Open311 token"), max_length=32, unique=True)
    police_reference = models.CharField(_("110 police reference"), max_length=64, blank=True)
    urgent = models.BooleanField(_("urgent"), default=False)
    received_at = models.DateTimeField(_("received by the partner at"), default=timezone.now)
    time_limit = models.CharField(_("time limit"), max_length=8, blank=True)
    due_at = models.DateTimeField(_("partner's deadline"), null=True, blank=True)
    deadline_applied_at = models.DateTimeField(_("deadline applied at"), null=True, blank=True)
    # Personal data an Open311 client may send: kept for the handlers, never returned by GETs.
    email = models.EmailField(_("email"), blank=True)
    device_id = models.CharField(_("device id"), max_length=128, blank=True)
    account_id = models.CharField(_("account id"), max_length=128, blank=True)
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("incoming ticket")
        verbose_name_plural = _("incoming tickets")
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "external_id"],
                condition=~models.Q(external_id=""),
                name="incoming_ticket_unique_external_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner.code}:{self.external_id or self.token}"


class ServiceAttribute(models.Model):
    """An extra question an Open311 client asks for a category (GeoReport v2 service
    definition). A category with attributes has metadata=true in the service list."""

    class Datatype(models.TextChoices):
        STRING = "string", _("string")
        NUMBER = "number", _("number")
        DATETIME = "datetime", _("date and time")
        TEXT = "text", pgettext_lazy("attribute type", "text")
        SINGLEVALUELIST = "singlevaluelist", _("one value from a list")
        MULTIVALUELIST = "multivaluelist", _("several values from a list")

    category = models.ForeignKey(
        "incidents.Category",
        on_delete=models.CASCADE,
        related_name="open311_attributes",
        verbose_name=_("category"),
    )
    code = models.CharField(
        _("code"),
        max_length=32,
        help_text=_("Letters, digits, - and _: the client sends attribute[code]=value."),
    )
    description = models.CharField(_("question"), max_length=255)
    description_en = models.CharField(_("question (English)"), max_length=255, blank=True)
    datatype = models.CharField(_("datatype"), max_length=16, choices=Datatype.choices)
    datatype_description = models.CharField(_("input hint"), max_length=255, blank=True)
    required = models.BooleanField(_("required"), default=False)
    variable = models.BooleanField(
        _("asks for input"),
        default=True,
        help_text=_("Off: the attribute only shows information to the user."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    values = models.JSONField(
        _("values"),
        default=list,
        blank=True,
        help_text=_('For lists: [{"key": "small", "name": "小"}, ...]'),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["category", "order"]
        verbose_name = _("Open311 service attribute")
        verbose_name_plural = _("Open311 service attributes")
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="service_attribute_code"),
            models.UniqueConstraint(fields=["category", "order"], name="service_attribute_order"),
        ]

    def __str__(self) -> str:
        return f"{self.category.code} {self.code}"

    def clean(self) -> None:
        import re

        errors: dict[str, list] = {}
        if not re.fullmatch(r"[A-Za-z0-9_-]+", self.code or ""):
            errors["code"] = [_("Letters, digits, - and _ only.")]
        if self.order < 1:
            errors["order"] = [_("Start at 1.")]
        is_list = self.datatype in (self.Datatype.SINGLEVALUELIST, self.Datatype.MULTIVALUELIST)
        values = self.values or []
        well_formed = isinstance(values, list) and all(
            isinstance(v, dict) and str(v.get("key", "")).strip() and "name" in v for v in values
        )
        if not well_formed:
            errors["values"] = [_('A list of {"key": ..., "name": ...} objects.')]
        elif is_list and not values:
            errors["values"] = [_("A list attribute needs values.")]
        elif not is_list and values:
            errors["values"] = [_("Only list attributes have values.")]
        if errors:
            raise ValidationError(errors)

    @property
    def display_description(self) -> str:
        from django.utils.translation import get_language

        if (get_language() or "").startswith("en") and self.description_en:
            return self.description_en
        return self.description

    def value_keys(self) -> list[str]:
        return [str(v.get("key")) for v in self.values or []]

    def value_name(self, key: str) -> str:
        for value in self.values or []:
            if str(value.get("key")) == str(key):
                return str(value.get("name", key))
        return str(key)


class WebhookSubscription(TimeStampedModel):
    class Scope(models.TextChoices):
        OWN = "own", _("incidents the partner sent")
        REGION = "region", _("every incident in a region")

    partner = models.ForeignKey(
        Partner,
        on_delete=models.CASCADE,
        related_name="subscriptions",
        verbose_name=_("partner"),
    )
    url = models.URLField(_("URL"), max_length=500)
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices, default=Scope.OWN)
    region = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("region"),
    )
    active = models.BooleanField(_("active"), default=True)
    # A partner that is down is tried about once per backoff period, whatever the number of
    # incidents waiting for it (its deliveries wait instead of each timing out).
    failures_in_a_row = models.PositiveIntegerField(_("failures in a row"), default=0)
    paused_until = models.DateTimeField(_("paused until"), null=True, blank=True)

    class Meta:
        ordering = ["partner", "pk"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        indexes = [models.Index(fields=["active"])]

    def __str__(self) -> str:
        return f"{self.partner} → {self.url}"

    def clean(self) -> None:
        if self.scope == self.Scope.REGION and self.region_id is None:
            raise ValidationError({"region": _("A subscription by region needs the region.")})
        if self.scope == self.Scope.OWN and self.region_id is not None:
            raise ValidationError({"region": _("Only a subscription by region has a region.")})


class WebhookDelivery(models.Model):
    """One status change to POST to one subscriber. Sent in order per (subscription, incident):
    the oldest undelivered one goes first; a later one waits until it is delivered or failed
    for good. The HTTP request is made outside any transaction."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed (gave up)")

    uuid = models.UUIDField(_("event id"), default=uuid.uuid4, unique=True, editable=False)
    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("subscription"),
    )
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("incident"),
    )
    event = models.ForeignKey(
        "incidents.IncidentEvent",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("timeline event"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveSmallIntegerField(
        _("last HTTP status"), null=True, blank=True
    )
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    give_up_at = models.DateTimeField(_("give up at"))
    leased_until = models.DateTimeField(_("being sent until"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], name="webhook_delivery_once_per_event"
            )
        ]
        indexes = [
            models.Index(fields=["subscription", "incident", "status", "event"]),
            models.Index(fields=["status", "next_attempt_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.uuid} {self.status}"
