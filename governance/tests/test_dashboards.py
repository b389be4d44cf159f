"""The supervision pages and the KPI API: access, scoping, drill-down links, the case file."""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.urls import reverse

from governance import aggregates, exports, kpis
from governance.tests.kpi_data import NOW, PERIOD, build_city
from tests.builders import make_grid_worker, make_user


@pytest.fixture
def city(region_tree):
    data = build_city(region_tree)
    aggregates.incident_facts_rebuild(now=NOW)
    data.supervisor = make_user(
        "kpi_supervisor", roles=["supervisor"], region=region_tree["city"], phone="13700000110"
    )
    data.dispatcher_b = make_user(
        "kpi_dispatcher_b", roles=["dispatcher"], region=region_tree["street_b"]
    )
    return data


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def signed_in(client, user):
    client.force_login(user)
    return client


def card_value(html: str, key: str) -> str:
    match = re.search(rf'data-testid="kpi-{key}-value"[^>]*>([^<]*)<', html)
    assert match, key
    return match.group(1).strip()


# --- supervisor dashboard -----------------------------------------------------------------------


def test_dashboard_shows_every_kpi_with_its_definition_and_drill_link(client, city, at_now):
    response = signed_in(client, city.supervisor).get(reverse("governance:dashboard"), PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    for kpi in kpis.KPIS:
        assert f'id="kpi-{kpi.key}"' in html
        assert str(kpi.formula) in html
    assert card_value(html, "reported") == "12"
    assert card_value(html, "on_time_closure") == "50.0%"
    # The number links to the ledger listing exactly these incidents.
    context = response.context
    card = next(c for c in context["cards"] if c["key"] == "on_time_closure")
    params = {k: v[0] for k, v in parse_qs(urlsplit(card["url"]).query).items()}
    assert params == {
        "kpi": "closed_on_time",
        "start": "2026-03-01",
        "end": "2026-03-31",
        "community": "350600000000",
    }
    # The city is ranked by district (its only one here), charts and heat data are embedded.
    assert context["query"].group_by == "district"
    assert 'id="dashboard-data"' in html and 'id="heat-data"' in html
    data = json.loads(re.search(r'id="dashboard-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert sum(p["reported"] for p in data["trend"]) == 12
    assert "vendor/echarts/echarts.min.js" in html and "vendor/leaflet/leaflet.js" in html
    assert "cdn" not in html.lower()
    # Mediation and petitions blocks are shown to the supervisor.
    assert 'id="mediation-kpis"' in html and 'id="petition-kpis"' in html


def test_dispatcher_dashboard_is_scoped_to_the_street(client, city, at_now):
    response = signed_in(client, city.dispatcher_b).get(reverse("governance:dashboard"), PERIOD)
    assert response.status_code == 200
    assert response.context["query"].region == city.tree["street_b"]
    assert card_value(response.content.decode(), "reported") == "1"
    choices = {r.code for r in response.context["region_choices"]}
    assert choices == {"350602002000", "350602002001"}
    assert (
        signed_in(client, city.dispatcher_b)
        .get(reverse("governance:dashboard"), {"region": "350602001000"})
        .status_code
        == 404
    )
    # Dispatchers see no mediation or petition block (not theirs by region).
    assert b'id="mediation-kpis"' not in response.content


def test_group_by_and_bad_dates_on_the_page(client, city, at_now):
    signed_in(client, city.supervisor)
    response = client.get(
        reverse("governance:dashboard"), {**PERIOD, "region": "350602000000", "group_by": "street"}
    )
    rows = {row["key"]: row for row in response.context["table_rows"]}
    assert set(rows) == {"350602001", "350602002", ""}
    assert rows["350602001"]["label"] == "西桥街道"
    # A mistyped date: the message is shown and the default period used, never a 500.
    response = client.get(reverse("governance:dashboard"), {"start": "2026-02-30"})
    assert response.status_code == 200
    assert any("start" in str(m) for m in response.context["messages"])


def test_dashboard_access(client, city, region_tree):
    assert client.get(reverse("governance:dashboard")).status_code == 302  # to the login page
    worker = make_grid_worker("kpi_gw", cells=[region_tree["cell_a1_1"]])
    assert signed_in(client, worker).get(reverse("governance:dashboard")).status_code == 403
    resident = make_user("kpi_resident", roles=["resident"])
    assert signed_in(client, resident).get(reverse("governance:dashboard")).status_code == 403


def test_menu_entry_points_to_the_dashboard(client, city):
    response = signed_in(client, city.supervisor).get(reverse("home"))
    assert f'href="{reverse("governance:dashboard")}"' in response.content.decode()


# --- street dashboard and large screen ----------------------------------------------------------


def test_street_dashboard_for_the_street_office(client, city, at_now):
    response = signed_in(client, city.dispatcher).get(
        reverse("governance:street_dashboard"), PERIOD
    )
    assert response.status_code == 200
    assert response.context["street"] == city.tree["street_a"]
    assert response.context["query"].group_by == "community"
    grid_rows = {row["key"] for row in response.context["grid_rows"]}
    assert str(city.tree["cell_a2_1"].pk) in grid_rows
    names = {load.name for load in response.context["workload"]}
    assert {"kpi_worker1", "kpi_worker2"} <= names
    assert card_value(response.content.decode(), "reported") == "11"


def test_street_dashboard_lets_a_supervisor_choose_a_street(client, city, at_now):
    signed_in(client, city.supervisor)
    response = client.get(reverse("governance:street_dashboard"))
    assert response.status_code == 200
    assert b'data-region="350602001000"' in response.content
    response = client.get(
        reverse("governance:street_dashboard"), {**PERIOD, "region": "350602002000"}
    )
    assert response.context["street"] == city.tree["street_b"]
    # A street user cannot open the other street.
    signed_in(client, city.dispatcher_b)
    response = client.get(reverse("governance:street_dashboard"), {"region": "350602001000"})
    assert response.status_code == 404


def test_large_screen_renders_and_points_to_the_api(client, city, at_now):
    response = signed_in(client, city.supervisor).get(reverse("governance:big_screen"), PERIOD)
    assert response.status_code == 200
    config = response.context["screen_config"]
    assert config["kpis"] == "/api/v1/kpis"
    assert config["refreshSeconds"] == 60
    assert b'data-testid="screen-overdue_now"' in response.content
    api = client.get(f"{config['kpis']}?{config['query']}")
    assert api.status_code == 200
    assert api.json()["total"]["kpis"]["reported"]["value"] == 12


# --- the KPI API --------------------------------------------------------------------------------


def test_kpi_api_returns_values_definitions_and_links(client, city, at_now):
    signed_in(client, city.dispatcher)
    response = client.get("/api/v1/kpis", {**PERIOD, "group_by": "community"})
    assert response.status_code == 200
    body = response.json()
    assert body["region"] == {"code": "350602001000", "name": "西桥街道"}
    total = body["total"]["kpis"]
    assert total["closure_rate"] == {
        "key": "closure_rate",
        "value": 0.8571,
        "display": "85.7%",
        "numerator": 6,
        "denominator": 7,
    }
    assert [d["key"] for d in body["definitions"]] == [k.key for k in kpis.KPIS]
    a2 = next(row for row in body["rows"] if row["key"] == "350602001002")
    assert a2["kpis"]["reported"]["value"] == 2
    assert "community=350602001002" in a2["links"]["reported"]


def test_kpi_api_empty_rates_are_null(client, city, at_now):
    signed_in(client, city.supervisor)
    response = client.get("/api/v1/kpis", {"start": "2025-01-01", "end": "2025-01-31"})
    total = response.json()["total"]["kpis"]
    assert total["closure_rate"]["value"] is None
    assert total["closure_rate"]["display"] == "—"


def test_kpi_api_errors(client, city, at_now):
    signed_in(client, city.dispatcher_b)
    assert client.get("/api/v1/kpis", {"region": "350602001000"}).status_code == 404
    response = client.get("/api/v1/kpis", {"group_by": "planet"})
    assert response.status_code == 400
    assert "group_by" in response.json()["errors"]
    resident = make_user("api_resident", roles=["resident"])
    signed_in(client, resident)
    assert client.get("/api/v1/kpis").status_code == 403
    client.logout()
    assert client.get("/api/v1/kpis").status_code == 403


def test_trend_heatmap_and_definitions_api(client, city, at_now):
    signed_in(client, city.dispatcher)
    trend = client.get("/api/v1/kpis/trend", {**PERIOD, "interval": "month"}).json()
    assert trend["series"] == [
        {"period": "2026-03-01", "reported": 11, "closed": 6, "closed_on_time": 3}
    ]
    heat = client.get("/api/v1/kpis/heatmap", PERIOD).json()
    assert heat["type"] == "FeatureCollection"
    assert {f["properties"]["code"] for f in heat["features"]} == {
        "350602001001001",
        "350602001001002",
        "350602001002001",
    }
    definitions = client.get("/api/v1/kpis/definitions").json()["definitions"]
    assert definitions[0]["key"] == "reported"


def test_openapi_schema_lists_the_kpi_endpoints(client, city):
    signed_in(client, city.supervisor)
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/kpis" in paths and "/api/v1/exports" in paths


# --- the ledger ---------------------------------------------------------------------------------


def test_ledger_page_lists_the_incidents_behind_a_number(client, city, at_now):
    signed_in(client, city.dispatcher)
    query = kpis.kpi_query_build(user=city.dispatcher, params=PERIOD, now=NOW)
    response = client.get(kpis.ledger_url(query, "closed_on_time"))
    assert response.status_code == 200
    assert response.context["count"] == 3
    numbers = {row["incident"].tracking_number for row in response.context["rows"]}
    i = city.incidents
    assert numbers == {i[1].tracking_number, i[3].tracking_number, i[9].tracking_number}
    html = response.content.decode()
    assert "Closed on time" in html or "按期结案" in html
    # A dispatcher may see contacts: phones in full, and the showing is audited.
    assert "13900000000" in html
    from audit.models import AuditEvent

    event = AuditEvent.objects.get(kind="unmasked", actor=city.dispatcher)
    assert sorted(event.details["tracking_numbers"]) == sorted(numbers)
    assert "13900000000" not in str(event.details)


def test_ledger_masks_phones_for_a_supervisor(client, city, at_now):
    signed_in(client, city.supervisor)
    response = client.get(reverse("governance:incident_ledger"), {"kpi": "reported", **PERIOD})
    html = response.content.decode()
    assert response.context["count"] == 12
    assert "139****0000" in html
    assert "13900000000" not in html
    assert "张*" in html
    from audit.models import AuditEvent

    assert not AuditEvent.objects.filter(kind="unmasked").exists()


def test_ledger_paginates_and_keeps_the_filters(client, city, at_now, settings):
    signed_in(client, city.supervisor)
    response = client.get(
        reverse("governance:incident_ledger"), {"kpi": "reported", "urgent": "true", **PERIOD}
    )
    assert response.context["count"] == 2
    assert {"kpi", "start", "end"} <= {key for key, _ in response.context["extras"]}


def test_ledger_errors(client, city, at_now):
    signed_in(client, city.dispatcher_b)
    url = reverse("governance:incident_ledger")
    assert client.get(url, {"community": "350602001000"}).status_code == 404
    response = client.get(url, {"kpi": "bogus"})
    assert response.status_code == 200
    assert response.context["rows"] == []
    resident = make_user("ledger_resident", roles=["resident"])
    assert signed_in(client, resident).get(url).status_code == 403


# --- case file ----------------------------------------------------------------------------------


def test_case_file_prints_fields_and_timeline(client, city, at_now):
    incident = city.incidents[2]
    signed_in(client, city.dispatcher)
    response = client.get(reverse("governance:case_file", args=[incident.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert incident.tracking_number in html
    assert 'id="print-button"' in html
    actions = [row["action"] for row in response.context["timeline"]]
    assert actions == ["report", "dispatch", "rework"]
    assert "13900000000" in html  # the dispatcher may see contacts
    # The supervisor sees the phone masked; another street's dispatcher gets a 404.
    html = (
        signed_in(client, city.supervisor)
        .get(reverse("governance:case_file", args=[incident.pk]))
        .content.decode()
    )
    assert "139****0000" in html and "13900000000" not in html
    response = signed_in(client, city.dispatcher_b).get(
        reverse("governance:case_file", args=[incident.pk])
    )
    assert response.status_code == 404


def test_case_file_css_has_print_rules(client, city):
    from django.contrib.staticfiles import finders

    with open(finders.find("js/governance/governance.css"), encoding="utf-8") as handle:
        css = handle.read()
    assert "@media print" in css


@pytest.fixture
def handled(region_tree):
    """A resident's report (with a photo) that a dispatcher sent to a grid worker, who
    accepted and resolved it with an evidence photo; staff with recognisable names."""
    from accounts.models import User
    from incidents import services
    from incidents.models import Channel, IncidentState
    from incidents.tests.conftest import IN_A1_1, jpeg_upload
    from incidents.tests.factories import build_city as build_loop_city

    loop = build_loop_city(region_tree)
    User.objects.filter(pk=loop.dispatcher.pk).update(display_name="郑晓敏")
    User.objects.filter(pk=loop.worker.pk).update(display_name="李振华")
    loop.dispatcher.refresh_from_db()
    loop.worker.refresh_from_db()
    incident = services.incident_report(
        actor=loop.resident,
        category=loop.categories["0102"],
        description="垃圾堆积",
        channel=Channel.RESIDENT_WEB,
        lat=IN_A1_1[0],
        lng=IN_A1_1[1],
        photos=[jpeg_upload()],
    )
    type(incident).objects.filter(pk=incident.pk).update(
        state=IncidentState.VERIFIED,
        grid_cell=loop.cell_a1_1,
        region=loop.a1,
        region_code=loop.a1.code,
        verifier=loop.worker,
    )
    services.incident_dispatch(
        incident_id=incident.pk, actor=loop.dispatcher, assignee_id=loop.worker.pk
    )
    services.incident_accept(incident_id=incident.pk, actor=loop.worker)
    services.incident_resolve(
        incident_id=incident.pk, actor=loop.worker, result="已清理", photos=[jpeg_upload()]
    )
    loop.incident = incident
    return loop


def test_case_file_hides_staff_names_and_media_urls_from_the_resident(client, handled):
    """Security review L3 + M5: the resident's case file names no staff member (the actors of
    the timeline, the assignee) and links the photos through the scoped photo view."""
    from django.urls import resolve

    from incidents.models import IncidentPhoto
    from incidents.views import photo as photo_view

    incident = handled.incident
    url = reverse("governance:case_file", args=[incident.pk])
    response = signed_in(client, handled.resident).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert incident.tracking_number in html
    assert "郑晓敏" not in html and "李振华" not in html
    assert "dispatcher_a" not in html and "worker_a1" not in html
    assert "/media/" not in html
    assert len(response.context["fields"]) == len(exports.incident_headers()) - 1  # no assignee
    actions = [row["action"] for row in response.context["timeline"]]
    assert {"dispatch", "accept", "resolve"} <= set(actions)
    photos = list(IncidentPhoto.objects.filter(incident=incident))
    assert len(photos) == 2
    for photo in photos:
        assert photo.image.url not in html
        link = reverse("incidents:photo", args=[photo.pk])
        assert f'src="{link}"' in html
        assert resolve(link).func is photo_view
        served = client.get(link)  # the resident may see the photos of their own report
        assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"


def test_case_file_names_staff_for_staff(client, handled):
    incident = handled.incident
    url = reverse("governance:case_file", args=[incident.pk])
    response = signed_in(client, handled.dispatcher).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "李振华" in html  # the assignee and the actor of accept / resolve
    assert len(response.context["fields"]) == len(exports.incident_headers())
    assert "李振华" in dict(response.context["fields"]).values()  # the assignee
    actors = {row["action"]: row["actor"] for row in response.context["timeline"]}
    assert actors["accept"] == actors["resolve"] == "李振华"
    assert "/media/" not in html
    html = signed_in(client, handled.supervisor).get(url).content.decode()
    assert "郑晓敏" in html and "李振华" in html
