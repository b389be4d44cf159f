"""Volunteers and mass prevention (群防群治): volunteers, teams ("2+N"), claim-style patrol tasks
(抢单式巡防) and duty-post shifts (群防任务), check-ins, hazards found, service records, points.

Teams: this app's own `Team` (admin-editable kinds, leader, members, cells served) replaces the
unused `grids.Team` (left in place for the grids demo; nothing reads it).

A duty post's shift is a `PatrolTask` with `post` set: claims, check-ins, records and points are
the same for both, only the area differs (a circle around the post instead of cells or a line).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.crypto import EncryptedCharField
from core.models import TimelineEvent, TimeStampedModel
from core.workflow import Graph, Move

# --- volunteers ---------------------------------------------------------------------------------


class VolunteerState(models.TextChoices):
    APPLIED = "applied", _("applied")
    APPROVED = "approved", _("approved")
    DECLINED = "declined", _("declined")


class VolunteerAction(models.TextChoices):
    APPLY = "apply", _("apply")
    APPROVE = "approve", _("approve")
    DECLINE = "decline", _("decline")


VOLUNTEER_GRAPH = Graph(
    {
        VolunteerAction.APPLY: Move([VolunteerState.DECLINED], VolunteerState.APPLIED),
        VolunteerAction.APPROVE: Move([VolunteerState.APPLIED], VolunteerState.APPROVED),
        VolunteerAction.DECLINE: Move([VolunteerState.APPLIED], VolunteerState.DECLINED),
    }
)


class Volunteer(TimeStampedModel):
    """A resident's application to volunteer, and once approved their volunteer file."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="volunteer",
        verbose_name=_("user"),
    )
    community = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        related_name="volunteers",
        limit_choices_to={"level": "community"},
        verbose_name=_("community served"),
    )
    region_code = models.CharField(_("region code"), max_length=12, db_index=True)
    real_name = models.CharField(_("real name"), max_length=64)
    id_number = EncryptedCharField(_("ID number"), blank=True)
    skills = models.TextField(_("skills"), blank=True)
    availability = models.CharField(_("availability"), max_length=200, blank=True)
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=VolunteerState.choices,
        default=VolunteerState.APPLIED,
        db_index=True,
    )
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # 志愿者编号: given at approval, printed on certificates.
    number = models.CharField(_("volunteer number"), max_length=24, unique=True, null=True)
    completed_count = models.PositiveIntegerField(_("tasks completed"), default=0)
    no_show_count = models.PositiveIntegerField(_("no-shows"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")

    def __str__(self) -> str:
        return self.real_name

    @property
    def reliability(self) -> int:
        """Share of the places taken that were served, in percent (100 before any task)."""
        total = self.completed_count + self.no_show_count
        return 100 if total == 0 else round(100 * self.completed_count / total)


class VolunteerEvent(TimelineEvent):
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="events", verbose_name=_("volunteer")
    )
    from_state = models.CharField(_("from state"), max_length=16, blank=True)
    to_state = models.CharField(_("to state"), max_length=16, blank=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("volunteer event")
        verbose_name_plural = _("volunteer events")


# --- teams ("2+N") -----------------------------------------------------------------------------


class TeamKind(models.Model):
    """Admin-editable kinds of team (治安巡防队, 法律援助队, 志愿服务队, 平安妈妈, 厝边阿姨 …)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("team kind")
        verbose_name_plural = _("team kinds")

    def __str__(self) -> str:
        return self.name


class Team(TimeStampedModel):
    name = models.CharField(_("name"), max_length=64)
    kind = models.ForeignKey(
        TeamKind, on_delete=models.PROTECT, related_name="teams", verbose_name=_("kind")
    )
    region = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        related_name="volunteer_teams",
        verbose_name=_("region"),
    )
    region_code = models.CharField(_("region code"), max_length=12, db_index=True)
    cells = models.ManyToManyField(
        "grids.GridCell", blank=True, related_name="volunteer_teams", verbose_name=_("cells served")
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="teams_led",
        verbose_name=_("leader"),
    )
    on_duty = models.BooleanField(_("on duty"), default=True)

    class Meta:
        ordering = ["region_code", "name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "name"], name="volunteer_team_name_per_region"
            )
        ]

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    class Kind(models.TextChoices):
        VOLUNTEER = "volunteer", _("volunteer")
        GRID_WORKER = "grid_worker", _("grid worker")
        POLICE = "police", _("community police officer")
        OTHER = "other", _("other")

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("team")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="volunteer_team_memberships",
        verbose_name=_("member"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)

    class Meta:
        ordering = ["team", "kind", "id"]
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="volunteer_team_member_once")
        ]

    def __str__(self) -> str:
        return f"{self.team} · {self.user}"


# --- duty posts (守望岗, 交通调流点 …) ------------------------------------------------------------


class DutyPost(TimeStampedModel):
    class Kind(models.TextChoices):
        WATCH = "watch", _("watch post")
        TRAFFIC = "traffic", _("traffic post")
        OTHER = "other", _("other post")

    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    region = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        related_name="duty_posts",
        verbose_name=_("region"),
    )
    region_code = models.CharField(_("region code"), max_length=12, db_index=True)
    lat = models.FloatField(_("latitude"))
    lng = models.FloatField(_("longitude"))
    radius_m = models.PositiveIntegerField(_("check-in radius (m)"), default=150)
    # Recurring shifts: on these ISO weekdays (1 Monday … 7 Sunday), from start to end.
    weekdays = models.CharField(_("weekdays"), max_length=13, default="1,2,3,4,5,6,7")
    shift_start = models.TimeField(_("shift starts"))
    shift_end = models.TimeField(_("shift ends"))
    places = models.PositiveIntegerField(_("places per shift"), default=2)
    active = models.BooleanField(_("active"), default=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("posted by"),
    )

    class Meta:
        ordering = ["region_code", "name"]
        verbose_name = _("duty post")
        verbose_name_plural = _("duty posts")

    def __str__(self) -> str:
        return self.name

    def weekday_numbers(self) -> set[int]:
        return {int(d) for d in self.weekdays.split(",") if d.strip().isdigit()}


# --- patrol tasks ---------------------------------------------------------------------------


class TaskLevel(models.TextChoices):
    CITY = "city", _("city")
    DISTRICT = "district", _("district")
    STREET = "street", _("street")
    COMMUNITY = "community", _("community")
    GRID = "grid", _("grid")


class TaskState(models.TextChoices):
    OPEN = "open", _("open")
    CANCELLED = "cancelled", _("cancelled")


class PatrolTask(TimeStampedModel):
    """A patrol task (巡防任务) or, with `post`, one shift of a duty post."""

    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    level = models.CharField(_("level"), max_length=16, choices=TaskLevel.choices)
    region = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        related_name="patrol_tasks",
        verbose_name=_("region"),
    )
    # The posting region's prefix: a volunteer sees the tasks whose prefix starts their
    # community's code; staff those whose code lies in their scope.
    region_code = models.CharField(_("region code"), max_length=12, db_index=True)
    region_prefix = models.CharField(_("region prefix"), max_length=12, db_index=True)
    cells = models.ManyToManyField(
        "grids.GridCell", blank=True, related_name="patrol_tasks", verbose_name=_("grid cells")
    )
    # A route drawn on the map: GeoJSON LineString; check-ins count within `route_buffer_m`.
    route = models.JSONField(_("route (GeoJSON line)"), null=True, blank=True)
    route_buffer_m = models.PositiveIntegerField(
        _("distance allowed from the route (m)"), default=100
    )
    post = models.ForeignKey(
        DutyPost,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shifts",
        verbose_name=_("duty post"),
    )
    starts_at = models.DateTimeField(_("starts at"), db_index=True)
    ends_at = models.DateTimeField(_("ends at"))
    withdraw_until = models.DateTimeField(_("withdraw until"))
    places = models.PositiveIntegerField(pgettext_lazy("volunteer task", "places"))
    taken = models.PositiveIntegerField(_("places taken"), default=0)
    required_checkins = models.PositiveIntegerField(_("check-ins required"), default=2)
    state = models.CharField(
        _("state"), max_length=16, choices=TaskState.choices, default=TaskState.OPEN
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("posted by"),
    )
    organiser_name = models.CharField(_("organising unit"), max_length=100)
    unfilled_warned_at = models.DateTimeField(_("unfilled places warned"), null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("patrol task")
        verbose_name_plural = _("patrol tasks")
        constraints = [
            models.CheckConstraint(
                condition=Q(taken__lte=models.F("places")), name="patrol_task_not_overfilled"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="patrol_task_window"
            ),
            models.UniqueConstraint(
                fields=["post", "starts_at"],
                condition=Q(post__isnull=False),
                name="duty_post_one_shift_per_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def free_places(self) -> int:
        return max(0, self.places - self.taken)

    @property
    def is_shift(self) -> bool:
        return self.post_id is not None


class ClaimState(models.TextChoices):
    CLAIMED = "claimed", _("claimed")
    WITHDRAWN = "withdrawn", _("withdrawn")
    ON_DUTY = "on_duty", _("checked in")
    COMPLETED = "completed", _("completed")
    NO_SHOW = "no_show", _("no-show")


class ClaimAction(models.TextChoices):
    CLAIM = "claim", _("claim")
    WITHDRAW = "withdraw", _("withdraw")
    CHECK_IN = "check_in", _("check in")
    CHECKPOINT = "checkpoint", _("check-in on the way")
    CHECK_OUT = "check_out", _("check out")
    NO_SHOW = "no_show", _("mark as no-show")
    HAZARD = "hazard", _("report a hazard")
    REMIND = "remind", _("remind")


# Places held: a claim in one of these states counts in PatrolTask.taken.
HOLDING_STATES = (ClaimState.CLAIMED, ClaimState.ON_DUTY, ClaimState.COMPLETED)

CLAIM_GRAPH = Graph(
    {
        ClaimAction.CLAIM: Move([ClaimState.WITHDRAWN], ClaimState.CLAIMED),
        ClaimAction.WITHDRAW: Move([ClaimState.CLAIMED], ClaimState.WITHDRAWN),
        ClaimAction.CHECK_IN: Move([ClaimState.CLAIMED], ClaimState.ON_DUTY),
        ClaimAction.CHECKPOINT: Move([ClaimState.ON_DUTY]),
        ClaimAction.HAZARD: Move([ClaimState.ON_DUTY]),
        ClaimAction.CHECK_OUT: Move([ClaimState.ON_DUTY], ClaimState.COMPLETED),
        ClaimAction.NO_SHOW: Move([ClaimState.CLAIMED], ClaimState.NO_SHOW),
        ClaimAction.REMIND: Move([ClaimState.CLAIMED]),
    }
)


class Claim(TimeStampedModel):
    """A volunteer's place on a task. One row per (task, volunteer): withdrawing and claiming
    again reuse it."""

    task = models.ForeignKey(
        PatrolTask, on_delete=models.PROTECT, related_name="claims", verbose_name=_("task")
    )
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.PROTECT, related_name="claims", verbose_name=_("volunteer")
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="claims",
        verbose_name=_("on behalf of team"),
    )
    state = models.CharField(
        _("state"), max_length=16, choices=ClaimState.choices, default=ClaimState.CLAIMED
    )
    claimed_at = models.DateTimeField(_("claimed at"))
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    checkins = models.PositiveIntegerField(_("check-ins"), default=0)
    # The track, in the incidents app's patrol log (the same coverage figures count it).
    patrol = models.OneToOneField(
        "incidents.PatrolLog",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="volunteer_claim",
        verbose_name=_("patrol log"),
    )
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)

    class Meta:
        ordering = ["claimed_at", "id"]
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        constraints = [
            models.UniqueConstraint(fields=["task", "volunteer"], name="claim_once_per_task")
        ]

    def __str__(self) -> str:
        return f"{self.task} · {self.volunteer}"


class ClaimEvent(TimelineEvent):
    claim = models.ForeignKey(
        Claim, on_delete=models.CASCADE, related_name="events", verbose_name=_("claim")
    )
    from_state = models.CharField(_("from state"), max_length=16, blank=True)
    to_state = models.CharField(_("to state"), max_length=16, blank=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("claim event")
        verbose_name_plural = _("claim events")


class CheckIn(models.Model):
    """A GPS check-in (打卡) during the task. The position is whereabouts (PIPL Art. 28): the
    purge task clears lat/lng after the retention period and keeps the cell and the time."""

    class Kind(models.TextChoices):
        IN = "in", _("check in")
        POINT = "point", _("check-in on the way")
        OUT = "out", _("check out")

    claim = models.ForeignKey(
        Claim, on_delete=models.CASCADE, related_name="checkin_rows", verbose_name=_("claim")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    at = models.DateTimeField(_("at"))
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    cell = models.ForeignKey(
        "grids.GridCell",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("grid cell"),
    )

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


class HazardFound(models.Model):
    """A hazard a volunteer reported during a task (the incident lives in incidents)."""

    claim = models.ForeignKey(
        Claim, on_delete=models.PROTECT, related_name="hazards", verbose_name=_("claim")
    )
    incident = models.OneToOneField(
        "incidents.Incident",
        on_delete=models.PROTECT,
        related_name="volunteer_hazard",
        verbose_name=_("incident"),
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("hazard found")
        verbose_name_plural = _("hazards found")

    def __str__(self) -> str:
        return str(self.incident_id)


# --- service records, certificates, points ------------------------------------------------


class ServiceRecord(models.Model):
    """One service done (志愿服务记录, 《志愿服务记录与证明出具办法(试行)》 Art. 4): who, what,
    where, when, hours, the organiser. Append-only: a correction is a new record that names the
    one it corrects (that one then no longer counts); the organiser's confirmation is the only
    later write (confirmed_by/at, once)."""

    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.PROTECT, related_name="records", verbose_name=_("volunteer")
    )
    claim = models.ForeignKey(
        Claim,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="records",
        verbose_name=_("claim"),
    )
    region_code = models.CharField(_("region code"), max_length=12, db_index=True)
    content = models.CharField(_("service content"), max_length=200)
    task_kind = models.CharField(_("kind of task"), max_length=16)
    place = models.CharField(_("place"), max_length=200, blank=True)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"))
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=2)
    organiser_name = models.CharField(_("organising unit"), max_length=100)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    corrects = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrected_by",
        verbose_name=_("corrects record"),
    )
    correction_reason = models.CharField(_("reason for the correction"), max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        constraints = [
            models.CheckConstraint(condition=Q(hours__gte=0), name="service_record_hours"),
            models.UniqueConstraint(
                fields=["claim"],
                condition=Q(corrects__isnull=True, claim__isnull=False),
                name="service_record_one_per_claim",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} {self.content} {self.hours}h"


class Certificate(models.Model):
    """A numbered service-record certificate (志愿服务记录证明): "谁记录谁证明"."""

    number = models.CharField(_("certificate number"), max_length=32, unique=True)
    volunteer = models.ForeignKey(
        Volunteer,
        on_delete=models.PROTECT,
        related_name="certificates",
        verbose_name=_("volunteer"),
    )
    organiser_name = models.CharField(_("issuing organisation"), max_length=100)
    person_in_charge = models.CharField(_("person in charge"), max_length=64, blank=True)
    contact = models.CharField(_("contact"), max_length=64, blank=True)
    total_hours = models.DecimalField(_("total hours"), max_digits=8, decimal_places=2)
    lines = models.JSONField(_("hours by activity"), default=list)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")

    def __str__(self) -> str:
        return self.number


class PointRule(models.Model):
    """Admin-configured points (积分): per hour served, per hazard found, per kind of task."""

    class Kind(models.TextChoices):
        PER_HOUR = "per_hour", _("per hour served")
        PER_HAZARD = "per_hazard", _("per hazard found")
        PER_PATROL = "per_patrol", _("per patrol task")
        PER_SHIFT = "per_shift", _("per duty shift")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, unique=True)
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=1)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["kind"]
        verbose_name = _("points rule")
        verbose_name_plural = _("points rules")

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.points}"


class PointEntry(models.Model):
    """The points ledger: append-only (a redemption or a correction is a new negative row)."""

    class Kind(models.TextChoices):
        EARNED = "earned", _("earned")
        REDEEMED = "redeemed", _("redeemed")
        CORRECTION = "correction", _("correction")

    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.PROTECT, related_name="points", verbose_name=_("volunteer")
    )
    region_code = models.CharField(_("region code"), max_length=12, db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    points = models.DecimalField(_("points"), max_digits=8, decimal_places=1)
    reason = models.CharField(_("reason"), max_length=200)
    record = models.ForeignKey(
        ServiceRecord,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="point_entries",
        verbose_name=_("service record"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("points entry")
        verbose_name_plural = _("points ledger")
        constraints = [
            models.UniqueConstraint(
                fields=["record", "kind"],
                condition=Q(record__isnull=False),
                name="points_once_per_record",
            )
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} {self.points}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("The points ledger is append-only")
        super().save(*args, **kwargs)


ZERO = Decimal("0")
