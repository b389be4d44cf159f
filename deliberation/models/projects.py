"""The project library (项目库): tracked projects, from a budget round's winners, a converted
proposal or entered by staff, with milestones and spending, shown publicly."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import TimelineEvent
from core.workflow import Graph, Move
from deliberation.models.budgets import BudgetProject
from deliberation.models.proposals import Proposal


class ProjectState(models.TextChoices):
    PLANNED = "planned", _("planned")
    IN_PROGRESS = "in_progress", _("under way")
    DONE = "done", _("completed")


class ProjectSource(models.TextChoices):
    BUDGET = "budget", _("participatory budget")
    PROPOSAL = "proposal", _("residents' proposal")
    STAFF = "staff", _("entered by the community")


class ProjectAction(models.TextChoices):
    CREATE = "create", _("project created")
    MILESTONE = "milestone", _("milestone added")
    MILESTONE_DONE = "milestone_done", _("milestone reached")
    SPEND = "spend", _("spending recorded")
    START = "start", _("work started")
    COMPLETE = "complete", _("project completed")


PS = ProjectState
PA = ProjectAction
PROJECT_GRAPH = Graph(
    {
        PA.MILESTONE: Move([PS.PLANNED, PS.IN_PROGRESS]),
        PA.MILESTONE_DONE: {PS.PLANNED: PS.IN_PROGRESS, PS.IN_PROGRESS: PS.IN_PROGRESS},
        PA.SPEND: {PS.PLANNED: PS.IN_PROGRESS, PS.IN_PROGRESS: PS.IN_PROGRESS},
        PA.START: Move([PS.PLANNED], PS.IN_PROGRESS),
        PA.COMPLETE: Move([PS.PLANNED, PS.IN_PROGRESS], PS.DONE),
    }
)


class Project(models.Model):
    region = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        related_name="library_projects",
        verbose_name=_("region"),
    )
    region_code = models.CharField(_("division code"), max_length=12, db_index=True)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    source = models.CharField(_("source"), max_length=16, choices=ProjectSource.choices)
    budget_project = models.OneToOneField(
        BudgetProject,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tracked",
        verbose_name=_("budget project"),
    )
    proposal = models.ForeignKey(
        Proposal,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="projects",
        verbose_name=_("proposal"),
    )
    budget = models.DecimalField(
        _("budget (yuan)"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    spent = models.DecimalField(
        _("spent (yuan)"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    state = models.CharField(
        _("state"), max_length=16, choices=ProjectState.choices, default=PS.PLANNED
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    done_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("library project")
        verbose_name_plural = _("library projects")

    def __str__(self) -> str:
        return self.title

    @property
    def reference(self) -> str:
        return f"XM{self.pk:06d}"


class ProjectMilestone(models.Model):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="milestones", verbose_name=_("project")
    )
    title = models.CharField(_("milestone"), max_length=120)
    due_date = models.DateField(_("planned for"))
    done_at = models.DateTimeField(_("reached at"), null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")

    def __str__(self) -> str:
        return self.title


class ProjectSpending(models.Model):
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="spending", verbose_name=_("project")
    )
    amount = models.DecimalField(
        _("amount (yuan)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    note = models.CharField(_("what for"), max_length=255)
    spent_on = models.DateField(_("date"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        ordering = ["spent_on", "id"]
        verbose_name = _("spending")
        verbose_name_plural = _("spending")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="deliberation_spending_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.project_id}:{self.amount}"


class ProjectEvent(TimelineEvent):
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="events", verbose_name=_("project")
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    from_state = models.CharField(pgettext_lazy("state change", "from"), max_length=16, blank=True)
    to_state = models.CharField(pgettext_lazy("state change", "to"), max_length=16, blank=True)
    public = models.BooleanField(_("shown to the public"), default=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("project event")
        verbose_name_plural = _("project events")

    def __str__(self) -> str:
        return f"{self.project_id} {self.action}"

    @property
    def label(self) -> str:
        try:
            return str(ProjectAction(self.action).label)
        except ValueError:
            return self.action
