"""Both languages are complete: every catalogue is fully translated, and every string in the
source is in a catalogue.

The second test runs Django's makemessages (GNU gettext) on a temporary copy of the project, so
the real catalogues are never touched, and compares what it finds with the committed ones.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

from core.management.commands.compiletranslations import SKIPPED_DIRS, find_catalogues

BASE_DIR = Path(settings.BASE_DIR)
# Top-level folders whose strings are not shown to users (tests assert on them, docs are prose).
NOT_UI_DIRS = {"tests", "bench", "docs", "scripts"}


def relative(path: Path, root: Path = BASE_DIR) -> str:
    return str(path.relative_to(root))


def entry_key(entry: polib.POEntry) -> tuple[str, str, str]:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def test_there_are_chinese_catalogues():
    catalogues = [relative(path) for path in find_catalogues(BASE_DIR)]
    assert "locale/zh_Hans/LC_MESSAGES/django.po" in catalogues
    assert "accounts/locale/zh_Hans/LC_MESSAGES/django.po" in catalogues
    assert "core/locale/zh_Hans/LC_MESSAGES/django.po" in catalogues


@pytest.mark.parametrize(
    "po_path", list(find_catalogues(BASE_DIR)), ids=lambda path: relative(path)
)
def test_catalogue_has_no_empty_or_fuzzy_entry(po_path):
    catalogue = polib.pofile(str(po_path))
    assert not catalogue.metadata_is_fuzzy, f"{relative(po_path)}: the header is marked fuzzy"
    assert "nplurals=1" in catalogue.metadata.get("Plural-Forms", ""), "Chinese has one form"
    problems = []
    for entry in catalogue:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        elif entry.msgid_plural:
            if not entry.msgstr_plural or not all(entry.msgstr_plural.values()):
                problems.append(f"empty plural msgstr: {entry.msgid!r}")
        elif not entry.msgstr.strip():
            problems.append(f"empty msgstr: {entry.msgid!r}")
    assert not problems, f"{relative(po_path)}:\n" + "\n".join(problems)


def test_one_translation_per_string_across_catalogues():
    """Django merges every catalogue of a language into one: the same msgid (and context) in
    two apps gets only one translation, so the catalogues must agree, or use pgettext."""
    seen: dict[tuple[str, str], dict[str, list[str]]] = {}
    for po_path in find_catalogues(BASE_DIR):
        language = po_path.parent.parent.name
        for entry in polib.pofile(str(po_path)):
            if entry.obsolete or not entry.msgstr or "fuzzy" in entry.flags:
                continue
            key = (language, entry.msgctxt or "", entry.msgid)
            seen.setdefault(key, {}).setdefault(entry.msgstr, []).append(relative(po_path))
    conflicts = [
        f"{msgid!r}{f' (context {context!r})' if context else ''}: "
        + "; ".join(f"{msgstr!r} in {', '.join(paths)}" for msgstr, paths in translations.items())
        for (_language, context, msgid), translations in sorted(seen.items())
        if len(translations) > 1
    ]
    assert not conflicts, (
        "The same string is translated differently in two catalogues; only one translation "
        "is used at run time. Agree on one, or give one a context (pgettext/{% translate "
        '"..." context "..." %}):\n' + "\n".join(conflicts)
    )


def _copy_sources(destination: Path) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        ignored = {name for name in names if name in SKIPPED_DIRS or name.startswith(".")}
        if Path(directory) == BASE_DIR:
            ignored |= NOT_UI_DIRS & set(names)
        return ignored | {name for name in names if name.endswith((".mo", ".pyc", ".sqlite3"))}

    shutil.copytree(BASE_DIR, destination, ignore=ignore)
    # Strings outside any app catalogue go to the top-level one: it must exist in the copy, or
    # makemessages would write into the real project's locale/ (settings.LOCALE_PATHS).
    (destination / "locale").mkdir(exist_ok=True)


def test_every_source_string_is_in_a_catalogue(tmp_path):
    if not shutil.which("xgettext"):
        pytest.fail("GNU gettext (xgettext) is needed for this test: apt-get install gettext")
    copy = tmp_path / "project"
    _copy_sources(copy)
    before = {
        relative(path, copy): {entry_key(e) for e in polib.pofile(str(path)) if not e.obsolete}
        for path in find_catalogues(copy)
    }
    result = subprocess.run(
        [
            sys.executable,
            str(BASE_DIR / "manage.py"),
            "makemessages",
            "--locale=zh_Hans",
            "--no-obsolete",
            "--ignore=node_modules",
            "--ignore=static",
        ],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    missing = []
    for path in find_catalogues(copy):
        name = relative(path, copy)
        known = before.get(name, set())
        for entry in polib.pofile(str(path)):
            if entry.obsolete or entry_key(entry) in known:
                continue
            where = ", ".join(f"{file}:{line}" for file, line in entry.occurrences[:3])
            missing.append(f"{name}: {entry.msgid!r} (from {where})")
    assert not missing, (
        "Strings in the source that their catalogue lacks (run makemessages for the app, "
        "translate, commit the .po; strings of an app without a locale/ folder land in the "
        "top-level catalogue):\n" + "\n".join(missing)
    )
