from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from audit.models import AuditEvent
from registry.models import Building, Home, Person, Visit

pytestmark = pytest.mark.django_db


def test_worker_adds_building_home_person(world, client):
    client.force_login(world.worker)
    response = client.post(
        reverse("registry:record_create", args=["building"]),
        {
            "cell": world.cell.pk,
            "name": "2号楼",
            "address": "新华西路2号",
            "floors": 5,
            "use": "residential",
            "lat": "24.506",
            "lng": "117.606",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    building = Building.objects.get(address="新华西路2号")
    response = client.post(
        reverse("registry:record_create", args=["home"]),
        {
            "cell": world.cell.pk,
            "building": building.pk,
            "number": "201",
            "occupancy": "owner",
            "tenant_count": 0,
        },
    )
    assert response.status_code == 302
    home = Home.objects.get(building=building)
    response = client.post(
        reverse("registry:record_create", args=["person"]),
        {
            "cell": world.cell.pk,
            "name": "李四",
            "id_number": "",
            "phone": "13811112222",
            "home": home.pk,
            "kind": "floating",
            "arrival_date": "2026-01-01",
        },
    )
    assert response.status_code == 302
    person = Person.objects.get(name="李四")
    assert person.phone == "13811112222"
    page = client.get(reverse("registry:record_detail", args=["person", person.pk]))
    assert "138****2222" in page.content.decode()
    assert "13811112222" not in page.content.decode()


def test_bad_form_input_shows_chinese_error_and_writes_nothing(world, client):
    client.force_login(world.worker)
    client.cookies["django_language"] = "zh-hans"
    response = client.post(
        reverse("registry:record_create", args=["person"]),
        {"cell": world.cell.pk, "name": "李四", "id_number": "123", "kind": "registered"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200
    assert not Person.objects.filter(name="李四").exists()
    assert "身份证" in response.content.decode()


def test_form_cannot_pick_a_cell_out_of_scope(world, client):
    client.force_login(world.worker)
    response = client.post(
        reverse("registry:record_create", args=["building"]),
        {"cell": world.cell_b1_1.pk, "name": "x", "address": "y", "floors": 1, "use": "other"},
    )
    assert response.status_code == 200
    assert not Building.objects.filter(address="y").exists()


def test_visit_page_logs_a_visit(world, client):
    client.force_login(world.worker)
    response = client.post(
        reverse("registry:visit_create", args=[world.kp.pk]),
        {
            "method": "in_person",
            "observations": "正常",
            "risk_after": 1,
            "lat": "24.505",
            "lng": "117.605",
            "accuracy_m": "12",
        },
    )
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert visit.lat == 24.505 and visit.accuracy_m == 12


def test_export_masked_by_role_and_audited(world, client):
    client.force_login(world.staff)
    response = client.get(reverse("registry:export") + f"?cell={world.cell.pk}")
    assert response.status_code == 200
    workbook = load_workbook(BytesIO(response.content))
    text = str([[c.value for c in row] for ws in workbook for row in ws.iter_rows()])
    assert "13912345678" not in text and "张三" in text
    assert "重点人员" in workbook.sheetnames  # designated staff see key persons
    assert AuditEvent.objects.filter(kind="exported", details__kind="registry_ledger_xlsx").exists()
    client.force_login(world.worker)
    response = client.get(reverse("registry:export") + f"?cell={world.cell.pk}")
    text = str(
        [[c.value for ws in load_workbook(BytesIO(response.content)) for c in row] for row in []]
    )
    workbook = load_workbook(BytesIO(response.content))
    text = str([[c.value for c in row] for ws in workbook for row in ws.iter_rows()])
    assert "13912345678" in text


def test_export_out_of_scope_cell_is_404(world, client):
    client.force_login(world.worker_b)
    assert client.get(reverse("registry:export") + f"?cell={world.cell.pk}").status_code == 404


def test_stats_drill_down(world, client):
    client.force_login(world.supervisor)
    response = client.get(reverse("registry:stats") + f"?region={world.a1.pk}")
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r["name"] for r in rows] == ["西桥1网格", "西桥2网格"]
    assert rows[0]["people"] == 1 and rows[0]["key_persons"] == 1
    response = client.get(reverse("registry:stats") + f"?region={world.a1.pk}&format=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    client.force_login(world.staff)
    assert client.get(reverse("registry:stats") + f"?region={world.b1.pk}").status_code == 404


def test_layers_and_suggest_are_scoped(world, client):
    client.force_login(world.worker)
    data = client.get(reverse("registry:layers")).json()
    assert [f["properties"]["name"] for f in data["features"]] == ["1号楼"]
    response = client.get("/api/v1/registry/suggest", {"lat": 24.5051, "lng": 117.6051})
    assert response.status_code == 200
    assert response.json()[0]["name"] == "1号楼"
    assert client.get("/api/v1/registry/suggest", {"lat": "x"}).status_code == 400
    client.force_login(world.worker_b)
    assert client.get(reverse("registry:layers")).json()["features"] == []
    assert client.get("/api/v1/registry/suggest", {"lat": 24.5051, "lng": 117.6051}).json() == []


def test_visit_api(world, client):
    client.force_login(world.worker)
    url = f"/api/v1/registry/key-persons/{world.kp.pk}/visits/"
    response = client.post(
        url, {"observations": "ok", "risk_after": 2}, content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["risk_after"] == 2
    response = client.post(
        url, {"observations": "ok", "risk_after": 8}, content_type="application/json"
    )
    assert response.status_code == 400
    client.force_login(world.worker2)
    response = client.post(
        url, {"observations": "ok", "risk_after": 2}, content_type="application/json"
    )
    assert response.status_code == 404
