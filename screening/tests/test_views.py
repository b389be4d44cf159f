"""Pages and API of screening: who opens what, logging through the form and the API, moves,
masking and its audited unmasking, the figures and the ledger."""

import io

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from screening.models import Dispute
from screening.tests.test_services import register

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_are_for_screening_roles_only(world):
    dispute = register(world)
    for name, args in (
        ("screening:list", []),
        ("screening:board", []),
        ("screening:reports", []),
        ("screening:detail", [dispute.pk]),
    ):
        url = reverse(name, args=args)
        assert client_for(world.worker).get(url).status_code == 200
        assert client_for(world.resident).get(url).status_code == 404
    assert (
        client_for(world.worker_b).get(reverse("screening:detail", args=[dispute.pk])).status_code
        == 404
    )
    assert (
        client_for(world.police).get(reverse("screening:detail", args=[dispute.pk])).status_code
        == 200
    )
    assert Client().get(reverse("screening:list")).status_code == 302


def test_log_through_the_form(world):
    client = client_for(world.worker)
    assert client.get(reverse("screening:new")).status_code == 200
    response = client.post(
        reverse("screening:new"),
        {
            "kind": "neighbour",
            "source": "screening",
            "grid_cell": str(world.cell_a1_1.pk),
            "place": "3号楼",
            "story": "争吵，一方称要拿刀",
            "factors": ["weapon"],
            "parties-TOTAL_FORMS": "2",
            "parties-INITIAL_FORMS": "0",
            "parties-0-side": "applicant",
            "parties-0-name": "张三丰",
            "parties-0-phone": "13911112222",
            "parties-1-side": "respondent",
            "parties-1-name": "李四光",
        },
    )
    dispute = Dispute.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "screening:detail", args=[dispute.pk]
    )
    assert dispute.level == "red"


def test_bad_form_input_is_a_message_not_a_500(world):
    response = client_for(world.worker).post(
        reverse("screening:new"),
        {
            "kind": "neighbour",
            "source": "screening",
            "grid_cell": str(world.cell_a1_1.pk),
            "place": "3号楼",
            "story": "x",
            "parties-TOTAL_FORMS": "1",
            "parties-INITIAL_FORMS": "0",
            "parties-0-side": "applicant",
            "parties-0-name": "王五",
            "parties-0-phone": "12345",
        },
    )
    assert response.status_code == 200
    assert not Dispute.objects.exists()


def test_detail_masks_parties_and_unmasking_is_audited(world):
    dispute = register(world)
    client = client_for(world.worker)
    page = client.get(reverse("screening:detail", args=[dispute.pk])).content.decode()
    assert "张**" in page and "张三丰" not in page and "13911112222" not in page
    revealed = client.get(reverse("screening:detail", args=[dispute.pk]) + "?reveal=1")
    assert "张三丰" in revealed.content.decode()
    assert AuditEvent.objects.filter(kind="unmasked", actor=world.worker).exists()
    # a supervisor sees the dispute but never the parties in full
    sup = client_for(world.supervisor).get(
        reverse("screening:detail", args=[dispute.pk]) + "?reveal=1"
    )
    assert "张三丰" not in sup.content.decode()


def test_moves_through_the_pages(world):
    dispute = register(world)
    client = client_for(world.worker)
    url = reverse("screening:action", args=[dispute.pk, "mediate_on_spot"])
    response = client.post(url, {"mediate_on_spot-note": "现场劝解"})
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.state == "first_mediated"
    # a refused move is a message; an unknown one 404; a resident's 404
    client.post(reverse("screening:action", args=[dispute.pk, "visit"]), {"visit-note": "x"})
    dispute.refresh_from_db()
    assert dispute.state == "first_mediated"
    assert client.post(reverse("screening:action", args=[dispute.pk, "nope"])).status_code == 404
    resident = client_for(world.resident)
    assert resident.post(url, {"mediate_on_spot-note": "x"}).status_code == 404


def test_kpis_and_ledger(world):
    register(world, factor_codes=["weapon"])
    client = client_for(world.supervisor)
    page = client.get(reverse("screening:kpis"))
    assert page.status_code == 200
    assert client_for(world.worker).get(reverse("screening:kpis")).status_code == 404
    from django.utils import timezone

    month = f"{timezone.localdate():%Y-%m}"
    ledger = client.get(reverse("screening:ledger") + f"?region={world.a1.code}&month={month}")
    assert ledger.status_code == 200
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(ledger.content))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 2 and "张**" in rows[1][6] and "张三丰" not in str(rows)
    # a region outside the supervisor's scope (the dispatcher of street B asks for A1)
    other = client_for(world.dispatcher_b).get(
        reverse("screening:kpis") + f"?region={world.a1.code}"
    )
    assert other.status_code == 404


def test_api_create_detail_move_and_figures(world):
    client = client_for(world.worker)
    bad = client.post(
        "/api/v1/screening/disputes/",
        {"kind": "neighbour", "place": "", "story": "x", "parties": []},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "place" in bad.json()["errors"]
    created = client.post(
        "/api/v1/screening/disputes/",
        {
            "kind": "neighbour",
            "grid_cell": world.cell_a1_1.pk,
            "place": "3号楼",
            "story": "扬言报复",
            "factors": ["violence_threat"],
            "parties": [
                {"side": "applicant", "name": "张三丰", "phone": "13911112222"},
                {"side": "respondent", "name": "李四光"},
            ],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["level"] == "orange" and body["parties"][0]["name"] == "张**"
    pk = body["id"]
    moved = client.post(
        f"/api/v1/screening/disputes/{pk}/mediate-on-spot/",
        {"note": "劝解"},
        content_type="application/json",
    )
    assert moved.status_code == 200 and moved.json()["state"] == "first_mediated"
    refused = client.post(
        f"/api/v1/screening/disputes/{pk}/visit/", {"note": "x"}, content_type="application/json"
    )
    assert refused.status_code == 409
    empty = client.post(
        f"/api/v1/screening/disputes/{pk}/follow-up/", {}, content_type="application/json"
    )
    assert empty.status_code == 400
    board = client.get("/api/v1/screening/board/").json()
    assert [row["id"] for row in board] == [pk]
    assert client_for(world.resident).get(f"/api/v1/screening/disputes/{pk}/").status_code == 404
    assert client_for(world.worker_b).get(f"/api/v1/screening/disputes/{pk}/").status_code == 404
    figures = client_for(world.supervisor).get("/api/v1/screening/kpis/").json()
    assert figures["totals"]["found"] == 1 and figures["totals"]["by_level"]["orange"] == 1
    assert client.get("/api/v1/screening/kpis/").status_code == 404
    checklist = client.get("/api/v1/screening/checklist/").json()
    assert {"weapon", "key_person"} <= {f["code"] for f in checklist["factors"]}


def test_api_reports(world):
    client = client_for(world.dispatcher)
    from django.utils import timezone

    month = timezone.localdate().replace(day=1).isoformat()
    created = client.post(
        "/api/v1/screening/reports/",
        {"region": world.a2.code, "month": month, "zero_report": True},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    listed = client.get("/api/v1/screening/reports/").json()
    assert [r["region"]["code"] for r in listed] == [world.a2.code]
    outside = client.post(
        "/api/v1/screening/reports/",
        {"region": world.b1.code, "month": month, "zero_report": True},
        content_type="application/json",
    )
    assert outside.status_code == 400


def test_api_reveal_is_audited_and_lowering_is_refused(world):
    dispute = register(world, factor_codes=["violence_threat"])
    url = f"/api/v1/screening/disputes/{dispute.pk}/"
    masked = client_for(world.police).get(url).json()
    assert masked["parties"][0]["name"] == "张**"
    revealed = client_for(world.police).get(url + "?reveal=true").json()
    assert revealed["parties"][0]["name"] == "张三丰"
    assert AuditEvent.objects.filter(kind="unmasked", actor=world.police).exists()
    supervisor = client_for(world.supervisor).get(url + "?reveal=true").json()
    assert supervisor["parties"][0]["name"] == "张**"
    lower = client_for(world.worker).post(
        url + "raise-level/", {"level": "yellow", "reason": "x"}, content_type="application/json"
    )
    assert lower.status_code == 400 and "level" in lower.json()["errors"]
    dispute.refresh_from_db()
    assert dispute.level == "orange"
