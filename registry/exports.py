"""xlsx exports of registry: the 台账 of a cell or region (masked unless the role may see ID
numbers and phones; every export is an audit event) and the supervision counts."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from accounts.models import User
from audit.models import AuditKind
from audit.services import record
from core.spreadsheets import formula_safe
from grids.models import GridCell, Region
from registry import personal_data, selectors
from registry.models import Building, Home, Organisation, Person, Place

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 200_000


def _sheet(workbook: Workbook, title: str, headers: list[str], rows) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([formula_safe(value) for value in row])


def _date(value) -> str:
    return value.isoformat() if value else ""


def ledger_xlsx(*, user: User, cell: GridCell | None = None, region: Region | None = None) -> bytes:
    from registry.policies import may_unmask

    full = may_unmask(user)
    record(
        AuditKind.EXPORTED,
        actor=user,
        object_type="registry.person",
        details={
            "kind": "registry_ledger_xlsx",
            "cell": cell.code if cell else "",
            "region": region.code if region else "",
            "unmasked": full,
        },
    )

    def narrowed(model: type):
        qs = selectors.scoped(model, user).filter(active=True)
        if cell is not None:
            qs = qs.filter(cell=cell)
        elif region is not None:
            qs = qs.filter(region_code__startswith=region.prefix)
        return qs.select_related("cell")

    def id_of(value: str) -> str:
        return value if full else personal_data.masked_id(value)

    def phone_of(value: str) -> str:
        return value if full else personal_data.masked_phone(value)

    with translation.override("zh-hans"):
        workbook = Workbook()
        workbook.remove(workbook.active)
        _sheet(
            workbook,
            _("Buildings"),
            [
                _("grid cell"),
                _("name"),
                _("address"),
                _("floors"),
                _("use"),
                _("latitude"),
                _("longitude"),
            ],
            (
                (b.cell.name, b.name, b.address, b.floors, b.get_use_display(), b.lat, b.lng)
                for b in narrowed(Building).order_by("cell_id", "address")[:MAX_ROWS]
            ),
        )
        _sheet(
            workbook,
            _("Homes"),
            [
                _("grid cell"),
                _("building"),
                _("room number"),
                _("occupancy"),
                _("number of tenants"),
                _("owner"),
                _("owner's phone"),
            ],
            (
                (
                    h.cell.name,
                    h.building.address,
                    h.number,
                    h.get_occupancy_display(),
                    h.tenant_count,
                    h.owner_name,
                    phone_of(h.owner_phone_value),
                )
                for h in narrowed(Home)
                .select_related("building")
                .order_by("cell_id", "building_id", "number")[:MAX_ROWS]
            ),
        )
        _sheet(
            workbook,
            _("People"),
            [
                _("grid cell"),
                _("name"),
                _("ID number"),
                _("phone"),
                _("kind"),
                _("home"),
                _("household number"),
                _("arrival date"),
                _("expected departure"),
                _("tags"),
            ],
            (
                (
                    p.cell.name,
                    p.name,
                    id_of(p.id_number),
                    phone_of(p.phone),
                    p.get_kind_display(),
                    p.home.address if p.home else "",
                    p.household_number,
                    _date(p.arrival_date),
                    _date(p.expected_departure_date),
                    "、".join(t.name for t in p.tags.all()),
                )
                for p in narrowed(Person)
                .select_related("home__building")
                .prefetch_related("tags")
                .order_by("cell_id", "name", "pk")[:MAX_ROWS]
            ),
        )
        _sheet(
            workbook,
            _("Organisations"),
            [
                _("grid cell"),
                _("name"),
                _("kind"),
                _("unified social credit code"),
                _("address"),
                _("contact"),
                _("contact phone"),
            ],
            (
                (
                    o.cell.name,
                    o.name,
                    o.get_kind_display(),
                    o.credit_code,
                    o.address,
                    o.contact_name,
                    phone_of(o.contact_phone_value),
                )
                for o in narrowed(Organisation).order_by("cell_id", "name")[:MAX_ROWS]
            ),
        )
        _sheet(
            workbook,
            _("Places"),
            [
                _("grid cell"),
                _("name"),
                _("kind"),
                _("key place (重点场所)"),
                _("address"),
                _("contact"),
                _("contact phone"),
                _("safety notes"),
            ],
            (
                (
                    p.cell.name,
                    p.name,
                    p.get_kind_display(),
                    _("yes") if p.is_key else _("no"),
                    p.address,
                    p.contact_name,
                    phone_of(p.contact_phone_value),
                    p.safety_notes,
                )
                for p in narrowed(Place).order_by("cell_id", "name")[:MAX_ROWS]
            ),
        )
        # Key persons: only those the user may see (never more than the key-person pages).
        kps = selectors.key_persons(user).filter(status="active")
        if cell is not None:
            kps = kps.filter(cell=cell)
        elif region is not None:
            kps = kps.filter(region_code__startswith=region.prefix)
        kp_rows = [
            (
                kp.cell.name,
                kp.person.name,
                id_of(kp.person.id_number),
                kp.kind.name,
                kp.risk_level,
                str(kp.responsible_worker or ""),
                timezone.localtime(kp.last_visit_at).strftime("%Y-%m-%d")
                if kp.last_visit_at
                else "",
                _date(kp.next_visit_due),
            )
            for kp in kps.order_by("cell_id", "pk")[:MAX_ROWS]
        ]
        if kp_rows:
            _sheet(
                workbook,
                _("Key persons"),
                [
                    _("grid cell"),
                    _("name"),
                    _("ID number"),
                    _("kind"),
                    _("risk level"),
                    _("responsible grid worker"),
                    _("last visit"),
                    _("next visit due"),
                ],
                kp_rows,
            )
        buffer = BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


def stats_xlsx(*, user: User, region: Region | None) -> bytes:
    record(
        AuditKind.EXPORTED,
        actor=user,
        object_type="registry.stats",
        details={"kind": "registry_stats_xlsx", "region": region.code if region else ""},
    )
    with translation.override("zh-hans"):
        workbook = Workbook()
        workbook.remove(workbook.active)
        rows: list[list[Any]] = []
        for row in selectors.drill_down(user, region):
            compliance = row.get("compliance") or {}
            rate = compliance.get("rate")
            rows.append(
                [
                    row["name"],
                    row.get("buildings", 0),
                    row.get("people", 0),
                    row.get("key_persons", 0),
                    row.get("overdue", 0),
                    "" if rate is None else f"{rate * 100:.1f}%",
                ]
            )
        _sheet(
            workbook,
            _("Basic data"),
            [
                _("region"),
                _("Buildings"),
                _("People"),
                _("Key persons"),
                _("overdue visits"),
                _("visits on time"),
            ],
            rows,
        )
        buffer = BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
