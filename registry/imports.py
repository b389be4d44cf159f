"""xlsx import of the grid's basic data, from downloadable templates (the way communities keep
these 台账 today).

preview(): reads the whole file, validates every row and column and returns every error with
its row number and column name in Chinese; nothing is written. Only a file without errors is
kept (encrypted, ImportUpload) for the uploader to confirm; apply_upload() validates it again
and writes every row in one transaction, or nothing. Re-importing the same file is idempotent:
people are matched by ID number (blind index), or by name and home without one; buildings by
address; homes by building address and room number; organisations by credit code or name and
address; places by name and address. Matched rows are updated, the others created; every
write leaves a change-history row ("imported").
"""

from __future__ import annotations

import base64
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from io import BytesIO
from typing import Any

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font

from accounts.models import User
from core import crypto
from core.exceptions import ValidationFailed
from grids.models import GridCell
from registry import personal_data
from registry.models import (
    Building,
    Home,
    ImportUpload,
    Organisation,
    Person,
    PersonTag,
    Place,
    RecordChange,
)
from registry.policies import area_for
from registry.services import _snapshot

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_ERRORS = 500

KIND_CHOICES = [
    ("building", gettext_lazy("buildings")),
    ("home", gettext_lazy("homes")),
    ("person", gettext_lazy("people")),
    ("organisation", gettext_lazy("organisations")),
    ("place", gettext_lazy("places")),
]

# Column headers are Chinese data (the templates communities fill in), not UI strings.
COLUMNS: dict[str, list[tuple[str, str, bool]]] = {
    "building": [
        ("楼栋名称", "name", True),
        ("地址", "address", True),
        ("层数", "floors", False),
        ("用途", "use", False),
        ("纬度", "lat", False),
        ("经度", "lng", False),
        ("备注", "notes", False),
    ],
    "home": [
        ("楼栋地址", "building", True),
        ("房号", "number", True),
        ("居住情况", "occupancy", False),
        ("租户人数", "tenant_count", False),
        ("房主姓名", "owner_name", False),
        ("房主电话", "owner_phone_value", False),
        ("面积", "area_m2", False),
        ("备注", "notes", False),
    ],
    "person": [
        ("姓名", "name", True),
        ("身份证号", "id_number", False),
        ("联系电话", "phone", False),
        ("人口类型", "kind", False),
        ("楼栋地址", "building", False),
        ("房号", "home", False),
        ("户号", "household_number", False),
        ("与户主关系", "household_relation", False),
        ("来本地日期", "arrival_date", False),
        ("预计离开日期", "expected_departure_date", False),
        ("标签", "tags", False),
        ("备注", "notes", False),
    ],
    "organisation": [
        ("名称", "name", True),
        ("类型", "kind", False),
        ("统一社会信用代码", "credit_code", False),
        ("地址", "address", False),
        ("联系人", "contact_name", False),
        ("联系电话", "contact_phone_value", False),
        ("安全备注", "safety_notes", False),
        ("纬度", "lat", False),
        ("经度", "lng", False),
    ],
    "place": [
        ("名称", "name", True),
        ("类型", "kind", False),
        ("重点场所", "is_key", False),
        ("地址", "address", False),
        ("联系人", "contact_name", False),
        ("联系电话", "contact_phone_value", False),
        ("安全备注", "safety_notes", False),
        ("纬度", "lat", False),
        ("经度", "lng", False),
    ],
}

EXAMPLES: dict[str, list[Any]] = {
    "building": ["3号楼", "新华西路12号3号楼", 6, "住宅", 24.5051, 117.6052, ""],
    "home": ["新华西路12号3号楼", "301", "出租", 3, "王某", "13800000000", 89.5, ""],
    "person": [
        "张三",
        "11010519491231002X",
        "13800000000",
        "户籍",
        "新华西路12号3号楼",
        "301",
        "",
        "户主",
        "",
        "",
        "独居老人,低保",
        "",
    ],
    "organisation": ["某某超市", "商户", "", "新华西路12号", "李某", "13900000000", "", "", ""],
    "place": ["某某网吧", "网吧", "是", "新华西路14号", "赵某", "13900000001", "", "", ""],
}

CHOICES: dict[tuple[str, str], dict[str, str]] = {
    ("building", "use"): {
        "住宅": "residential",
        "商业": "commercial",
        "商住": "mixed",
        "办公": "office",
        "工业": "industrial",
        "公共设施": "public",
        "其他": "other",
    },
    ("home", "occupancy"): {"自住": "owner", "出租": "rented", "空置": "vacant"},
    ("person", "kind"): {"户籍": "registered", "流动": "floating", "境外": "foreign"},
    ("organisation", "kind"): {
        "企业": "enterprise",
        "商户": "shop",
        "社会组织": "social",
        "事业单位": "public",
        "机关": "government",
        "其他": "other",
    },
    ("place", "kind"): {
        "学校": "school",
        "幼儿园": "kindergarten",
        "医院": "hospital",
        "诊所": "hospital",
        "市场": "market",
        "宾馆": "hotel",
        "酒店": "hotel",
        "网吧": "internet_cafe",
        "娱乐场所": "entertainment",
        "建筑工地": "construction",
        "宗教场所": "religious",
        "公园广场": "park",
        "车站": "station",
        "仓库": "warehouse",
        "其他": "other",
    },
}
INTS = {"floors": (1, 200), "tenant_count": (0, 500)}
FLOATS = {"lat": (-90, 90), "lng": (-180, 180), "area_m2": (0, 100000)}
DATES = {"arrival_date", "expected_departure_date"}
MAX_LEN = {
    "name": 64,
    "address": 200,
    "number": 32,
    "owner_name": 64,
    "household_number": 32,
    "household_relation": 16,
    "contact_name": 64,
    "credit_code": 18,
}


@dataclass
class Preview:
    kind: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    creates: int = 0
    updates: int = 0

    @property
    def valid(self) -> bool:
        return not self.errors and bool(self.rows)

    @property
    def errors_shown(self) -> list[tuple[int, str, str]]:
        return self.errors[:MAX_ERRORS]


@dataclass
class Result:
    created: int = 0
    updated: int = 0


def template_xlsx(kind: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = kind
    headers = [header + ("*" if required else "") for header, _name, required in COLUMNS[kind]]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.append(EXAMPLES[kind])
    notes = workbook.create_sheet("说明")
    notes.append(["带*的列必填；第2行为示例，导入前请删除。"])
    for (_k, name), mapping in CHOICES.items():
        if _k == kind:
            notes.append([f"{_column_header(kind, name)}可填：" + "、".join(mapping)])
    notes.append(["日期格式：2026-01-31；坐标为WGS-84经纬度。重复导入按身份证号或地址更新。"])
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _column_header(kind: str, name: str) -> str:
    return next(header for header, field_name, _r in COLUMNS[kind] if field_name == name)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
MAX_XML_BYTES = 200 * 1024 * 1024


def _column_index(ref: str) -> int:
    index = 0
    for char in ref:
        if not char.isalpha():
            break
        index = index * 26 + (ord(char.upper()) - 64)
    return index - 1


def _first_sheet(book: zipfile.ZipFile) -> str:
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    sheet = next(workbook.iter(f"{MAIN_NS}sheet"))
    rel_id = sheet.get(f"{REL_NS}id")
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    for rel in rels:
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    raise KeyError(rel_id)


def _read_rows(content: bytes) -> tuple[list[Any], list[tuple[int, list[Any]]]]:
    """The first sheet's rows, read straight from the xlsx XML (defusedxml): several times
    faster than openpyxl's cell objects, which a 10,000-row import cannot afford. Numbers come
    back as floats, dates as their serial number (converted where a date is expected)."""
    with zipfile.ZipFile(BytesIO(content)) as book:
        if sum(info.file_size for info in book.infolist()) > MAX_XML_BYTES:
            raise ValueError("too large once unpacked")
        shared: list[str] = []
        if "xl/sharedStrings.xml" in book.namelist():
            for _event, element in ElementTree.iterparse(book.open("xl/sharedStrings.xml")):
                if element.tag == f"{MAIN_NS}si":
                    shared.append("".join(t.text or "" for t in element.iter(f"{MAIN_NS}t")))
                    element.clear()
        rows: list[tuple[int, list[Any]]] = []
        for _event, element in ElementTree.iterparse(book.open(_first_sheet(book))):
            if element.tag != f"{MAIN_NS}row":
                continue
            values: dict[int, Any] = {}
            for position, cell in enumerate(element.iter(f"{MAIN_NS}c")):
                column = _column_index(cell.get("r", "")) if cell.get("r") else position
                kind = cell.get("t")
                if kind == "inlineStr":
                    values[column] = "".join(t.text or "" for t in cell.iter(f"{MAIN_NS}t"))
                    continue
                raw = cell.find(f"{MAIN_NS}v")
                if raw is None or raw.text is None:
                    continue
                if kind == "s":
                    values[column] = shared[int(raw.text)]
                elif kind in ("str", "e", "d"):
                    values[column] = raw.text
                elif kind == "b":
                    values[column] = raw.text == "1"
                else:
                    values[column] = float(raw.text)
            number = int(element.get("r") or (rows[-1][0] + 1 if rows else 1))
            width = max(values) + 1 if values else 0
            rows.append((number, [values.get(k) for k in range(width)]))
            element.clear()
            if len(rows) > MAX_ROWS + 1:
                break
    return rows[0][1] if rows and rows[0][0] == 1 else [], [r for r in rows if r[0] != 1]


def _read(content: bytes) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    try:
        header_row, rows = _read_rows(content)
    except (
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        IndexError,
        StopIteration,
        ElementTree.ParseError,
        DefusedXmlException,
    ) as exc:
        raise ValidationFailed(
            _("The file is not an xlsx workbook."),
            extra={"file": [_("The file is not an xlsx workbook.")]},
        ) from exc
    headers = [_text(value).rstrip("*").strip() for value in header_row]
    body = []
    for number, values in rows:
        if not values or all(_text(v) == "" for v in values):
            continue
        body.append((number, list(values)))
        if len(body) > MAX_ROWS:
            break
    return headers, body


def _parse_row(
    kind: str, number: int, values: dict[str, Any], errors: list, tags: dict[str, PersonTag]
) -> dict[str, Any]:
    row: dict[str, Any] = {"_row": number}
    for header, name, required in COLUMNS[kind]:
        raw = values.get(header)
        text = _text(raw)

        def error(message: str, header: str = header) -> None:
            errors.append((number, header, message))

        if not text:
            if required:
                error(_("This column is required."))
            continue
        if name in MAX_LEN and len(text) > MAX_LEN[name]:
            error(_("At most %(n)s characters.") % {"n": MAX_LEN[name]})
            continue
        if (kind, name) in CHOICES:
            mapping = CHOICES[(kind, name)]
            if text in mapping:
                row[name] = mapping[text]
            elif text in mapping.values():
                row[name] = text
            else:
                error(_("Not one of: %(choices)s.") % {"choices": "、".join(mapping)})
            continue
        if name in INTS:
            low, high = INTS[name]
            try:
                number_value = int(float(text))
            except ValueError:
                error(_("Enter a whole number."))
                continue
            if not low <= number_value <= high:
                error(_("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high})
                continue
            row[name] = number_value
        elif name in FLOATS:
            low, high = FLOATS[name]
            try:
                float_value = float(text)
            except ValueError:
                error(_("Enter a number."))
                continue
            if not low <= float_value <= high:
                error(_("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high})
                continue
            row[name] = float_value
        elif name in DATES:
            if isinstance(raw, (datetime, date)):
                row[name] = raw.date() if isinstance(raw, datetime) else raw
                continue
            if isinstance(raw, float) and 1 <= raw < 2958466:  # an Excel date serial
                row[name] = date(1899, 12, 30) + timedelta(days=int(raw))
                continue
            try:
                row[name] = date.fromisoformat(text.replace("/", "-"))
            except ValueError:
                error(_("Enter a date such as 2026-01-31."))
        elif name == "id_number":
            value = personal_data.normalise_id_number(text)
            if not personal_data.id_number_is_valid(value):
                error(_("Enter a valid 18-digit resident ID number."))
                continue
            row[name] = value
        elif name in {"phone", "owner_phone_value", "contact_phone_value"}:
            value = personal_data.normalise_phone(text)
            if not personal_data.phone_is_valid(value):
                error(_("Enter a mainland mobile number or a landline such as 0596-1234567."))
                continue
            row[name] = value
        elif name == "is_key":
            if text not in {"是", "否"}:
                error(_("Enter 是 or 否."))
                continue
            row[name] = text == "是"
        elif name == "tags":
            names = [part.strip() for part in text.replace("，", ",").replace("、", ",").split(",")]
            unknown = [part for part in names if part and part not in tags]
            if unknown:
                error(_("Unknown tags: %(tags)s.") % {"tags": "、".join(unknown)})
                continue
            row[name] = sorted({tags[part].pk for part in names if part})
        else:
            row[name] = text
    return row


def _existing_key(kind: str, row: dict[str, Any]) -> tuple:
    if kind == "building":
        return ("address", row.get("address"))
    if kind == "home":
        return ("home", row.get("building"), row.get("number"))
    if kind == "person":
        if row.get("id_number"):
            return ("id", personal_data.lookup_key("id", row["id_number"]))
        return ("name_home", row.get("name"), row.get("building"), row.get("home"))
    if kind == "organisation" and row.get("credit_code"):
        return ("credit", row["credit_code"])
    return ("name_address", row.get("name"), row.get("address", ""))


class _Context:
    """What a file's rows are matched against: the cell's records, read in a few queries."""

    def __init__(self, kind: str, cell: GridCell, rows: list[dict[str, Any]]):
        self.kind = kind
        self.cell = cell
        self.buildings = {b.address: b for b in Building.objects.filter(cell=cell)}
        self.homes: dict[tuple[str, str], Home] = {}
        if kind == "person":
            for home in Home.objects.filter(cell=cell).select_related("building"):
                self.homes[(home.building.address, home.number)] = home
        self.existing: dict[tuple, Any] = {}
        if kind == "building":
            self.existing = {("address", a): b for a, b in self.buildings.items()}
        elif kind == "home":
            for home in Home.objects.filter(cell=cell).select_related("building"):
                self.existing[("home", home.building.address, home.number)] = home
        elif kind == "person":
            keys = [
                personal_data.lookup_key("id", r["id_number"]) for r in rows if r.get("id_number")
            ]
            self.by_id_elsewhere: set[str] = set()
            for start in range(0, len(keys), 500):
                for person in Person.objects.filter(id_key__in=keys[start : start + 500]):
                    if person.cell_id == cell.pk:
                        self.existing[("id", person.id_key)] = person
                    else:
                        self.by_id_elsewhere.add(person.id_key)
            for person in Person.objects.filter(cell=cell, home__isnull=False).select_related(
                "home__building"
            ):
                self.existing.setdefault(
                    ("name_home", person.name, person.home.building.address, person.home.number),
                    person,
                )
        elif kind == "organisation":
            for org in Organisation.objects.filter(cell=cell):
                if org.credit_code:
                    self.existing[("credit", org.credit_code)] = org
                self.existing[("name_address", org.name, org.address)] = org
        elif kind == "place":
            for place in Place.objects.filter(cell=cell):
                self.existing[("name_address", place.name, place.address)] = place


def _validate(kind: str, cell: GridCell, content: bytes) -> tuple[Preview, _Context | None]:
    result = Preview(kind=kind)
    headers, body = _read(content)
    expected = [header for header, _n, _r in COLUMNS[kind]]
    missing = [h for h, _n, required in COLUMNS[kind] if required and h not in headers]
    unknown = [h for h in headers if h and h not in expected]
    for header in missing:
        result.errors.append((1, header, _("This column is missing from the first row.")))
    for header in unknown:
        result.errors.append((1, header, _("Unknown column: use the template.")))
    if len(body) > MAX_ROWS:
        result.errors.append((1, "", _("At most %(n)s rows per file.") % {"n": MAX_ROWS}))
    if result.errors:
        return result, None
    if not body:
        result.errors.append((2, "", _("The file has no rows.")))
        return result, None
    tags = {tag.name: tag for tag in PersonTag.objects.filter(active=True)}
    for number, values in body:
        by_header = dict(zip(headers, values, strict=False))
        result.rows.append(_parse_row(kind, number, by_header, result.errors, tags))
    context = _Context(kind, cell, result.rows)
    seen: dict[tuple, int] = {}
    for row in result.rows:
        number = row["_row"]
        key = _existing_key(kind, row)
        if None in key:
            continue
        if key in seen:
            result.errors.append(
                (number, "", _("The same record as row %(row)s.") % {"row": seen[key]})
            )
            continue
        seen[key] = number
        if kind == "home" and row.get("building") not in context.buildings:
            result.errors.append(
                (number, "楼栋地址", _("No building with this address in the grid cell."))
            )
        if kind == "person":
            if key[0] == "id" and key[1] in context.by_id_elsewhere:
                result.errors.append(
                    (number, "身份证号", _("This person is registered in another grid cell."))
                )
            if bool(row.get("building")) != bool(row.get("home")):
                result.errors.append(
                    (number, "房号", _("Give both the building address and the room number."))
                )
            elif row.get("building") and (row["building"], row["home"]) not in context.homes:
                result.errors.append(
                    (number, "房号", _("No such home in the grid cell: import the homes first."))
                )
            if not row.get("id_number") and not row.get("home"):
                result.errors.append(
                    (number, "身份证号", _("Give the ID number or the home (building and room)."))
                )
            arrival, departure = row.get("arrival_date"), row.get("expected_departure_date")
            if arrival and departure and departure < arrival:
                result.errors.append(
                    (
                        number,
                        "预计离开日期",
                        _("The expected departure cannot be before the arrival."),
                    )
                )
        if kind == "home":
            occupancy = row.get("occupancy", "owner")
            if occupancy != "rented" and row.get("tenant_count"):
                result.errors.append((number, "租户人数", _("Only a rented home has tenants.")))
        if (
            (row.get("lat") is None) != (row.get("lng") is None)
            and kind != "home"
            and kind != "person"
        ):
            result.errors.append(
                (number, "纬度", _("Enter both latitude and longitude, or neither."))
            )
        if key in context.existing:
            result.updates += 1
        else:
            result.creates += 1
    result.errors.sort(key=lambda error: (error[0], error[1]))
    return result, context


def preview(*, user: User, kind: str, cell: GridCell, content: bytes) -> Preview:
    if kind not in COLUMNS:
        raise ValidationFailed(_("Choose what the file holds."))
    if not area_for(user).may_write(cell):
        raise ValidationFailed(_("You may not change the records of this grid cell."))
    try:
        result, _context = _validate(kind, cell, content)
    except ValidationFailed as exc:
        return Preview(kind=kind, errors=[(0, "", exc.message)])
    return result


def upload_keep(
    *, user: User, kind: str, cell: GridCell, content: bytes, file_name: str, row_count: int
) -> ImportUpload:
    return ImportUpload.objects.create(
        created_by=user,
        kind=kind,
        cell=cell,
        file_name=file_name[:200],
        content=crypto.encrypt(base64.b64encode(content).decode()),
        row_count=row_count,
    )


def apply_upload(*, user: User, upload: ImportUpload) -> Result:
    content = base64.b64decode(crypto.decrypt(upload.content))
    result = import_content(user=user, kind=upload.kind, cell=upload.cell, content=content)
    ImportUpload.objects.filter(pk=upload.pk).update(applied_at=timezone.now(), content="")
    return result


def import_content(*, user: User, kind: str, cell: GridCell, content: bytes) -> Result:
    """Validate and write the whole file in one transaction (every row or none)."""
    if not area_for(user).may_write(cell):
        raise ValidationFailed(_("You may not change the records of this grid cell."))
    with transaction.atomic():
        GridCell.objects.select_for_update().filter(
            pk=cell.pk
        ).first()  # one import per cell at a time
        checked, context = _validate(kind, cell, content)
        if checked.errors or context is None:
            raise ValidationFailed(
                _("The file has errors: nothing was imported. Check the preview."),
                extra={"file": [f"{r}:{c} {m}" for r, c, m in checked.errors_shown[:20]]},
            )
        return _write(user, kind, cell, checked.rows, context)


def _write(user: User, kind: str, cell: GridCell, rows: list[dict], context: _Context) -> Result:
    model = {
        "building": Building,
        "home": Home,
        "person": Person,
        "organisation": Organisation,
        "place": Place,
    }[kind]
    now = timezone.now()
    result = Result()
    creates: list[Any] = []
    create_tags: list[list[int]] = []
    changes: list[RecordChange] = []
    for row in rows:
        key = _existing_key(kind, row)
        existing = context.existing.get(key)
        obj = existing or model(cell=cell, region_code=cell.community.code, created_by=user)
        before = _snapshot(obj) if existing else None
        values = {
            k: v
            for k, v in row.items()
            if not k.startswith("_") and k not in {"tags", "building", "home"}
        }
        if kind == "home":
            obj.building = context.buildings[row["building"]]
        if kind == "person":
            if row.get("home"):
                obj.home = context.homes[(row["building"], row["home"])]
            if "id_number" in values:
                obj.id_number = values.pop("id_number")
                obj.birth_date = obj.birth_date or personal_data.birth_date_from_id(obj.id_number)
                obj.gender = obj.gender or personal_data.gender_from_id(obj.id_number)
            if "phone" in values:
                obj.phone = values.pop("phone")
        for name, value in values.items():
            setattr(obj, name, value)
        obj.updated_by = user
        obj.active = True
        if existing:
            after = _snapshot(obj)
            diff = {
                name: (["***", "***"] if name.endswith("_value") else [before.get(name), new])  # type: ignore[union-attr]
                for name, new in after.items()
                if before.get(name) != new  # type: ignore[union-attr]
            }
            if diff or (kind == "person" and "tags" in row):
                obj.save()
                if kind == "person" and "tags" in row:
                    obj.tags.set(row["tags"])
                changes.append(
                    RecordChange(
                        model=kind,
                        object_id=obj.pk,
                        action="imported",
                        actor=user,
                        at=now,
                        changes=diff,
                    )
                )
                result.updated += 1
        else:
            creates.append(obj)
            create_tags.append(row.get("tags", []))
    created = model.objects.bulk_create(creates, batch_size=500)
    if kind == "person":
        through = Person.tags.through
        through.objects.bulk_create(
            [
                through(person_id=obj.pk, persontag_id=tag_id)
                for obj, tag_ids in zip(created, create_tags, strict=True)
                for tag_id in tag_ids
            ],
            batch_size=1000,
        )
    for obj in created:
        if obj.pk is None:  # a backend that does not return ids from bulk_create
            raise RuntimeError("bulk_create returned no primary keys")
        changes.append(
            RecordChange(
                model=kind,
                object_id=obj.pk,
                action="imported",
                actor=user,
                at=now,
                changes={"source": ["", "xlsx"]},
            )
        )
    RecordChange.objects.bulk_create(changes, batch_size=1000)
    result.created = len(created)
    return result
