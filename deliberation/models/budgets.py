"""Participatory budgets (参与式预算): a round for a community or a street with its phases and
dates, the projects residents submit, the staff's review, one ballot per resident, and the
published results. The phase graph is declared once here (ROUND_GRAPH)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import TimelineEvent
from core.workflow import Graph, Move


class RoundPhase(models.TextChoices):
    DRAFT = "draft", _("being prepared")
    COLLECT = "collect", _("collecting projects")
    REVIEW = "review", _("reviewing feasibility and cost")
    VOTE = "vote", _("voting")
    RESULTS = "results", _("results published")
    IMPLEMENTATION = "implementation", _("being implemented")


class RoundAction(models.TextChoices):
    CREATE = "create", _("round created")
    OPEN = "open", _("collection opened")
    START_REVIEW = "start_review", _("review started")
    START_VOTE = "start_vote", _("voting opened")
    PUBLISH_RESULTS = "publish_results", _("results published")
    IMPLEMENT = "implement", _("implementation started")
    SUBMIT = "submit", _("project submitted")
    REVIEW = "review", _("project reviewed")


class VotingRule(models.TextChoices):
    VOTES = "votes", _("a fixed number of votes per resident")
    ALLOCATE = "allocate", _("a budget to allocate per resident")


P = RoundPhase
RA = RoundAction
ROUND_GRAPH = Graph(
    {
        RA.OPEN: Move([P.DRAFT], P.COLLECT),
        RA.START_REVIEW: Move([P.COLLECT], P.REVIEW),
        RA.START_VOTE: Move([P.REVIEW], P.VOTE),
        RA.PUBLISH_RESULTS: Move([P.VOTE], P.RESULTS),
        RA.IMPLEMENT: Move([P.RESULTS], P.IMPLEMENTATION),
        RA.SUBMIT: Move([P.COLLECT]),
        RA.REVIEW: Move([P.REVIEW]),
    }
)
PUBLIC_PHASES = [P.COLLECT, P.REVIEW, P.VOTE, P.RESULTS, P.IMPLEMENTATION]


class BudgetRound(models.Model):
    region = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        related_name="budget_rounds",
        verbose_name=_("community or street"),
    )
    region_code = models.CharField(_("division code"), max_length=12, db_index=True)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    total = models.DecimalField(
        _("total amount (yuan)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    rule = models.CharField(_("voting rule"), max_length=16, choices=VotingRule.choices)
    votes_per_voter = models.PositiveSmallIntegerField(
        _("votes per resident"), default=3, help_text=_("For the fixed-number rule.")
    )
    phase = models.CharField(_("phase"), max_length=16, choices=RoundPhase.choices, default=P.DRAFT)
    collect_opens_at = models.DateTimeField(_("collection opens"))
    collect_closes_at = models.DateTimeField(_("collection closes"))
    review_closes_at = models.DateTimeField(_("review closes"))
    vote_opens_at = models.DateTimeField(_("voting opens"))
    vote_closes_at = models.DateTimeField(_("voting closes"))
    results_published_at = models.DateTimeField(_("results published at"), null=True, blank=True)
    ballots_count = models.PositiveIntegerField(_("ballots"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-collect_opens_at", "-id"]
        verbose_name = _("budget round")
        verbose_name_plural = _("budget rounds")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(collect_opens_at__lt=models.F("collect_closes_at"))
                & models.Q(collect_closes_at__lte=models.F("review_closes_at"))
                & models.Q(review_closes_at__lte=models.F("vote_opens_at"))
                & models.Q(vote_opens_at__lt=models.F("vote_closes_at")),
                name="deliberation_round_phase_dates_in_order",
            ),
            models.CheckConstraint(
                condition=models.Q(votes_per_voter__gte=1), name="deliberation_round_votes_ge_1"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class BudgetProjectState(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    FEASIBLE = "feasible", _("feasible")
    INFEASIBLE = "infeasible", _("not feasible")
    SELECTED = "selected", _("selected")
    NOT_SELECTED = "not_selected", _("not selected")


class BudgetProject(models.Model):
    round = models.ForeignKey(
        BudgetRound, on_delete=models.PROTECT, related_name="projects", verbose_name=_("round")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"))
    estimated_cost = models.DecimalField(
        _("estimated cost (yuan)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=BudgetProjectState.choices,
        default=BudgetProjectState.SUBMITTED,
    )
    review_reason = models.TextField(_("review: reasons"), blank=True)
    corrected_cost = models.DecimalField(
        _("cost after review (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    votes = models.PositiveIntegerField(_("votes"), default=0)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    created_at = models.DateTimeField(_("submitted at"), default=timezone.now)

    class Meta:
        ordering = ["round", "rank", "id"]
        verbose_name = _("budget project")
        verbose_name_plural = _("budget projects")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(estimated_cost__gt=0), name="deliberation_project_cost_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(corrected_cost__isnull=True) | models.Q(corrected_cost__gt=0),
                name="deliberation_project_corrected_cost_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def cost(self) -> Decimal:
        """The cost the vote and the results use: the review's correction, else the estimate."""
        return self.corrected_cost if self.corrected_cost is not None else self.estimated_cost


class BudgetBallot(models.Model):
    """One ballot per resident and round (the unique constraint decides a race); its choices
    are replaced while the vote is open."""

    round = models.ForeignKey(
        BudgetRound, on_delete=models.PROTECT, related_name="ballots", verbose_name=_("round")
    )
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("voter"),
    )
    projects = models.ManyToManyField(
        BudgetProject, related_name="ballots", verbose_name=_("projects")
    )
    created_at = models.DateTimeField(_("cast at"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed at"), default=timezone.now)
    changes = models.PositiveIntegerField(_("times changed"), default=0)

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        constraints = [
            models.UniqueConstraint(fields=["round", "voter"], name="deliberation_one_ballot")
        ]

    def __str__(self) -> str:
        return f"{self.round_id}:{self.voter_id}"


class BudgetRoundEvent(TimelineEvent):
    round = models.ForeignKey(
        BudgetRound, on_delete=models.PROTECT, related_name="events", verbose_name=_("round")
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    from_state = models.CharField(pgettext_lazy("state change", "from"), max_length=16, blank=True)
    to_state = models.CharField(pgettext_lazy("state change", "to"), max_length=16, blank=True)
    public = models.BooleanField(_("shown to the public"), default=True)

    class Meta(TimelineEvent.Meta):
        verbose_name = _("budget round event")
        verbose_name_plural = _("budget round events")

    def __str__(self) -> str:
        return f"{self.round_id} {self.action}"

    @property
    def label(self) -> str:
        try:
            return str(RoundAction(self.action).label)
        except ValueError:
            return self.action
