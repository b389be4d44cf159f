"""Mediation (人民调解): rooms, their mediators, cases, sessions, agreements and the timeline.

The case state graph is declared once (TRANSITIONS); mediation.services is the only code that
moves a case along it, writing one MediationEvent per move.
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

id_number_validator = RegexValidator(
    regex=r"^\d{17}[\dXx]$",
    message=_("Enter a valid resident ID number (18 characters)."),
)


class RoomType(models.TextChoices):
    XIANGXIAN = "xiangxian", _("village worthies' mediation room")
    TWO_REPS_ONE_MEMBER = "two_reps_one_member", _("deputies and committee member mediation room")
    PERSONAL = "personal", _("personal mediation studio")
    FAMILY = "family", _("family dispute mediation room")
    REASONING_POINT = "reasoning_point", _("reasoning and talking point")
    MEDICAL = "medical", _("medical dispute mediation")
    FINANCE = "finance", _("financial dispute mediation")
    LABOUR = "labour", _("labour dispute mediation")
    MARITIME = "maritime", _("maritime dispute mediation")
    COURT = "court", _("court-stationed mediation")
    PETITION_WINDOW = "petition_window", _("petition-window mediation")
    POLICE = "police", _("police-stationed mediation")
    COMMITTEE = "committee", _("people's mediation committee")


# Names used in local documents, the demo data and CSV files (any language) -> type code.
ROOM_TYPE_ALIASES: dict[str, str] = {
    "乡贤调解室": RoomType.XIANGXIAN,
    "两代表一委员调解室": RoomType.TWO_REPS_ONE_MEMBER,
    "个人调解工作室": RoomType.PERSONAL,
    "个人调解室": RoomType.PERSONAL,
    "家事纠纷调解室": RoomType.FAMILY,
    "评理说事点": RoomType.REASONING_POINT,
    "医患纠纷调解": RoomType.MEDICAL,
    "医患纠纷调解室": RoomType.MEDICAL,
    "金融纠纷调解": RoomType.FINANCE,
    "金融纠纷调解室": RoomType.FINANCE,
    "劳动争议调解": RoomType.LABOUR,
    "劳动争议调解室": RoomType.LABOUR,
    "海上纠纷调解": RoomType.MARITIME,
    "海上纠纷调解室": RoomType.MARITIME,
    "诉调对接": RoomType.COURT,
    "诉调对接工作室": RoomType.COURT,
    "访调对接": RoomType.PETITION_WINDOW,
    "访调对接工作室": RoomType.PETITION_WINDOW,
    "警调对接": RoomType.POLICE,
    "警调对接工作室": RoomType.POLICE,
    "人民调解委员会": RoomType.COMMITTEE,
}


class RoomLevel(models.TextChoices):
    CITY = "city", pgettext_lazy("mediation", "city")
    COUNTY = "county", _("county / district")
    TOWNSHIP = "township", _("township / street")
    VILLAGE = "village", _("village / community")


# A room's level and the level of the region it serves ("小事不出村、大事不出镇").
ROOM_LEVEL_REGION_LEVEL: dict[str, str] = {
    RoomLevel.CITY: "city",
    RoomLevel.COUNTY: "district",
    RoomLevel.TOWNSHIP: "street",
    RoomLevel.VILLAGE: "community",
}
ROOM_LEVEL_ALIASES: dict[str, str] = {
    "市": RoomLevel.CITY,
    "市级": RoomLevel.CITY,
    "县": RoomLevel.COUNTY,
    "县级": RoomLevel.COUNTY,
    "区": RoomLevel.COUNTY,
    "区县": RoomLevel.COUNTY,
    "乡镇": RoomLevel.TOWNSHIP,
    "街道": RoomLevel.TOWNSHIP,
    "镇": RoomLevel.TOWNSHIP,
    "村": RoomLevel.VILLAGE,
    "社区": RoomLevel.VILLAGE,
    "村居": RoomLevel.VILLAGE,
}
# Referral proposals walk up the tree in this order.
PROPOSAL_ORDER = [RoomLevel.VILLAGE, RoomLevel.TOWNSHIP, RoomLevel.COUNTY, RoomLevel.CITY]


def region_code_at_level(code: str, level: str) -> str:
    """The 12-digit code of the ancestor of `code` at a room level (code structure 6+3+3)."""
    significant = {"city": 4, "county": 6, "township": 9, "village": 12}[level]
    return code[:significant].ljust(12, "0")


class MediationRoom(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    room_type = models.CharField(_("type"), max_length=32, choices=RoomType.choices)
    level = models.CharField(_("level"), max_length=16, choices=RoomLevel.choices, db_index=True)
    region = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        related_name="mediation_rooms",
        verbose_name=_("region served"),
    )
    # Denormalised: proposals and scoping compare codes without a join.
    region_code = models.CharField(_("region code"), max_length=12, db_index=True, editable=False)
    categories = models.ManyToManyField(
        "incidents.Category",
        blank=True,
        related_name="mediation_rooms",
        limit_choices_to={"is_dispute": True},
        verbose_name=_("dispute categories taken"),
        help_text=_("Empty means every kind of dispute."),
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=100, blank=True)
    phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    capacity_per_day = models.PositiveSmallIntegerField(_("capacity (sessions a day)"), default=4)
    gold_rated = models.BooleanField(_("gold-rated room"), default=False)
    active = models.BooleanField(pgettext_lazy("mediation", "active"), default=True, db_index=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0, db_index=True)
    description = models.TextField(pgettext_lazy("mediation room", "description"), blank=True)
    mediators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="RoomMediator",
        related_name="mediation_rooms",
        verbose_name=_("mediators"),
    )

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("mediation room")
        verbose_name_plural = _("mediation rooms")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(lat__isnull=True) & models.Q(lng__isnull=True))
                | (models.Q(lat__gte=-90, lat__lte=90) & models.Q(lng__gte=-180, lng__lte=180)),
                name="mediation_room_location_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.region_id:
            self.region_code = self.region.code
        super().save(*args, **kwargs)

    def takes_category(self, category) -> bool:
        if category is None:
            return True
        codes = {c.code for c in self.categories.all()}
        return not codes or category.code in codes


class RoomMediator(TimeStampedModel):
    """A mediator serving in a room; one person may serve in several rooms."""

    room = models.ForeignKey(
        MediationRoom,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("room"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="mediator_memberships",
        verbose_name=_("mediator"),
    )
    title = models.CharField(pgettext_lazy("mediation", "title"), max_length=64, blank=True)
    speciality = models.CharField(_("speciality"), max_length=128, blank=True)
    active = models.BooleanField(pgettext_lazy("mediation", "active"), default=True)

    class Meta:
        ordering = ["room", "id"]
        verbose_name = _("room mediator")
        verbose_name_plural = _("room mediators")
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="room_mediator_unique")
        ]

    def __str__(self) -> str:
        return f"{self.room} · {self.user}"


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


class MediationSession(TimeStampedModel):
    class State(models.TextChoices):
        PLANNED = "planned", _("planned")
        HELD = "held", _("held")
        CANCELLED = "cancelled", _("cancelled")

    case = models.ForeignKey(
        MediationCase, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("case")
    )
    room = models.ForeignKey(
        MediationRoom, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("room")
    )
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="mediation_sessions",
        verbose_name=_("mediator"),
    )
    starts_at = models.DateTimeField(_("starts at"), db_index=True)
    ends_at = models.DateTimeField(_("ends at"))
    place = models.CharField(_("place"), max_length=255)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PLANNED, db_index=True
    )
    minutes = models.TextField(_("minutes"), blank=True)
    attendees = models.CharField(_("attendees"), max_length=255, blank=True)
    minutes_recorded_at = models.DateTimeField(_("minutes recorded at"), null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("mediation session")
        verbose_name_plural = _("mediation sessions")
        indexes = [
            models.Index(fields=["mediator", "state", "starts_at"]),
            models.Index(fields=["room", "state", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="mediation_session_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} {timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"


class MediationAgreement(TimeStampedModel):
    """调解协议书 (人民调解法 Art. 28-30). A written agreement takes effect once every party has
    signed (sealed, fingerprinted), the mediator has signed and the people's mediation committee
    has sealed it (Art. 29): `effective_at` is the latest of those dates, not the moment they
    were entered. An oral agreement is effective from the moment it is recorded (Art. 30)."""

    class Form(models.TextChoices):
        WRITTEN = "written", _("written agreement")
        ORAL = "oral", _("oral agreement")

    case = models.OneToOneField(
        MediationCase, on_delete=models.CASCADE, related_name="agreement", verbose_name=_("case")
    )
    form = models.CharField(_("form"), max_length=16, choices=Form.choices)
    parties_details = models.TextField(_("parties' details"))
    facts = models.TextField(_("main facts"))
    disputed_matters = models.TextField(_("disputed matters"))
    responsibilities = models.TextField(_("responsibilities of each party"), blank=True)
    terms = models.TextField(_("what was agreed"))
    performance_method = models.TextField(_("how it is performed"))
    performance_deadline = models.DateField(_("performed by"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    # The committee's seal (加盖人民调解委员会印章, Art. 29): when it was applied (may be
    # back-dated to the day it was applied on paper) and the mediator or admin who applied it.
    sealed_at = models.DateTimeField(_("committee seal applied at"), null=True, blank=True)
    sealed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("committee seal applied by"),
    )
    effective_at = models.DateTimeField(_("effective at"), null=True, blank=True)

    class Meta:
        verbose_name = _("mediation agreement")
        verbose_name_plural = _("mediation agreements")

    def __str__(self) -> str:
        return f"{self.case} {self.get_form_display()}"

    @property
    def is_effective(self) -> bool:
        return self.effective_at is not None

    @property
    def is_sealed(self) -> bool:
        return self.sealed_at is not None


class AgreementSignature(models.Model):
    """Who signed (sealed, fingerprinted) the written agreement, and when. Append-only."""

    class Method(models.TextChoices):
        SIGNATURE = "signature", _("signature")
        SEAL = "seal", _("seal")
        FINGERPRINT = "fingerprint", _("fingerprint")

    agreement = models.ForeignKey(
        MediationAgreement,
        on_delete=models.CASCADE,
        related_name="signatures",
        verbose_name=_("agreement"),
    )
    party = models.ForeignKey(
        CaseParty,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="signatures",
        verbose_name=_("party"),
        help_text=_("Empty: the mediator's signature."),
    )
    signer_name = models.CharField(_("signed by"), max_length=64)
    method = models.CharField(
        _("method"), max_length=16, choices=Method.choices, default=Method.SIGNATURE
    )
    signed_at = models.DateTimeField(_("signed at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        ordering = ["signed_at", "id"]
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "party"],
                condition=models.Q(party__isnull=False),
                name="agreement_signature_one_per_party",
            ),
            models.UniqueConstraint(
                fields=["agreement"],
                condition=models.Q(party__isnull=True),
                name="agreement_signature_one_mediator",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.signer_name} {self.signed_at:%Y-%m-%d}"


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


# Timeline actions and how the timeline shows them.
EVENT_ACTION_LABELS = {
    "applied": _("application received"),
    "registered": _("case registered"),
    "referred": _("referred from an incident"),
    "petition_referred": _("referred from a petition"),
    "accepted": _("accepted"),
    "declined": _("declined"),
    "mediator_assigned": _("mediator assigned"),
    "session_scheduled": _("session scheduled"),
    "session_started": _("session started"),
    "session_cancelled": _("session cancelled"),
    "minutes_recorded": _("minutes recorded"),
    "agreement_recorded": _("agreement recorded"),
    "agreement_signed": _("agreement signed"),
    "agreement_sealed": _("committee seal applied"),
    "agreement_effective": _("agreement took effect"),
    "extended": _("settle deadline extended"),
    "party_refused": _("a party refused mediation"),
    "withdrawn": _("withdrawn"),
    "failed": _("mediation failed"),
    "confirmation_requested": _("judicial confirmation requested"),
    "followed_up": _("follow-up visit recorded"),
    "closed": _("closed"),
    "settle_reminder": _("settle deadline reminder"),
    "overdue": _("settle deadline passed"),
    "confirmation_reminder": _("judicial confirmation reminder"),
    "follow_up_reminder": _("follow-up reminder"),
    "incident_notified": _("incident told the outcome"),
}
