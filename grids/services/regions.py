"""Import of the region tree from CSV (code, name, level, parent_code[, name_en, boundary]),
and the checks of a division code."""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from grids.geometry import polygon_problems
from grids.models import Region
from grids.services._common import ImportProblem, ImportResult, _check_actor, _save_if_changed

logger = logging.getLogger("grids.services")

REGION_COLUMNS_REQUIRED = ("code", "name", "level", "parent_code")
REGION_COLUMNS_OPTIONAL = ("name_en", "boundary")
PARENT_LEVEL = {
    "province": None,
    "city": "province",
    "district": "city",
    "street": "district",
    "community": "street",
}


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
                if expected is None:  # every level below the city has a parent level
                    raise AssertionError("every level below the city has a parent level")
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
