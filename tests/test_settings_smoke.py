"""Settings smoke tests: production refuses unsafe configuration, passes Django's deployment
checks, and the database and broker named in the environment are the ones used."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)
GOOD_SECRET_KEY = secrets.token_urlsafe(64)
GOOD_FIELD_ENCRYPTION_KEY = secrets.token_urlsafe(48)


def run_python(
    code: str,
    env_overrides: dict[str, str],
    tmp_path: Path,
    *args: str,
    drop: tuple[str, ...] = (),
) -> subprocess.CompletedProcess:
    """Run Python in a fresh interpreter with a production-like environment (no pytest marker,
    so settings behave as they do on a server)."""
    removed = {"PYTEST_VERSION", "PYTEST_XDIST_WORKER", "DJANGO_ENV", "SECRET_KEY", "DEBUG"}
    removed |= {"ALLOWED_HOSTS", *drop}
    env = {key: value for key, value in os.environ.items() if key not in removed}
    env.update({"GRIDGOV_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": ""})
    env["DJANGO_SETTINGS_MODULE"] = "governance.settings"
    if "FIELD_ENCRYPTION_KEY" not in drop:
        env.setdefault("FIELD_ENCRYPTION_KEY", GOOD_FIELD_ENCRYPTION_KEY)
    env.update(env_overrides)
    command = [sys.executable, "-c", code] if code else [sys.executable, *args]
    return subprocess.run(
        command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )


SETUP = "import django; django.setup(); print('started')"


@pytest.mark.parametrize(
    ("secret_key", "reason"),
    [
        (None, "missing"),
        ("", "empty"),
        ("django-insecure-gridgov-development-key-never-use-in-production", "development key"),
        ("short-but-not-the-dev-key", "too short"),
        # The .env.example placeholder: 64 characters, not the development key (review M6.2).
        ("change-me-to-50-or-more-random-characters-before-the-first-start", "placeholder"),
        (
            "CHANGE-ME-x7Qp2LrV9sKd4NwYb8TfGz3HjMc6UaEo1RiXy5WnBq0Zl",
            "placeholder with random characters",
        ),
        ("ab" * 40, "too few distinct characters"),
    ],
)
def test_production_refuses_a_missing_or_unsafe_secret_key(tmp_path, secret_key, reason):
    env = {"DJANGO_ENV": "production", "ALLOWED_HOSTS": "portal.example.gov.cn"}
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key
    result = run_python(SETUP, env, tmp_path)
    assert result.returncode != 0, f"started with a {reason} SECRET_KEY"
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr
    assert "started" not in result.stdout


def test_production_accepts_a_random_hex_key(tmp_path):
    env = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),  # 64 characters of 16 distinct ones
        "ALLOWED_HOSTS": "portal.example.gov.cn",
    }
    result = run_python(SETUP, env, tmp_path)
    assert result.returncode == 0, result.stderr


def test_production_refuses_debug(tmp_path):
    """Review M6.3: DEBUG=true with DJANGO_ENV=production is refused, not honoured."""
    env = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": GOOD_SECRET_KEY,
        "ALLOWED_HOSTS": "portal.example.gov.cn",
        "DEBUG": "true",
    }
    result = run_python(SETUP, env, tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DEBUG" in result.stderr
    assert "started" not in result.stdout


def test_production_refuses_the_placeholder_field_encryption_key(tmp_path):
    env = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": GOOD_SECRET_KEY,
        "ALLOWED_HOSTS": "portal.example.gov.cn",
        "FIELD_ENCRYPTION_KEY": "change-me-generate-a-fernet-key",
    }
    result = run_python(SETUP, env, tmp_path)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY" in result.stderr


def test_env_example_does_not_start_production_as_shipped(tmp_path):
    """Every value of .env.example as it is (the operator forgot to edit it): refused."""
    env = {}
    for line in (BASE_DIR / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            env[name.strip()] = value.strip()
    assert "change-me" in env["SECRET_KEY"]
    env["DJANGO_ENV"] = "production"
    result = run_python(SETUP, env, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_trusted_proxies_must_be_addresses(tmp_path):
    result = run_python(SETUP, {"TRUSTED_PROXIES": "10.0.0.1, proxy.example"}, tmp_path)
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr
    ok = run_python(SETUP, {"TRUSTED_PROXIES": "10.0.0.1, 172.30.0.0/24, ::1"}, tmp_path)
    assert ok.returncode == 0, ok.stderr


def test_compose_and_env_example_expose_web_to_the_proxy_only():
    """Review M6.1: web is published on the host's loopback (not 0.0.0.0), gunicorn's
    FORWARDED_ALLOW_IPS names the proxy (not *), and the client-address header is trusted from
    the same proxy only."""
    import yaml

    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
    for port in compose["services"]["web"]["ports"]:
        assert str(port).startswith(("${WEB_BIND:-127.0.0.1}:", "127.0.0.1:")), port
    env = dict(
        line.split("=", 1)
        for line in (BASE_DIR / ".env.example").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert env["WEB_BIND"] == "127.0.0.1"
    assert env["FORWARDED_ALLOW_IPS"] not in {"", "*"} and "*" not in env["FORWARDED_ALLOW_IPS"]
    assert env["TRUSTED_PROXIES"] == env["FORWARDED_ALLOW_IPS"]
    gateway = compose["networks"]["default"]["ipam"]["config"][0]["gateway"]
    assert gateway.endswith(env["TRUSTED_PROXIES"] + "}")  # ${GRIDGOV_GATEWAY:-172.30.0.1}


def test_api_schema_needs_a_signed_in_user_in_production(tmp_path):
    """Review I4: /api/v1/schema/ and the docs pages answer anonymous clients 401/403 in
    production (they stay open in development: the tests and `make run` fetch them)."""
    code = (
        SETUP + "\nfrom django.test import Client\n"
        "c = Client()\n"
        "for url in ('/api/v1/schema/', '/api/v1/docs/', '/api/v1/redoc/'):\n"
        "    print(c.get(url, secure=True).status_code)"
    )
    env = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": GOOD_SECRET_KEY,
        "ALLOWED_HOSTS": "testserver",
    }
    result = run_python(code, env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1:] == ["403", "403", "403"]


def test_production_refuses_missing_allowed_hosts(tmp_path):
    result = run_python(
        SETUP, {"DJANGO_ENV": "production", "SECRET_KEY": GOOD_SECRET_KEY}, tmp_path
    )
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_production_refuses_a_missing_field_encryption_key(tmp_path):
    env = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": GOOD_SECRET_KEY,
        "ALLOWED_HOSTS": "portal.example.gov.cn",
    }
    result = run_python(SETUP, env, tmp_path, drop=("FIELD_ENCRYPTION_KEY",))
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY" in result.stderr


def test_unknown_environment_name_is_refused(tmp_path):
    result = run_python(SETUP, {"DJANGO_ENV": "staging"}, tmp_path)
    assert result.returncode != 0
    assert "DJANGO_ENV" in result.stderr


def test_production_starts_with_a_good_key_and_is_hardened(tmp_path):
    code = (
        SETUP + "\nfrom django.conf import settings as s\n"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS > 0, s.PASSWORD_HASHERS[0].rsplit('.', 1)[-1])"
    )
    env = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": GOOD_SECRET_KEY,
        "ALLOWED_HOSTS": "portal.example.gov.cn",
    }
    result = run_python(code, env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "started",
        *["False", "True", "True", "True", "True"],
        "PBKDF2PasswordHasher",
    ]


def test_development_default_starts_without_any_environment(tmp_path):
    code = (
        SETUP + "\nfrom django.conf import settings as s\n"
        "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL,"
        " s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1])"
    )
    result = run_python(code, {}, tmp_path, drop=("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "started",
        "True",
        "django.db.backends.sqlite3",
        "filesystem://",
        "FileBasedCache",
    ]
    assert (tmp_path / "var" / "celery" / "queue").is_dir()


def test_check_deploy_passes_with_production_environment(tmp_path):
    env = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": GOOD_SECRET_KEY,
        "ALLOWED_HOSTS": "portal.example.gov.cn",
    }
    result = run_python(
        "", env, tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_database_round_trip_on_the_configured_database(record_property):
    from core.models import CalendarDay

    url = os.environ.get("DATABASE_URL", "")
    expected_vendor = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected_vendor
    record_property("database_vendor", connection.vendor)
    print(f"database vendor: {connection.vendor}")

    CalendarDay.objects.create(date="2026-10-01", kind=CalendarDay.Kind.HOLIDAY, name="国庆节")
    day = CalendarDay.objects.get(date="2026-10-01")
    assert day.name == "国庆节"  # unicode survives the round trip
    assert day.get_kind_display()


def test_celery_broker_url_is_honoured():
    from governance.celery import app

    configured = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
    assert configured == settings.CELERY_BROKER_URL
    assert app.conf.broker_url == configured
    with app.connection_for_write() as conn:
        assert conn.transport_cls == configured.split("://", 1)[0]
        conn.ensure_connection(max_retries=2, timeout=5)  # the broker is really there
    if configured.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        assert options["data_folder_in"].startswith(str(settings.VAR_DIR))


def test_celery_broker_url_from_the_environment_in_a_fresh_process(tmp_path):
    code = (
        "from governance.celery import app\n"
        "print(app.conf.broker_url)\n"
        "print(app.connection_for_write().transport_cls)"
    )
    result = run_python(code, {"CELERY_BROKER_URL": "redis://127.0.0.1:6399/7"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["redis://127.0.0.1:6399/7", "redis"]


def test_tests_never_use_the_developers_var_directory():
    assert Path(settings.VAR_DIR) != BASE_DIR / "var"
    assert not str(connection.settings_dict["NAME"]).startswith(str(BASE_DIR / "var"))


def test_production_collectstatic_builds_the_manifest(tmp_path):
    """What the Dockerfile runs: hashed, compressed static files, vendored assets included."""
    env = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": GOOD_SECRET_KEY,
        "ALLOWED_HOSTS": "build.invalid",
        "STATIC_ROOT": str(tmp_path / "staticfiles"),
    }
    result = run_python("", env, tmp_path, "manage.py", "collectstatic", "--noinput")
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((tmp_path / "staticfiles" / "staticfiles.json").read_text())
    for name in (
        "vendor/htmx/htmx.min.js",
        "vendor/leaflet/leaflet.js",
        "vendor/leaflet/leaflet.css",
        "vendor/echarts/echarts.min.js",
        "vendor/pico/pico.min.css",
        "css/portal.css",
    ):
        assert name in manifest["paths"], name


# --- gunicorn's access log (review L5) ------------------------------------------------------


def test_gunicorn_access_log_has_no_query_string_and_masks_personal_data():
    import runpy

    from gunicorn.glogging import Logger

    from core.logging import PersonalDataFilter

    config = runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))
    fmt = config["access_log_format"]
    assert "%(r)s" not in fmt and "%(q)s" not in fmt and "%(f)s" not in fmt
    assert "%(U)s" in fmt
    assert issubclass(config["logger_class"], Logger)

    class Cfg:  # the attributes Logger.setup reads
        loglevel = "info"
        errorlog = "-"
        accesslog = "-"
        capture_output = False
        syslog = False
        logconfig_dict = None
        logconfig_json = None
        logconfig = None
        access_log_format = fmt
        disable_redirect_access_to_syslog = False
        statsd_host = None
        dogstatsd_tags = ""
        statsd_prefix = ""
        user = group = 0
        umask = 0
        syslog_addr = ""
        proc_name = "gridgov"

    logger = config["logger_class"](Cfg())
    assert any(isinstance(f, PersonalDataFilter) for f in logger.access_log.filters)
    assert any(isinstance(f, PersonalDataFilter) for f in logger.error_log.filters)


def test_gunicorn_access_log_of_a_real_request(tmp_path):
    """gunicorn as configured, one request with a phone in the query string and in the path:
    the access line has the path without the query string, the phone masked."""
    import socket
    import time
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    removed = {"PYTEST_VERSION", "PYTEST_XDIST_WORKER", "DJANGO_ENV", "SECRET_KEY", "DEBUG"}
    env = {key: value for key, value in os.environ.items() if key not in removed}
    env.update(
        {
            "GRIDGOV_VAR_DIR": str(tmp_path / "var"),
            "DJANGO_SETTINGS_MODULE": "governance.settings",
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "1",
            "GUNICORN_THREADS": "1",
        }
    )
    log = tmp_path / "gunicorn.log"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(gunicorn), "-c", "gunicorn.conf.py"], cwd=BASE_DIR, env=env, stdout=out, stderr=out
        )
    try:
        url = f"http://127.0.0.1:{port}/no-such-page/13800000002?phone=13800000001&key=s3cr3t"
        for _ in range(300):
            try:
                urllib.request.urlopen(url, timeout=5)
            except urllib.error.HTTPError:
                break  # answered (404)
            except OSError:
                time.sleep(0.1)
        for _ in range(50):
            if "/no-such-page/" in log.read_text():
                break
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    lines = [line for line in log.read_text().splitlines() if "/no-such-page/" in line]
    assert lines, log.read_text()
    assert all("13800000001" not in line and "s3cr3t" not in line for line in lines)
    assert all("phone=" not in line and "?" not in line for line in lines)
    assert all("13800000002" not in line for line in lines)  # masked: 138****0002
    assert any("GET /no-such-page/138****0002" in line for line in lines), lines
