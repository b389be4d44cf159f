"""Mediation cases: the state graph (declared once: TRANSITIONS, GRAPH), the workflow
vocabulary (CaseAction: what a timeline row says happened), the case, its parties, its timeline
and the admin-edited MediationPolicy. mediation.services is the only code that moves a case
along the graph, writing one MediationEvent per move.
"""

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import ROLES_SEEING_CONTACTS, mainland_mobile_validator
from core.crypto import EncryptedCharField
from core.masking import mask_id_number, mask_phone
from core.models import TimelineEvent, TimeStampedModel
from core.workflow import Graph
from mediation.models.rooms import MediationRoom

id_number_validator = RegexValidator(
    regex=r"^\d{17}[\dXx]$",
    message=_("Enter a valid resident ID number (18 characters)."),
)


class CaseState(models.TextChoices):
    APPLIED = "applied", pgettext_lazy("mediation", "applied")
    ACCEPTED = "accepted", pgettext_lazy("mediation", "accepted")
    DECLINED = "declined", pgettext_lazy("mediation", "declined")
    SCHEDULED = "scheduled", pgettext_lazy("mediation", "scheduled")
    IN_SESSION = "in_session", pgettext_lazy("mediation", "in session")
    AGREEMENT_REACHED = "agreement_reached", pgettext_lazy("mediation", "agreement reached")
    FAILED = "failed", pgettext_lazy("mediation", "mediation failed")
    WITHDRAWN = "withdrawn", pgettext_lazy("mediation", "withdrawn")
    CONFIRMATION_REQUESTED = (
        "confirmation_requested",
        pgettext_lazy("mediation", "judicial confirmation requested"),
    )
    FOLLOWED_UP = "followed_up", pgettext_lazy("mediation", "follow-up done")
    CLOSED = "closed", pgettext_lazy("mediation", "closed")


C = CaseState
# The allowed moves, declared once.
TRANSITIONS: dict[str, set[str]] = {
    C.APPLIED: {C.ACCEPTED, C.DECLINED, C.WITHDRAWN},
    C.ACCEPTED: {C.SCHEDULED, C.FAILED, C.WITHDRAWN},
    C.SCHEDULED: {C.IN_SESSION, C.SCHEDULED, C.FAILED, C.WITHDRAWN},
    C.IN_SESSION: {C.SCHEDULED, C.AGREEMENT_REACHED, C.FAILED, C.WITHDRAWN},
    C.AGREEMENT_REACHED: {C.CONFIRMATION_REQUESTED, C.FOLLOWED_UP},
    C.CONFIRMATION_REQUESTED: {C.FOLLOWED_UP},
    C.FOLLOWED_UP: {C.CLOSED},
    C.FAILED: {C.CLOSED},
    C.WITHDRAWN: {C.CLOSED},
    C.DECLINED: set(),
    C.CLOSED: set(),
}
# Cases still being mediated: the 30-day settle clock runs.
MEDIATING_STATES = [C.ACCEPTED, C.SCHEDULED, C.IN_SESSION]
FINAL_STATES = [C.DECLINED, C.CLOSED]
OPEN_STATES = [s for s in CaseState.values if s not in FINAL_STATES]


# The same graph as core.workflow.Graph: every action may take any edge of TRANSITIONS (the
# services check which states each of their actions starts from).
GRAPH = Graph(transitions=TRANSITIONS)


def can_move(source: str, target: str) -> bool:
    return target in TRANSITIONS.get(source, set())


class CaseSource(models.TextChoices):
    WALK_IN = "walk_in", _("walk-in")
    ONLINE = "online", _("resident application online")
    INCIDENT = "incident", _("referral from a dispute incident")
    PETITION = "petition", _("referral from a petition")
    COURT = "court", _("court pre-litigation referral")


class CaseOutcome(models.TextChoices):
    AGREEMENT = "agreement", pgettext_lazy("mediation", "agreement reached")
    FAILED = "failed", pgettext_lazy("mediation", "failed")
    WITHDRAWN = "withdrawn", pgettext_lazy("mediation", "withdrawn")


class Performance(models.TextChoices):
    FULLY = "fully", _("fully performed")
    PARTLY = "partly", _("partly performed")
    NOT_PERFORMED = "not_performed", _("not performed")


class MediationCase(TimeStampedModel):
    case_number = models.CharField(_("case number"), max_length=20, unique=True)
    room = models.ForeignKey(
        MediationRoom, on_delete=models.PROTECT, related_name="cases", verbose_name=_("room")
    )
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mediation_cases",
        verbose_name=_("mediator"),
    )
    category = models.ForeignKey(
        "incidents.Category",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mediation_cases",
        verbose_name=_("dispute category"),
    )
    facts = models.TextField(_("facts"))
    requests = models.TextField(_("requests"), blank=True)
    source = models.CharField(_("source"), max_length=16, choices=CaseSource.choices)
    # Where the dispute is: the incident's community, else the room's region. Supervisors
    # see cases by this code.
    region_code = models.CharField(_("region code"), max_length=12, db_index=True)
    applicant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mediation_applications",
        verbose_name=_("applied online by"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered by"),
    )
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mediation_cases",
        verbose_name=_("referred incident"),
    )
    # The petitions app owns its model; a plain id keeps the apps' migrations independent.
    petition_id = models.PositiveBigIntegerField(_("referred petition"), null=True, blank=True)
    court_reference = models.CharField(_("court reference"), max_length=64, blank=True)

    state = models.CharField(
        _("state"),
        max_length=24,
        choices=CaseState.choices,
        default=CaseState.APPLIED,
        db_index=True,
    )
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=CaseOutcome.choices, blank=True, db_index=True
    )
    decline_reason = models.TextField(_("reason declined"), blank=True)
    outcome_note = models.TextField(_("outcome note"), blank=True)

    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    due_at = models.DateTimeField(_("settle by"), null=True, blank=True, db_index=True)
    extension_days = models.PositiveSmallIntegerField(_("days extended"), default=0)
    concluded_at = models.DateTimeField(_("concluded at"), null=True, blank=True)
    confirmation_due_at = models.DateTimeField(_("judicial confirmation by"), null=True, blank=True)
    confirmation_requested_at = models.DateTimeField(
        _("judicial confirmation requested at"), null=True, blank=True
    )
    confirmation_court = models.CharField(_("court"), max_length=100, blank=True)
    follow_up_due_at = models.DateTimeField(_("follow-up due"), null=True, blank=True)
    followed_up_at = models.DateTimeField(_("followed up at"), null=True, blank=True)
    follow_up_performance = models.CharField(
        _("performance"), max_length=16, choices=Performance.choices, blank=True
    )
    follow_up_result = models.TextField(_("follow-up result"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    # Reminders already sent (the sweep claims a row by setting these).
    settle_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    confirmation_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    follow_up_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The referring incident was told the outcome (set by tasks.report_outcome_to_incident).
    incident_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("mediation case")
        verbose_name_plural = _("mediation cases")
        indexes = [
            models.Index(fields=["room", "state"]),
            models.Index(fields=["region_code", "state"]),
            models.Index(fields=["state", "due_at"]),
        ]

    def __str__(self) -> str:
        return self.case_number

    @property
    def is_open(self) -> bool:
        return self.state not in FINAL_STATES

    @property
    def is_overdue(self) -> bool:
        return bool(self.state in MEDIATING_STATES and self.due_at and self.due_at < timezone.now())

    def allowed_targets(self) -> set[str]:
        return TRANSITIONS.get(self.state, set())


def viewer_sees_contacts(viewer) -> bool:
    return bool(
        viewer is not None
        and getattr(viewer, "is_authenticated", False)
        and (viewer.is_superuser or viewer.role_codes & ROLES_SEEING_CONTACTS)
    )


class CaseParty(models.Model):
    class Role(models.TextChoices):
        APPLICANT = "applicant", _("applicant")
        RESPONDENT = "respondent", _("respondent")

    case = models.ForeignKey(
        MediationCase, on_delete=models.CASCADE, related_name="parties", verbose_name=_("case")
    )
    role = models.CharField(pgettext_lazy("mediation", "role"), max_length=16, choices=Role.choices)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=64)
    # Encrypted at rest (core.crypto); shown through id_number_for (masked unless allowed).
    id_number = EncryptedCharField(
        _("ID number"), max_length=255, blank=True, validators=[id_number_validator]
    )
    phone = models.CharField(
        _("phone"), max_length=11, blank=True, validators=[mainland_mobile_validator]
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="mediation_parties",
        verbose_name=_("portal account"),
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["case", "position", "id"]
        verbose_name = _("party")
        verbose_name_plural = _("parties")

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.name}"

    def _sees_in_full(self, viewer) -> bool:
        return viewer_sees_contacts(viewer) or (
            self.user_id is not None and getattr(viewer, "pk", None) == self.user_id
        )

    def _shown_in_full(self, viewer, field: str, value: str) -> str:
        """The full value; an audit event when someone other than the party sees it."""
        if value and not (self.user_id is not None and getattr(viewer, "pk", None) == self.user_id):
            from audit.services import record_unmasked

            record_unmasked(viewer, self, [field], case_id=self.case_id)
        return value

    def phone_for(self, viewer) -> str:
        if self._sees_in_full(viewer):
            return self._shown_in_full(viewer, "phone", self.phone)
        return mask_phone(self.phone)

    def id_number_for(self, viewer) -> str:
        if self._sees_in_full(viewer):
            return self._shown_in_full(viewer, "id_number", self.id_number)
        return mask_id_number(self.id_number)


class CaseAction(models.TextChoices):
    """What a timeline row (MediationEvent.action) says happened: the stored values are the
    action strings the timeline has always held (no data migration), the labels how the
    timeline shows them."""

    APPLIED = "applied", _("application received")
    REGISTERED = "registered", _("case registered")
    REFERRED = "referred", _("referred from an incident")
    PETITION_REFERRED = "petition_referred", _("referred from a petition")
    ACCEPTED = "accepted", _("accepted")
    DECLINED = "declined", _("declined")
    MEDIATOR_ASSIGNED = "mediator_assigned", _("mediator assigned")
    SESSION_SCHEDULED = "session_scheduled", _("session scheduled")
    SESSION_STARTED = "session_started", _("session started")
    SESSION_CANCELLED = "session_cancelled", _("session cancelled")
    MINUTES_RECORDED = "minutes_recorded", _("minutes recorded")
    AGREEMENT_RECORDED = "agreement_recorded", _("agreement recorded")
    AGREEMENT_SIGNED = "agreement_signed", _("agreement signed")
    AGREEMENT_SEALED = "agreement_sealed", _("committee seal applied")
    AGREEMENT_EFFECTIVE = "agreement_effective", _("agreement took effect")
    EXTENDED = "extended", _("settle deadline extended")
    PARTY_REFUSED = "party_refused", _("a party refused mediation")
    WITHDRAWN = "withdrawn", _("withdrawn")
    FAILED = "failed", _("mediation failed")
    CONFIRMATION_REQUESTED = "confirmation_requested", _("judicial confirmation requested")
    FOLLOWED_UP = "followed_up", _("follow-up visit recorded")
    CLOSED = "closed", _("closed")
    SETTLE_REMINDER = "settle_reminder", _("settle deadline reminder")
    OVERDUE = "overdue", _("settle deadline passed")
    CONFIRMATION_REMINDER = "confirmation_reminder", _("judicial confirmation reminder")
    FOLLOW_UP_REMINDER = "follow_up_reminder", _("follow-up reminder")
    INCIDENT_NOTIFIED = "incident_notified", _("incident told the outcome")


# Timeline actions and how the timeline shows them (derived from CaseAction; kept for callers).
EVENT_ACTION_LABELS = dict(CaseAction.choices)


class MediationEvent(TimelineEvent):
    """The append-only timeline of a case: one row per action, never updated or deleted."""

    case = models.ForeignKey(
        MediationCase, on_delete=models.PROTECT, related_name="events", verbose_name=_("case")
    )
    from_state = models.CharField(_("from"), max_length=24, blank=True)
    to_state = models.CharField(_("to"), max_length=24, blank=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("case event")
        verbose_name_plural = _("case timeline")

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"

    @property
    def action_label(self) -> str:
        return str(EVENT_ACTION_LABELS.get(self.action, self.action))


class MediationPolicy(models.Model):
    """Local practice, edited by admins (one row): reminder days, the settle period (司法部
    《人民调解工作若干规定》Art. 33 and 深圳条例 Art. 25 say one month / 30 days) and the cap on
    one extension. The 30 days to apply for judicial confirmation are law (人民调解法 Art. 33)
    and live in mediation.services."""

    settle_days = models.PositiveSmallIntegerField(
        _("settle a case within this many days of accepting it"),
        default=30,
        validators=[MinValueValidator(1)],
    )
    max_extension_days = models.PositiveSmallIntegerField(
        _("at most this many days for one extension of the settle deadline"),
        default=60,
        validators=[MinValueValidator(1)],
    )

    settle_warning_days = models.PositiveSmallIntegerField(
        _("warn the mediator this many days before the settle deadline"), default=5
    )
    confirmation_warning_days = models.PositiveSmallIntegerField(
        _("remind the parties this many days before the judicial confirmation window closes"),
        default=7,
    )
    follow_up_days = models.PositiveSmallIntegerField(
        _("follow-up visit this many days after the performance deadline"), default=7
    )

    class Meta:
        verbose_name = _("mediation policy")
        verbose_name_plural = _("mediation policy")

    def __str__(self) -> str:
        return str(_("mediation policy"))

    @classmethod
    def current(cls) -> "MediationPolicy":
        policy = cls.objects.order_by("pk").first()
        return policy if policy is not None else cls()
