"""The event categories and the handling levels an incident climbs (ESCALATION_ORDER)."""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


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
    # 附议 (follow instead of duplicate): open incidents of this category within this many
    # metres are offered to a resident who reports; empty = never (disputes, personal matters).
    follow_radius_m = models.PositiveIntegerField(
        _("follow radius (m)"),
        null=True,
        blank=True,
        default=50,
        help_text=_(
            "Nearby open reports of this category are offered to follow instead of filing a "
            "duplicate. Leave empty for disputes and matters about one person or household."
        ),
    )
    # 办理公开: closed incidents of this category appear on the public results page.
    publish_results = models.BooleanField(
        _("publish results (办理公开)"),
        default=False,
        help_text=_(
            "Show closed incidents of this category on the public results page. Keep it off "
            "for disputes, personal and internal categories."
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
