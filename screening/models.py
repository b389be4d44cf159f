"""Disputes found by screening (矛盾纠纷排查), their risk colour and the "4+2" flow.

Admin-edited lists: the kinds of dispute, the risk factors (the checklist), the rules that turn
factors into a colour, and per colour whether it alerts and how soon it must be followed up.
A dispute moves through GRAPH (core.workflow); every move writes one DisputeEvent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedCharField
from core.masking import mask_name, mask_phone
from core.models import TimelineEvent, TimeStampedModel
from core.workflow import Graph, Move


class RiskLevel(models.TextChoices):
    """The four colours (e.g. Xiushui county): red 重大, orange 较大, yellow 一般, blue 隐患."""

    BLUE = "blue", _("blue: early signs (隐患)")
    YELLOW = "yellow", _("yellow: ordinary (一般)")
    ORANGE = "orange", _("orange: serious (较大)")
    RED = "red", _("red: major (重大)")


# Higher is more serious: a level is never lowered except by an explicit assessment.
LEVEL_RANK = {RiskLevel.BLUE: 0, RiskLevel.YELLOW: 1, RiskLevel.ORANGE: 2, RiskLevel.RED: 3}
ALERT_LEVELS = (RiskLevel.RED, RiskLevel.ORANGE)


def level_rank(level: str) -> int:
    return LEVEL_RANK.get(level, -1) if level else -1


class _Named(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=128, blank=True)
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        abstract = True
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if (get_language() or "").startswith("en") and self.name_en:
            return self.name_en
        return self.name


class DisputeKind(_Named):
    """Kinds of dispute (婚姻家庭, 邻里, 土地山林 …); configuration data."""

    mediation_category_code = models.CharField(
        _("incident category for mediation"),
        max_length=8,
        blank=True,
        help_text=_("The dispute category (incidents) a mediation room must take for this kind."),
    )

    class Meta(_Named.Meta):
        verbose_name = _("dispute kind")
        verbose_name_plural = _("dispute kinds")


class RiskFactor(_Named):
    """One item of the risk checklist (threats of violence, a weapon mentioned …)."""

    # Codes the services tick themselves: a linked party who is a key person (registry), a
    # party marked vulnerable.
    KEY_PERSON = "key_person"
    VULNERABLE = "vulnerable"

    description = models.TextField(_("description"), blank=True)

    class Meta(_Named.Meta):
        verbose_name = _("risk factor")
        verbose_name_plural = _("risk factors")


class RiskRule(models.Model):
    """A rule of the factor → colour mapping: it matches when every one of its factors is
    ticked and at least `min_factors` factors are ticked in all. The dispute takes the most
    serious colour among the matching rules (blue when none matches)."""

    name = models.CharField(_("name"), max_length=128)
    level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices)
    factors = models.ManyToManyField(
        RiskFactor, blank=True, related_name="rules", verbose_name=_("factors (all of them)")
    )
    min_factors = models.PositiveSmallIntegerField(
        _("at least this many factors"), default=0, help_text=_("0: no minimum.")
    )
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("risk rule")
        verbose_name_plural = _("risk rules")

    def __str__(self) -> str:
        return self.name


class LevelPolicy(models.Model):
    """Per colour: whether it alerts at once, and how many days the next follow-up (跟踪督办)
    may take."""

    level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices, unique=True)
    follow_up_days = models.PositiveSmallIntegerField(_("follow up within (days)"))
    alerts = models.BooleanField(_("alerts the community, street and police at once"))
    visit_days = models.PositiveSmallIntegerField(
        _("visit back within (days) after closing"), default=15
    )

    class Meta:
        ordering = ["level"]
        verbose_name = _("risk level policy")
        verbose_name_plural = _("risk level policies")

    def __str__(self) -> str:
        return str(self.get_level_display())


class DisputeState(models.TextChoices):
    REGISTERED = "registered", _("registered (登记受理)")
    FIRST_MEDIATED = "first_mediated", _("mediated on the spot (先行调解)")
    ASSESSED = "assessed", _("risk assessed (风险研判)")
    ROUTED = "routed", _("routed, under follow-up (分类流转, 跟踪督办)")
    CLOSED = "closed", _("closed, visit back due (案结事了)")
    VISITED = "visited", _("visited back")


S = DisputeState
OPEN_STATES = (S.REGISTERED, S.FIRST_MEDIATED, S.ASSESSED, S.ROUTED)
FINAL_STATES = (S.CLOSED, S.VISITED)


class DisputeSource(models.TextChoices):
    SCREENING = "screening", _("found by screening (排查)")
    INCIDENT = "incident", _("referred from an incident")
    PETITION = "petition", _("referred from a petition")
    HOTLINE = "hotline", _("referred by the hotline")


class RouteTarget(models.TextChoices):
    MEDIATION = "mediation", _("mediation room")
    DEPARTMENT = "department", _("a department")
    POLICE = "police", _("the police")
    PETITION = "petition", _("the petition office")


class DisputeOutcome(models.TextChoices):
    RESOLVED = "resolved", _("resolved (化解)")
    PARTLY = "partly", _("partly resolved, kept under watch")
    UNRESOLVED = "unresolved", _("not resolved")


class DisputeAction(models.TextChoices):
    REGISTER = "register", _("registered")
    MEDIATE_ON_SPOT = "mediate_on_spot", _("mediated on the spot")
    ASSESS = "assess", _("assessed the risk")
    RAISE_LEVEL = "raise_level", _("raised the risk level")
    ROUTE = "route", _("routed")
    FOLLOW_UP = "follow_up", _("followed up")
    CLOSE = "close", pgettext_lazy("dispute", "closed")
    VISIT = "visit", _("visited back")
    LINK_ESCALATION = "link_escalation", _("linked a later criminal incident (民转刑)")
    ALERT = "alert", _("alert sent")
    OVERDUE = "overdue", _("follow-up overdue")


A = DisputeAction

GRAPH = Graph(
    {
        A.MEDIATE_ON_SPOT: Move([S.REGISTERED], S.FIRST_MEDIATED),
        A.ASSESS: Move([S.REGISTERED, S.FIRST_MEDIATED, S.ASSESSED], S.ASSESSED),
        A.RAISE_LEVEL: Move(OPEN_STATES),
        A.ROUTE: Move([S.ASSESSED], S.ROUTED),
        A.FOLLOW_UP: Move([S.ROUTED]),
        A.CLOSE: Move([S.FIRST_MEDIATED, S.ASSESSED, S.ROUTED], S.CLOSED),
        A.VISIT: Move([S.CLOSED], S.VISITED),
        A.LINK_ESCALATION: Move([*OPEN_STATES, *FINAL_STATES]),
        A.ALERT: Move([*OPEN_STATES, *FINAL_STATES]),
        A.OVERDUE: Move(OPEN_STATES),
    }
)


class Dispute(TimeStampedModel):
    number = models.CharField(_("number"), max_length=20, unique=True)
    source = models.CharField(
        _("source"), max_length=16, choices=DisputeSource.choices, default=DisputeSource.SCREENING
    )
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("referring incident"),
    )
    petition = models.ForeignKey(
        "petitions.Petition",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("referring petition"),
    )
    kind = models.ForeignKey(
        DisputeKind, on_delete=models.PROTECT, related_name="disputes", verbose_name=_("kind")
    )
    # The community where it arose (scope: prefix match on region_code).
    region = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        related_name="screened_disputes",
        verbose_name=_("community"),
    )
    region_code = models.CharField(_("region code"), max_length=12, db_index=True)
    grid_cell = models.ForeignKey(
        "grids.GridCell",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="screened_disputes",
        verbose_name=_("grid cell"),
    )
    place = models.CharField(_("place"), max_length=255)
    story = models.TextField(_("what happened"))
    factors = models.ManyToManyField(
        RiskFactor, blank=True, related_name="disputes", verbose_name=_("risk factors")
    )
    computed_level = models.CharField(
        _("level from the rules"), max_length=8, choices=RiskLevel.choices
    )
    level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices)
    level_reason = models.TextField(_("reason the level was raised"), blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=DisputeState.choices, default=S.REGISTERED
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="registered_disputes",
        verbose_name=_("registered by"),
    )
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now, db_index=True)
    on_spot_note = models.TextField(_("on-the-spot mediation"), blank=True)
    assessment_note = models.TextField(_("risk assessment"), blank=True)
    assessed_at = models.DateTimeField(_("assessed at"), null=True, blank=True)
    route_target = models.CharField(
        _("routed to"), max_length=16, choices=RouteTarget.choices, blank=True
    )
    route_unit = models.CharField(_("receiving unit"), max_length=128, blank=True)
    routed_at = models.DateTimeField(_("routed at"), null=True, blank=True)
    mediation_case = models.ForeignKey(
        "mediation.MediationCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("mediation case"),
    )
    follow_up_due_at = models.DateTimeField(
        _("next follow-up due"), null=True, blank=True, db_index=True
    )
    overdue = models.BooleanField(_("follow-up overdue"), default=False, db_index=True)
    follow_ups = models.PositiveIntegerField(_("follow-ups"), default=0)
    follow_ups_on_time = models.PositiveIntegerField(_("follow-ups on time"), default=0)
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=DisputeOutcome.choices, blank=True
    )
    outcome_note = models.TextField(_("outcome note"), blank=True)
    closed_at = models.DateTimeField(pgettext_lazy("dispute", "closed at"), null=True, blank=True)
    visit_due_at = models.DateTimeField(_("visit back by"), null=True, blank=True)
    visited_at = models.DateTimeField(_("visited back at"), null=True, blank=True)
    visit_note = models.TextField(_("visit note"), blank=True)
    # 民转刑: a later criminal incident linked to the dispute.
    escalated_incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("later criminal incident"),
    )
    escalated_at = models.DateTimeField(_("escalation linked at"), null=True, blank=True)

    class Meta:
        ordering = ["-registered_at", "-id"]
        verbose_name = _("screened dispute")
        verbose_name_plural = _("screened disputes")
        indexes = [
            models.Index(fields=["region_code", "state"]),
            models.Index(fields=["state", "follow_up_due_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(level=""), name="screening_dispute_level_set"
            ),
            models.CheckConstraint(
                condition=models.Q(follow_ups_on_time__lte=models.F("follow_ups")),
                name="screening_on_time_at_most_follow_ups",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def alerting(self) -> bool:
        return self.level in ALERT_LEVELS


class PartySide(models.TextChoices):
    APPLICANT = "applicant", _("applicant side")
    RESPONDENT = "respondent", _("respondent side")
    OTHER = "other", _("other party")


class DisputeParty(models.Model):
    """One party. Linked to a registry person where one exists; name and phone are encrypted
    at rest and shown masked unless the viewer may see them (an audited unmasking)."""

    dispute = models.ForeignKey(
        Dispute, on_delete=models.CASCADE, related_name="parties", verbose_name=_("dispute")
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    person = models.ForeignKey(
        "registry.Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("person record"),
    )
    side = models.CharField(_("side"), max_length=16, choices=PartySide.choices)
    name = EncryptedCharField(_("name"), max_length=255)
    phone = EncryptedCharField(_("phone"), max_length=255, blank=True)
    vulnerable = models.BooleanField(_("vulnerable (elderly, minor, disabled …)"), default=False)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("party")
        verbose_name_plural = _("parties")

    def __str__(self) -> str:
        return self.masked_name

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class DisputeEvent(TimelineEvent):
    """The append-only timeline of a dispute."""

    dispute = models.ForeignKey(
        Dispute, on_delete=models.PROTECT, related_name="events", verbose_name=_("dispute")
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    from_state = models.CharField(pgettext_lazy("state change", "from"), max_length=20, blank=True)
    to_state = models.CharField(pgettext_lazy("state change", "to"), max_length=20, blank=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("dispute event")
        verbose_name_plural = _("dispute events")

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.action}"

    @property
    def label(self) -> str:
        try:
            return str(DisputeAction(self.action).label)
        except ValueError:
            return self.action


class ReportState(models.TextChoices):
    MISSING = "missing", _("not reported")
    REPORTED = "reported", _("reported")
    LATE = "late", _("reported late")


class ScreeningReport(models.Model):
    """A community's monthly screening report (零报告 when nothing was found). The sweep
    creates a MISSING row for a community that has not reported the previous month."""

    region = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        related_name="screening_reports",
        verbose_name=_("community"),
    )
    region_code = models.CharField(_("region code"), max_length=12, db_index=True)
    month = models.DateField(_("month"), help_text=_("The first day of the month reported."))
    state = models.CharField(_("state"), max_length=16, choices=ReportState.choices)
    zero_report = models.BooleanField(_("zero report (nothing found)"), default=False)
    disputes_found = models.PositiveIntegerField(_("disputes found"), default=0)
    note = models.TextField(_("note"), blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reported by"),
    )
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    flagged_at = models.DateTimeField(_("flagged as missing at"), null=True, blank=True)

    class Meta:
        ordering = ["-month", "region_code"]
        verbose_name = _("screening report")
        verbose_name_plural = _("screening reports")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "month"], name="screening_one_report_per_month"
            ),
            models.CheckConstraint(
                condition=models.Q(month__day=1), name="screening_report_month_first_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.month:%Y-%m}"
