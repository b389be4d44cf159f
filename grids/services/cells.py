"""Import of grid cells from GeoJSON (a FeatureCollection with code, name, kind and
community_code), and the geometric checks of one cell (grid_cell_check, used by the admin)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import shapely
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from grids.geometry import area_m2, polygon_from_geojson, polygon_problems
from grids.models import GridCell, Region
from grids.services._common import ImportProblem, ImportResult, _check_actor, _save_if_changed

logger = logging.getLogger("grids.services")

# Overlap and containment tolerances: slivers from digitising are not errors.
TOLERANCE_M2 = 1.0
TOLERANCE_SHARE = 0.005


@dataclass
class _CellCandidate:
    index: int | None
    code: str
    name: str
    kind: str
    community: Region
    geometry: dict
    shape: Any
    area: float


def _overlap_tolerance(area_a: float, area_b: float) -> float:
    return max(TOLERANCE_M2, TOLERANCE_SHARE * min(area_a, area_b))


def _geometric_problems(
    candidates: list[_CellCandidate], *, exclude_codes: set[str]
) -> list[tuple[_CellCandidate, str, str]]:
    """(candidate, field, message) for cells outside their community or overlapping another
    candidate or an active stored cell (stored cells whose code is in `exclude_codes` are being
    replaced and are not compared)."""
    found: list[tuple[_CellCandidate, str, str]] = []
    for candidate in candidates:
        boundary = candidate.community.boundary
        if not boundary:
            continue
        if polygon_problems(boundary):
            continue  # a broken stored boundary cannot judge; the admin fixes the region
        outside = candidate.shape.difference(polygon_from_geojson(boundary))
        outside_m2 = area_m2(outside) if not outside.is_empty else 0.0
        if outside_m2 > max(TOLERANCE_M2, TOLERANCE_SHARE * candidate.area):
            found.append(
                (
                    candidate,
                    "geometry",
                    _(
                        "The cell lies %(area).0f m² outside the boundary of its community "
                        "%(community)s."
                    )
                    % {"area": outside_m2, "community": candidate.community.code},
                )
            )

    stored: list[_CellCandidate] = []
    for code, name, geometry in (
        GridCell.objects.filter(active=True)
        .exclude(code__in=exclude_codes)
        .values_list("code", "name", "geometry")
    ):
        if polygon_problems(geometry):
            continue
        shp = polygon_from_geojson(geometry)
        stored.append(
            _CellCandidate(None, code, name, "", None, geometry, shp, area_m2(shp))  # type: ignore[arg-type]
        )
    everything = candidates + stored
    if len(everything) < 2:
        return found
    shapes = [c.shape for c in everything]
    tree = shapely.STRtree(shapes)
    left, right = tree.query(shapes, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i == j or i >= len(candidates):
            continue  # report each pair once, on a file candidate
        if j < len(candidates) and j < i:
            continue
        a, b = everything[i], everything[j]
        intersection = a.shape.intersection(b.shape)
        if intersection.is_empty or intersection.area == 0:
            continue  # a shared edge or corner
        overlap = area_m2(intersection)
        if overlap <= _overlap_tolerance(a.area, b.area):
            continue
        if b.index is not None:
            subject, other = (b, a)  # report on the later feature
            message = _("The cell overlaps features[%(other)s] (%(code)s) by %(area).0f m².") % {
                "other": other.index,
                "code": other.code,
                "area": overlap,
            }
        else:
            subject = a
            message = _("The cell overlaps the existing cell %(code)s by %(area).0f m².") % {
                "code": b.code,
                "area": overlap,
            }
        found.append((subject, "geometry", message))
    return found


def grid_cell_check(
    *, code: str, community: Region, geometry: Any, current_code: str | None = None
) -> tuple[list[str], float]:
    """(problems, area in m²) of one cell as the admin edits it: the same rules as the import."""
    messages = list(polygon_problems(geometry))
    if code[:12] != community.code:
        messages.append(
            _("The grid code must be the community code %(community)s followed by 3 digits.")
            % {"community": community.code}
        )
    if messages:
        return messages, 0.0
    shp = polygon_from_geojson(geometry)
    area = area_m2(shp)
    candidate = _CellCandidate(0, code, "", "", community, geometry, shp, area)
    exclude = {code} | ({current_code} if current_code else set())
    for _candidate, _field, message in _geometric_problems([candidate], exclude_codes=exclude):
        messages.append(message)
    return messages, area


def grid_cells_import(
    *, geojson_text: str, actor: User | None = None, dry_run: bool = False
) -> ImportResult:
    """Check a GeoJSON FeatureCollection of grid cells (properties code, name, kind,
    community_code) and, when it has no problem, create or update the cells in one transaction.

    Every problem is reported as "features[i]" (0-based index in the file). A cell whose code
    exists already is updated (its stored polygon is not compared with its new one).
    Requires: an admin actor when one is given (the management command passes none).
    """
    _check_actor(actor)
    result = ImportResult(dry_run=dry_run)
    problems = result.problems

    def problem(index: int | None, name: str, message: str) -> None:
        where = f"features[{index}]" if index is not None else _("file")
        problems.append(ImportProblem(where=where, field=name, message=message, index=index))

    try:
        document = json.loads(geojson_text.lstrip("\ufeff"))
    except ValueError as error:
        problem(None, "", _("The file is not valid JSON: %(error)s.") % {"error": error})
        return result
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        problem(None, "", _("The file must be a GeoJSON FeatureCollection."))
        return result
    features = document.get("features")
    if not isinstance(features, list) or not features:
        problem(None, "", _("The FeatureCollection has no features."))
        return result

    community_codes = set()
    for feature in features:
        if isinstance(feature, dict) and isinstance(feature.get("properties"), dict):
            value = feature["properties"].get("community_code")
            if isinstance(value, str):
                community_codes.add(value.strip())
    regions = {r.code: r for r in Region.objects.filter(code__in=community_codes)}
    kinds = set(GridCell.Kind.values)

    candidates: list[_CellCandidate] = []
    first_index_of: dict[str, int] = {}
    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problem(index, "", _("Not a GeoJSON Feature."))
            continue
        properties = feature.get("properties")
        if not isinstance(properties, dict):
            problem(index, "properties", _("The feature has no properties."))
            continue
        ok = True
        code = properties.get("code")
        code = str(code).strip() if isinstance(code, str | int) else ""
        name = properties.get("name")
        name = name.strip() if isinstance(name, str) else ""
        kind = properties.get("kind") or GridCell.Kind.BASIC
        community_code = properties.get("community_code")
        community_code = community_code.strip() if isinstance(community_code, str) else ""

        if not name:
            problem(index, "name", _("The name is empty."))
            ok = False
        elif len(name) > 64:
            problem(index, "name", _("The name is longer than 64 characters."))
            ok = False
        if kind not in kinds:
            problem(
                index,
                "kind",
                _("Unknown kind %(kind)s; use one of %(kinds)s.")
                % {"kind": kind, "kinds": ", ".join(GridCell.Kind.values)},
            )
            ok = False
        community = None
        if not (len(community_code) == 12 and community_code.isdigit()):
            problem(index, "community_code", _("A division code has 12 digits."))
            ok = False
        else:
            community = regions.get(community_code)
            if community is None:
                problem(
                    index,
                    "community_code",
                    _("Unknown community %(code)s: import it with the regions first.")
                    % {"code": community_code},
                )
                ok = False
            elif community.level != Region.Level.COMMUNITY:
                problem(
                    index,
                    "community_code",
                    _("%(code)s is a %(level)s, not a community.")
                    % {"code": community_code, "level": community.get_level_display()},
                )
                ok = False
        if not (len(code) == 15 and code.isdigit()):
            problem(index, "code", _("A grid code has 15 digits."))
            ok = False
        else:
            if community_code and code[:12] != community_code:
                problem(
                    index,
                    "code",
                    _(
                        "The grid code must be the community code %(community)s followed by "
                        "3 digits."
                    )
                    % {"community": community_code},
                )
                ok = False
            if code[12:] == "000":
                problem(index, "code", _("The grid number (last 3 digits) cannot be 000."))
                ok = False
            if code in first_index_of:
                problem(
                    index,
                    "code",
                    _("The code %(code)s already appears at features[%(other)s].")
                    % {"code": code, "other": first_index_of[code]},
                )
                ok = False
            else:
                first_index_of[code] = index
        geometry = feature.get("geometry")
        geometry_messages = polygon_problems(geometry)
        for message in geometry_messages:
            problem(index, "geometry", message)
        if ok and not geometry_messages:
            if geometry is None or community is None:  # both checked above (ok)
                raise AssertionError("both checked above (ok)")
            clean_geometry = {
                "type": "Polygon",
                "coordinates": [
                    [[float(p[0]), float(p[1])] for p in ring] for ring in geometry["coordinates"]
                ],
            }
            shp = polygon_from_geojson(clean_geometry)
            candidates.append(
                _CellCandidate(
                    index, code, name, kind, community, clean_geometry, shp, area_m2(shp)
                )
            )

    # Geometry between cells is judged on the well-formed features, so one broken feature
    # does not hide the overlaps of the others.
    for candidate, name, message in _geometric_problems(
        candidates, exclude_codes=set(first_index_of)
    ):
        problem(candidate.index, name, message)

    problems.sort(key=lambda p: p.index if p.index is not None else -1)
    if problems or dry_run:
        return result

    with transaction.atomic():
        existing = {
            c.code: c
            for c in GridCell.objects.select_for_update().filter(
                code__in=[c.code for c in candidates]
            )
        }
        for candidate in candidates:
            values = {
                "name": candidate.name,
                "kind": candidate.kind,
                "community_id": candidate.community.pk,
                "geometry": candidate.geometry,
                "area_m2": round(candidate.area, 1),
            }
            cell = existing.get(candidate.code)
            if cell is None:
                GridCell.objects.create(code=candidate.code, **values)
                result.created += 1
            elif _save_if_changed(cell, values):
                result.updated += 1
            else:
                result.unchanged += 1
    logger.info(
        "grid cells imported: %d created, %d updated, %d unchanged",
        result.created,
        result.updated,
        result.unchanged,
    )
    return result
