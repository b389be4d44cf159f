import pytest
import time_machine
from rest_framework.test import APIClient

from volunteers.models import Claim, PatrolTask
from volunteers.tests import factories as f

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_apply_through_the_api_gives_field_errors(world):
    user = f.resident("api_applicant", world["a1"])
    client = _client(user)
    response = client.post(
        "/api/v1/volunteers/apply/", {"community": "999", "real_name": ""}, format="json"
    )
    assert response.status_code == 400
    assert {"community", "real_name"} <= set(response.json()["errors"])

    response = client.post(
        "/api/v1/volunteers/apply/",
        {"community": world["a1"].code, "real_name": "赵六"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["state"] == "applied"
    organiser = _client(world["organiser"])
    volunteer_id = response.json()["id"]
    assert (
        organiser.post(
            f"/api/v1/volunteers/applications/{volunteer_id}/decline/", {}, format="json"
        ).status_code
        == 400
    )
    assert (
        _client(world["organiser_b"])
        .post(f"/api/v1/volunteers/applications/{volunteer_id}/approve/")
        .status_code
        == 404
    )
    response = organiser.post(f"/api/v1/volunteers/applications/{volunteer_id}/approve/")
    assert response.status_code == 200 and response.json()["number"]


def test_post_claim_check_in_and_out_by_api(world):
    organiser = _client(world["organiser"])
    from datetime import timedelta

    from django.utils import timezone

    start = timezone.now() + timedelta(hours=3)
    response = organiser.post(
        "/api/v1/volunteers/tasks/",
        {
            "title": "API 巡防",
            "level": "grid",
            "region": world["a1"].code,
            "cells": [world["cell_a1_1"].code],
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
            "places": 1,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    task_id = response.json()["id"]
    volunteer = _client(world["volunteer"].user)
    assert [t["id"] for t in volunteer.get("/api/v1/volunteers/tasks/").json()] == [task_id]
    response = volunteer.post(f"/api/v1/volunteers/tasks/{task_id}/claim/", {}, format="json")
    assert response.status_code == 201
    claim_id = response.json()["id"]
    other = f.approved_volunteer("api_second", world["a1"], world["organiser"])
    response = _client(other.user).post(
        f"/api/v1/volunteers/tasks/{task_id}/claim/", {}, format="json"
    )
    assert response.status_code == 409
    assert PatrolTask.objects.get(pk=task_id).taken == 1
    task = PatrolTask.objects.get(pk=task_id)
    with time_machine.travel(f.shift_time(task, 5), tick=False):
        response = volunteer.post(
            f"/api/v1/volunteers/claims/{claim_id}/check-in/",
            {"lat": 24.505, "lng": 117.645},
            format="json",
        )
        assert response.status_code == 400
        assert "location" in str(response.json())
        response = volunteer.post(
            f"/api/v1/volunteers/claims/{claim_id}/check-in/", {"lat": "x"}, format="json"
        )
        assert response.status_code == 400
        response = volunteer.post(
            f"/api/v1/volunteers/claims/{claim_id}/check-in/",
            {"lat": 24.505, "lng": 117.605},
            format="json",
        )
        assert response.status_code == 200 and response.json()["state"] == "on_duty"
        response = volunteer.post(
            f"/api/v1/volunteers/claims/{claim_id}/hazard/",
            {"lat": 24.505, "lng": 117.605, "category": "0102", "description": "护栏松动"},
            format="json",
        )
        assert response.status_code == 201
        # someone else's claim does not exist for them
        assert (
            _client(other.user)
            .post(
                f"/api/v1/volunteers/claims/{claim_id}/check-out/",
                {"lat": 24.505, "lng": 117.605},
                format="json",
            )
            .status_code
            == 404
        )
    with time_machine.travel(f.shift_time(task, 50), tick=False):
        response = volunteer.post(
            f"/api/v1/volunteers/claims/{claim_id}/check-out/",
            {"lat": 24.505, "lng": 117.605},
            format="json",
        )
        assert response.status_code == 200 and response.json()["state"] == "completed"
    records = organiser.get("/api/v1/volunteers/records/").json()
    assert records[0]["hours"] == "0.75"
    assert (
        organiser.post(f"/api/v1/volunteers/records/{records[0]['id']}/confirm/").status_code == 200
    )
    points = volunteer.get("/api/v1/volunteers/points/").json()
    assert points["balance"] == "14.5"  # 0.75 h × 10 + 5 + 2
    assert Claim.objects.get(pk=claim_id).hazards.count() == 1


def test_coverage_api_is_for_supervision_and_scoped(world, region_tree):
    organiser = _client(world["organiser"])
    response = organiser.get("/api/v1/volunteers/coverage/")
    assert response.status_code == 200
    body = response.json()
    assert body["cells"] == 3 and body["region"] == world["street_a"].code
    assert (
        organiser.get(
            "/api/v1/volunteers/coverage/", {"region": world["street_b"].code}
        ).status_code
        == 404
    )
    assert _client(world["volunteer"].user).get("/api/v1/volunteers/coverage/").status_code == 403
