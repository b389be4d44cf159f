"""The tables an export writes: the incident ledger, mediation cases, petitions and the KPI
table, each the same query as its page, headers in Chinese, personal data masked unless the
user may see it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import ROLES_SEEING_CONTACTS, User
from core.exceptions import ValidationFailed
from core.masking import mask_id_number, mask_name, mask_phone
from governance import kpis
from governance.models import ExportKind


def sees_contacts(user: User) -> bool:
    return bool(user.is_superuser or user.role_codes & ROLES_SEEING_CONTACTS)


def _local(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


@dataclass
class ExportTable:
    """What an export writes: a title (sheet and file name), Chinese headers, the row count
    and a way to iterate the rows (run again when the file is written)."""

    title: str
    headers: list[str]
    count: int
    rows: Callable[[], Iterator[list[Any]]]


# --- the tables ---------------------------------------------------------------------------------


def incident_row(incident, *, viewer: User, contacts: bool, now: datetime) -> list[Any]:
    """One incident as the ledger page and the exports show it."""
    phone = incident.reporter_phone or (incident.reporter.phone if incident.reporter else "")
    name = incident.reporter_name or (str(incident.reporter) if incident.reporter else "")
    own = incident.reporter_id is not None and incident.reporter_id == viewer.pk
    if not (contacts or own):
        phone, name = mask_phone(phone), mask_name(name)
    unit = incident.handling_department or (
        incident.handling_region.name if incident.handling_region else ""
    )
    overdue = bool(
        incident.due_at and incident.due_at < now and incident.state in kpis.DEADLINE_STATES
    )
    yes, no = _("yes"), _("no")
    return [
        incident.tracking_number,
        _local(incident.created_at),
        incident.category.display_name,
        incident.description,
        incident.address,
        incident.region.name if incident.region else "",
        incident.grid_cell.name if incident.grid_cell else "",
        name,
        phone,
        incident.get_channel_display(),
        incident.get_state_display(),
        yes if incident.urgent else no,
        incident.get_handling_level_display() if incident.handling_level else "",
        unit,
        str(incident.assignee) if incident.assignee else "",
        _local(incident.dispatched_at),
        _local(incident.resolve_due_at),
        _local(incident.resolved_at),
        _local(incident.closed_at),
        _local(incident.due_at),
        yes if overdue else no,
        yes if incident.parked else no,
        incident.rework_count,
        incident.extension_count,
        incident.escalation_level,
        incident.rating if incident.rating is not None else "",
    ]


def incident_headers() -> list[str]:
    return [
        pgettext("supervision", "Tracking number"),
        pgettext("supervision", "Reported at"),
        pgettext("supervision", "Category"),
        pgettext("supervision", "Description"),
        pgettext("supervision", "Address"),
        pgettext("supervision", "Community"),
        pgettext("supervision", "Grid cell"),
        pgettext("supervision", "Reporter"),
        pgettext("supervision", "Reporter's phone"),
        pgettext("supervision", "Channel"),
        pgettext("supervision", "State"),
        pgettext("supervision", "Urgent"),
        pgettext("supervision", "Handling level"),
        pgettext("supervision", "Handling unit"),
        pgettext("supervision", "Assignee"),
        pgettext("supervision", "Dispatched at"),
        pgettext("supervision", "Resolve by"),
        pgettext("supervision", "Resolved at"),
        pgettext("supervision", "Closed at"),
        pgettext("supervision", "Current deadline"),
        pgettext("supervision", "Overdue"),
        pgettext("supervision", "Parked"),
        pgettext("supervision", "Times reworked"),
        pgettext("supervision", "Extensions"),
        pgettext("supervision", "Escalations"),
        pgettext("supervision", "Rating"),
    ]


def _incidents_table(user: User, params: dict[str, Any]) -> ExportTable:
    now = timezone.now()
    qs = kpis.ledger_queryset(user=user, params=params, now=now)
    contacts = sees_contacts(user)
    kpi = str(kpis.ledger_data(params).get("kpi") or "")
    title = _("Incident ledger")
    if kpi in kpis.SETS:
        title = f"{title}-{kpis.SETS[kpi].name}"

    def rows() -> Iterator[list[Any]]:
        for incident in qs.iterator(chunk_size=1000):
            yield incident_row(incident, viewer=user, contacts=contacts, now=now)

    return ExportTable(title=title, headers=incident_headers(), count=qs.count(), rows=rows)


def _period_and_region(user: User, params: dict[str, Any]) -> kpis.KpiQuery:
    data = kpis.ledger_data(params)
    return kpis.kpi_query_build(
        user=user,
        params={
            "region": data.get("region") or data.get("community") or "",
            "start": data.get("start") or "",
            "end": data.get("end") or "",
        },
        require_kpi_access=False,
    )


def _mediation_table(user: User, params: dict[str, Any]) -> ExportTable:
    """Mediation cases applied for in the period in the region, as the user sees them."""
    from mediation.models import viewer_sees_contacts
    from mediation.selectors import cases_visible

    query = _period_and_region(user, params)
    qs = (
        cases_visible(user)
        .filter(created_at__gte=query.start_at, created_at__lt=query.end_at)
        .prefetch_related("parties")
        .order_by("created_at", "id")
    )
    if query.region is not None:
        qs = qs.filter(**kpis.region_code_range(query.region.prefix))
    contacts = viewer_sees_contacts(user)
    headers = [
        _("Case number"),
        _("Applied at"),
        _("Mediation room"),
        _("Mediator"),
        _("Dispute type"),
        _("Source"),
        _("Parties"),
        _("ID numbers"),
        _("Phones"),
        _("State"),
        _("Outcome"),
        _("Settle by"),
        _("Concluded at"),
        _("Days to conclude"),
    ]

    def rows() -> Iterator[list[Any]]:
        for case in qs.iterator(chunk_size=500):
            parties = list(case.parties.all())
            days: str | float = ""
            if case.concluded_at:
                days = round((case.concluded_at - case.created_at).total_seconds() / 86400, 1)
            yield [
                case.case_number,
                _local(case.created_at),
                case.room.name if case.room_id else "",
                str(case.mediator) if case.mediator_id else "",
                case.category.name if case.category is not None else "",
                case.get_source_display(),
                "、".join(p.name if contacts else mask_name(p.name) for p in parties),
                "、".join(
                    p.id_number if contacts else mask_id_number(p.id_number)
                    for p in parties
                    if p.id_number
                ),
                "、".join(p.phone if contacts else mask_phone(p.phone) for p in parties if p.phone),
                case.get_state_display(),
                case.get_outcome_display() if case.outcome else "",
                _local(case.due_at),
                _local(case.concluded_at),
                days,
            ]

    return ExportTable(
        title=_("Mediation case ledger"), headers=headers, count=qs.count(), rows=rows
    )


def _petitions_table(user: User, params: dict[str, Any]) -> ExportTable:
    """Petitions received in the period in the region (petitions.selectors scoping; merged
    submissions left out as in the petitions analysis)."""
    from petitions import selectors as petition_selectors
    from petitions.policies import can_see_id_number, can_see_phone

    query = _period_and_region(user, params)
    qs = (
        petition_selectors.petitions_for_analysis(
            user=user, date_from=query.start, date_to=query.end
        )
        .prefetch_related("petitioners")
        .order_by("received_at", "id")
    )
    if query.region is not None:
        qs = qs.filter(**kpis.region_code_range(query.region.prefix))
    headers = [
        _("Tracking number"),
        _("Received at"),
        _("Channel"),
        _("Kind"),
        _("Category"),
        _("Matter"),
        _("Petitioners"),
        _("ID numbers"),
        _("Phones"),
        _("Region where the matter arose"),
        _("State"),
        _("Reply by"),
        _("Replied at"),
        _("Replied in time"),
        _("Satisfaction"),
    ]
    yes, no = _("yes"), _("no")

    def rows() -> Iterator[list[Any]]:
        for petition in qs.iterator(chunk_size=500):
            people = list(petition.petitioners.all())
            phones = can_see_phone(user, petition)
            ids = can_see_id_number(user, petition)
            in_time = petition.replied_on_time
            yield [
                petition.tracking_number,
                _local(petition.received_at),
                petition.get_channel_display(),
                petition.get_kind_display(),
                petition.category.name if petition.category_id else "",
                petition.matter,
                "、".join(p.name if phones else mask_name(p.name) for p in people),
                "、".join(
                    p.id_number if ids else p.masked_id_number for p in people if p.id_number
                ),
                "、".join(p.phone if phones else p.masked_phone for p in people if p.phone),
                petition.region.name if petition.region_id else "",
                petition.get_state_display(),
                _local(petition.reply_due_at),
                _local(petition.replied_at),
                "" if in_time is None else (yes if in_time else no),
                petition.get_satisfaction_display() if petition.satisfaction else "",
            ]

    return ExportTable(title=_("Petition ledger"), headers=headers, count=qs.count(), rows=rows)


def kpi_headers() -> list[str]:
    headers = [_("Group")]
    numerator, denominator = _("numerator"), _("denominator")
    for kpi in kpis.KPIS:
        headers.append(str(kpi.name))
        if kpi.kind != "count":
            headers.append(f"{kpi.name}·{numerator}")
            headers.append(f"{kpi.name}·{denominator}")
    return headers


def kpi_row_cells(row: kpis.KpiRow) -> list[Any]:
    cells: list[Any] = [row.label]
    for kpi in kpis.KPIS:
        value = row.values[kpi.key]
        cells.append(value.display)
        if kpi.kind != "count":
            numerator: float = value.numerator
            if kpi.kind == "hours":  # total hours over the incidents counted
                numerator = round(value.numerator / 3600, 2)
            cells.extend([numerator, value.denominator])
    return cells


def _kpis_table(user: User, params: dict[str, Any]) -> ExportTable:
    data = kpis.ledger_data(params)
    query = kpis.kpi_query_build(user=user, params={k: data.get(k) for k in data})
    table = kpis.kpi_table(query)

    def rows() -> Iterator[list[Any]]:
        for row in table.rows:
            yield kpi_row_cells(row)
        yield kpi_row_cells(table.total)

    region = query.region.name if query.region else ""
    name = _("KPI table")
    title = f"{name}-{region}-{query.start:%Y%m%d}-{query.end:%Y%m%d}"
    return ExportTable(title=title, headers=kpi_headers(), count=len(table.rows) + 1, rows=rows)


TABLES: dict[str, Callable[[User, dict[str, Any]], ExportTable]] = {
    ExportKind.INCIDENTS: _incidents_table,
    ExportKind.MEDIATION: _mediation_table,
    ExportKind.PETITIONS: _petitions_table,
    ExportKind.KPIS: _kpis_table,
}


def export_table(*, user: User, kind: str, params: dict[str, Any]) -> ExportTable:
    """The table of an export, headers in Chinese. Raises the selectors' errors (403, 404,
    400) for parameters the user may not use."""
    if kind not in TABLES:
        raise ValidationFailed(_("Unknown export."), extra={"kind": [_("Unknown export.")]})
    with translation.override("zh-hans"):
        return TABLES[kind](user, params)
