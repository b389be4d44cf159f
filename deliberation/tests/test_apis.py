"""The API: public reads without personal data, writes with field errors (400), refusals."""

import pytest
from rest_framework.test import APIClient

from deliberation.tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def test_public_list_and_detail_for_anonymous(api, world):
    proposal = f.proposal(world["alice"])
    listed = api.get("/api/v1/deliberation/proposals/")
    assert listed.status_code == 200 and listed.json()["count"] == 1
    detail = api.get(f"/api/v1/deliberation/proposals/{proposal.pk}/").json()
    assert detail["author"] == "王**"
    assert "王小丽" not in str(detail) and world["alice"].phone not in str(detail)
    assert api.get("/api/v1/deliberation/proposals/987654/").status_code == 404


def test_create_with_field_errors_then_support_once(api, world):
    api.force_authenticate(world["alice"])
    bad = api.post("/api/v1/deliberation/proposals/", {"title": ""}, format="json")
    assert bad.status_code == 400 and "title" in str(bad.json())
    created = api.post(
        "/api/v1/deliberation/proposals/",
        {"title": "加装充电桩", "description": "电动车乱充电", "category": f.category().code},
        format="json",
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    api.force_authenticate(world["bob"])
    assert api.post(f"/api/v1/deliberation/proposals/{pk}/support/").status_code == 201
    assert api.post(f"/api/v1/deliberation/proposals/{pk}/support/").status_code == 409
    api.force_authenticate(world["unverified"])
    assert api.post(f"/api/v1/deliberation/proposals/{pk}/support/").status_code == 403


def test_review_scoped(api, world):
    proposal = f.proposal(world["alice"])
    url = f"/api/v1/deliberation/proposals/{proposal.pk}/review/"
    api.force_authenticate(world["staff_b"])
    assert api.post(url, {"decision": "accept"}, format="json").status_code == 404
    api.force_authenticate(world["staff"])
    assert api.post(url, {"decision": "nonsense"}, format="json").status_code == 400
    assert api.post(url, {"decision": "decline"}, format="json").status_code == 400  # no reason
    response = api.post(url, {"decision": "accept"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "accepted"


def test_anonymous_cannot_write(api, world):
    proposal = f.proposal(world["alice"])
    assert api.post(f"/api/v1/deliberation/proposals/{proposal.pk}/support/").status_code == 403
    assert api.post("/api/v1/deliberation/proposals/", {}, format="json").status_code == 403


def test_draft_round_hidden_from_the_public(api, world):
    budget_round = f.budget_round(world["staff"], world["street_a"])
    assert api.get(f"/api/v1/deliberation/budget-rounds/{budget_round.pk}/").status_code == 404
    api.force_authenticate(world["staff"])
    assert api.get(f"/api/v1/deliberation/budget-rounds/{budget_round.pk}/").status_code == 200
    response = api.post(
        f"/api/v1/deliberation/budget-rounds/{budget_round.pk}/advance/",
        {"phase": "draft"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["phase"] == "collect"
    api.force_authenticate(world["dave"])
    created = api.post(
        f"/api/v1/deliberation/budget-rounds/{budget_round.pk}/projects/",
        {"title": "健身器材", "description": "老年健身", "estimated_cost": "20000"},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["votes"] is None
