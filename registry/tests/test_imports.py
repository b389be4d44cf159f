from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from core.exceptions import ValidationFailed
from registry import imports
from registry.models import Building, Home, Person, RecordChange

from .conftest import valid_id

pytestmark = pytest.mark.django_db


def xlsx(kind, rows, headers=None):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers or [h for h, _n, _r in imports.COLUMNS[kind]])
    for row in rows:
        sheet.append(row)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def person_row(name, id_number="", phone="", kind="户籍", building="", room="", tags=""):
    return [name, id_number, phone, kind, building, room, "", "", "", "", tags, ""]


def test_templates_download_with_chinese_headers(world, client):
    client.force_login(world.worker)
    response = client.get(reverse("registry:import_template", args=["person"]))
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    assert sheet["A1"].value == "姓名*" and sheet["B1"].value == "身份证号"


def test_preview_lists_every_error_by_row_and_column_and_writes_nothing(world):
    content = xlsx(
        "person",
        [
            person_row("甲", valid_id("35060219800101001")),
            person_row("", "123", "abc", "火星"),
            person_row("丙", valid_id("35060219800101002"), building="没有的楼", room="1"),
            person_row("丁", tags="不存在的标签"),
        ],
    )
    before = Person.objects.count()
    preview = imports.preview(user=world.worker, kind="person", cell=world.cell, content=content)
    errors = {(row, column) for row, column, _m in preview.errors}
    assert (3, "姓名") in errors
    assert (3, "身份证号") in errors
    assert (3, "联系电话") in errors
    assert (3, "人口类型") in errors
    assert (4, "房号") in errors
    assert (5, "标签") in errors
    assert not preview.valid
    with pytest.raises(ValidationFailed):
        imports.import_content(user=world.worker, kind="person", cell=world.cell, content=content)
    assert Person.objects.count() == before


def test_wrong_headers_and_not_xlsx(world):
    preview = imports.preview(
        user=world.worker,
        kind="building",
        cell=world.cell,
        content=xlsx("building", [["a", "b"]], headers=["名字", "地址"]),
    )
    assert (1, "楼栋名称") in {(r, c) for r, c, _m in preview.errors}
    preview = imports.preview(user=world.worker, kind="building", cell=world.cell, content=b"nope")
    assert preview.errors and not preview.valid


def test_import_is_idempotent_and_updates_by_id_or_address(world):
    buildings = xlsx("building", [["2号楼", "新华西路2号", 6, "住宅", 24.506, 117.606, ""]])
    result = imports.import_content(
        user=world.worker, kind="building", cell=world.cell, content=buildings
    )
    assert (result.created, result.updated) == (1, 0)
    homes = xlsx("home", [["新华西路2号", "301", "出租", 3, "王某", "13800000000", 80, ""]])
    imports.import_content(user=world.worker, kind="home", cell=world.cell, content=homes)
    id_b = valid_id("35060219800101003")
    people = xlsx(
        "person",
        [
            person_row("乙", id_b, "13800000001", "流动", "新华西路2号", "301", "独居老人,低保"),
            person_row("戊", "", "", "户籍", "新华西路2号", "301"),
        ],
    )
    result = imports.import_content(
        user=world.worker, kind="person", cell=world.cell, content=people
    )
    assert (result.created, result.updated) == (2, 0)
    person = Person.objects.get(name="乙")
    assert person.id_number == id_b and person.home.number == "301"
    assert sorted(person.tags.values_list("name", flat=True)) == ["低保", "独居老人"]
    assert RecordChange.objects.filter(
        model="person", object_id=person.pk, action="imported"
    ).exists()
    # The same file again: nothing new.
    result = imports.import_content(
        user=world.worker, kind="person", cell=world.cell, content=people
    )
    assert result.created == 0
    assert Person.objects.filter(name__in=["乙", "戊"]).count() == 2
    # A changed phone updates the person matched by ID number.
    people2 = xlsx("person", [person_row("乙", id_b, "13800000002", "流动", "新华西路2号", "301")])
    result = imports.import_content(
        user=world.worker, kind="person", cell=world.cell, content=people2
    )
    assert (result.created, result.updated) == (0, 1)
    person.refresh_from_db()
    assert person.phone == "13800000002"
    assert Building.objects.filter(address="新华西路2号").count() == 1
    assert Home.objects.filter(number="301").count() == 1


def test_person_registered_in_another_cell_is_an_error(world):
    from .conftest import ID_A

    content = xlsx("person", [person_row("张三", ID_A)])
    preview = imports.preview(
        user=world.worker2, kind="person", cell=world.cell_a1_2, content=content
    )
    assert [(r, c) for r, c, _m in preview.errors] == [(2, "身份证号")]


def test_import_pages_preview_then_confirm(world, client):
    client.force_login(world.worker)
    content = xlsx("building", [["3号楼", "新华西路3号", 4, "住宅", "", "", ""]])
    upload = BytesIO(content)
    upload.name = "b.xlsx"
    response = client.post(
        reverse("registry:import"), {"kind": "building", "cell": world.cell.pk, "file": upload}
    )
    assert response.status_code == 200
    upload_obj = response.context["upload"]
    assert upload_obj is not None and not Building.objects.filter(address="新华西路3号").exists()
    assert "新华西路3号" not in upload_obj.content  # kept encrypted
    client.force_login(world.worker2)
    assert client.post(reverse("registry:import_confirm", args=[upload_obj.pk])).status_code == 404
    client.force_login(world.worker)
    response = client.post(reverse("registry:import_confirm", args=[upload_obj.pk]))
    assert response.status_code == 302
    assert Building.objects.filter(address="新华西路3号").exists()


def test_a_thousand_people_import_in_one_go(world):
    """The 10,000-row timing is measured by bench/registry_search.py (docs/basic-data.md)."""
    rows = [
        person_row(f"人{i}", valid_id(f"350602{1950 + i // 100:04d}0101{i % 100:03d}"))
        for i in range(1_000)
    ]
    content = xlsx("person", rows)
    result = imports.import_content(
        user=world.worker, kind="person", cell=world.cell, content=content
    )
    assert result.created == 1_000
    assert Person.objects.filter(cell=world.cell).count() == 1_001
