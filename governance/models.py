"""Supervision and assessment (监督考核): the KPI fact table and export jobs.

IncidentFact is a narrow, indexed copy of what the KPIs count about each incident, derived from
the incident row and its timeline (first dispatch, on-time flags, handling time). It is kept up
to date by governance.aggregates (beat task every minute, driven by new timeline events) so the
KPI queries never scan the wide incident table nor its timeline. See docs/supervision.md.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class IncidentFact(models.Model):
    """One row per incident: the facts the KPIs count (see governance.kpis for the formulas).

    Field names mirror incidents.Incident where they mean the same thing, so a grouping or a
    filter can be applied to either table."""

    incident = models.OneToOneField(
        "incidents.Incident",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="kpi_fact",
        verbose_name=_("incident"),
    )
    region_code = models.CharField(_("region code"), max_length=12, blank=True)
    grid_cell = models.ForeignKey(
        "grids.GridCell",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("grid cell"),
    )
    category = models.ForeignKey(
        "incidents.Category",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("category"),
    )
    channel = models.CharField(pgettext_lazy("supervision", "channel"), max_length=16, blank=True)
    urgent = models.BooleanField(_("urgent"), default=False)
    state = models.CharField(_("state"), max_length=16)
    parked = models.BooleanField(_("parked"), default=False)
    handling_level = models.CharField(_("handling level"), max_length=16, blank=True)
    handling_region = models.ForeignKey(
        "grids.Region",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handling unit (region)"),
    )
    handling_department = models.CharField(_("handling department"), max_length=64, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assignee"),
    )

    reported_at = models.DateTimeField(_("reported at"))
    first_dispatched_at = models.DateTimeField(_("first dispatched at"), null=True, blank=True)
    dispatch_due_at = models.DateTimeField(_("dispatch by"), null=True, blank=True)
    dispatched_on_time = models.BooleanField(_("dispatched on time"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("resolve by"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # Only for state "closed" (an invalid report is not a closed case).
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_on_time = models.BooleanField(_("closed on time"), null=True, blank=True)
    handling_seconds = models.BigIntegerField(_("handling time (s)"), null=True, blank=True)
    reworked = models.BooleanField(_("reworked"), default=False)
    extended = models.BooleanField(_("extended"), default=False)
    escalated = models.BooleanField(_("escalated"), default=False)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed at"), auto_now=True)

    class Meta:
        verbose_name = _("incident KPI facts")
        verbose_name_plural = _("incident KPI facts")
        # Each KPI counts rows by one date (reported, first dispatched, closed, due); a street
        # or community is a range of region codes, so (region_code, date) serves scoped users.
        indexes = [
            models.Index(fields=["reported_at"], name="gov_fact_reported"),
            models.Index(fields=["region_code", "reported_at"], name="gov_fact_region_reported"),
            models.Index(fields=["first_dispatched_at"], name="gov_fact_dispatched"),
            models.Index(
                fields=["region_code", "first_dispatched_at"], name="gov_fact_region_dispatched"
            ),
            models.Index(fields=["closed_at"], name="gov_fact_closed"),
            models.Index(fields=["region_code", "closed_at"], name="gov_fact_region_closed"),
            # Open work due in a period: state first, so "state IN (open states)" is a few
            # short range scans (a partial index would be smaller, but SQLite cannot match a
            # partial index's condition against bound parameters).
            models.Index(fields=["state", "resolve_due_at"], name="gov_fact_state_resolve_due"),
        ]

    def __str__(self) -> str:
        return f"facts of incident {self.incident_id}"


class IncidentDailyCount(models.Model):
    """Per local day and community: the incident counts of the sets anchored on one date
    (reported, first dispatched, closed), summed from IncidentFact. Kept by
    governance.aggregates with the facts (the days an incident's facts touch are recomputed).
    Region-level KPIs over long periods read these rows instead of one fact per incident; the
    open work due in the period always comes from the facts. See docs/supervision.md."""

    day = models.DateField(_("day"))
    region_code = models.CharField(_("region code"), max_length=12, blank=True)
    reported = models.PositiveIntegerField(default=0)
    escalated = models.PositiveIntegerField(default=0)
    dispatched = models.PositiveIntegerField(default=0)
    dispatched_on_time = models.PositiveIntegerField(default=0)
    extended = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    closed_on_time = models.PositiveIntegerField(default=0)
    urgent_closed = models.PositiveIntegerField(default=0)
    urgent_closed_on_time = models.PositiveIntegerField(default=0)
    reworked = models.PositiveIntegerField(default=0)
    closed_in_grid = models.PositiveIntegerField(default=0)
    handled = models.PositiveIntegerField(default=0)
    handling_seconds = models.BigIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("daily incident counts")
        verbose_name_plural = _("daily incident counts")
        constraints = [
            models.UniqueConstraint(fields=["day", "region_code"], name="gov_daily_day_region")
        ]
        indexes = [models.Index(fields=["region_code", "day"], name="gov_daily_region_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.region_code}"


class FactWatermark(models.Model):
    """How far the incremental refresh has read the incident timeline (one row per table)."""

    name = models.CharField(_("name"), max_length=32, unique=True)
    value = models.DateTimeField(_("read up to"))
    full_rebuild_at = models.DateTimeField(_("last full rebuild"), null=True, blank=True)

    class Meta:
        verbose_name = _("KPI refresh watermark")
        verbose_name_plural = _("KPI refresh watermarks")

    def __str__(self) -> str:
        return f"{self.name} @ {self.value:%Y-%m-%d %H:%M:%S}"


class ExportKind(models.TextChoices):
    INCIDENTS = "incidents", _("incident ledger")
    MEDIATION = "mediation", _("mediation case ledger")
    PETITIONS = "petitions", _("petition ledger")
    KPIS = "kpis", _("KPI table")


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", "Excel (xlsx)"
    CSV = "csv", "CSV"


class ExportJob(models.Model):
    """A ledger or KPI export. Small ones are streamed at once (the row is the audit trail);
    large ones are written by governance.tasks.export_run under MEDIA_ROOT/exports/."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", pgettext_lazy("export status", "failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="export_jobs",
        verbose_name=_("user"),
    )
    kind = models.CharField(
        pgettext_lazy("export", "kind"), max_length=16, choices=ExportKind.choices
    )
    fmt = models.CharField(_("format"), max_length=8, choices=ExportFormat.choices)
    params = models.JSONField(_("filters"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    inline = models.BooleanField(_("downloaded at once"), default=False)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    # Stored under a random name (exports/<uuid4 hex>.<fmt>): nothing in it says whose export
    # it is or what it holds. The human name is given only to the owner's download.
    file = models.FileField(_("file"), upload_to="exports/", blank=True)
    filename = models.CharField(_("download name"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [models.Index(fields=["user", "created_at"], name="gov_export_user_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
