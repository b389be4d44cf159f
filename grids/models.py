from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel

region_code_validator = RegexValidator(r"^\d{12}$", _("A division code has 12 digits."))
grid_code_validator = RegexValidator(r"^\d{15}$", _("A grid code has 15 digits."))


class Region(TimeStampedModel):
    """A node of the administrative tree, keyed by the 12-digit statistical division code.

    The code is hierarchical: "everything under X" is `code__startswith=X.prefix`.
    """

    class Level(models.TextChoices):
        PROVINCE = "province", _("province")
        CITY = "city", _("city")
        DISTRICT = "district", _("district / county")
        STREET = "street", _("street / township")
        COMMUNITY = "community", _("community / village")

    # Significant digits of the code at each level.
    PREFIX_LENGTH = {"province": 2, "city": 4, "district": 6, "street": 9, "community": 12}
    LEVEL_ORDER = ["province", "city", "district", "street", "community"]

    code = models.CharField(
        _("division code"), max_length=12, unique=True, validators=[region_code_validator]
    )
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=128, blank=True)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        return self.code[: self.PREFIX_LENGTH[self.level]]

    def contains_code(self, code: str) -> bool:
        return bool(code) and code.startswith(self.prefix)

    def ancestors(self) -> list["Region"]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain


class GridCell(TimeStampedModel):
    class Kind(models.TextChoices):
        BASIC = "basic", _("basic grid")
        SCHOOL = "school", _("dedicated grid: school")
        HOSPITAL = "hospital", _("dedicated grid: hospital")
        MARKET = "market", _("dedicated grid: market")
        PARK = "park", _("dedicated grid: park")
        ENTERPRISE = "enterprise", _("dedicated grid: enterprise")
        OTHER = "other", _("dedicated grid: other")

    code = models.CharField(
        _("grid code"), max_length=15, unique=True, validators=[grid_code_validator]
    )
    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.BASIC)
    community = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="grid_cells",
        limit_choices_to={"level": Region.Level.COMMUNITY},
        verbose_name=_("community"),
    )
    geometry = models.JSONField(_("polygon (GeoJSON, WGS-84)"))
    area_m2 = models.FloatField(_("area (m²)"), default=0)
    active = models.BooleanField(_("active"), default=True)
    # "2+N" (DESIGN.md §7): the community police officer paired with the cell; alerts about key
    # persons and red/orange disputes go to them. Edited by the community (volunteers' 2+N page).
    police_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="policed_cells",
        verbose_name=_("paired community police officer (account)"),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("grid cell")
        verbose_name_plural = _("grid cells")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def region_code(self) -> str:
        return self.community.code


class GridWorker(TimeStampedModel):
    class Kind(models.TextChoices):
        FULL_TIME = "full_time", _("full-time")
        PART_TIME = "part_time", _("part-time")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="grid_worker",
        verbose_name=_("user"),
    )
    cells = models.ManyToManyField(
        GridCell, blank=True, related_name="workers", verbose_name=_("grid cells")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.FULL_TIME)
    on_duty = models.BooleanField(_("on duty"), default=True)
    police_officer_name = models.CharField(
        _("paired community police officer"), max_length=64, blank=True
    )
    police_officer_phone = models.CharField(_("police officer's phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("grid worker")
        verbose_name_plural = _("grid workers")

    def __str__(self) -> str:
        return str(self.user)


class Team(TimeStampedModel):
    """The "2+N" forces beside grid workers: patrol, legal aid, volunteers."""

    class Kind(models.TextChoices):
        PATROL = "patrol", _("patrol")
        VOLUNTEER_PATROL = "volunteer_patrol", _("volunteer patrol")
        LEGAL_AID = "legal_aid", _("legal aid")
        VOLUNTEER = "volunteer", _("volunteers")
        OTHER = "other", _("other")

    name = models.CharField(_("name"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="teams", verbose_name=_("region")
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="teams", verbose_name=_("members")
    )
    member_count = models.PositiveIntegerField(_("number of members"), default=0)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name
