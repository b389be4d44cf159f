"""Mediation rooms, administered by portal admins: the validated room fields (RoomData), create,
update, (de)activate, order, the mediators serving in a room, and the rooms CSV import.

Not workflow: no case moves here. mediation.services re-exports every public name.
"""

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import RoleCode, User
from core.exceptions import (
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from grids.models import Region
from incidents.models import Category
from mediation.models import (
    ROOM_LEVEL_ALIASES,
    ROOM_LEVEL_REGION_LEVEL,
    ROOM_TYPE_ALIASES,
    MediationRoom,
    RoomLevel,
    RoomMediator,
    RoomType,
)


def _require_admin(actor: User) -> None:
    if actor is None or not actor.is_authenticated or not actor.is_portal_admin:
        raise PermissionDeniedError(_("Only administrators configure mediation rooms."))


# --- rooms (admins) -----------------------------------------------------------------------


@dataclass
class RoomData:
    """Validated room fields, shared by the pages, the API and the CSV import."""

    name: str
    room_type: str
    level: str
    region: Region
    categories: list[Category] = field(default_factory=list)
    address: str = ""
    lat: float | None = None
    lng: float | None = None
    opening_hours: str = ""
    phone: str = ""
    capacity_per_day: int = 4
    gold_rated: bool = False
    active: bool = True
    description: str = ""


def _room_type_code(value: str) -> str | None:
    value = (value or "").strip()
    if value in RoomType.values:
        return value
    if value in ROOM_TYPE_ALIASES:
        return ROOM_TYPE_ALIASES[value]
    for code, label in RoomType.choices:
        if value.lower() == str(label).lower():
            return code
    return None


def _room_level_code(value: str) -> str | None:
    value = (value or "").strip()
    if value.lower() in RoomLevel.values:
        return value.lower()
    if value in ROOM_LEVEL_ALIASES:
        return ROOM_LEVEL_ALIASES[value]
    for code, label in RoomLevel.choices:
        if value.lower() == str(label).lower():
            return code
    return None


def room_data_clean(
    *,
    name: str,
    room_type: str,
    level: str,
    region_code: str,
    category_codes: Sequence[str] = (),
    address: str = "",
    lat: float | None = None,
    lng: float | None = None,
    opening_hours: str = "",
    phone: str = "",
    capacity_per_day: int | str = 4,
    gold_rated: bool = False,
    active: bool = True,
    description: str = "",
) -> RoomData:
    """Check every room field; raises ValidationFailed with all field errors at once."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors.setdefault("name", []).append(_("The name is required."))
    elif len(name) > 100:
        errors.setdefault("name", []).append(_("The name is too long."))
    type_code = _room_type_code(room_type)
    if type_code is None:
        errors.setdefault("room_type", []).append(
            _("Unknown room type “%(value)s”.") % {"value": room_type}
        )
    level_code = _room_level_code(level)
    if level_code is None:
        errors.setdefault("level", []).append(_("Unknown level “%(value)s”.") % {"value": level})
    region = Region.objects.filter(code=(region_code or "").strip()).first()
    if region is None:
        errors.setdefault("region", []).append(
            _("No region with code “%(value)s”.") % {"value": region_code}
        )
    elif level_code and region.level != ROOM_LEVEL_REGION_LEVEL[level_code]:
        errors.setdefault("region", []).append(
            _("A %(level)s room serves a region of level “%(region_level)s”.")
            % {
                "level": RoomLevel(level_code).label,
                "region_level": Region.Level(ROOM_LEVEL_REGION_LEVEL[level_code]).label,
            }
        )
    codes = [c.strip() for c in category_codes if c and c.strip()]
    categories = list(Category.objects.filter(code__in=codes, is_dispute=True))
    missing = sorted(set(codes) - {c.code for c in categories})
    if missing:
        errors.setdefault("categories", []).append(
            _("Not dispute categories: %(codes)s.") % {"codes": ", ".join(missing)}
        )
    if (lat is None) != (lng is None):
        errors.setdefault("lat", []).append(_("Give both latitude and longitude, or neither."))
    if lat is not None and not -90 <= lat <= 90:
        errors.setdefault("lat", []).append(_("The latitude must be between -90 and 90."))
    if lng is not None and not -180 <= lng <= 180:
        errors.setdefault("lng", []).append(_("The longitude must be between -180 and 180."))
    try:
        capacity = int(capacity_per_day)
    except (TypeError, ValueError):
        capacity = -1
    if not 0 <= capacity <= 100:
        errors.setdefault("capacity_per_day", []).append(
            _("The capacity is a number of sessions a day, 0 to 100.")
        )
    # (each of type_code, level_code, region is None only with an error recorded above)
    if errors or type_code is None or level_code is None or region is None:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, extra=errors)
    return RoomData(
        name=name,
        room_type=type_code,
        level=level_code,
        region=region,
        categories=categories,
        address=(address or "").strip()[:255],
        lat=lat,
        lng=lng,
        opening_hours=(opening_hours or "").strip()[:100],
        phone=(phone or "").strip()[:20],
        capacity_per_day=capacity,
        gold_rated=bool(gold_rated),
        active=bool(active),
        description=(description or "").strip(),
    )


def _room_apply(room: MediationRoom, data: RoomData) -> MediationRoom:
    duplicate = MediationRoom.objects.filter(name=data.name).exclude(pk=room.pk).exists()
    if duplicate:
        message = _("A room with this name already exists.")
        raise ValidationFailed(message, extra={"name": [message]})
    for attribute in (
        "name",
        "room_type",
        "level",
        "region",
        "address",
        "lat",
        "lng",
        "opening_hours",
        "phone",
        "capacity_per_day",
        "gold_rated",
        "active",
        "description",
    ):
        setattr(room, attribute, getattr(data, attribute))
    if room.pk is None:
        room.sort_order = (MediationRoom.objects.aggregate(m=Max("sort_order"))["m"] or 0) + 1
    room.save()
    room.categories.set(data.categories)
    return room


@transaction.atomic
def room_create(*, actor: User, data: RoomData) -> MediationRoom:
    _require_admin(actor)
    return _room_apply(MediationRoom(), data)


@transaction.atomic
def room_update(*, actor: User, room_id: int, data: RoomData) -> MediationRoom:
    _require_admin(actor)
    room = MediationRoom.objects.select_for_update().filter(pk=room_id).first()
    if room is None:
        raise NotFoundError(_("Mediation room not found."))
    return _room_apply(room, data)


@transaction.atomic
def room_set_active(*, actor: User, room_id: int, active: bool) -> MediationRoom:
    """Deactivate (or reactivate) a room: it is no longer proposed and takes no new cases;
    its cases stay and are finished there."""
    _require_admin(actor)
    room = MediationRoom.objects.select_for_update().filter(pk=room_id).first()
    if room is None:
        raise NotFoundError(_("Mediation room not found."))
    room.active = bool(active)
    room.save(update_fields=["active", "updated_at"])
    return room


@transaction.atomic
def room_reorder(*, actor: User, room_ids: Sequence[int]) -> None:
    """Put the given rooms first, in this order; the others keep their order after them."""
    _require_admin(actor)
    ids = [int(pk) for pk in room_ids]
    if len(set(ids)) != len(ids):
        raise ValidationFailed(_("A room appears twice in the order."))
    rooms = {room.pk: room for room in MediationRoom.objects.select_for_update()}
    unknown = [pk for pk in ids if pk not in rooms]
    if unknown:
        raise ValidationFailed(_("Unknown rooms: %(ids)s.") % {"ids": unknown})
    rest = [
        room.pk
        for room in sorted(rooms.values(), key=lambda r: (r.sort_order, r.name))
        if room.pk not in ids
    ]
    for position, pk in enumerate(ids + rest, start=1):
        if rooms[pk].sort_order != position:
            MediationRoom.objects.filter(pk=pk).update(sort_order=position)


@transaction.atomic
def room_move(*, actor: User, room_id: int, direction: str) -> None:
    """Move a room one place up or down in the list."""
    _require_admin(actor)
    order = list(MediationRoom.objects.order_by("sort_order", "name").values_list("pk", flat=True))
    if room_id not in order:
        raise NotFoundError(_("Mediation room not found."))
    index = order.index(room_id)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
    room_reorder(actor=actor, room_ids=order)


@transaction.atomic
def room_mediator_add(
    *, actor: User, room_id: int, user_id: int, title: str = "", speciality: str = ""
) -> RoomMediator:
    _require_admin(actor)
    room = MediationRoom.objects.select_for_update().filter(pk=room_id).first()
    if room is None:
        raise NotFoundError(_("Mediation room not found."))
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or RoleCode.MEDIATOR not in user.role_codes:
        message = _("Choose a user with the mediator role.")
        raise ValidationFailed(message, extra={"user": [message]})
    membership, _created = RoomMediator.objects.update_or_create(
        room=room,
        user=user,
        defaults={
            "title": title.strip()[:64],
            "speciality": speciality.strip()[:128],
            "active": True,
        },
    )
    return membership


@transaction.atomic
def room_mediator_remove(*, actor: User, room_id: int, user_id: int) -> None:
    """The mediator leaves the room; their past cases keep their name."""
    _require_admin(actor)
    updated = RoomMediator.objects.filter(room_id=room_id, user_id=user_id).update(
        active=False, updated_at=timezone.now()
    )
    if not updated:
        raise NotFoundError(_("This mediator does not serve in this room."))


# --- CSV import ---------------------------------------------------------------------------

CSV_COLUMNS = [
    "name",
    "type",
    "level",
    "region_code",
    "categories",
    "address",
    "lat",
    "lng",
    "opening_hours",
    "phone",
    "capacity",
    "gold",
    "active",
    "mediators",
    "description",
]
CSV_REQUIRED = ("name", "type", "level", "region_code")
CSV_MAX_BYTES = 1024 * 1024
CSV_MAX_ROWS = 2000
TRUE_WORDS = {"1", "true", "yes", "y", "是", "金牌", "启用", "on"}
FALSE_WORDS = {"", "0", "false", "no", "n", "否", "停用", "off"}


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0


def _decode_csv(content: bytes | str) -> str:
    if isinstance(content, str):
        return content.lstrip("\ufeff")
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves GBK
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(_("The file is not UTF-8 or GBK text."))


def _parse_bool(value: str, default: bool) -> bool | None:
    value = (value or "").strip().lower()
    if not value:
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    return None


def _parse_mediators(value: str) -> list[tuple[str, str]]:
    """ "wang:首席调解员;li" -> [("wang", "首席调解员"), ("li", "")]"""
    result = []
    for item in re.split(r"[;；]", value or ""):
        item = item.strip()
        if item:
            username, _sep, title = item.partition(":")
            result.append((username.strip(), title.strip()))
    return result


@transaction.atomic
def rooms_import_csv(*, actor: User, content: bytes | str) -> ImportResult:
    """Create or update rooms (matched by name) from a CSV file with the columns CSV_COLUMNS
    (name, type, level and region_code required). Every row is checked first; one bad row and
    nothing is written: ValidationFailed lists each problem as "line N: ..."."""
    _require_admin(actor)
    if isinstance(content, bytes) and len(content) > CSV_MAX_BYTES:
        raise ValidationFailed(_("The file is larger than 1 MB."))
    text = _decode_csv(content)
    reader = csv.DictReader(io.StringIO(text))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [column for column in CSV_REQUIRED if column not in headers]
    if missing:
        message = _("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)}
        raise ValidationFailed(message, extra={"rows": [message]})
    reader.fieldnames = headers
    errors: list[str] = []
    prepared: list[tuple[RoomData, list[tuple[User, str]]]] = []
    seen_names: dict[str, int] = {}
    for line_number, row in enumerate(reader, start=2):
        if line_number - 1 > CSV_MAX_ROWS:
            errors.append(_("More than %(n)s rows.") % {"n": CSV_MAX_ROWS})
            break
        row = {k: (v or "").strip() for k, v in row.items() if k}
        if not any(row.values()):
            continue
        row_errors: list[str] = []
        lat = lng = None
        try:
            lat = float(row["lat"]) if row.get("lat") else None
            lng = float(row["lng"]) if row.get("lng") else None
        except ValueError:
            row_errors.append(_("latitude and longitude must be numbers"))
        capacity = row.get("capacity") or "4"
        gold = _parse_bool(row.get("gold", ""), False)
        active = _parse_bool(row.get("active", ""), True)
        if gold is None or active is None:
            row_errors.append(_("gold and active must be yes or no"))
        data = None
        try:
            data = room_data_clean(
                name=row.get("name", ""),
                room_type=row.get("type", ""),
                level=row.get("level", ""),
                region_code=row.get("region_code", ""),
                category_codes=re.split(r"[;；,，\s]+", row.get("categories", "")),
                address=row.get("address", ""),
                lat=lat,
                lng=lng,
                opening_hours=row.get("opening_hours", ""),
                phone=row.get("phone", ""),
                capacity_per_day=capacity,
                gold_rated=bool(gold),
                active=bool(active) if active is not None else True,
                description=row.get("description", ""),
            )
        except ValidationFailed as exc:
            for messages in exc.extra.values():
                row_errors.extend(messages)
        mediators: list[tuple[User, str]] = []
        for username, title in _parse_mediators(row.get("mediators", "")):
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None or RoleCode.MEDIATOR not in user.role_codes:
                row_errors.append(
                    _("“%(username)s” is not a user with the mediator role")
                    % {"username": username}
                )
            else:
                mediators.append((user, title))
        name = row.get("name", "")
        if name in seen_names:
            row_errors.append(_("the name repeats line %(line)s") % {"line": seen_names[name]})
        seen_names.setdefault(name, line_number)
        if row_errors:
            errors.extend(
                _("line %(line)s: %(message)s") % {"line": line_number, "message": message}
                for message in row_errors
            )
        elif data is not None:
            prepared.append((data, mediators))
    if not errors and not prepared:
        errors.append(_("The file has no rooms."))
    if errors:
        raise ValidationFailed(errors[0], extra={"rows": errors})
    result = ImportResult()
    for data, mediators in prepared:
        room = MediationRoom.objects.select_for_update().filter(name=data.name).first()
        if room is None:
            room = _room_apply(MediationRoom(), data)
            result.created += 1
        else:
            _room_apply(room, data)
            result.updated += 1
        for user, title in mediators:
            RoomMediator.objects.update_or_create(
                room=room, user=user, defaults={"title": title[:64], "active": True}
            )
    return result
