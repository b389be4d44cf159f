"""The incident and its public id."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import TimeStampedModel
from incidents.models.categories import Category, HandlingLevel
from incidents.models.loop import FINAL_STATES, Channel, IncidentState

# Public ids: "R" + 10 characters of Crockford's base32 (50 random bits). Unlike the tracking
# number, a public id is no credential and says nothing about the reporter.
PUBLIC_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def public_id_new() -> str:
    """A fresh random public id, e.g. R7K3MQ9XPA2 (Open311 service_request_id)."""
    return "R" + "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _position in range(10))


class Incident(TimeStampedModel):
    tracking_number = models.CharField(_("tracking number"), max_length=16, unique=True)
    public_id = models.CharField(
        _("public id"), max_length=16, unique=True, default=public_id_new, editable=False
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="incidents", verbose_name=_("category")
    )
    description = models.TextField(_("description"))
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    grid_cell = models.ForeignKey(
        "grids.GridCell",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("grid cell"),
    )
    region = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("community"),
    )
    # Denormalised community code: scoping is a prefix match with no join.
    region_code = models.CharField(_("region code"), max_length=12, blank=True, db_index=True)

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reported_incidents",
        verbose_name=_("reporter"),
    )
    reporter_name = models.CharField(_("reporter's name"), max_length=64, blank=True)
    reporter_phone = models.CharField(_("reporter's phone"), max_length=20, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    # The caller's own id (12345 ticket, Open311 request ...): the same caller never files the
    # same one twice. The key is (caller, channel, external_id): `external_caller` is "u<user
    # id>" for a signed-in caller, "" for a partner or the system (a partner's code prefixes its
    # external_id: "<partner code>:<ticket id>").
    external_id = models.CharField(_("external id"), max_length=64, blank=True)
    external_caller = models.CharField(_("external id's caller"), max_length=32, blank=True)
    # The tracking access code (查询码), salted and hashed (incidents.tracking): the code itself
    # is only shown once (done page, API answer) and sent by SMS.
    access_code_hash = models.CharField(_("access code (hashed)"), max_length=128, blank=True)

    state = models.CharField(
        _("state"),
        max_length=16,
        choices=IncidentState.choices,
        default=IncidentState.REPORTED,
        # No index of its own: (state, due_at) and (state, task_enqueued_at) lead with it, and
        # every index costs each report and each move a write (docs/performance.md).
    )
    urgent = models.BooleanField(_("urgent"), default=False)
    handling_level = models.CharField(
        _("handling level"), max_length=16, choices=HandlingLevel.choices, blank=True
    )
    handling_region = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handled_incidents",
        verbose_name=_("handling unit (region)"),
    )
    handling_department = models.CharField(_("handling department"), max_length=64, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_incidents",
        verbose_name=_("assignee"),
        db_index=False,  # the (assignee, state) index leads with it
    )
    verifier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents_to_verify",
        verbose_name=_("verifier"),
        db_index=False,  # the (verifier, state) index leads with it
    )
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents_to_check",
        verbose_name=_("checker"),
    )
    check_required = models.BooleanField(_("on-site check required"), default=True)
    claimable = models.BooleanField(_("open for claiming"), default=False)
    escalation_level = models.PositiveSmallIntegerField(_("escalations"), default=0)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    rework_count = models.PositiveSmallIntegerField(_("times reworked"), default=0)
    return_count = models.PositiveSmallIntegerField(_("times returned"), default=0)
    extension_count = models.PositiveSmallIntegerField(_("extensions"), default=0)
    extension_requested = models.BooleanField(_("extension requested"), default=False)
    parked = models.BooleanField(_("parked"), default=False)
    parked_reason = models.TextField(_("reason parked"), blank=True)
    parked_at = models.DateTimeField(_("parked at"), null=True, blank=True)
    extension_requested_until = models.DateTimeField(
        _("extension requested until"), null=True, blank=True
    )
    extension_reason = models.TextField(_("reason for extension"), blank=True)
    extension_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("extension requested by"),
    )
    # Mediation (mediation app): the case this incident waits for. A plain id keeps the apps'
    # migrations independent.
    mediation_case_id = models.PositiveBigIntegerField(_("mediation case"), null=True, blank=True)
    mediation_room_name = models.CharField(_("mediation room"), max_length=128, blank=True)

    # A reporting partner's own resolve deadline (a 12345 ticket's time limit): while it lies
    # ahead and no extension was granted, it is the resolve deadline of every dispatch.
    external_due_at = models.DateTimeField(_("partner's deadline"), null=True, blank=True)
    # The patrol during which a grid worker reported it (channel patrol).
    patrol = models.ForeignKey(
        "incidents.PatrolLog",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=pgettext_lazy("patrol log", "patrol"),
    )

    # Deadlines live in columns (never as broker ETAs); due_at is the current stage's.
    verify_due_at = models.DateTimeField(_("verify by"), null=True, blank=True)
    dispatch_due_at = models.DateTimeField(_("dispatch by"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("resolve by"), null=True, blank=True)
    check_due_at = models.DateTimeField(_("check by"), null=True, blank=True)
    rate_due_at = models.DateTimeField(_("rate by"), null=True, blank=True)
    due_at = models.DateTimeField(_("current deadline"), null=True, blank=True, db_index=True)
    warned_at = models.DateTimeField(_("deadline warning sent"), null=True, blank=True)
    # Alarms for the sweep (indexed, cleared once acted on): when to warn about due_at, and when
    # to escalate (empty where escalation is impossible: top level, parked, pending extension).
    warn_at = models.DateTimeField(_("warn at"), null=True, blank=True, db_index=True)
    escalate_at = models.DateTimeField(_("escalate at"), null=True, blank=True, db_index=True)

    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    feedback_at = models.DateTimeField(_("feedback sent at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.TextField(_("rating comment"), blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    result = models.TextField(_("result"), blank=True)
    # 办理公开: the result as staff write it for the public (scrubbed again when shown).
    public_result = models.TextField(_("result for the public"), blank=True)
    # A duplicate merged into an open incident: closed with this pointer (not a closed case
    # in the KPIs: governance.aggregates counts it as merged, never as closed).
    # 附议: how many follow it ("N 人关注" in the queue without a query per row).
    followers_count = models.PositiveIntegerField(_("followers"), default=0)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_duplicates",
        verbose_name=_("merged into"),
    )
    invalid_reason = models.TextField(_("reason invalid"), blank=True)
    # The last time a task for the current state was enqueued: beat re-drives what is stuck.
    task_enqueued_at = models.DateTimeField(_("task enqueued at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [
            models.Index(fields=["state", "due_at"]),
            # A region's work (a prefix of its code: street, community ...) by state and
            # deadline: the dispatch queue's rows and their count. varchar_pattern_ops lets the
            # prefix (LIKE '350601001%') use it whatever the database's collation, with the
            # state checked in the index: a street's 1,000 open incidents are counted without
            # reading its 9,000 closed ones (docs/performance.md). Ignored off PostgreSQL.
            models.Index(
                fields=["region_code", "state", "due_at"],
                name="incident_region_state_due",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops", "timestamptz_ops"],
            ),
            models.Index(fields=["assignee", "state"]),
            # A verifier's open work (routing's least-loaded worker counts it per candidate).
            models.Index(fields=["verifier", "state"], name="incident_verifier_state"),
            models.Index(fields=["state", "task_enqueued_at"]),
            models.Index(fields=["handling_department", "state"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_caller", "channel", "external_id"],
                condition=~models.Q(external_id=""),
                name="incident_unique_caller_external_id",
            ),
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="incident_rating_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_number

    @property
    def is_open(self) -> bool:
        return self.state not in FINAL_STATES
