"""The admin-editable lists and the one policy row of deliberation: proposal categories, the
kinds of meeting participants, and the time limits and thresholds."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class ProposalCategory(models.Model):
    """What a proposal is about (环境卫生, 设施维护 ...). Admin-editable; defaults by migration."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("proposal category")
        verbose_name_plural = _("proposal categories")

    def __str__(self) -> str:
        return self.name


class ParticipantKind(models.Model):
    """Who takes part in a consultation meeting (居民代表, 党员, 物业, 业委会, 部门代表 ...).
    Admin-editable; defaults by migration."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("participant kind")
        verbose_name_plural = _("participant kinds")

    def __str__(self) -> str:
        return self.name


class DeliberationPolicy(models.Model):
    """The time limits and thresholds the admins set (one row, pk=1; DeliberationPolicy.get())."""

    support_threshold = models.PositiveIntegerField(
        _("supports from residents of the community that put a proposal up for review"),
        default=10,
        validators=[MinValueValidator(1)],
    )
    review_days = models.PositiveIntegerField(
        _("days the community has to review a proposal"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    review_warn_days = models.PositiveIntegerField(
        _("days before the review deadline when the community is warned"),
        default=2,
        validators=[MaxValueValidator(365)],
    )
    notice_days = models.PositiveIntegerField(
        _("days a meeting's notice must be published ahead"),
        default=3,
        validators=[MaxValueValidator(60)],
    )

    class Meta:
        verbose_name = _("deliberation policy")
        verbose_name_plural = _("deliberation policy")

    def __str__(self) -> str:
        return str(_("deliberation policy"))

    @classmethod
    def get(cls) -> "DeliberationPolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy
