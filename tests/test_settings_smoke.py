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
