from pathlib import Path

import polib
from django.urls import reverse
from django.utils import translation

from grids.services import regions_import

PO_FILE = Path(__file__).resolve().parents[1] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_grids_message_has_a_chinese_translation():
    catalogue = polib.pofile(str(PO_FILE))
    assert len(catalogue) > 100
    untranslated = [e.msgid for e in catalogue if not e.translated()]
    assert untranslated == []
    assert catalogue.fuzzy_entries() == []
    assert not catalogue.metadata_is_fuzzy


def test_pages_and_problems_speak_chinese(client, people):
    client.force_login(people["dispatcher_a"])
    html = client.get(reverse("grids:map"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "网格地图" in html
    with translation.override("zh-hans"):
        result = regions_import(csv_text="code,name,level,parent_code\n123,x,city,\n")
    assert str(result.problems[0]) == "第 2 行: code: 区划代码为 12 位数字。"
