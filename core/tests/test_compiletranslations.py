import polib
import pytest
from django.core.management import CommandError, call_command

from core.management.commands.compiletranslations import find_catalogues


def write_po(path, entries, fuzzy=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    po = polib.POFile()
    po.metadata = {
        "Content-Type": "text/plain; charset=UTF-8",
        "Plural-Forms": "nplurals=1; plural=0;",
    }
    for msgid, msgstr in entries:
        entry = polib.POEntry(msgid=msgid, msgstr=msgstr)
        if fuzzy:
            entry.flags.append("fuzzy")
        po.append(entry)
    po.save(str(path))


def test_finds_project_and_app_catalogues_but_not_dependencies(tmp_path):
    lc = "locale/zh_Hans/LC_MESSAGES/django.po"
    for where in ("", "app/", ".venv/lib/pkg/", "node_modules/x/", "var/"):
        write_po(tmp_path / where / lc, [("Hello", "你好")])
    found = [str(path.relative_to(tmp_path)) for path in find_catalogues(tmp_path)]
    assert found == [f"app/{lc}", lc]


def test_compiles_every_catalogue_to_mo(tmp_path, settings):
    settings.BASE_DIR = tmp_path
    po_path = tmp_path / "app/locale/zh_Hans/LC_MESSAGES/django.po"
    write_po(po_path, [("Hello", "你好"), ("Bye", "再见")])
    call_command("compiletranslations")
    mo = polib.mofile(str(po_path.with_suffix(".mo")))
    assert {entry.msgid: entry.msgstr for entry in mo} == {"Hello": "你好", "Bye": "再见"}


def test_check_fails_on_untranslated_or_fuzzy(tmp_path, settings):
    settings.BASE_DIR = tmp_path
    write_po(tmp_path / "a/locale/zh_Hans/LC_MESSAGES/django.po", [("Hello", "")])
    write_po(tmp_path / "b/locale/zh_Hans/LC_MESSAGES/django.po", [("Bye", "再见")], fuzzy=True)
    with pytest.raises(CommandError) as info:
        call_command("compiletranslations", "--check")
    assert "1 untranslated" in str(info.value) and "1 fuzzy" in str(info.value)
    # Without --check, it compiles what is translated (fuzzy and empty entries are left out).
    call_command("compiletranslations")
    assert not list(polib.mofile(str(tmp_path / "b/locale/zh_Hans/LC_MESSAGES/django.mo")))


def test_the_projects_catalogues_compile(settings):
    call_command("compiletranslations", "--check")
