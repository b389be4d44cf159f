"""Supervision figures of mass prevention (群防群治), scoped to a region: patrol coverage (cells
patrolled in 24 h / 7 days by anyone: grid workers', teams' and volunteers' patrol logs all
live in incidents.PatrolLog), volunteers active, hours per month, hazards found by volunteers,
the fill rate of posted tasks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from grids.models import GridCell, Region
from volunteers.models import (
    Claim,
    ClaimState,
    HazardFound,
    PatrolTask,
    ServiceRecord,
    TaskState,
    Volunteer,
    VolunteerState,
)


@dataclass
class Figures:
    region: Region | None
    cells: int
    covered_24h: int
    covered_7d: int
    volunteers: int
    volunteers_active: int
    hours_month: Decimal
    hazards_month: int
    places: int
    taken: int

    @property
    def coverage_24h(self) -> float:
        return round(100 * self.covered_24h / self.cells, 1) if self.cells else 0.0

    @property
    def coverage_7d(self) -> float:
        return round(100 * self.covered_7d / self.cells, 1) if self.cells else 0.0

    @property
    def fill_rate(self) -> float:
        return round(100 * self.taken / self.places, 1) if self.places else 0.0


def _patrolled_cell_ids(prefix: str, since: datetime) -> set[int]:
    from incidents.models import PatrolLog

    return set(
        PatrolLog.objects.filter(
            Q(ended_at__isnull=True) | Q(ended_at__gte=since),
            cells__code__startswith=prefix,
        ).values_list("cells__id", flat=True)
    ) - {None}


def figures(prefix: str, *, region: Region | None = None, now: datetime | None = None) -> Figures:
    now = now or timezone.now()
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    cells = set(
        GridCell.objects.filter(code__startswith=prefix, active=True).values_list("pk", flat=True)
    )
    covered_24h = _patrolled_cell_ids(prefix, now - timedelta(hours=24)) & cells
    covered_7d = _patrolled_cell_ids(prefix, now - timedelta(days=7)) & cells
    volunteers = Volunteer.objects.filter(
        region_code__startswith=prefix, state=VolunteerState.APPROVED
    )
    active = (
        Claim.objects.filter(
            volunteer__region_code__startswith=prefix,
            state__in=[ClaimState.ON_DUTY, ClaimState.COMPLETED],
            checked_in_at__gte=now - timedelta(days=30),
        )
        .values("volunteer_id")
        .distinct()
        .count()
    )
    hours = ServiceRecord.objects.filter(
        region_code__startswith=prefix,
        corrected_by__isnull=True,
        started_at__gte=month_start,
    ).aggregate(total=Sum("hours"))["total"] or Decimal("0")
    hazards = HazardFound.objects.filter(
        claim__task__region_code__startswith=prefix, created_at__gte=month_start
    ).count()
    tasks = PatrolTask.objects.filter(
        region_code__startswith=prefix,
        state=TaskState.OPEN,
        starts_at__gte=now - timedelta(days=30),
    ).aggregate(places=Sum("places"), taken=Sum("taken"))
    return Figures(
        region=region,
        cells=len(cells),
        covered_24h=len(covered_24h),
        covered_7d=len(covered_7d),
        volunteers=volunteers.count(),
        volunteers_active=active,
        hours_month=hours,
        hazards_month=hazards,
        places=tasks["places"] or 0,
        taken=tasks["taken"] or 0,
    )


def coverage_map(prefix: str, *, now: datetime | None = None) -> dict:
    """GeoJSON of the region's cells, each with when it was last patrolled (24h / 7d / no)."""
    now = now or timezone.now()
    day = _patrolled_cell_ids(prefix, now - timedelta(hours=24))
    week = _patrolled_cell_ids(prefix, now - timedelta(days=7))
    features = []
    for cell in GridCell.objects.filter(code__startswith=prefix, active=True):
        status = "24h" if cell.pk in day else "7d" if cell.pk in week else "none"
        features.append(
            {
                "type": "Feature",
                "geometry": cell.geometry,
                "properties": {"code": cell.code, "name": cell.name, "patrolled": status},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def drill_down(region: Region, *, now: datetime | None = None) -> list[Figures]:
    """The figures of each child region (communities under a street, streets under a
    district …)."""
    return [
        figures(child.prefix, region=child, now=now) for child in region.children.order_by("code")
    ]
