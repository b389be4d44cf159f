"""Hardening (issue 9): security headers and Content-Security-Policy on every page, the session
idle timeout and maximum lifetime, and the rate limits on sign-in, public reporting and
tracking look-ups."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.navigation import menu_for
from tests.builders import DEFAULT_PASSWORD, make_user

BASE_DIR = Path(settings.BASE_DIR)
pytestmark = pytest.mark.django_db


@pytest.fixture
def city(region_tree):
    from incidents.tests.factories import build_city

    city = build_city(region_tree)
    city.mediator = make_user(
        "mediator_h", roles=["mediator"], region=region_tree["street_a"], phone="13700000011"
    )
    city.petition_officer = make_user(
        "petition_h", roles=["petition_officer"], region=region_tree["city"], phone="13700000012"
    )
    return city


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def directives(header: str) -> dict[str, list[str]]:
    result = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            result[words[0]] = words[1:]
    return result


def assert_hardened(response, path: str) -> None:
    header = response.get("Content-Security-Policy")
    assert header, f"{path}: no Content-Security-Policy"
    policy = directives(header)
    assert policy["default-src"] == ["'self'"], path
    assert policy["script-src"] == ["'self'"], path  # no inline scripts, no eval
    assert policy["object-src"] == ["'none'"], path
    assert policy["base-uri"] == ["'self'"], path
    assert policy["frame-ancestors"] == ["'none'"], path
    assert policy["form-action"] == ["'self'"], path
    assert "'unsafe-inline'" not in policy["style-src-elem"], path
    assert set(policy["img-src"]) >= {"'self'", "data:", "blob:"}, path
    assert response["Referrer-Policy"] == "same-origin", path
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", path
    assert response["X-Content-Type-Options"] == "nosniff", path
    assert response["X-Frame-Options"] == "DENY", path
    permissions = response["Permissions-Policy"]
    assert "geolocation=(self)" in permissions and "camera=(self)" in permissions, path
    assert "microphone=()" in permissions, path


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def assert_no_inline_script(html: str, path: str) -> None:
    assert not INLINE_SCRIPT.search(html), f"{path}: inline <script>"
    assert not INLINE_HANDLER.search(html), f"{path}: inline event handler"
    assert "javascript:" not in html.lower(), f"{path}: javascript: URL"
    assert "<style" not in html.lower(), f"{path}: <style> element"


# --- Content-Security-Policy and headers ------------------------------------------------------


ROLE_USERS = [
    "resident",
    "worker",
    "dispatcher",
    "handler",
    "mediator",
    "petition_officer",
    "supervisor",
    "admin",
]


@pytest.mark.parametrize("role_user", ROLE_USERS)
def test_every_menu_page_of_each_role_is_hardened(city, role_user):
    user = getattr(city, role_user)
    client = Client()
    client.force_login(user)
    paths = [item["url"] for item in menu_for(user)]
    paths += [reverse("accounts:profile"), reverse("accounts:inbox")]
    assert len(paths) >= 6
    for path in paths:
        response = client.get(path, follow=True)  # /mediation/ leads to the role's page
        assert response.status_code == 200, (path, response.status_code)
        assert_hardened(response, path)
        if response["Content-Type"].startswith("text/html"):
            assert_no_inline_script(response.content.decode(), path)


def test_anonymous_pages_errors_and_api_are_hardened(city):
    client = Client()
    for path in (
        reverse("accounts:login"),
        reverse("incidents:report_anonymous"),
        reverse("incidents:track"),
        reverse("petitions:track"),
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_hardened(response, path)
        assert_no_inline_script(response.content.decode(), path)
    # Redirects, 404s and the API carry the headers too.
    for path, status in (
        (reverse("incidents:queue"), 302),
        ("/no-such-page/", 404),
        ("/api/v1/categories", 200),
    ):
        response = client.get(path)
        assert response.status_code == status, path
        assert_hardened(response, path)


def test_api_docs_pages_load_their_start_up_script_from_a_url(city):
    client = Client()
    client.force_login(city.admin)
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert not INLINE_SCRIPT.search(html)  # SpectacularSwaggerSplitView: no inline script
    policy = directives(docs["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" in policy["style-src-elem"]  # the UI's own <style> elements
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200 and "javascript" in script["Content-Type"]


def test_no_template_has_inline_scripts_or_event_handlers():
    """Every template of the project (rendered or not by the tests above)."""
    offenders = []
    for template in BASE_DIR.glob("**/templates/**/*.html"):
        if any(part in {".venv", "node_modules"} for part in template.parts):
            continue
        text = template.read_text(encoding="utf-8")
        if INLINE_SCRIPT.search(text) or INLINE_HANDLER.search(text) or "<style" in text:
            offenders.append(str(template.relative_to(BASE_DIR)))
    assert offenders == []


def test_map_tile_server_is_allowed_for_images(tmp_path):
    from tests.test_settings_smoke import GOOD_SECRET_KEY, run_python

    code = (
        "import django; django.setup()\nfrom django.conf import settings as s\n"
        "print(' '.join(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']))"
    )
    env = {"MAP_TILE_URL": "https://{s}.tiles.example.gov.cn/{z}/{x}/{y}.png"}
    result = run_python(code, env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["'self'", "data:", "blob:", "https://*.tiles.example.gov.cn"]
    assert GOOD_SECRET_KEY  # same helper as the production smoke tests


def test_production_cookies_and_transport_are_hardened(tmp_path):
    from tests.test_settings_smoke import GOOD_SECRET_KEY, run_python

    code = (
        "import django; django.setup()\nfrom django.conf import settings as s\n"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
        " s.CSRF_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, s.SECURE_HSTS_SECONDS >= 31536000,"
        " s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_AGE)"
    )
    env = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": GOOD_SECRET_KEY,
        "ALLOWED_HOSTS": "portal.example.gov.cn",
        "FIELD_ENCRYPTION_KEY": "wqkjReK6d2CCQkJK6ZbafeXg4Ax4JeYhI00zFayp06k=",
    }
    result = run_python(code, env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        *["True", "True", "True", "True", "Lax", "True", "True", "True"],
        "1800",
    ]


# --- session idle timeout and maximum lifetime -----------------------------------------------


def _profile(client: Client) -> int:
    return client.get(reverse("accounts:profile")).status_code


def test_an_idle_session_ends_after_the_idle_timeout(city):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        client.force_login(city.resident)
        assert _profile(client) == 200
        clock.shift(timedelta(minutes=29))
        assert _profile(client) == 200  # activity renews the session
        clock.shift(timedelta(minutes=29))
        assert _profile(client) == 200
        clock.shift(timedelta(minutes=31))
        response = client.get(reverse("accounts:profile"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))


def test_the_middleware_ends_an_idle_session_even_with_a_long_cookie(city, settings):
    """The server-side check, not only the cookie's age: a session whose cookie and row would
    live for hours still ends after SESSION_IDLE_TIMEOUT."""
    settings.SESSION_COOKIE_AGE = 8 * 3600
    settings.SESSION_IDLE_TIMEOUT = 600
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        client.force_login(city.resident)
        assert _profile(client) == 200
        clock.shift(timedelta(minutes=9))
        assert _profile(client) == 200
        clock.shift(timedelta(minutes=11))
        response = client.get(reverse("accounts:profile"), follow=True)
        assert response.redirect_chain[0][0].startswith(reverse("accounts:login"))
        assert "会话已过期" in response.content.decode()


def test_an_active_session_ends_at_the_maximum_lifetime(city, settings):
    settings.SESSION_COOKIE_AGE = 24 * 3600
    settings.SESSION_MAX_LIFETIME = 10 * 3600
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        client.force_login(city.resident)
        for _ in range(39):  # a request every 15 minutes for 9 h 45 min
            assert _profile(client) == 200
            clock.shift(timedelta(minutes=15))
        assert _profile(client) == 200
        clock.shift(timedelta(minutes=16))  # 10 h 1 min after sign-in
        assert _profile(client) == 302


# --- rate limits --------------------------------------------------------------------------------


WRONG_PASSWORD = "wrong-password"


def _login(client: Client, username: str, password: str = WRONG_PASSWORD, **extra):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, **extra
    )


def assert_429(response, message: str) -> None:
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert message in response.content.decode()


def test_login_failures_are_limited_per_client_address(city, settings):
    """Spraying many accounts from one address: past the limit even a right password is
    refused from that address (django-axes alone counts per account and address)."""
    settings.LOGIN_FAILURES_PER_IP = "3/15m"
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        for name in ("resident", "resident2", "dispatcher_a"):
            assert _login(client, name).status_code == 200  # the form again, with an error
        refused = _login(client, "supervisor", DEFAULT_PASSWORD)
        assert_429(refused, "登录失败次数过多")
        assert int(refused["Retry-After"]) <= 15 * 60
        assert "_auth_user_id" not in client.session
        # Another address is not affected.
        other = _login(Client(), "supervisor", DEFAULT_PASSWORD, REMOTE_ADDR="10.1.2.3")
        assert other.status_code == 302
        # The window ends.
        clock.shift(timedelta(minutes=16))
        assert _login(client, "supervisor", DEFAULT_PASSWORD).status_code == 302


def test_login_failures_are_limited_per_account(city, settings):
    settings.LOGIN_FAILURES_PER_USERNAME = "3/h"
    for number in range(3):
        response = _login(Client(), "resident", REMOTE_ADDR=f"10.0.0.{number + 1}")
        assert response.status_code == 200
    # From a fourth address, by phone number (the same account): refused.
    refused = _login(Client(), "13800000001", DEFAULT_PASSWORD, REMOTE_ADDR="10.0.0.9")
    assert_429(refused, "登录失败次数过多")
    # Other accounts sign in.
    assert (
        _login(Client(), "resident2", DEFAULT_PASSWORD, REMOTE_ADDR="10.0.0.9").status_code == 302
    )


def test_successful_sign_ins_do_not_count(city, settings):
    settings.LOGIN_FAILURES_PER_IP = "2/15m"
    for _ in range(5):
        client = Client()
        assert _login(client, "resident", DEFAULT_PASSWORD).status_code == 302


def test_anonymous_reports_are_limited_per_address_with_retry_after(city, settings):
    settings.INCIDENT_PUBLIC_REPORTS_PER_HOUR = 1
    client = Client()
    url = reverse("incidents:report_anonymous")
    assert client.post(url, {}).status_code == 400  # counted, although invalid
    refused = client.post(url, {})
    assert_429(refused, "上报过多")
    assert int(refused["Retry-After"]) <= 3600
    assert Client(REMOTE_ADDR="10.9.9.9").post(url, {}).status_code == 400


def test_tracking_page_is_limited_and_does_not_tell_numbers_apart(city, settings):
    from django.core.cache import cache

    from incidents.tests.factories import make_incident

    cache.clear()
    incident = make_incident(city)  # reported by city.resident, with an access code
    settings.INCIDENT_TRACK_TRIES_PER_10_MINUTES = 3
    client = Client()
    url = reverse("incidents:track")
    wrong_code = client.post(url, {"no": incident.tracking_number, "code": "WRONG234"})
    no_such = client.post(url, {"no": "GG22222222", "code": "WRONG234"})
    assert wrong_code.status_code == no_such.status_code == 200
    message = "没有与该受理编号和查询码相符的事件"
    assert message in wrong_code.content.decode() and message in no_such.content.decode()
    right = client.post(url, {"no": incident.tracking_number, "code": incident.access_code})
    assert right.status_code == 302
    assert_429(client.post(url, {"no": "GG22222222", "code": "WRONG234"}), "查询次数过多")


def test_tracking_api_answers_the_same_404_and_429_with_retry_after(city, settings):
    from django.core.cache import cache
    from rest_framework.test import APIClient

    from incidents.tests.factories import make_incident

    cache.clear()
    incident = make_incident(city)
    settings.INCIDENT_TRACK_TRIES_PER_10_MINUTES = 3
    client = APIClient()
    base = "/api/v1/incidents/track"
    wrong = client.post(base, {"no": incident.tracking_number, "code": "WRONG234"}, format="json")
    missing = client.post(base, {"no": "GG22222222", "code": "WRONG234"}, format="json")
    assert wrong.status_code == missing.status_code == 404
    assert wrong.json() == missing.json()
    right = client.post(
        base, {"no": incident.tracking_number, "code": incident.access_code}, format="json"
    )
    assert right.status_code == 200
    throttled = client.post(base, {"no": "GG22222222", "code": "WRONG234"}, format="json")
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert "限" in throttled.json()["detail"]  # DRF's Chinese message


# --- the client's address behind the reverse proxy (review M6.1, L2) ---------------------------


PROXY = "172.30.0.1"


@pytest.fixture
def behind_proxy(settings):
    settings.CLIENT_IP_META = "HTTP_X_REAL_IP"
    settings.TRUSTED_PROXIES = [PROXY]
    return settings


@pytest.mark.parametrize(
    ("trusted", "remote", "header", "expected"),
    [
        ([], PROXY, "198.51.100.7", PROXY),  # no trusted proxy configured: never the header
        ([PROXY], "203.0.113.9", "198.51.100.7", "203.0.113.9"),  # from anyone else: ignored
        ([PROXY], PROXY, "198.51.100.7", "198.51.100.7"),  # from the proxy: the client
        (["172.30.0.0/24"], "172.30.0.5", "198.51.100.7, 10.0.0.1", "198.51.100.7"),  # network
        ([PROXY], PROXY, "not-an-address", PROXY),  # garbage: the proxy, not the garbage
        ([PROXY], PROXY, "", PROXY),
        (["::1"], "::1", "2001:db8::7", "2001:db8::7"),
    ],
)
def test_client_ip_header_is_believed_from_a_trusted_proxy_only(
    settings, trusted, remote, header, expected
):
    from django.test import RequestFactory

    from core.ratelimit import client_ip

    settings.CLIENT_IP_META = "HTTP_X_REAL_IP"
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_REAL_IP=header)
    assert client_ip(request) == expected


def test_a_spoofed_address_header_does_not_dodge_the_login_limit(city, behind_proxy):
    """The review's reproduction: a client reaching gunicorn directly writes a new X-Real-IP
    into every request. Its own address is counted."""
    behind_proxy.LOGIN_FAILURES_PER_IP = "3/15m"
    for number, name in enumerate(("resident", "resident2", "dispatcher_a")):
        spoofed = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_REAL_IP": f"10.9.{number}.1"}
        assert _login(Client(), name, **spoofed).status_code == 200
    refused = _login(
        Client(),
        "supervisor",
        DEFAULT_PASSWORD,
        REMOTE_ADDR="203.0.113.9",
        HTTP_X_REAL_IP="10.9.9.1",
    )
    assert_429(refused, "登录失败次数过多")
    # Through the proxy, the header names the client: each client has its own count.
    for number in range(4):
        through = {"REMOTE_ADDR": PROXY, "HTTP_X_REAL_IP": f"198.51.100.{number + 1}"}
        assert _login(Client(), "resident", **through).status_code == 200
    assert (
        _login(
            Client(),
            "supervisor",
            DEFAULT_PASSWORD,
            REMOTE_ADDR=PROXY,
            HTTP_X_REAL_IP="198.51.100.9",
        ).status_code
        == 302
    )


def test_a_spoofed_address_header_does_not_dodge_the_tracking_api_limit(city, behind_proxy):
    from rest_framework.test import APIClient

    behind_proxy.INCIDENT_TRACK_TRIES_PER_10_MINUTES = 3
    base = "/api/v1/incidents/track"
    statuses = [
        APIClient()
        .post(
            base,
            {"no": "GG22222222", "code": f"WRONG{number:03d}"},
            format="json",
            REMOTE_ADDR="203.0.113.9",
            HTTP_X_REAL_IP=f"10.9.{number}.1",
        )
        .status_code
        for number in range(5)
    ]
    assert statuses == [404, 404, 404, 429, 429]


def test_axes_locks_the_account_for_the_failing_client_only_behind_the_proxy(city, behind_proxy):
    """Review L2: behind the proxy every request comes from its address; django-axes counts
    the failures against the client's (AXES_CLIENT_IP_CALLABLE), so one client's five wrong
    passwords do not lock the account for everyone."""
    assert settings.AXES_CLIENT_IP_CALLABLE == "core.ratelimit.client_address"
    attacker = {"REMOTE_ADDR": PROXY, "HTTP_X_REAL_IP": "198.51.100.66"}
    owner = {"REMOTE_ADDR": PROXY, "HTTP_X_REAL_IP": "198.51.100.3"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(Client(), "13700000004", **attacker)  # dispatcher_a by phone, wrong password
    assert _login(Client(), "13700000004", DEFAULT_PASSWORD, **attacker).status_code == 429
    signed_in = Client()
    assert _login(signed_in, "13700000004", DEFAULT_PASSWORD, **owner).status_code == 302
    assert "_auth_user_id" in signed_in.session


# --- media files (review M5) ---------------------------------------------------------------------


def test_media_files_are_never_served_from_media_url_even_under_debug(city, settings):
    """`make run` has DEBUG on: the URL configuration built then must not serve MEDIA_ROOT
    (exports carry unmasked phones; every file goes through its permission-checked view)."""
    import importlib

    from django.urls import clear_url_caches

    import governance.urls

    settings.DEBUG = True
    export = Path(settings.MEDIA_ROOT) / "exports" / "4" / "1-ledger.csv"
    export.parent.mkdir(parents=True)
    export.write_text("王小明,13800000001\n")
    photo = Path(settings.MEDIA_ROOT) / "incidents" / "a.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8\xff")
    try:
        importlib.reload(governance.urls)  # as the development server builds it, DEBUG on
        clear_url_caches()
        assert not any(
            str(getattr(pattern, "pattern", "")).startswith(settings.MEDIA_URL.lstrip("/"))
            for pattern in governance.urls.urlpatterns
        )
        for client in (Client(), _signed_in(city.supervisor)):
            for url in ("/media/exports/4/1-ledger.csv", "/media/incidents/a.jpg"):
                response = client.get(url)
                assert response.status_code == 404, url
                assert b"13800000001" not in b"".join(
                    getattr(response, "streaming_content", [response.content])
                )
    finally:
        settings.DEBUG = False
        importlib.reload(governance.urls)
        clear_url_caches()


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_tracking_numbers_are_random_not_sequential():
    from incidents.services import TRACKING_ALPHABET, TRACKING_RANDOM_LENGTH, tracking_number_new

    numbers = [tracking_number_new() for _ in range(200)]
    assert len(set(numbers)) == 200
    assert len(TRACKING_ALPHABET) ** TRACKING_RANDOM_LENGTH > 10**11
    assert sorted(numbers) != numbers  # not issued in order
