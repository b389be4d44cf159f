"""Writes of the grids app: imports of regions (CSV) and grid cells (GeoJSON).

Imports are all or nothing: the whole file is checked first and every problem is collected with
the place it was found (CSV line, GeoJSON feature index) and a reason; only a file without any
problem is written, in one transaction. Saving cells and regions marks the locator's index stale
(grids.signals).
"""

import csv
import io
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import shapely
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import PermissionDeniedError
from grids.geometry import area_m2, polygon_from_geojson, polygon_problems
from grids.models import GridCell, Region

logger = logging.getLogger(__name__)

# Overlap and containment tolerances: slivers from digitising are not errors.
TOLERANCE_M2 = 1.0
TOLERANCE_SHARE = 0.005

REGION_COLUMNS_REQUIRED = ("code", "name", "level", "parent_code")
REGION_COLUMNS_OPTIONAL = ("name_en", "boundary")
PARENT_LEVEL = {
    "province": None,
    "city": "province",
    "district": "city",
    "street": "district",
    "community": "street",
}


@dataclass(frozen=True)
class ImportProblem:
    """One problem of an import file. `where` names the place: "line 4", "features[2]", "file"."""

    where: str
    field: str
    message: str
    index: int | None = None  # CSV line number or feature index; None for the whole file

    def __str__(self) -> str:
        if self.field:
            return f"{self.where}: {self.field}: {self.message}"
        return f"{self.where}: {self.message}"


@dataclass
class ImportResult:
    problems: list[ImportProblem] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_actor(actor: User | None) -> None:
    if actor is not None and not actor.is_portal_admin:
        raise PermissionDeniedError(_("Only administrators may import regions and grid cells."))


def _save_if_changed(instance, values: dict[str, Any]) -> bool:
    """Set `values` on `instance` and save only when something differs (keeps updated_at)."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if not changed:
        return False
    for name in changed:
        setattr(instance, name, values[name])
    instance.save()
    return True


# --------------------------------------------------------------------------- regions


def region_level_from_code(code: str) -> str:
    """The level a 12-digit division code denotes (trailing zero groups)."""
    if code[2:] == "0" * 10:
        return Region.Level.PROVINCE
    if code[4:] == "0" * 8:
        return Region.Level.CITY
    if code[6:] == "0" * 6:
        return Region.Level.DISTRICT
    if code[9:] == "000":
        return Region.Level.STREET
    return Region.Level.COMMUNITY


def region_code_problems(code: str, level: str) -> list[str]:
    """Why `code` is not a well-formed division code of `level` (RULES.md code scheme)."""
    if not (len(code) == 12 and code.isdigit()):
        return [_("A division code has 12 digits.")]
    problems = []
    implied = region_level_from_code(code)
    if code[:2] == "00":
        problems.append(_("Digits 1–2 (the province) cannot be 00."))
    if implied != level:
        problems.append(
            _("The code %(code)s is a %(implied)s code, but the level says %(level)s.")
            % {
                "code": code,
                "implied": Region.Level(implied).label,
                "level": Region.Level(level).label,
            }
        )
        return problems
    if level in (Region.Level.STREET, Region.Level.COMMUNITY):
        township = int(code[6:9])
        if not 1 <= township <= 399:
            problems.append(
                _(
                    "Digits 7–9 (%(digits)s) must be a street (001–099), town (100–199) or "
                    "township (200–399) number."
                )
                % {"digits": code[6:9]}
            )
    if level == Region.Level.COMMUNITY:
        if code[4:6] == "00":
            problems.append(_("Digits 5–6 (the district) cannot be 00 in a community code."))
        village = int(code[9:12])
        if not 1 <= village <= 399:
            problems.append(
                _(
                    "Digits 10–12 (%(digits)s) must be a residents' committee (001–199) or "
                    "villagers' committee (200–399) number."
                )
                % {"digits": code[9:12]}
            )
    if level == Region.Level.STREET and code[4:6] == "00":
        problems.append(_("Digits 5–6 (the district) cannot be 00 in a street code."))
    return problems


@dataclass
class _RegionRow:
    line: int
    code: str
    name: str
    name_en: str
    level: str
    parent_code: str
    boundary: dict | None


def regions_import(
    *, csv_text: str, actor: User | None = None, dry_run: bool = False
) -> ImportResult:
    """Check a regions CSV (columns code,name,name_en,level,parent_code[,boundary]) and, when it
    has no problem, create or update the regions in one transaction.

    Every problem is reported as "line N" (the file's line number; the header is line 1).
    Requires: an admin actor when one is given (the management command passes none).
    """
    _check_actor(actor)
    result = ImportResult(dry_run=dry_run)
    problems = result.problems

    def problem(line: int | None, column: str, message: str) -> None:
        where = _("line %(n)s") % {"n": line} if line is not None else _("file")
        problems.append(ImportProblem(where=where, field=column, message=message, index=line))

    text = csv_text.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text), restkey="__extra__")
    header = [name.strip() for name in (reader.fieldnames or [])]
    if not header:
        problem(None, "", _("The file is empty."))
        return result
    reader.fieldnames = header
    missing = [c for c in REGION_COLUMNS_REQUIRED if c not in header]
    unknown = [c for c in header if c not in REGION_COLUMNS_REQUIRED + REGION_COLUMNS_OPTIONAL]
    if missing:
        problem(1, "", _("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)})
    if unknown:
        problem(1, "", _("Unknown columns: %(columns)s.") % {"columns": ", ".join(unknown)})
    if missing:
        return result

    rows: list[_RegionRow] = []
    first_line_of: dict[str, int] = {}
    all_lines_of: dict[str, int] = {}  # every code in the file, problems or not
    level_values = set(Region.Level.values)
    for record in reader:
        line = reader.line_num
        if record.get("__extra__"):
            problem(line, "", _("The row has more fields than the header."))
            continue
        if any(record.get(c) is None for c in header):
            problem(line, "", _("The row has fewer fields than the header."))
            continue
        values = {k: (v or "").strip() for k, v in record.items() if k != "__extra__"}
        if not any(values.values()):
            continue  # a blank line
        code, name, level = values["code"], values["name"], values["level"]
        all_lines_of.setdefault(code, line)
        row_ok = True
        if not name:
            problem(line, "name", _("The name is empty."))
            row_ok = False
        elif len(name) > 64:
            problem(line, "name", _("The name is longer than 64 characters."))
            row_ok = False
        if len(values.get("name_en", "")) > 128:
            problem(line, "name_en", _("The English name is longer than 128 characters."))
            row_ok = False
        if level not in level_values:
            problem(
                line,
                "level",
                _("Unknown level %(level)s; use one of %(levels)s.")
                % {"level": level or "-", "levels": ", ".join(Region.Level.values)},
            )
            row_ok = False
        if not (len(code) == 12 and code.isdigit()):
            problem(line, "code", _("A division code has 12 digits."))
            row_ok = False
        elif level in level_values:
            for message in region_code_problems(code, level):
                problem(line, "code", message)
                row_ok = False
        if code in first_line_of:
            problem(
                line,
                "code",
                _("The code %(code)s already appears on line %(line)s.")
                % {"code": code, "line": first_line_of[code]},
            )
            row_ok = False
        elif code:
            first_line_of[code] = line
        boundary = None
        if values.get("boundary"):
            try:
                boundary = json.loads(values["boundary"])
            except ValueError:
                problem(line, "boundary", _("The boundary is not valid JSON."))
                row_ok = False
            else:
                for message in polygon_problems(boundary):
                    problem(line, "boundary", message)
                    row_ok = False
        if row_ok:
            rows.append(
                _RegionRow(
                    line=line,
                    code=code,
                    name=name,
                    name_en=values.get("name_en", ""),
                    level=level,
                    parent_code=values["parent_code"],
                    boundary=boundary,
                )
            )
    if not rows and not problems:
        problem(None, "", _("The file has no rows."))
        return result

    # Parents: in the file or already in the database.
    file_levels = {row.code: row.level for row in rows}
    parent_codes = {row.parent_code for row in rows if row.parent_code}
    db_levels = dict(
        Region.objects.filter(code__in=parent_codes | set(file_levels)).values_list("code", "level")
    )
    for row in rows:
        expected = PARENT_LEVEL[row.level]
        if not row.parent_code:
            if row.level not in (Region.Level.PROVINCE, Region.Level.CITY):
                assert expected is not None  # every level below the city has a parent level
                problem(
                    row.line,
                    "parent_code",
                    _("A %(level)s needs a parent (a %(parent)s).")
                    % {
                        "level": Region.Level(row.level).label,
                        "parent": Region.Level(expected).label,
                    },
                )
            continue
        if expected is None:
            problem(row.line, "parent_code", _("A province has no parent."))
            continue
        if not (len(row.parent_code) == 12 and row.parent_code.isdigit()):
            problem(row.line, "parent_code", _("A division code has 12 digits."))
            continue
        parent_level = file_levels.get(row.parent_code) or db_levels.get(row.parent_code)
        if parent_level is None and row.parent_code in all_lines_of:
            problem(
                row.line,
                "parent_code",
                _("The parent %(code)s (line %(line)s) has problems of its own.")
                % {"code": row.parent_code, "line": all_lines_of[row.parent_code]},
            )
            continue
        if parent_level is None:
            problem(
                row.line,
                "parent_code",
                _("The parent %(code)s is neither in the file nor in the database.")
                % {"code": row.parent_code},
            )
            continue
        if parent_level != expected:
            problem(
                row.line,
                "parent_code",
                _("The parent %(code)s is a %(actual)s; a %(level)s belongs to a %(expected)s.")
                % {
                    "code": row.parent_code,
                    "actual": Region.Level(parent_level).label,
                    "level": Region.Level(row.level).label,
                    "expected": Region.Level(expected).label,
                },
            )
            continue
        prefix = row.parent_code[: Region.PREFIX_LENGTH[parent_level]]
        if not row.code.startswith(prefix):
            problem(
                row.line,
                "code",
                _("The code %(code)s does not start with its parent's prefix %(prefix)s.")
                % {"code": row.code, "prefix": prefix},
            )
    for row in rows:
        existing_level = db_levels.get(row.code)
        if existing_level is not None and existing_level != row.level:
            problem(
                row.line,
                "level",
                _("The region %(code)s exists as a %(level)s; its level cannot change.")
                % {"code": row.code, "level": Region.Level(existing_level).label},
            )

    problems.sort(key=lambda p: p.index or 0)
    if problems or dry_run:
        return result

    order = {level: i for i, level in enumerate(Region.LEVEL_ORDER)}
    with transaction.atomic():
        by_code = {
            r.code: r
            for r in Region.objects.select_for_update().filter(
                code__in=set(file_levels) | parent_codes
            )
        }
        for row in sorted(rows, key=lambda r: (order[r.level], r.code)):
            parent = by_code.get(row.parent_code) if row.parent_code else None
            values = {
                "name": row.name,
                "name_en": row.name_en,
                "level": row.level,
                "parent_id": parent.pk if parent else None,
            }
            if row.boundary is not None:
                values["boundary"] = row.boundary
            region = by_code.get(row.code)
            if region is None:
                by_code[row.code] = Region.objects.create(code=row.code, **values)
                result.created += 1
            elif _save_if_changed(region, values):
                result.updated += 1
            else:
                result.unchanged += 1
    logger.info(
        "regions imported: %d created, %d updated, %d unchanged",
        result.created,
        result.updated,
        result.unchanged,
    )
    return result


# --------------------------------------------------------------------------- grid cells


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
            assert geometry is not None and community is not None  # both checked above (ok)
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
