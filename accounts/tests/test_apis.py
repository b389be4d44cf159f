import pytest
from rest_framework.test import APIClient

from tests.builders import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def test_me_needs_a_session(api):
    response = api.get("/api/v1/me")
    assert response.status_code == 403
    assert "detail" in response.json()


def test_me_returns_the_user_with_their_own_phone(api, region_tree):
    user = make_user(
        "wang",
        roles=["dispatcher", "mediator"],
        region=region_tree["street_a"],
        phone="13800001234",
        display_name="王五",
    )
    api.force_authenticate(user)
    body = api.get("/api/v1/me").json()
    assert body == {
        "id": user.pk,
        "username": "wang",
        "display_name": "王五",
        "phone": "13800001234",
        "phone_masked": "138****1234",
        "roles": ["dispatcher", "mediator"],
        "is_portal_admin": False,
        "department": "",
        "scope_region": {"code": "350602001000", "name": "西桥街道", "level": "street"},
        "language": "zh-hans",
    }


def test_me_for_a_resident_without_phone_or_region(api):
    api.force_authenticate(make_user("r", roles=["resident"]))
    body = api.get("/api/v1/me", headers={"accept-language": "en"}).json()
    assert body["phone"] == "" and body["phone_masked"] == ""
    assert body["scope_region"] is None
    assert body["language"] == "en"


def test_me_is_read_only(api):
    api.force_authenticate(make_user("r"))
    assert api.post("/api/v1/me", {}).status_code == 405


def test_me_is_in_the_openapi_schema(api):
    api.force_authenticate(make_user("r"))
    schema = api.get("/api/v1/schema/", {"format": "json"}).json()
    assert "/api/v1/me" in schema["paths"]
