"""Exports: they open with openpyxl (or as CSV), have Chinese headers, match the screen, mask
personal data unless the user may see it, and large ones run as jobs with progress."""

import csv
import io
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from governance import aggregates, exports, kpis
from governance.models import ExportJob
from governance.tests.kpi_data import NOW, PERIOD, build_city
from tests.builders import make_user

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def city(region_tree):
    data = build_city(region_tree)
    aggregates.incident_facts_rebuild(now=NOW)
    data.supervisor = make_user(
        "kpi_supervisor", roles=["supervisor"], region=region_tree["city"], phone="13700000110"
    )
    return data


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def post_export(client, kind: str, fmt: str, query: dict | str, **extra):
    from urllib.parse import urlencode

    query_string = query if isinstance(query, str) else urlencode(query, doseq=True)
    return client.post(
        reverse("governance:export_create"),
        {"kind": kind, "fmt": fmt, "query": query_string, **extra},
    )


def xlsx_rows(content: bytes) -> list[list]:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    sheet = workbook.worksheets[0]
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def screen_rows(response) -> list[list]:
    return [row["cells"] for row in response.context["rows"]]


# --- inline exports match the ledger page -------------------------------------------------------


@pytest.mark.parametrize("user_name", ["dispatcher", "supervisor"])
def test_ledger_xlsx_matches_the_screen(client, city, at_now, user_name):
    user = getattr(city, user_name)
    client.force_login(user)
    params = {"kpi": "reported", **PERIOD}
    page = client.get(reverse("governance:incident_ledger"), params)
    response = post_export(client, "incidents", "xlsx", params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    rows = xlsx_rows(response.content)
    headers, body = rows[0], rows[1:]
    assert headers == exports.incident_headers() or all(CJK.search(h) for h in headers)
    assert all(CJK.search(str(h)) for h in headers), headers
    assert body == screen_rows(page)
    assert len(body) == page.context["count"]
    phones = {row[8] for row in body}
    if user_name == "dispatcher":  # may see contacts
        assert phones == {"13900000000"}
    else:  # a supervisor is not among the roles that see contacts
        assert phones == {"139****0000"}
        assert all(row[7] == "张*" for row in body)
    job = ExportJob.objects.get()
    assert (job.user, job.kind, job.inline, job.row_count) == (user, "incidents", True, len(body))
    assert job.params["kpi"] == ["reported"]


def test_ledger_csv_matches_the_screen(client, city, at_now):
    client.force_login(city.dispatcher)
    params = {"kpi": "closed", **PERIOD}
    page = client.get(reverse("governance:incident_ledger"), params)
    response = post_export(client, "incidents", "csv", params)
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert all(CJK.search(h) for h in rows[0])
    assert [row[0] for row in rows[1:]] == [row[0] for row in screen_rows(page)]
    assert len(rows) - 1 == 6


def test_kpi_table_export_matches_the_api(client, city, at_now):
    client.force_login(city.dispatcher)
    params = {**PERIOD, "group_by": "community"}
    api = client.get("/api/v1/kpis", params).json()
    response = post_export(client, "kpis", "xlsx", params)
    rows = xlsx_rows(response.content)
    headers = rows[0]
    assert headers[0] == exports.kpi_headers()[0]
    assert all(CJK.search(h) for h in headers)
    api_rows = [*api["rows"], api["total"]]
    assert [row[0] for row in rows[1:]] == [r["label"] for r in api_rows]
    for row, api_row in zip(rows[1:], api_rows, strict=True):
        column = 1
        for kpi in kpis.KPIS:
            assert row[column] == api_row["kpis"][kpi.key]["display"], (api_row["label"], kpi.key)
            column += 1 if kpi.kind == "count" else 3


def test_mediation_and_petition_exports(client, city, region_tree, at_now):
    from incidents.models import Category
    from mediation.models import CaseParty, MediationCase, MediationRoom, RoomLevel, RoomType
    from petitions.models import PetitionCategory
    from petitions.services import PetitionerInput, petition_file

    room = MediationRoom.objects.create(
        name="西桥乡贤调解室",
        room_type=RoomType.XIANGXIAN,
        level=RoomLevel.VILLAGE,
        region=region_tree["a1"],
    )
    case = MediationCase.objects.create(
        case_number="TJ202603001",
        room=room,
        category=Category.objects.get(code="9101"),
        facts="楼道堆物纠纷",
        source="walk_in",
        region_code="350602001001",
        state="agreement_reached",
        outcome="agreement",
        concluded_at=NOW - timedelta(days=20),
    )
    MediationCase.objects.filter(pk=case.pk).update(created_at=NOW - timedelta(days=25))
    CaseParty.objects.create(
        case=case, role="applicant", name="王五", phone="13600000001", id_number=""
    )
    officer = make_user(
        "kpi_petition_officer", roles=["petition_officer"], region=region_tree["district"]
    )
    petition_file(
        actor=officer,
        channel="letter",
        kind="request",
        matter="油烟扰民",
        request="安装净化设备",
        facts_and_reasons="排烟口正对窗户",
        category=PetitionCategory.objects.order_by("code").first(),
        region=region_tree["a1"],
        petitioners=[
            PetitionerInput(
                name="赵六",
                id_number="350602199001011235",
                phone="13900000001",
                address="西桥社区1号",
                is_representative=True,
            )
        ],
        received_at=NOW - timedelta(days=20),
    )
    params = {"region": "350602001000", "start": "2026-03-01", "end": "2026-04-10"}
    # Mediation: the supervisor sees the case, parties masked (not a contact-seeing role).
    client.force_login(city.supervisor)
    rows = xlsx_rows(post_export(client, "mediation", "xlsx", params).content)
    assert all(CJK.search(h) for h in rows[0])
    assert [r[0] for r in rows[1:]] == ["TJ202603001"]
    assert rows[1][6] == "王*" and rows[1][8] == "136****0001"
    query = kpis.kpi_query_build(user=city.supervisor, params=params, now=NOW)
    assert kpis.mediation_kpis(query, user=city.supervisor)["success_rate"] == 1.0
    assert kpis.mediation_kpis(query, user=city.supervisor)["mean_days"] == 5.0
    # Petitions: the supervisor sees phones masked, the petition officer in full.
    text = post_export(client, "petitions", "csv", params).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2
    assert rows[1][8] == "139****0001"
    assert "350602199001011235" not in text
    client.force_login(officer)
    text = post_export(client, "petitions", "csv", params).content.decode("utf-8-sig")
    assert "13900000001" in text and "350602199001011235" in text


# --- large exports: a job with progress, downloaded by its owner only ---------------------------


def test_large_export_runs_as_a_job_with_progress(
    client, city, at_now, settings, django_capture_on_commit_callbacks
):
    settings.GOVERNANCE_EXPORT_INLINE_MAX_ROWS = 3
    client.force_login(city.supervisor)
    params = {"kpi": "reported", **PERIOD}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_export(client, "incidents", "xlsx", params)
    assert len(callbacks) == 1  # governance.tasks.export_run, on commit
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("governance:export_detail", args=[job.pk])
    assert (job.status, job.progress, job.row_count, job.inline) == ("done", 100, 12, False)
    assert re.fullmatch(r"exports/[0-9a-f]{32}\.xlsx", job.file.name)  # random (review M5)
    # The progress fragment (htmx) offers the download once done, and stops polling.
    fragment = client.get(
        reverse("governance:export_detail", args=[job.pk]), headers={"HX-Request": "true"}
    )
    html = fragment.content.decode()
    assert 'data-status="done"' in html and 'id="export-download"' in html
    assert "hx-trigger" not in html
    download = client.get(reverse("governance:export_download", args=[job.pk]))
    assert download.status_code == 200
    body = xlsx_rows(b"".join(download.streaming_content))
    page = client.get(reverse("governance:incident_ledger"), params)
    assert body[1:] == screen_rows(page)
    # Nobody else may see or download it.
    other = make_user("other_supervisor", roles=["supervisor"], region=city.tree["city"])
    client.force_login(other)
    assert client.get(reverse("governance:export_detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("governance:export_download", args=[job.pk])).status_code == 404


def test_export_files_have_random_names_and_the_owner_gets_the_title(
    client, city, at_now, settings, django_capture_on_commit_callbacks
):
    """Review M5: the stored file's name says nothing about its owner, table or time, and cannot
    be guessed; the title is the download's name, for the owner only."""
    settings.GOVERNANCE_EXPORT_INLINE_MAX_ROWS = 0
    client.force_login(city.supervisor)
    names = set()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                "/api/v1/exports",
                {"kind": "incidents", "fmt": "csv", "params": {"kpi": "reported", **PERIOD}},
                content_type="application/json",
            )
    for job in ExportJob.objects.filter(user=city.supervisor):
        assert job.status == "done"
        stored = job.file.name
        assert re.fullmatch(r"exports/[0-9a-f]{32}\.csv", stored), stored
        assert str(city.supervisor.pk) + "/" not in stored and "台账" not in stored
        assert timezone.localtime().strftime("%Y%m%d") not in stored
        names.add(stored)
        download = client.get(reverse("governance:export_download", args=[job.pk]))
        assert download.status_code == 200
        disposition = download["Content-Disposition"]
        assert "attachment" in disposition
        assert quote("事件台账") in disposition and stored.rsplit("/", 1)[-1] not in disposition
        assert b"".join(download.streaming_content).decode("utf-8-sig").count("\n") > 1
    assert len(names) == 2
    other = make_user("export_other", roles=["supervisor"], region=city.tree["city"])
    client.force_login(other)
    job = ExportJob.objects.filter(user=city.supervisor).first()
    assert client.get(reverse("governance:export_download", args=[job.pk])).status_code == 404


def test_pending_job_page_polls(client, city, at_now, settings):
    settings.GOVERNANCE_EXPORT_INLINE_MAX_ROWS = 3
    client.force_login(city.supervisor)
    post_export(client, "incidents", "csv", {"kpi": "reported", **PERIOD})  # not committed: waits
    job = ExportJob.objects.get()
    assert job.status == "pending"
    html = client.get(reverse("governance:export_detail", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert 'id="export-download"' not in html
    assert client.get(reverse("governance:export_download", args=[job.pk])).status_code == 404


def test_job_run_is_idempotent_and_reports_progress(city, at_now, settings):
    settings.GOVERNANCE_EXPORT_INLINE_MAX_ROWS = 0
    result = exports.export_request(
        user=city.supervisor, kind="incidents", fmt="csv", params={"kpi": "reported", **PERIOD}
    )
    job = result.job
    seen = []
    original = exports.write_table

    def spy(table, fmt, stream, *, progress=None):
        def record(done):
            seen.append(done)
            progress(done)

        return original(table, fmt, stream, progress=record)

    exports.write_table = spy
    try:
        first = exports.export_job_run(job_id=job.pk)
    finally:
        exports.write_table = original
    assert first.status == "done"
    name = first.file.name
    # Running it again (a duplicate delivery) changes nothing.
    assert exports.export_job_run(job_id=job.pk).file.name == name
    assert seen == []  # 12 rows: below the progress step, reported once at the end (100 %)


def test_failed_job_shows_the_reason(city, at_now, client):
    job = ExportJob.objects.create(
        user=city.supervisor, kind="incidents", fmt="xlsx", params={"community": "350699999999"}
    )
    job = exports.export_job_run(job_id=job.pk)
    assert job.status == "failed"
    assert job.error
    client.force_login(city.supervisor)
    html = client.get(reverse("governance:export_detail", args=[job.pk])).content.decode()
    assert 'id="export-error"' in html


def test_export_errors_are_messages_not_500s(client, city, at_now):
    client.force_login(city.supervisor)
    response = post_export(
        client, "incidents", "xlsx", {"kpi": "bogus"}, next=reverse("governance:dashboard")
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("governance:dashboard")
    response = post_export(client, "planets", "xlsx", {})
    assert response.status_code == 302
    assert not ExportJob.objects.exists()
    resident = make_user("export_resident", roles=["resident"])
    client.force_login(resident)
    assert post_export(client, "incidents", "xlsx", {}).status_code == 403
    assert client.get(reverse("governance:export_create")).status_code == 405


def test_export_api(client, city, at_now, django_capture_on_commit_callbacks):
    client.force_login(city.supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/exports",
            {"kind": "kpis", "fmt": "xlsx", "params": {"start": "2026-03-01", "end": "2026-03-31"}},
            content_type="application/json",
        )
    assert response.status_code == 202
    job_id = response.json()["id"]
    status = client.get(f"/api/v1/exports/{job_id}").json()
    assert status["status"] == "done"
    assert status["download_url"] == reverse("governance:export_download", args=[job_id])
    other = make_user("api_other", roles=["supervisor"], region=city.tree["city"])
    client.force_login(other)
    assert client.get(f"/api/v1/exports/{job_id}").status_code == 404


def test_purge_removes_old_files_keeps_the_record(city, settings):
    settings.GOVERNANCE_EXPORT_INLINE_MAX_ROWS = 0
    with time_machine.travel(NOW, tick=False):
        job = exports.export_request(
            user=city.supervisor, kind="kpis", fmt="csv", params=PERIOD
        ).job
        exports.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    path = job.file.path
    with time_machine.travel(NOW + timedelta(days=8), tick=False):
        assert exports.exports_purge() == 1
    job.refresh_from_db()
    assert job.file.name == ""
    import os

    assert not os.path.exists(path)


# --- every export is in the audit log -----------------------------------------------------------


@pytest.mark.parametrize(("user_name", "unmasked"), [("dispatcher", True), ("supervisor", False)])
def test_an_export_is_audited_with_whether_it_was_unmasked(
    client, city, at_now, user_name, unmasked
):
    from audit.models import AuditEvent, AuditKind

    user = getattr(city, user_name)
    client.force_login(user)
    params = {"kpi": "reported", **PERIOD}
    response = post_export(client, "incidents", "csv", params)
    assert response.status_code == 200
    job = ExportJob.objects.get(user=user)
    event = AuditEvent.objects.get(kind=AuditKind.EXPORTED, actor=user)
    assert event.object_id == str(job.pk)
    assert event.details["kind"] == "incidents"
    assert event.details["format"] == "csv"
    assert event.details["unmasked"] is unmasked
