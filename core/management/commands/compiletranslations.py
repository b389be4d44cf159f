"""Compile every gettext catalogue of the project to .mo with polib (no GNU gettext needed).

`make setup` runs it on a fresh clone: .mo files are not committed. Catalogues live in the
top-level locale/ and in each app's <app>/locale/; .venv, node_modules and var are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

SKIPPED_DIRS = {
    ".venv",
    "venv",
    "node_modules",
    ".git",
    "var",
    "static",
    "staticfiles",
    "media",
    "__pycache__",
    ".ruff_cache",
    ".pytest_cache",
}


def find_catalogues(base_dir: Path | None = None) -> Iterator[Path]:
    """Every <somewhere>/locale/<lang>/LC_MESSAGES/<domain>.po of the project, sorted."""
    base = Path(base_dir or settings.BASE_DIR)
    found: list[Path] = []
    stack = [base]
    while stack:
        directory = stack.pop()
        for child in directory.iterdir():
            if not child.is_dir() or child.name in SKIPPED_DIRS or child.name.startswith("."):
                continue
            if child.name == "locale":
                found.extend(child.glob("*/LC_MESSAGES/*.po"))
            else:
                stack.append(child)
    yield from sorted(found)


class Command(BaseCommand):
    help = "Compile every .po catalogue of the project to .mo (pure Python, with polib)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Also fail when a catalogue has an untranslated or fuzzy entry.",
        )

    def handle(self, *args, check: bool = False, **options):
        base = Path(settings.BASE_DIR)
        problems: list[str] = []
        count = 0
        for po_path in find_catalogues(base):
            try:
                catalogue = polib.pofile(str(po_path), wrapwidth=0)
            except (OSError, ValueError) as exc:
                raise CommandError(f"{po_path.relative_to(base)}: {exc}") from exc
            if check:
                untranslated = catalogue.untranslated_entries()
                fuzzy = catalogue.fuzzy_entries()
                if untranslated or fuzzy or catalogue.metadata_is_fuzzy:
                    problems.append(
                        f"{po_path.relative_to(base)}: {len(untranslated)} untranslated, "
                        f"{len(fuzzy) + int(bool(catalogue.metadata_is_fuzzy))} fuzzy"
                    )
            catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
            count += 1
            if options["verbosity"] > 1:
                self.stdout.write(f"compiled {po_path.relative_to(base)}")
        if problems:
            raise CommandError("Incomplete catalogues:\n" + "\n".join(problems))
        self.stdout.write(f"compiled {count} catalogue(s)")
