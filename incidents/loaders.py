"""Reference data the loop needs: categories (fixtures/categories.csv) and the working calendar
(fixtures/calendar_cn.csv). Both loaders are idempotent and never overwrite what an admin has
edited unless asked to (`update=True` for categories)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.db import transaction

from core.calendar import clear_cache, parse_limit
from core.models import CalendarDay
from incidents.models import Category, HandlingLevel

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CATEGORIES_CSV = FIXTURES / "categories.csv"
CALENDAR_CSV = FIXTURES / "calendar_cn.csv"


@dataclass
class LoadResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _yes(value: str) -> bool:
    return (value or "").strip().lower() in {"yes", "y", "true", "1"}


def _published(row: dict, *, is_dispute: bool, internal_only: bool) -> bool:
    """The `open311` column (yes/no); without it, every category that is neither a dispute nor
    internal only. A dispute or an internal-only category is never published."""
    if is_dispute or internal_only:
        return False
    given = (row.get("open311") or "").strip()
    return _yes(given) if given else True


def category_rows(path: Path = CATEGORIES_CSV) -> list[dict]:
    """The CSV rows as Category field values (large classes first), checked."""
    rows = []
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            level = (row["handled_at"] or "").strip()
            if level and level not in HandlingLevel.values:
                raise ValueError(f"category {row['code']}: unknown level {level!r}")
            for column in ("verify_within", "dispatch_within", "resolve_within"):
                if row[column].strip():
                    parse_limit(row[column])
            is_dispute = _yes(row["dispute"])
            internal_only = "internal only" in (row["source"] or "").lower()
            published = _published(row, is_dispute=is_dispute, internal_only=internal_only)
            rows.append(
                {
                    "code": row["code"].strip(),
                    "parent_code": (row["parent"] or "").strip(),
                    "name": row["name_zh"].strip(),
                    "name_en": row["name_en"].strip(),
                    "handled_at": level,
                    "department": (row["department"] or "").strip(),
                    "is_dispute": is_dispute,
                    "urgent": _yes(row["urgent"]),
                    "internal_only": internal_only,
                    "publish_open311": published,
                    # 附议 and 办理公开 follow Open311's publication (never for disputes,
                    # internal-only and personal matters: migration 0014 did the same).
                    "follow_radius_m": 50 if published else None,
                    "publish_results": published,
                    "verify_within": row["verify_within"].strip(),
                    "dispatch_within": row["dispatch_within"].strip(),
                    "resolve_within": row["resolve_within"].strip(),
                }
            )
    rows.sort(key=lambda r: (bool(r["parent_code"]), r["code"]))
    return rows


@transaction.atomic
def load_categories(*, path: Path = CATEGORIES_CSV, update: bool = False) -> LoadResult:
    """Create the categories that are missing; with `update`, also reset existing ones to the
    file's values (otherwise an admin's edits are kept)."""
    result = LoadResult()
    by_code = {c.code: c for c in Category.objects.all()}
    for row in category_rows(path):
        values = dict(row)
        parent_code = values.pop("parent_code")
        values["parent"] = by_code.get(parent_code) if parent_code else None
        if parent_code and values["parent"] is None:
            raise ValueError(f"category {row['code']}: unknown parent {parent_code}")
        existing = by_code.get(row["code"])
        if existing is None:
            by_code[row["code"]] = Category.objects.create(**values)
            result.created += 1
            continue
        changed = [k for k, v in values.items() if getattr(existing, k) != v]
        if update and changed:
            for key in changed:
                setattr(existing, key, values[key])
            existing.save(update_fields=changed)
            result.updated += 1
        else:
            result.unchanged += 1
    return result


@transaction.atomic
def load_calendar(*, path: Path = CALENDAR_CSV) -> LoadResult:
    """Add the public holidays and make-up workdays that are missing (admin edits are kept)."""
    result = LoadResult()
    known = set(CalendarDay.objects.values_list("date", flat=True))
    new = []
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            day = date.fromisoformat(row["date"].strip())
            kind = row["kind"].strip()
            if kind not in CalendarDay.Kind.values:
                raise ValueError(f"calendar {day}: unknown kind {kind!r}")
            if day in known:
                result.unchanged += 1
                continue
            known.add(day)
            new.append(CalendarDay(date=day, kind=kind, name=row["name"].strip()))
    CalendarDay.objects.bulk_create(new)
    result.created = len(new)
    clear_cache()
    return result
