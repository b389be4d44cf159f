"""Disabling a user ends their sessions at once; role, scope and password changes take effect
on the very next request (nothing about the user is kept in the session)."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from accounts.models import Role, User, UserSession
from tests.builders import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.django_db


def _signed_in(user: User) -> Client:
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302, response.content[:500]
    return client


def test_sign_in_indexes_the_session(region_tree):
    user = make_user("wang", roles=["resident"])
    client = _signed_in(user)
    key = client.cookies["sessionid"].value
    assert UserSession.objects.filter(user=user, session_key=key).exists()


def test_sign_out_drops_the_index_row(region_tree):
    user = make_user("wang", roles=["resident"])
    client = _signed_in(user)
    assert client.post("/accounts/logout/").status_code == 302
    assert not UserSession.objects.filter(user=user).exists()


def test_disabling_a_user_ends_every_session_at_once(region_tree):
    user = make_user("disp", roles=["dispatcher"], region=region_tree["street_a"])
    other = make_user("other", roles=["dispatcher"], region=region_tree["street_a"])
    browser, phone = _signed_in(user), _signed_in(user)
    bystander = _signed_in(other)
    forced = Client()
    forced.force_login(user)  # a session made without the login form (not in the index)
    for client in (browser, phone, forced):
        assert client.get("/api/v1/me").status_code == 200
        assert client.get("/incidents/queue/").status_code == 200

    user.is_active = False
    user.save()

    assert not Session.objects.filter(
        session_key__in=[c.cookies["sessionid"].value for c in (browser, phone, forced)]
    ).exists()
    assert not UserSession.objects.filter(user=user).exists()
    for client in (browser, phone, forced):
        assert client.get("/api/v1/me").status_code == 403
        page = client.get("/incidents/queue/")
        assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    assert bystander.get("/api/v1/me").status_code == 200


def test_disabled_user_is_refused_even_if_a_session_row_survives(region_tree):
    """The backend itself refuses an inactive user (a bulk update() sends no signal)."""
    user = make_user("wang", roles=["resident"])
    client = _signed_in(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert Session.objects.filter(session_key=client.cookies["sessionid"].value).exists()
    assert client.get("/api/v1/me").status_code == 403
    assert client.get("/accounts/profile/").status_code == 302


def test_disabled_user_cannot_sign_in_again(region_tree):
    make_user("wang", roles=["resident"], is_active=False)
    response = Client().post("/accounts/login/", {"username": "wang", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200  # the form again, with its error
    assert "_auth_user_id" not in Client().session


def test_saving_an_active_user_keeps_the_sessions(region_tree):
    user = make_user("wang", roles=["resident"])
    client = _signed_in(user)
    user.display_name = "王五"
    user.save()
    assert client.get("/api/v1/me").json()["display_name"] == "王五"


def test_admin_disabling_a_user_ends_their_session(region_tree):
    admin = User.objects.create_superuser("root", password=DEFAULT_PASSWORD)
    user = make_user("wang", roles=["resident"], phone="13800001234")
    client = _signed_in(user)
    staff = Client()
    staff.force_login(admin)
    response = staff.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "username": "wang",
            "phone": "13800001234",
            "display_name": "wang",
            "roles": ["resident"],
            "date_joined_0": "2026-01-05",
            "date_joined_1": "09:00:00",
            # is_active left out: the box is unticked
        },
    )
    assert response.status_code == 302
    assert client.get("/api/v1/me").status_code == 403


def test_password_change_ends_the_other_sessions(region_tree):
    user = make_user("wang", roles=["resident"])
    here, elsewhere = _signed_in(user), _signed_in(user)
    response = here.post(
        "/accounts/password/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "Another-Pass-2027!",
            "new_password2": "Another-Pass-2027!",
        },
    )
    assert response.status_code == 302
    assert here.get("/api/v1/me").status_code == 200  # the changer stays signed in
    assert elsewhere.get("/api/v1/me").status_code == 403


def test_role_and_scope_changes_apply_on_the_next_request(region_tree):
    from incidents.tests.factories import build_city, make_incident

    city = build_city(region_tree)
    incident = make_incident(city, cell="cell_a1_1")
    client = Client()
    client.force_login(city.dispatcher)
    assert client.get(f"/api/v1/incidents/{incident.pk}").status_code == 200
    assert client.get(f"/incidents/{incident.pk}/").status_code == 200
    assert client.get("/api/v1/incidents/queue").status_code == 200

    # The scope moves to street B: street A's incident is out of sight at once.
    city.dispatcher.scope_region = region_tree["street_b"]
    city.dispatcher.save()
    assert client.get(f"/api/v1/incidents/{incident.pk}").status_code == 404
    assert client.get(f"/incidents/{incident.pk}/").status_code == 404
    assert client.get("/api/v1/me").json()["scope_region"]["code"] == "350602002000"

    # The role goes: the queue is refused at once.
    city.dispatcher.roles.set(Role.objects.filter(code="resident"))
    assert client.get("/api/v1/incidents/queue").status_code == 403
    assert client.get("/incidents/queue/").status_code == 403
    assert client.get("/api/v1/me").json()["roles"] == ["resident"]
