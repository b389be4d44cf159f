"""The pages: 我的任务, issuing, an assignment's moves with evidence, the receipt, campaigns;
bad input is a form error (never a 500); anything out of scope a 404."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assignments.models import AssignmentState, Task
from assignments.tests.builders import SERVICE, issue, issue_service, kind, photo, signature

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def test_my_tasks_page_lists_the_workers_tasks(client, world):
    assignment = issue(world, title="排查群租房").assignments.get()
    page = login(client, world.worker_a1).get(reverse("assignments:home"))
    assert page.status_code == 200 and "排查群租房" in page.content.decode()
    assert f'data-assignment="{assignment.pk}"' in page.content.decode()
    other = login(client, world.worker_b).get(reverse("assignments:home"))
    assert "排查群租房" not in other.content.decode()


def test_issuing_through_the_form(client, world):
    login(client, world.dispatcher_a)
    assert client.get(reverse("assignments:task_new")).status_code == 200
    deadline = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("assignments:task_new"),
        {
            "kind": kind().pk,
            "title": "入户核查",
            "instructions": "核查出租屋登记",
            "deadline": deadline,
            "communities": [world.tree["a1"].pk],
            "form_fields": "租户人数* | number\n是否登记 | yes_no",
        },
    )
    task = Task.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "assignments:task", args=[task.pk]
    )
    assert task.assignments.count() == 2 and task.form_fields[0]["required"]
    assert client.get(response.url).status_code == 200


def test_bad_issue_input_is_a_form_error(client, world):
    login(client, world.dispatcher_a)
    response = client.post(
        reverse("assignments:task_new"),
        {"kind": kind().pk, "title": "x", "instructions": "y", "form_fields": "a | date"},
    )
    assert response.status_code == 200 and "field-error" in response.content.decode()
    response = client.post(
        reverse("assignments:task_new"),
        {
            "kind": kind().pk,
            "title": "x",
            "instructions": "y",
            "cells": [world.cell_b.pk],
            "deadline": (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 200 and not Task.objects.exists()


def test_non_issuers_may_not_open_the_issue_page(client, world):
    for user in (world.worker_a1, world.resident):
        assert login(client, user).get(reverse("assignments:task_new")).status_code == 403
    assert login(client, world.resident).get(reverse("assignments:issued")).status_code == 403


def test_service_delivered_with_signature_then_the_receipt(client, world):
    assignment = issue_service(world).assignments.get()
    login(client, world.worker_a1)
    url = reverse("assignments:assignment", args=[assignment.pk])
    page = client.get(url).content.decode()
    assert SERVICE.addressee_name in page and "accept-button" in page
    client.post(reverse("assignments:assignment_accept", args=[assignment.pk]))
    page = client.get(url).content.decode()
    assert "signature-canvas" in page and "complete-form" in page
    refused = client.post(
        reverse("assignments:assignment_complete", args=[assignment.pk]),
        {"outcome": "delivered", "served_place": "3栋201", "photo": photo()},
    )
    assert refused.status_code == 400 and 'data-field="signature"' in refused.content.decode()
    done = client.post(
        reverse("assignments:assignment_complete", args=[assignment.pk]),
        {
            "outcome": "delivered",
            "served_place": "3栋201",
            "photo": photo(),
            "signature": signature(),
            "latitude": "24.505",
            "longitude": "117.605",
        },
    )
    assert done.status_code == 302
    assignment.refresh_from_db()
    assert assignment.state == AssignmentState.DONE
    login(client, world.court)
    receipt = client.get(reverse("assignments:receipt", args=[assignment.pk]))
    body = receipt.content.decode()
    assert receipt.status_code == 200 and SERVICE.document_title in body
    assert SERVICE.addressee_name in body and "receipt-signature" in body
    image = client.get(reverse("assignments:evidence", args=[assignment.pk, "signature"]))
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    # a supervisor of the area sees the receipt with the addressee masked
    login(client, world.supervisor_a)
    masked = client.get(reverse("assignments:receipt", args=[assignment.pk])).content.decode()
    assert SERVICE.addressee_name not in masked and "林**" in masked
    # out of scope: 404 for the page, the receipt and the files
    login(client, world.worker_b)
    for name, args in (
        ("assignments:assignment", [assignment.pk]),
        ("assignments:receipt", [assignment.pk]),
        ("assignments:evidence", [assignment.pk, "signature"]),
    ):
        assert client.get(reverse(name, args=args)).status_code == 404


def test_the_receipt_exists_only_once_served(client, world):
    assignment = issue_service(world).assignments.get()
    login(client, world.court)
    assert client.get(reverse("assignments:receipt", args=[assignment.pk])).status_code == 404


def test_return_and_reassign_through_the_pages(client, world):
    assignment = issue(world).assignments.get()
    login(client, world.worker_a1)
    bad = client.post(
        reverse("assignments:assignment_return", args=[assignment.pk]),
        {"return-reason": ""},
    )
    assert bad.status_code == 400
    client.post(
        reverse("assignments:assignment_return", args=[assignment.pk]),
        {"return-reason": "不在本网格"},
    )
    login(client, world.dispatcher_a)
    page = client.get(reverse("assignments:assignment", args=[assignment.pk])).content.decode()
    assert "reassign-button" in page
    client.post(
        reverse("assignments:assignment_reassign", args=[assignment.pk]),
        {"worker": world.worker_a2.pk},
    )
    assignment.refresh_from_db()
    assert assignment.worker == world.worker_a2 and assignment.state == AssignmentState.ISSUED
    assert client.post(f"/tasks/a/{assignment.pk}/nonsense/").status_code == 404


def test_a_worker_may_not_move_it_for_the_office(client, world):
    assignment = issue(world).assignments.get()
    login(client, world.worker_a1)
    response = client.post(
        reverse("assignments:assignment_cancel", args=[assignment.pk]),
        {"cancel-reason": "x"},
    )
    assert response.status_code == 403


def test_campaign_pages(client, world):
    login(client, world.dispatcher_a)
    deadline = (timezone.localtime() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("assignments:campaign_new"),
        {"title": "消防安全专项行动", "region": world.tree["street_a"].pk, "deadline": deadline},
    )
    assert response.status_code == 302
    board = client.get(response.url)
    assert board.status_code == 200 and "progress-cells" in board.content.decode()
    assert client.get(reverse("assignments:campaigns")).status_code == 200
    login(client, world.dispatcher_b)
    assert client.get(response.url).status_code == 404


def test_attachments_go_up_with_the_task_and_down_to_those_who_see_it(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(client, world.dispatcher_a)
    deadline = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    pdf = SimpleUploadedFile("通知.pdf", b"%PDF-1.4\n% x\n", content_type="application/pdf")
    response = client.post(
        reverse("assignments:task_new"),
        {
            "kind": kind().pk,
            "title": "宣传",
            "instructions": "发放",
            "deadline": deadline,
            "cells": [world.cell_a1.pk],
            "attachments": [pdf],
        },
    )
    assert response.status_code == 302
    attachment = Task.objects.get().attachments.get()
    url = reverse("assignments:attachment", args=[attachment.pk])
    assert login(client, world.worker_a1).get(url).status_code == 200
    assert login(client, world.worker_b).get(url).status_code == 404
    fake = SimpleUploadedFile("x.pdf", b"MZ not a pdf", content_type="application/pdf")
    refused = login(client, world.dispatcher_a).post(
        reverse("assignments:task_new"),
        {
            "kind": kind().pk,
            "title": "宣传2",
            "instructions": "发放",
            "deadline": deadline,
            "cells": [world.cell_a1.pk],
            "attachments": [fake],
        },
    )
    assert refused.status_code == 200 and Task.objects.count() == 1


def test_campaign_export_is_an_xlsx_of_the_board(client, world):
    import io

    from openpyxl import load_workbook

    from assignments import services

    campaign = services.campaign_create(
        actor=world.dispatcher_a,
        title="=专项",
        region_id=world.tree["street_a"].pk,
        deadline=timezone.now() + timedelta(days=3),
    )
    issue(world, campaign_id=campaign.pk, deadline=None, cells=[world.cell_a1, world.cell_a2])
    response = login(client, world.supervisor_a).get(
        reverse("assignments:campaign_export", args=[campaign.pk])
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[:2] == ["按网格", "按网格员"]
    assert book.worksheets[0]["A1"].value == "'=专项"  # stays text
    assert book.worksheets[2].max_row == 3
    assert (
        login(client, world.dispatcher_b)
        .get(reverse("assignments:campaign_export", args=[campaign.pk]))
        .status_code
        == 404
    )
