"""The REST API: issue (201, field errors 400, 403), 我的任务, the moves, the masked addressee,
campaign progress; every operation in the OpenAPI schema."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from assignments.models import Assignment, Task
from assignments.tests.builders import SERVICE, issue, issue_service, kind, photo, signature

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_issue_and_read_back(world):
    body = {
        "kind": kind().pk,
        "title": "入户走访",
        "instructions": "核实",
        "deadline": (timezone.now() + timedelta(days=1)).isoformat(),
        "cells": [world.cell_a1.pk, world.cell_a2.pk],
        "form_fields": [{"label": "人数", "type": "number", "required": True}],
    }
    response = api(world.dispatcher_a).post("/api/v1/tasks/issue/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert len(data["assignments"]) == 2 and data["form_fields"][0]["name"] == "f1"
    listed = api(world.dispatcher_a).get("/api/v1/tasks/").json()
    assert [row["id"] for row in listed["results"]] == [data["id"]]
    assert api(world.dispatcher_b).get(f"/api/v1/tasks/{data['id']}/").status_code == 404


def test_issue_refusals(world):
    base = {
        "kind": kind().pk,
        "title": "x",
        "instructions": "y",
        "deadline": (timezone.now() + timedelta(days=1)).isoformat(),
    }
    response = api(world.worker_a1).post(
        "/api/v1/tasks/issue/", {**base, "cells": [world.cell_a1.pk]}, format="json"
    )
    assert response.status_code == 403
    response = api(world.dispatcher_a).post(
        "/api/v1/tasks/issue/", {**base, "cells": [world.cell_b.pk]}, format="json"
    )
    assert response.status_code == 400 and "cells" in response.json()["errors"]
    response = api(world.dispatcher_a).post("/api/v1/tasks/issue/", {"kind": "x"}, format="json")
    assert response.status_code == 400
    assert not Task.objects.exists()


def test_worker_moves_through_the_api_and_the_addressee_is_masked_for_others(world):
    assignment = issue_service(world).assignments.get()
    worker = api(world.worker_a1)
    mine = worker.get("/api/v1/tasks/mine/").json()
    assert [row["id"] for row in mine] == [assignment.pk]
    detail = worker.get(f"/api/v1/tasks/assignments/{assignment.pk}/").json()
    assert (
        detail["addressee"]["phone"] == SERVICE.addressee_phone
        and not detail["addressee"]["masked"]
    )
    assert worker.post(f"/api/v1/tasks/assignments/{assignment.pk}/accept/").status_code == 200
    bad = worker.post(
        f"/api/v1/tasks/assignments/{assignment.pk}/complete/",
        {"outcome": "delivered", "served_place": "3栋201"},
        format="multipart",
    )
    assert bad.status_code == 400 and {"photo", "signature"} <= set(bad.json()["errors"])
    done = worker.post(
        f"/api/v1/tasks/assignments/{assignment.pk}/complete/",
        {
            "outcome": "delivered",
            "served_place": "3栋201",
            "photo": photo(),
            "signature": signature(),
        },
        format="multipart",
    )
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "done" and done.json()["has_signature"]
    supervisor = api(world.supervisor_a).get(f"/api/v1/tasks/assignments/{assignment.pk}/").json()
    assert supervisor["addressee"]["masked"] and SERVICE.addressee_phone not in str(supervisor)
    again = worker.post(f"/api/v1/tasks/assignments/{assignment.pk}/accept/")
    assert again.status_code == 409
    assert api(world.worker_b).get(f"/api/v1/tasks/assignments/{assignment.pk}/").status_code == 404


def test_office_moves_and_reason_errors(world):
    assignment = issue(world).assignments.get()
    office = api(world.dispatcher_a)
    url = f"/api/v1/tasks/assignments/{assignment.pk}"
    assert office.post(f"{url}/cancel/", {}, format="json").status_code == 400
    assert (
        api(world.worker_a1).post(f"{url}/cancel/", {"reason": "x"}, format="json").status_code
        == 403
    )
    assert (
        api(world.worker_a1)
        .post(f"{url}/return/", {"reason": "不在网格"}, format="json")
        .status_code
        == 200
    )
    response = office.post(f"{url}/reassign/", {"worker": world.worker_a2.pk}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "issued"
    assert office.post(f"{url}/reopen/", {"reason": "x"}, format="json").status_code == 409
    response = office.post(
        f"/api/v1/tasks/{assignment.task_id}/cancel/", {"reason": "撤回"}, format="json"
    )
    assert response.status_code == 200
    assert Assignment.objects.get(pk=assignment.pk).state == "cancelled"


def test_campaigns_through_the_api(world):
    office = api(world.dispatcher_a)
    response = office.post(
        "/api/v1/tasks/campaigns/new/",
        {
            "title": "专项行动",
            "region": world.tree["street_a"].pk,
            "deadline": (timezone.now() + timedelta(days=3)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201
    campaign_id = response.json()["id"]
    issue(world, campaign_id=campaign_id, deadline=None, cells=[world.cell_a1, world.cell_a2])
    progress = office.get(f"/api/v1/tasks/campaigns/{campaign_id}/").json()
    assert progress["total"]["total"] == 2 and len(progress["by_cell"]) == 2
    assert api(world.dispatcher_b).get(f"/api/v1/tasks/campaigns/{campaign_id}/").status_code == 404
    assert [c["id"] for c in office.get("/api/v1/tasks/campaigns/").json()] == [campaign_id]
    assert api(world.resident).get("/api/v1/tasks/kinds/").status_code == 200


def test_every_operation_is_in_the_openapi_schema():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {
        op["operationId"]
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/tasks/")
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    assert {
        "tasks_list",
        "tasks_issue",
        "tasks_kinds",
        "tasks_mine",
        "tasks_detail",
        "tasks_cancel",
        "tasks_assignment_detail",
        "tasks_assignment_accept",
        "tasks_assignment_complete",
        "tasks_assignment_return",
        "tasks_assignment_reassign",
        "tasks_assignment_cancel",
        "tasks_assignment_reopen",
        "tasks_campaigns",
        "tasks_campaign_create",
        "tasks_campaign_progress",
    } <= operations


def test_issue_with_attachments_over_multipart(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api(world.dispatcher_a).post(
        "/api/v1/tasks/issue/",
        {
            "kind": kind().pk,
            "title": "宣传",
            "instructions": "发放",
            "deadline": (timezone.now() + timedelta(days=1)).isoformat(),
            "cells": [world.cell_a1.pk],
            "attachments": [
                SimpleUploadedFile("a.pdf", b"%PDF-1.4\n", content_type="application/pdf")
            ],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert Task.objects.get().attachments.count() == 1
