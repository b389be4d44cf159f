"""Mediation rooms (调解室) and the mediators serving in them; the room types and levels with
the aliases local documents and CSV files use."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import TimeStampedModel


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
