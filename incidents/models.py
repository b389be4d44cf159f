"""Categories, incidents and their append-only timeline.

The state graph is declared once (ACTIONS, as GRAPH for core.workflow; TRANSITIONS is derived
from it); incidents.services is the only code that moves an incident along it.
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.models import TimelineEvent, TimeStampedModel
from core.workflow import Graph


class HandlingLevel(models.TextChoices):
    GRID = "grid", _("grid")
    COMMUNITY = "community", _("community")
    STREET = "street", _("street")
    DISTRICT = "district", _("district")
    DEPARTMENT = "department", _("department")


# Escalation: one level up at a time (grid → community → street → district).
ESCALATION_ORDER = [
    HandlingLevel.GRID,
    HandlingLevel.COMMUNITY,
    HandlingLevel.STREET,
    HandlingLevel.DISTRICT,
]


class Category(models.Model):
    """Two-level event classification with its handling level and stage time limits."""

    code = models.CharField(_("code"), max_length=8, unique=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("large class"),
    )
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=128, blank=True)
    handled_at = models.CharField(
        _("handled at"), max_length=16, choices=HandlingLevel.choices, blank=True
    )
    department = models.CharField(_("department"), max_length=64, blank=True)
    is_dispute = models.BooleanField(_("dispute (may go to mediation)"), default=False)
    urgent = models.BooleanField(_("urgent"), default=False)
    internal_only = models.BooleanField(
        _("internal only"),
        default=False,
        help_text=_("Never shown publicly (crime leads, special groups)."),
    )
    verify_within = models.CharField(_("verify within"), max_length=8, blank=True)
    dispatch_within = models.CharField(_("dispatch within"), max_length=8, blank=True)
    resolve_within = models.CharField(_("resolve within"), max_length=8, blank=True)
    active = models.BooleanField(_("active"), default=True)
    publish_open311 = models.BooleanField(
        _("published on Open311"),
        default=False,
        help_text=_(
            "Show this category and its incidents in the public Open311 feed. Keep it off for "
            "disputes and matters about one person or household."
        ),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"

    @property
    def display_name(self) -> str:
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name

    @property
    def is_leaf(self) -> bool:
        return self.parent_id is not None


class IncidentState(models.TextChoices):
    REPORTED = "reported", _("reported")
    VERIFYING = "verifying", _("verifying")
    INVALID = "invalid", _("invalid")
    VERIFIED = "verified", _("verified")
    DISPATCHED = "dispatched", _("dispatched")
    ACCEPTED = "accepted", _("accepted")
    RESOLVED = "resolved", _("resolved")
    CHECKED = "checked", _("checked")
    FEEDBACK_SENT = "feedback_sent", _("feedback sent")
    RATED = "rated", _("rated")
    REOPENED = "reopened", _("reopened")
    MEDIATING = "mediating", _("in mediation")
    CLOSED = "closed", _("closed")


class Action(models.TextChoices):
    """Every move of the loop; one service in incidents.services per action."""

    REPORT = "report", _("report")
    START_VERIFICATION = "start_verification", _("located, verifier assigned")
    ASSIGN_VERIFIER = "assign_verifier", _("assign verifier")
    VERIFY = "verify", _("verify")
    MARK_INVALID = "mark_invalid", _("mark invalid")
    DISPATCH = "dispatch", _("dispatch")
    CLAIM = "claim", _("claim")
    ACCEPT = "accept", _("accept")
    RETURN = "return", _("return")
    REASSIGN = "reassign", _("reassign")
    ESCALATE = "escalate", _("escalate")
    REQUEST_EXTENSION = "request_extension", _("request extension")
    APPROVE_EXTENSION = "approve_extension", _("approve extension")
    REJECT_EXTENSION = "reject_extension", _("reject extension")
    PARK = "park", _("park")
    UNPARK = "unpark", _("unpark")
    RESOLVE = "resolve", _("resolve")
    CHECK = "check", _("check")
    REWORK = "rework", _("rework")
    SEND_FEEDBACK = "send_feedback", _("send feedback")
    RATE = "rate", _("rate")
    REOPEN = "reopen", _("reopen")
    CLOSE = "close", _("close")
    FIX_ON_SPOT = "fix_on_spot", _("fixed on the spot")
    REFER_TO_MEDIATION = "refer_to_mediation", _("refer to mediation")
    MEDIATION_CONCLUDED = "mediation_concluded", _("mediation concluded")
    # Not a move: the deadline sweep's warning (an internal timeline row).
    DEADLINE_WARNING = "deadline_warning", _("deadline warning")
    # Not a move: a reporting partner's own deadline recorded at report (an internal row).
    PARTNER_DEADLINE = "partner_deadline", _("partner's deadline")
    # Not a move: a new tracking access code sent to the reporter's phone (an internal row).
    ACCESS_CODE_SENT = "access_code_sent", _("new access code sent")


def _moves(sources, target: str | None = None) -> dict[str, frozenset[str]]:
    """Each source state → `target` (None: the state stays as it is, a side move)."""
    return {source: frozenset({target or source}) for source in sources}


_HANDLING = (IncidentState.DISPATCHED, IncidentState.ACCEPTED)

# The loop, declared once: action -> {state it may start from: states it may lead to}.
# incidents.services checks every move against it (GRAPH, through core.workflow), the sweep's
# bulk close included; TRANSITIONS is derived from it.
ACTIONS: dict[str, dict[str, frozenset[str]]] = {
    Action.START_VERIFICATION: {
        IncidentState.REPORTED: frozenset({IncidentState.VERIFYING, IncidentState.VERIFIED})
    },
    Action.ASSIGN_VERIFIER: _moves(
        [IncidentState.REPORTED, IncidentState.VERIFYING], IncidentState.VERIFYING
    ),
    Action.VERIFY: _moves([IncidentState.VERIFYING], IncidentState.VERIFIED),
    Action.MARK_INVALID: _moves(
        [IncidentState.REPORTED, IncidentState.VERIFYING], IncidentState.INVALID
    ),
    Action.DISPATCH: _moves(
        [IncidentState.VERIFIED, IncidentState.REOPENED], IncidentState.DISPATCHED
    ),
    Action.CLAIM: _moves([IncidentState.DISPATCHED], IncidentState.ACCEPTED),
    Action.ACCEPT: _moves([IncidentState.DISPATCHED], IncidentState.ACCEPTED),
    Action.RETURN: _moves(_HANDLING, IncidentState.VERIFIED),
    Action.REASSIGN: _moves(_HANDLING, IncidentState.DISPATCHED),
    # One level up: verification and check change hands in place; handling goes to the unit.
    Action.ESCALATE: {
        **_moves([IncidentState.VERIFYING, IncidentState.VERIFIED, IncidentState.RESOLVED]),
        **_moves(_HANDLING, IncidentState.DISPATCHED),
    },
    Action.REQUEST_EXTENSION: _moves(_HANDLING),
    Action.APPROVE_EXTENSION: _moves(_HANDLING),
    Action.REJECT_EXTENSION: _moves(_HANDLING),
    Action.PARK: _moves(_HANDLING),
    Action.UNPARK: _moves(_HANDLING),
    Action.RESOLVE: _moves([IncidentState.ACCEPTED], IncidentState.RESOLVED),
    Action.CHECK: _moves([IncidentState.RESOLVED], IncidentState.CHECKED),
    Action.REWORK: _moves([IncidentState.RESOLVED], IncidentState.DISPATCHED),
    Action.SEND_FEEDBACK: _moves(
        [IncidentState.RESOLVED, IncidentState.CHECKED], IncidentState.FEEDBACK_SENT
    ),
    Action.RATE: _moves([IncidentState.FEEDBACK_SENT], IncidentState.RATED),
    Action.REOPEN: _moves([IncidentState.RATED], IncidentState.REOPENED),
    Action.CLOSE: _moves([IncidentState.FEEDBACK_SENT, IncidentState.RATED], IncidentState.CLOSED),
    # 随手办: a new report (reported) or one the grid worker came to verify (verifying).
    Action.FIX_ON_SPOT: _moves(
        [IncidentState.REPORTED, IncidentState.VERIFYING], IncidentState.RESOLVED
    ),
    Action.REFER_TO_MEDIATION: _moves(
        [IncidentState.VERIFIED, *_HANDLING, IncidentState.REOPENED], IncidentState.MEDIATING
    ),
    Action.MEDIATION_CONCLUDED: {
        IncidentState.MEDIATING: frozenset({IncidentState.CLOSED, IncidentState.DISPATCHED})
    },
}


GRAPH = Graph(ACTIONS)


def _state_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {state: set() for state in IncidentState.values}
    for moves in ACTIONS.values():
        for source, targets in moves.items():
            graph[source] |= set(targets)
    return graph


# The state graph (state -> states it may move to), derived from ACTIONS.
TRANSITIONS: dict[str, set[str]] = _state_graph()
FINAL_STATES = [IncidentState.INVALID, IncidentState.CLOSED]
OPEN_STATES = [s for s in IncidentState.values if s not in FINAL_STATES]
# States in which somebody is working on it against a deadline (the sweep watches these).
TIMED_STATES = [
    IncidentState.VERIFYING,
    IncidentState.VERIFIED,
    IncidentState.DISPATCHED,
    IncidentState.ACCEPTED,
    IncidentState.RESOLVED,
    IncidentState.FEEDBACK_SENT,
]


class Channel(models.TextChoices):
    PATROL = "patrol", _("grid worker patrol")
    RESIDENT_WEB = "resident_web", _("resident web")
    HOTLINE_12345 = "hotline_12345", _("12345 hotline")
    DIVERSION_110 = "diversion_110", _("110 diversion")
    API = "api", _("API")
    OPEN311 = "open311", _("Open311 API")
    PETITION = "petition", _("petition referral")


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
