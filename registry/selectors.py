"""Reads of the grid's basic data, every one scoped to the user (registry.policies)."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from grids.models import GridCell, Region
from registry import personal_data
from registry.models import (
    Building,
    Home,
    KeyPerson,
    KeyPersonKind,
    Organisation,
    Person,
    Place,
    RecordChange,
    Visit,
)
from registry.policies import area_for, key_person_q

BASIC_MODELS: dict[str, Any] = {
    "building": Building,
    "home": Home,
    "person": Person,
    "organisation": Organisation,
    "place": Place,
}


def scoped(model: Any, user: User | None) -> QuerySet:
    """The rows of a basic-data model that `user` may see."""
    area = area_for(user)
    if area.empty:
        return model.objects.none()
    return model.objects.filter(area.q())


def cells_visible(user: User | None) -> QuerySet:
    area = area_for(user)
    if area.empty:
        return GridCell.objects.none()
    return GridCell.objects.filter(
        area.q(cell_field="pk", code_field="community__code")
    ).select_related("community")


def cells_writable(user: User | None) -> QuerySet:
    area = area_for(user)
    if area.everything:
        return GridCell.objects.select_related("community")
    q = Q(pk__in=sorted(area.write_cell_ids))
    if area.write_prefix:
        q |= Q(community__code__startswith=area.write_prefix)
    return GridCell.objects.filter(q).select_related("community")


def get_scoped(model: Any, user: User | None, pk: Any) -> Any:
    """The row, or 404 (an out-of-scope row is audited as access_denied)."""
    from audit.services import record_out_of_scope

    try:
        return scoped(model, user).select_related("cell", "cell__community").get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        record_out_of_scope(user, model, pk)
        raise Http404 from None


def cell_for(user: User | None, pk: Any) -> GridCell:
    from audit.services import record_out_of_scope

    try:
        return cells_visible(user).get(pk=pk)
    except (GridCell.DoesNotExist, ValueError, TypeError):
        record_out_of_scope(user, GridCell, pk)
        raise Http404 from None


def people_of_cell(user: User | None, cell: GridCell) -> QuerySet:
    """The cell's people list in name order (index registry_person_cell_name)."""
    return scoped(Person, user).filter(cell=cell, active=True).order_by("name", "pk")


def people_search(user: User | None, query: str, *, limit: int = 50) -> list[Person]:
    """A search by ID number (exact, through the blind index) or by name prefix, inside the
    user's area. An ID number never reaches the database in clear."""
    query = (query or "").strip()
    if not query:
        return []
    qs = scoped(Person, user).filter(active=True)
    normalised = personal_data.normalise_id_number(query)
    if personal_data.ID_PATTERN.match(normalised):
        return list(qs.filter(id_key=personal_data.lookup_key("id", normalised))[:limit])
    # The range (name >= query) lets the (region_code, name) / (name) indexes narrow the scan
    # on every database; startswith keeps the answer exact.
    return list(qs.filter(name__gte=query, name__startswith=query).order_by("name", "pk")[:limit])


def history(model_name: str, object_id: int, *, limit: int = 50) -> list[RecordChange]:
    """The change history of one record (the caller has checked that the record is visible)."""
    return list(
        RecordChange.objects.filter(model=model_name, object_id=object_id).select_related("actor")[
            :limit
        ]
    )


# ---------------------------------------------------------------- key persons


def key_persons(user: User | None) -> QuerySet:
    q = key_person_q(user)
    if q is None:
        return KeyPerson.objects.none()
    return KeyPerson.objects.filter(q).select_related(
        "person", "kind", "cell", "cell__community", "responsible_worker"
    )


def key_person_for(user: User | None, pk: Any) -> KeyPerson:
    from audit.services import record_out_of_scope

    try:
        return key_persons(user).get(pk=pk)
    except (KeyPerson.DoesNotExist, ValueError, TypeError):
        record_out_of_scope(user, KeyPerson, pk)
        raise Http404 from None


def key_persons_of_person(user: User | None, person: Person) -> list[KeyPerson]:
    return list(key_persons(user).filter(person=person))


def visits_of(key_person: KeyPerson, *, limit: int = 50) -> list[Visit]:
    return list(key_person.visits.select_related("visitor")[:limit])


def key_person_due_state(key_person: KeyPerson, today: date | None = None) -> str:
    today = today or timezone.localdate()
    if key_person.status != KeyPerson.Status.ACTIVE or key_person.next_visit_due is None:
        return ""
    if key_person.next_visit_due < today:
        return "overdue"
    plan = key_person.kind.plans.filter(risk_level=key_person.risk_level).first()
    warn = plan.warn_days_before if plan else 3
    if key_person.next_visit_due <= today + timedelta(days=warn):
        return "due_soon"
    return "ok"


# ---------------------------------------------------------------- supervision


def counts_for(user: User | None, region: Region | None = None) -> dict[str, Any]:
    """Counts of the user's area (optionally narrowed to one region). Key persons appear only
    as counts here, whoever asks."""
    area = area_for(user)

    def narrowed(model: Any) -> QuerySet:
        qs = model.objects.filter(area.q()) if not area.empty else model.objects.none()
        if region is not None:
            qs = qs.filter(region_code__startswith=region.prefix)
        return qs.filter(active=True) if model is not KeyPerson else qs

    people = narrowed(Person)
    homes = narrowed(Home)
    kps = narrowed(KeyPerson).filter(status=KeyPerson.Status.ACTIVE)
    today = timezone.localdate()
    by_kind = {row["kind"]: row["n"] for row in people.values("kind").annotate(n=Count("pk"))}
    kp_rows = list(kps.values("kind__name", "risk_level").annotate(n=Count("pk")))
    return {
        "buildings": narrowed(Building).count(),
        "homes": homes.count(),
        "rentals": homes.filter(occupancy=Home.Occupancy.RENTED).count(),
        "tenants": sum(homes.filter(occupancy="rented").values_list("tenant_count", flat=True)),
        "people": people.count(),
        "people_by_kind": [(label, by_kind.get(value, 0)) for value, label in Person.Kind.choices],
        "organisations": narrowed(Organisation).count(),
        "places": narrowed(Place).count(),
        "key_places": narrowed(Place).filter(is_key=True).count(),
        "key_persons": kps.count(),
        "key_persons_by_kind_risk": sorted(
            (r["kind__name"], r["risk_level"], r["n"]) for r in kp_rows
        ),
        "overdue": kps.filter(next_visit_due__lt=today).count(),
        "compliance": visit_compliance(kps, today=today),
    }


def visit_compliance(kps: QuerySet, *, today: date, days: int = 90) -> dict[str, Any]:
    """按期走访率: of the visits that fell due in the last `days` days (per key person: each due
    date of the plan), the share done on time. Approximated per key person as: followed and
    not overdue today / followed with a plan."""
    planned = kps.filter(next_visit_due__isnull=False).count()
    on_time = kps.filter(next_visit_due__gte=today).count()
    return {
        "planned": planned,
        "on_time": on_time,
        "rate": (on_time / planned) if planned else None,
    }


def drill_down(user: User | None, region: Region | None) -> list[dict[str, Any]]:
    """One row of counts per child region (or per cell under a community)."""
    if region is None:
        return []
    if region.level == Region.Level.COMMUNITY:
        rows = []
        for cell in GridCell.objects.filter(community=region).order_by("code"):
            counts = _cell_counts(user, cell)
            rows.append({"name": cell.name, "cell": cell, "region": None, **counts})
        return rows
    return [
        {"name": child.name, "region": child, "cell": None, **counts_for(user, child)}
        for child in region.children.order_by("code")
    ]


def _cell_counts(user: User | None, cell: GridCell) -> dict[str, Any]:
    area = area_for(user)
    if area.empty:
        return {"people": 0, "buildings": 0, "key_persons": 0, "overdue": 0}
    kps = KeyPerson.objects.filter(area.q(), cell=cell, status=KeyPerson.Status.ACTIVE)
    return {
        "people": Person.objects.filter(area.q(), cell=cell, active=True).count(),
        "buildings": Building.objects.filter(area.q(), cell=cell, active=True).count(),
        "key_persons": kps.count(),
        "overdue": kps.filter(next_visit_due__lt=timezone.localdate()).count(),
        "compliance": visit_compliance(kps, today=timezone.localdate()),
    }


# ---------------------------------------------------------------- map layers and suggestions


def map_layer(user: User | None, bbox: tuple[float, float, float, float] | None) -> dict:
    """GeoJSON points of the buildings and places the user may see (no people, no key
    persons: the map shows things, not residents)."""
    features: list[dict] = []
    for model, layer in ((Building, "building"), (Place, "place")):
        qs = scoped(model, user).filter(active=True, lat__isnull=False, lng__isnull=False)
        if bbox is not None:
            south, west, north, east = bbox
            qs = qs.filter(lat__gte=south, lat__lte=north, lng__gte=west, lng__lte=east)
        for row in qs.order_by("pk")[:2000]:
            properties = {"layer": layer, "id": row.pk, "name": row.name, "cell": row.cell_id}
            if layer == "place":
                properties.update(kind=row.kind, is_key=row.is_key)
            else:
                properties.update(use=row.use, floors=row.floors)
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [row.lng, row.lat]},
                    "properties": properties,
                }
            )
    return {"type": "FeatureCollection", "features": features}


def _distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    dy = (lat2 - lat1) * 111_320
    dx = (lng2 - lng1) * 111_320 * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(dx, dy)


def suggest(
    user: User | None, lat: float, lng: float, *, radius_m: float = 150, limit: int = 5
) -> list[dict]:
    """Buildings and places near a point, nearest first, inside the user's area: what the
    incident report form offers as "where"."""
    d_lat = radius_m / 111_320
    d_lng = radius_m / (111_320 * max(math.cos(math.radians(lat)), 0.01))
    found = []
    for model, layer in ((Building, "building"), (Place, "place")):
        qs = scoped(model, user).filter(
            active=True,
            lat__gte=lat - d_lat,
            lat__lte=lat + d_lat,
            lng__gte=lng - d_lng,
            lng__lte=lng + d_lng,
        )
        for row in qs[:200]:
            distance = _distance_m(lat, lng, row.lat, row.lng)
            if distance <= radius_m:
                found.append(
                    {
                        "type": layer,
                        "id": row.pk,
                        "name": row.name,
                        "address": row.address,
                        "distance_m": round(distance),
                    }
                )
    found.sort(key=lambda item: (item["distance_m"], item["type"], item["id"]))
    return found[:limit]


def kinds_active() -> QuerySet:
    return KeyPersonKind.objects.filter(active=True).prefetch_related("plans")
