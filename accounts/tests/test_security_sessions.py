"""Sessions (issue 23, ASVS 7.4.5): a user's active sessions on their profile (device, address,
last seen), ending them (the user; the security administrator for anyone), and the limit of
concurrent sessions per staff account."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from accounts import services
from accounts.models import SecurityPolicy, UserSession
from accounts.policy import policy_forget
from accounts.tests.otp import verified_client
from audit.models import AuditEvent
from core.exceptions import PermissionDeniedError
from tests.builders import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.django_db


def _signed_in(user, agent: str = "Mozilla/5.0 TestPhone") -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    return client


@pytest.fixture(autouse=True)
def _fresh_policy():
    policy_forget()
    yield
    policy_forget()


def test_the_profile_lists_my_sessions_without_their_keys(region_tree):
    user = make_user("wang", roles=["resident"])
    phone = _signed_in(user, "PhoneBrowser/1.0")
    desk = _signed_in(user, "DeskBrowser/2.0")
    html = desk.get("/accounts/profile/").content.decode()
    assert "PhoneBrowser/1.0" in html and "DeskBrowser/2.0" in html
    assert "127.0.0.1" in html
    for client in (phone, desk):
        assert client.cookies["sessionid"].value not in html  # the credential never shown
    row = UserSession.objects.get(session_key=phone.cookies["sessionid"].value)
    assert row.ip == "127.0.0.1" and row.last_seen_at is not None


def test_i_end_one_other_session_or_all_others(region_tree):
    user = make_user("wang", roles=["resident"])
    first, second, third = (_signed_in(user, f"B{i}") for i in range(3))
    page = third.get("/accounts/profile/")
    refs = {s.user_agent: s.ref for s in page.context["sessions"]}
    assert third.post("/accounts/sessions/end/", {"session": refs["B0"]}).status_code == 302
    assert first.get("/api/v1/me").status_code == 403
    assert second.get("/api/v1/me").status_code == 200
    third.post("/accounts/sessions/end/", {"session": "all"})
    assert second.get("/api/v1/me").status_code == 403
    assert third.get("/api/v1/me").status_code == 200  # this one stays
    # Another user's reference ends nothing.
    other = make_user("li", roles=["resident"])
    other_client = _signed_in(other)
    other_ref = other_client.get("/accounts/profile/").context["sessions"][0].ref
    third.post("/accounts/sessions/end/", {"session": other_ref})
    assert other_client.get("/api/v1/me").status_code == 200


def test_the_security_admin_ends_any_users_sessions_and_it_is_audited(region_tree):
    user = make_user("disp", roles=["dispatcher"], region=region_tree["street_a"])
    browsers = [_signed_in(user, f"B{i}") for i in range(2)]
    security = make_user("sec", roles=["security_admin"])
    system = make_user("sys", roles=["system_admin"])
    with pytest.raises(PermissionDeniedError):
        services.user_sessions_end(actor=system, user_id=user.pk)
    with pytest.raises(PermissionDeniedError):
        services.user_sessions_end(actor=security, user_id=security.pk)
    client = verified_client(security)
    detail = client.get(f"/accounts/security/users/{user.pk}/")
    assert len(detail.context["sessions"]) == 2
    response = client.post(f"/accounts/security/users/{user.pk}/", {"action": "end_sessions"})
    assert response.status_code == 302
    for browser in browsers:
        assert browser.get("/api/v1/me").status_code == 403
    assert not UserSession.objects.filter(user=user).exists()
    event = AuditEvent.objects.get(kind="sessions_ended", object_id=str(user.pk))
    assert event.actor_id == security.pk and event.details["sessions"] == 2


def test_a_staff_account_keeps_at_most_the_configured_sessions(region_tree):
    policy = SecurityPolicy.objects.get()
    policy.max_sessions_per_staff = 2
    policy.save()
    user = make_user("disp", roles=["dispatcher"], region=region_tree["street_a"])
    clients = [_signed_in(user, f"B{i}") for i in range(3)]
    assert clients[0].get("/api/v1/me").status_code == 403  # the oldest ended
    assert all(c.get("/api/v1/me").status_code == 200 for c in clients[1:])
    assert UserSession.objects.filter(user=user).count() == 2
    # Residents are not limited.
    resident = make_user("res", roles=["resident"])
    many = [_signed_in(resident, f"R{i}") for i in range(4)]
    assert all(c.get("/api/v1/me").status_code == 200 for c in many)
    # 0: no limit.
    policy.max_sessions_per_staff = 0
    policy.save()
    more = [_signed_in(user, f"C{i}") for i in range(3)]
    assert all(c.get("/api/v1/me").status_code == 200 for c in more)
    assert Session.objects.count() >= 9
