"""The grid's basic data (网格基础数据): "人、地、事、物、组织" per grid cell.

Every record carries its grid cell and the cell's community code (`region_code`, 12 digits,
denormalised so that a community or street scope is one indexed `startswith`). ID numbers are
encrypted at rest (core.crypto) and found only through keyed hashes (`id_key`, the blind index);
phones are encrypted too and matched through `phone_key`. Key persons (重点人员) are the most
sensitive part: who may see them is decided in registry.selectors, never here.

Model and field names are stable: other apps (screening, assignments) point at Person, Place
and KeyPerson.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.crypto import EncryptedCharField
from core.models import TimeStampedModel


class PersonTag(models.Model):
    """Admin-editable tags on people (独居老人, 残疾, 低保, 退役军人 …)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=32)
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("person tag")
        verbose_name_plural = _("person tags")

    def __str__(self) -> str:
        return self.name


class CellRecord(TimeStampedModel):
    """What every record of a cell has: the cell, its community code, who wrote it last."""

    cell = models.ForeignKey(
        "grids.GridCell", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid cell")
    )
    region_code = models.CharField(_("region code"), max_length=12, db_index=True)
    active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        abstract = True


class Building(CellRecord):
    """楼栋."""

    class Use(models.TextChoices):
        RESIDENTIAL = "residential", _("residential")
        COMMERCIAL = "commercial", _("commercial")
        MIXED = "mixed", _("mixed use")
        OFFICE = "office", _("office")
        INDUSTRIAL = "industrial", _("industrial")
        PUBLIC = "public", _("public facility")
        OTHER = "other", _("other")

    name = models.CharField(_("name"), max_length=64)
    address = models.CharField(_("address"), max_length=200)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    floors = models.PositiveSmallIntegerField(
        _("floors"), default=1, validators=[MinValueValidator(1), MaxValueValidator(200)]
    )
    use = models.CharField(_("use"), max_length=16, choices=Use.choices, default=Use.RESIDENTIAL)

    class Meta:
        ordering = ["cell_id", "address"]
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        constraints = [
            models.UniqueConstraint(fields=["cell", "address"], name="registry_building_address"),
            models.CheckConstraint(
                condition=Q(lat__isnull=True, lng__isnull=True)
                | Q(lat__gte=-90, lat__lte=90, lng__gte=-180, lng__lte=180),
                name="registry_building_latlng",
            ),
        ]
        indexes = [models.Index(fields=["cell", "address"], name="registry_bldg_cell_addr")]

    def __str__(self) -> str:
        return self.name or self.address


class Home(CellRecord):
    """房屋 in a building; rentals (出租屋) keep the tenant count."""

    class Occupancy(models.TextChoices):
        OWNER = "owner", _("owner-occupied")
        RENTED = "rented", _("rented")
        VACANT = "vacant", _("vacant")

    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="homes", verbose_name=_("building")
    )
    number = models.CharField(_("room number"), max_length=32)
    occupancy = models.CharField(
        _("occupancy"), max_length=16, choices=Occupancy.choices, default=Occupancy.OWNER
    )
    tenant_count = models.PositiveSmallIntegerField(_("number of tenants"), default=0)
    owner_name = models.CharField(_("owner"), max_length=64, blank=True)
    owner_phone_value = EncryptedCharField(_("owner's phone"), max_length=255, blank=True)
    area_m2 = models.FloatField(_("floor area (m²)"), null=True, blank=True)

    class Meta:
        ordering = ["building_id", "number"]
        verbose_name = _("home")
        verbose_name_plural = _("homes")
        constraints = [
            models.UniqueConstraint(fields=["building", "number"], name="registry_home_number"),
            models.CheckConstraint(
                condition=Q(occupancy="rented") | Q(tenant_count=0),
                name="registry_home_tenants_only_rented",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.building} {self.number}"

    @property
    def address(self) -> str:
        return f"{self.building.address} {self.number}"


class Person(CellRecord):
    """人口. The ID number is read through `id_number`, matched through `id_key`."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("registered resident (户籍)")
        FLOATING = "floating", _("floating population (流动)")
        FOREIGN = "foreign", _("from outside the mainland (境外)")

    class Gender(models.TextChoices):
        UNKNOWN = "", _("not recorded")
        MALE = "male", _("male")
        FEMALE = "female", _("female")

    name = models.CharField(_("name"), max_length=64)
    # Encrypted at rest; matched only through id_key (a keyed hash: the blind index).
    id_number_value = EncryptedCharField(_("ID number"), max_length=255, blank=True)
    id_key = models.CharField(_("ID lookup key"), max_length=48, blank=True, db_index=True)
    phone_value = EncryptedCharField(_("phone"), max_length=255, blank=True)
    phone_key = models.CharField(_("phone lookup key"), max_length=48, blank=True, db_index=True)
    gender = models.CharField(
        _("gender"), max_length=8, choices=Gender.choices, default="", blank=True
    )
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    home = models.ForeignKey(
        Home,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="people",
        verbose_name=_("home"),
    )
    household_number = models.CharField(_("household number"), max_length=32, blank=True)
    household_relation = models.CharField(
        _("relation to the head of household"), max_length=16, blank=True
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.REGISTERED)
    arrival_date = models.DateField(_("arrival date"), null=True, blank=True)
    expected_departure_date = models.DateField(_("expected departure"), null=True, blank=True)
    tags = models.ManyToManyField(
        PersonTag, blank=True, related_name="people", verbose_name=_("tags")
    )

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            models.CheckConstraint(
                condition=Q(expected_departure_date__isnull=True)
                | Q(arrival_date__isnull=True)
                | Q(expected_departure_date__gte=models.F("arrival_date")),
                name="registry_person_departure_after_arrival",
            ),
        ]
        indexes = [
            # The cell's people list, in name order.
            models.Index(fields=["cell", "name"], name="registry_person_cell_name"),
            # A community's search by name prefix (LIKE 'x%' on PostgreSQL needs pattern ops).
            models.Index(
                fields=["region_code", "name"],
                name="registry_person_region_name",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            ),
            models.Index(
                fields=["name"],
                name="registry_person_name_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def id_number(self) -> str:
        return self.id_number_value

    @id_number.setter
    def id_number(self, value: str) -> None:
        from registry import personal_data

        value = personal_data.normalise_id_number(value)
        self.id_number_value = value
        self.id_key = personal_data.lookup_key("id", value)

    @property
    def phone(self) -> str:
        return self.phone_value

    @phone.setter
    def phone(self, value: str) -> None:
        from registry import personal_data

        value = personal_data.normalise_phone(value)
        self.phone_value = value
        self.phone_key = personal_data.lookup_key("phone", value)


class Organisation(CellRecord):
    """单位 / 商户."""

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("enterprise")
        SHOP = "shop", _("shop / merchant")
        SOCIAL = "social", _("social organisation")
        PUBLIC = "public", _("public institution")
        GOVERNMENT = "government", _("government body")
        OTHER = "other", _("other")

    name = models.CharField(_("name"), max_length=128)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.SHOP)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    building = models.ForeignKey(
        Building,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="organisations",
        verbose_name=_("building"),
    )
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    contact_name = models.CharField(_("contact"), max_length=64, blank=True)
    contact_phone_value = EncryptedCharField(_("contact phone"), max_length=255, blank=True)
    safety_notes = models.TextField(_("safety notes"), blank=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        indexes = [models.Index(fields=["cell", "name"], name="registry_org_cell_name")]

    def __str__(self) -> str:
        return self.name


class Place(CellRecord):
    """场所; key places (重点场所) are flagged."""

    class Kind(models.TextChoices):
        SCHOOL = "school", _("school")
        KINDERGARTEN = "kindergarten", _("kindergarten")
        HOSPITAL = "hospital", _("hospital / clinic")
        MARKET = "market", _("market")
        HOTEL = "hotel", _("hotel")
        INTERNET_CAFE = "internet_cafe", _("internet café")
        ENTERTAINMENT = "entertainment", _("entertainment venue")
        CONSTRUCTION = "construction", _("construction site")
        RELIGIOUS = "religious", _("religious site")
        PARK = "park", _("park / square")
        STATION = "station", _("station")
        WAREHOUSE = "warehouse", _("warehouse")
        OTHER = "other", _("other")

    name = models.CharField(_("name"), max_length=128)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.OTHER)
    address = models.CharField(_("address"), max_length=200, blank=True)
    building = models.ForeignKey(
        Building,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="places",
        verbose_name=_("building"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="places",
        verbose_name=_("organisation"),
    )
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    contact_name = models.CharField(_("contact"), max_length=64, blank=True)
    contact_phone_value = EncryptedCharField(_("contact phone"), max_length=255, blank=True)
    safety_notes = models.TextField(_("safety notes"), blank=True)
    is_key = models.BooleanField(_("key place (重点场所)"), default=False)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("place")
        verbose_name_plural = _("places")
        indexes = [models.Index(fields=["cell", "name"], name="registry_place_cell_name")]
        constraints = [
            models.CheckConstraint(
                condition=Q(lat__isnull=True, lng__isnull=True)
                | Q(lat__gte=-90, lat__lte=90, lng__gte=-180, lng__lte=180),
                name="registry_place_latlng",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class KeyPersonKind(models.Model):
    """Admin-editable kinds of key persons (严重精神障碍患者, 社区矫正对象 …) with their risk
    levels (0..max_risk_level) and a visit plan per level (VisitPlan)."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    description = models.TextField(_("description"), blank=True)
    max_risk_level = models.PositiveSmallIntegerField(
        _("highest risk level"), default=2, validators=[MaxValueValidator(9)]
    )
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("key-person kind")
        verbose_name_plural = _("key-person kinds")

    def __str__(self) -> str:
        return self.name


class VisitPlan(models.Model):
    """How often a key person of `kind` at `risk_level` is visited (local values editable)."""

    kind = models.ForeignKey(
        KeyPersonKind, on_delete=models.CASCADE, related_name="plans", verbose_name=_("kind")
    )
    risk_level = models.PositiveSmallIntegerField(_("risk level"))
    label = models.CharField(_("label"), max_length=64, blank=True)
    interval_days = models.PositiveSmallIntegerField(
        _("visit at least every (days)"), validators=[MinValueValidator(1)]
    )
    warn_days_before = models.PositiveSmallIntegerField(_("remind (days before due)"), default=3)

    class Meta:
        ordering = ["kind", "risk_level"]
        verbose_name = _("visit plan")
        verbose_name_plural = _("visit plans")
        constraints = [
            models.UniqueConstraint(fields=["kind", "risk_level"], name="registry_plan_level"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.risk_level}: {self.interval_days}"


class KeyPersonGrant(models.Model):
    """Who besides the responsible worker and the community's designated staff may see key
    persons of a kind: a role (e.g. police_officer for 社区矫正对象), optionally only handlers of
    one department (department handlers: only the kinds their department is granted)."""

    kind = models.ForeignKey(
        KeyPersonKind, on_delete=models.CASCADE, related_name="grants", verbose_name=_("kind")
    )
    role = models.CharField(_("role"), max_length=32)
    department = models.CharField(
        _("department"),
        max_length=64,
        blank=True,
        help_text=_("Only users of this department (blank: every user with the role)."),
    )

    class Meta:
        ordering = ["kind", "role", "department"]
        verbose_name = _("key-person access grant")
        verbose_name_plural = _("key-person access grants")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "role", "department"], name="registry_grant_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.role} {self.department}".strip()


class DesignatedStaff(models.Model):
    """A community's staff designated for key persons (all kinds, or one kind)."""

    community = models.ForeignKey(
        "grids.Region",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("community"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="registry_designations",
        verbose_name=_("user"),
    )
    kind = models.ForeignKey(
        KeyPersonKind,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="designations",
        verbose_name=_("kind (blank: all kinds)"),
    )

    class Meta:
        verbose_name = _("designated staff for key persons")
        verbose_name_plural = _("designated staff for key persons")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "user", "kind"], name="registry_designation_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community}: {self.user}"


class KeyPerson(TimeStampedModel):
    """A person followed as a key person of one kind (a person may be in several kinds)."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("key person", "followed")
        CLOSED = "closed", _("no longer followed")

    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="key_person_records",
        verbose_name=_("person"),
    )
    kind = models.ForeignKey(
        KeyPersonKind, on_delete=models.PROTECT, related_name="key_persons", verbose_name=_("kind")
    )
    # Denormalised from the person for scoping and counts.
    cell = models.ForeignKey(
        "grids.GridCell", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid cell")
    )
    region_code = models.CharField(_("region code"), max_length=12, db_index=True)
    risk_level = models.PositiveSmallIntegerField(_("risk level"), default=0)
    responsible_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="registry_key_persons",
        verbose_name=_("responsible grid worker"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    since = models.DateField(_("followed since"), null=True, blank=True)
    last_visit_at = models.DateTimeField(_("last visit"), null=True, blank=True)
    next_visit_due = models.DateField(_("next visit due"), null=True, blank=True, db_index=True)
    # The sweep's idempotency marks: the due date it last warned about / escalated.
    warned_for = models.DateField(_("reminded for due date"), null=True, blank=True)
    escalated_for = models.DateField(_("escalated for due date"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalations"), default=0)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        ordering = ["next_visit_due", "pk"]
        verbose_name = _("key person")
        verbose_name_plural = _("key persons")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "kind"],
                condition=Q(status="active"),
                name="registry_keyperson_one_active_per_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["region_code", "kind", "status"], name="registry_kp_region_kind"),
            models.Index(fields=["status", "next_visit_due"], name="registry_kp_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.person}"


class KeyPersonEvent(models.Model):
    """The key person's timeline: append-only, one row per state change."""

    class Kind(models.TextChoices):
        CREATED = "created", _("started following")
        VISITED = "visited", _("visited")
        RISK_CHANGED = "risk_changed", _("risk level changed")
        REASSIGNED = "reassigned", _("responsible worker changed")
        REMINDED = "reminded", _("visit reminder sent")
        ESCALATED = "escalated", _("overdue visit escalated")
        CLOSED = "closed", _("no longer followed")
        REOPENED = "reopened", _("followed again")

    key_person = models.ForeignKey(
        KeyPerson, on_delete=models.CASCADE, related_name="events", verbose_name=_("key person")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), db_index=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("key-person event")
        verbose_name_plural = _("key-person events")

    def __str__(self) -> str:
        return f"{self.key_person_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class Visit(models.Model):
    """走访: logged on the phone, with GPS and the re-assessed risk level."""

    class Method(models.TextChoices):
        IN_PERSON = "in_person", _("in person")
        PHONE = "phone", _("by phone")
        WITH_OTHERS = "joint", _("joint visit (doctor, police)")

    key_person = models.ForeignKey(
        KeyPerson, on_delete=models.PROTECT, related_name="visits", verbose_name=_("key person")
    )
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="registry_visits",
        verbose_name=_("visited by"),
    )
    visited_at = models.DateTimeField(_("visited at"), db_index=True)
    method = models.CharField(
        _("method"), max_length=16, choices=Method.choices, default=Method.IN_PERSON
    )
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    accuracy_m = models.FloatField(_("GPS accuracy (m)"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    observations = models.TextField(_("what was seen"))
    risk_before = models.PositiveSmallIntegerField(_("risk level before"))
    risk_after = models.PositiveSmallIntegerField(_("risk level after"))
    photo = models.ImageField(_("photo"), upload_to="registry/visits/%Y/%m/", blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-visited_at", "-pk"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        constraints = [
            models.CheckConstraint(
                condition=Q(lat__isnull=True, lng__isnull=True)
                | Q(lat__gte=-90, lat__lte=90, lng__gte=-180, lng__lte=180),
                name="registry_visit_latlng",
            ),
        ]
        indexes = [models.Index(fields=["key_person", "visited_at"], name="registry_visit_kp_at")]

    def __str__(self) -> str:
        return f"{self.key_person} {self.visited_at:%Y-%m-%d}"

    @property
    def raised(self) -> bool:
        return self.risk_after > self.risk_before


class RecordChange(models.Model):
    """Change history of every registry record: who changed what, when. Sensitive values (ID
    numbers, phones) are never stored here in clear: only that they changed."""

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("updated")
        DEACTIVATED = "deactivated", _("deactivated")
        IMPORTED = "imported", _("imported")

    model = models.CharField(_("record type"), max_length=32)
    object_id = models.PositiveBigIntegerField(_("record"))
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"))
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("record change")
        verbose_name_plural = _("record changes")
        indexes = [models.Index(fields=["model", "object_id", "at"], name="registry_change_obj")]

    def __str__(self) -> str:
        return f"{self.model}#{self.object_id} {self.action}"


class PersonLink(models.Model):
    """An explicit link from a person to a matter of a higher app (an incident, a mediation
    case): registry cannot point at their tables, so the link names the app and the id. The
    higher app's provider (registry.links) reads these and scopes them to the viewer."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="links", verbose_name=_("person")
    )
    target = models.CharField(_("linked matter type"), max_length=32)
    target_id = models.PositiveBigIntegerField(_("linked matter"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("linked by"),
    )
    created_at = models.DateTimeField(_("linked at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("person link")
        verbose_name_plural = _("person links")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "target", "target_id"], name="registry_link_unique"
            ),
        ]
        indexes = [models.Index(fields=["target", "target_id"], name="registry_link_target")]

    def __str__(self) -> str:
        return f"{self.person_id} → {self.target}#{self.target_id}"


class ImportUpload(models.Model):
    """An xlsx file that passed the preview, kept (encrypted, core.crypto) until its uploader
    confirms the import; the confirmation re-validates it and writes every row or none. Files
    older than a day are dropped by the visit sweep."""

    class Kind(models.TextChoices):
        BUILDINGS = "building", _("buildings")
        HOMES = "home", _("homes")
        PEOPLE = "person", _("people")
        ORGANISATIONS = "organisation", _("organisations")
        PLACES = "place", _("places")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    kind = models.CharField(_("what the file holds"), max_length=16, choices=Kind.choices)
    cell = models.ForeignKey(
        "grids.GridCell", on_delete=models.CASCADE, related_name="+", verbose_name=_("grid cell")
    )
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    content = models.TextField(_("content (encrypted)"))
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    applied_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import upload")
        verbose_name_plural = _("import uploads")

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name}"
