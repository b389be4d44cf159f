"""GridGov settings, read from the environment with safe defaults.

The embedded default (no environment at all) runs on a laptop: SQLite under var/, a
filesystem Celery broker under var/, file-based cache. Production sets DJANGO_ENV=production,
DATABASE_URL (PostgreSQL), CELERY_BROKER_URL and REDIS_URL (Redis), SECRET_KEY and ALLOWED_HOSTS.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

# The production-safety checks (each raises ImproperlyConfigured; the SECRET_KEY rules and
# secret_key_problem live there) and the Content-Security-Policy and LOGGING builders.
from governance.settings_checks import (
    DEVELOPMENT_SECRET_KEY,
    check_debug_and_hosts,
    check_field_encryption_keys,
    check_retention,
    check_secret_key,
    check_security_policy,
    check_trusted_proxies,
)
from governance.settings_security import content_security_policy, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
# Under pytest (which exports PYTEST_VERSION) each test process gets a throwaway var/: tests never
# touch the developer's database, queue or cache; a worker subprocess is given the same path.
TESTING = bool(os.environ.get("PYTEST_VERSION"))
if TESTING and "GRIDGOV_VAR_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    VAR_DIR = Path(tempfile.mkdtemp(prefix="gridgov-test-var-"))
    atexit.register(shutil.rmtree, VAR_DIR, ignore_errors=True)
else:
    VAR_DIR = Path(os.environ.get("GRIDGOV_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DJANGO_ENV = os.environ.get("DJANGO_ENV", "development")
if DJANGO_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured("DJANGO_ENV must be development, production or test")
PRODUCTION = DJANGO_ENV == "production"

SECRET_KEY = os.environ.get("SECRET_KEY", "" if PRODUCTION else DEVELOPMENT_SECRET_KEY)
check_secret_key(SECRET_KEY, PRODUCTION)  # 50+ random characters, no placeholder

# Encryption at rest of ID numbers (core/crypto.py): FIELD_ENCRYPTION_KEY is a comma-separated
# list, the first key encrypts, all decrypt (rotation). Development derives one from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEY")
check_field_encryption_keys(FIELD_ENCRYPTION_KEYS, PRODUCTION)

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
check_debug_and_hosts(DEBUG, ALLOWED_HOSTS, PRODUCTION)  # DEBUG off, hosts named in production
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "csp",
    # Second factor (TOTP and one-time recovery codes; docs/security.md).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "core",
    "accounts",
    "grids",
    "incidents",
    "mediation",
    "petitions",
    "registry",
    "screening",
    "resident_services",
    "volunteers",
    "assignments",
    "deliberation",
    "residents",
    "integrations",
    "governance",
    "audit",
    "captcha",
]
# Benchmarks only (bench/run.sh sets it): the minimal endpoint of bench/benchapp.
BENCH_ENDPOINTS = env_bool("GRIDGOV_BENCH_ENDPOINTS", False)
if BENCH_ENDPOINTS:
    INSTALLED_APPS.append("bench.benchapp")

MIDDLEWARE = [
    # First: the database unreachable anywhere below -> 503 with Retry-After (core/middleware.py).
    "core.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy on every response (docs/reliability.md).
    "csp.middleware.CSPMiddleware",
    "accounts.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the second factor
    "audit.middleware.AuditMiddleware",  # request address for audit events; refusals logged
    "django.contrib.messages.middleware.MessageMiddleware",
    # Ends a session idle for SESSION_IDLE_TIMEOUT or older than SESSION_MAX_LIFETIME.
    "accounts.middleware.SessionLifetimeMiddleware",
    # The second factor before anything else; an expired password (if a maximum age is set).
    "accounts.middleware.SecurityGateMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # django-axes must be last: it turns lockouts into responses.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "governance.urls"
WSGI_APPLICATION = "governance.wsgi.application"
ASGI_APPLICATION = "governance.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.portal",
            ],
        },
    },
]

# Database: DATABASE_URL, else SQLite under var/.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'gridgov.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one SQLite file: WAL lets readers run beside
    # the writer, IMMEDIATE transactions take the write lock up front (no upgrade deadlocks).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # The test database is a file (not in-memory) so a Celery worker subprocess can share it.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("TEST_SQLITE_NAME")
        or (str(VAR_DIR / "test.sqlite3") if TESTING else None)
    }
DATABASE_IS_POSTGRES = DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql")
if DATABASE_IS_POSTGRES:
    # List pages join up to 10 tables (select_related); PostgreSQL spent 20-30 ms planning each
    # such query, more than running it. Joins in written order (the incident rows first, then
    # lookups by primary key) plan in ~1.5 ms. See docs/performance.md.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", os.environ.get("DATABASE_PG_OPTIONS", "-c join_collapse_limit=1")
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.PhoneOrUsernameBackend",
    # Django-admin permissions of the separated administrators, from their role.
    "accounts.backends.SeparatedAdminBackend",
]
# Password policy (accounts/passwords.py, docs/security.md): length, character classes, no reuse
# of the last N, Django's bundled common-password list; a maximum age in days (0 = off, as ASVS
# 6.2.10 advises; 等保 deployments may set e.g. 90).
PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH", "10"))
PASSWORD_MIN_CLASSES = int(os.environ.get("PASSWORD_MIN_CLASSES", "3"))
PASSWORD_HISTORY_COUNT = int(os.environ.get("PASSWORD_HISTORY_COUNT", "5"))
PASSWORD_MAX_AGE_DAYS = int(os.environ.get("PASSWORD_MAX_AGE_DAYS", "0"))
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.passwords.CharacterClassesValidator"},
    {"NAME": "accounts.passwords.PasswordHistoryValidator"},
]
# Field encryption (core/crypto.py): "fernet" (AES-128-CBC + HMAC-SHA256, the stored "enc1:"
# values), "aes-gcm" (AES-256-GCM) or "sm4-gcm" (SM4-GCM, 密评). Choosing "sm4-gcm" makes SM3 the
# audit chain's hash and PBKDF2-HMAC-SM3 the password hash. `manage.py reencrypt` migrates.
FIELD_ENCRYPTION_ALGORITHM = os.environ.get("FIELD_ENCRYPTION_ALGORITHM", "fernet")
CRYPTO_SM = FIELD_ENCRYPTION_ALGORITHM == "sm4-gcm"
if CRYPTO_SM:
    PASSWORD_HASHERS = [
        "accounts.passwords.PBKDF2SM3PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.ScryptPasswordHasher",
    ]
if TESTING:  # a fast hasher: tests create many users; production keeps Django's default
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Two-factor sign-in (accounts.middleware.SecurityGateMiddleware): on everywhere but the test run
# (most tests sign staff in with force_login; the tests of the control turn it on). Which roles
# need it is admin data (accounts.SecurityPolicy).
TWO_FACTOR_ENFORCED = env_bool("TWO_FACTOR_ENFORCED", not TESTING)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "GridGov 网格治理")
# A superuser exists for installation only: refused at sign-in in production unless allowed.
SUPERUSER_SIGN_IN_ALLOWED = env_bool("SUPERUSER_SIGN_IN_ALLOWED", not PRODUCTION)
check_security_policy(
    two_factor_enforced=TWO_FACTOR_ENFORCED,
    algorithm=FIELD_ENCRYPTION_ALGORITHM,
    testing=TESTING,
    production=PRODUCTION,
)
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# django-axes: lock an account after repeated failures.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
# Lock a username on the address it is attacked from (an office behind one NAT address is not
# locked out wholesale by one person mistyping).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.backends.lockout_username"  # phone or username: one account
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# The address a failure counts against is the real client's behind the reverse proxy
# (TRUSTED_PROXIES and CLIENT_IP_META), not the proxy's: else one client's failures would lock
# the account for every client.
AXES_CLIENT_IP_CALLABLE = "core.ratelimit.client_address"

# Internationalisation: Chinese first, English too.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# Static and media files: everything served locally (government intranet, no CDN).
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")  # e.g. an intranet tile server; empty: no tiles
MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")

# Cache: Redis when REDIS_URL is set, else files under var/ (shared by web, worker and beat).
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL and TESTING and os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw"):
    # Parallel test processes get a Redis database each: one must not read (or flush) another's.
    from urllib.parse import urlsplit

    _db = 2 + int(os.environ["PYTEST_XDIST_WORKER"][2:]) % 14
    REDIS_URL = urlsplit(REDIS_URL)._replace(path=f"/{_db}").geturl()
if REDIS_URL:
    CACHES = {
        # core.cache.ResilientRedisCache: a Redis outage is a cache miss (logged), not a 500.
        "default": {
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Celery: a broker that needs no server by default (kombu's filesystem transport).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if (
    CELERY_BROKER_URL.startswith("redis")
    and TESTING
    and os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw")
):
    # Parallel test processes get a broker database each (8, 9, ...): a worker started by one
    # process must never take tasks sent by another (they belong to another test database).
    from urllib.parse import urlsplit

    _broker_db = 8 + int(os.environ["PYTEST_XDIST_WORKER"][2:]) % 8
    CELERY_BROKER_URL = urlsplit(CELERY_BROKER_URL)._replace(path=f"/{_broker_db}").geturl()
    # Celery reads the CELERY_BROKER_URL environment variable before Django's setting.
    os.environ["CELERY_BROKER_URL"] = CELERY_BROKER_URL
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    _processed_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "store_processed": False,
        # Broadcast/pidbox exchanges: kombu defaults to ./control, keep them under var/ too.
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = False  # opted into per task, for idempotent tasks only
# Faults (docs/reliability.md): an acks_late task whose pool process is killed goes back to the
# queue at once (not acknowledged as failed); on a lost broker connection the acks_late tasks
# in hand are cancelled (the broker redelivers them). Warm shutdown (SIGTERM) lets the task in
# hand finish; the messages a worker had reserved go back to the queue.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Database connections in the worker: Celery's Django fixup closes them before and after EVERY
# task unless DB_REUSE_MAX is set (a new PostgreSQL connection per task: ~5 ms of the worker
# and a backend start in PostgreSQL). They are kept like the web's instead: CONN_MAX_AGE and
# the health checks apply through governance.celery's close_old_connections per task; the
# fixup still closes them outright every CELERY_DB_REUSE_MAX tasks (docs/performance.md).
CELERY_DB_REUSE_MAX = int(os.environ.get("CELERY_DB_REUSE_MAX", "1000"))
# Outbound sends (SMS gateway, partners' webhooks) have their own queue: a failing or slow
# partner never holds up the incident tasks. Every worker consumes both queues unless started
# with -Q; production can run `worker -Q outbound` apart (docs/reliability.md).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = {"celery": {}, "outbound": {}}
CELERY_TASK_ROUTES = {
    "core.tasks.sms_send": {"queue": "outbound"},
    "integrations.tasks.webhook_deliver": {"queue": "outbound"},
    "residents.tasks.phone_code_send": {"queue": "outbound"},
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Every periodic task, declared once. Each app implements the task named here.
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "core.tasks.heartbeat", "schedule": 30.0},
    "incident-deadline-sweep": {"task": "incidents.tasks.sweep_deadlines", "schedule": 60.0},
    "mediation-deadline-sweep": {"task": "mediation.tasks.sweep_deadlines", "schedule": 300.0},
    "petition-deadline-sweep": {"task": "petitions.tasks.sweep_deadlines", "schedule": 300.0},
    "service-deadline-sweep": {
        "task": "resident_services.tasks.sweep_deadlines",
        "schedule": 300.0,
    },
    "service-booking-reminders": {
        "task": "resident_services.tasks.remind_bookings",
        "schedule": 900.0,
    },
    "volunteers-sweep": {"task": "volunteers.tasks.sweep", "schedule": 300.0},
    "deliberation-sweep": {"task": "deliberation.tasks.sweep", "schedule": 300.0},
    "screening-deadline-sweep": {"task": "screening.tasks.sweep_deadlines", "schedule": 300.0},
    "screening-report-sweep": {"task": "screening.tasks.sweep_reports", "schedule": 3600.0},
    "assignment-deadline-sweep": {"task": "assignments.tasks.sweep_deadlines", "schedule": 300.0},
    "registry-visit-sweep": {"task": "registry.tasks.sweep_visits", "schedule": 600.0},
    "kpi-facts-refresh": {"task": "governance.tasks.refresh_facts", "schedule": 60.0},
    "resident-phone-codes-purge": {
        "task": "residents.tasks.phone_codes_purge",
        "schedule": 3600.0,
    },
    "exports-purge": {"task": "governance.tasks.purge_exports", "schedule": 3600.0},
    "integrations-sweep": {"task": "integrations.tasks.sweep", "schedule": 60.0},
    # Re-send tasks the broker lost or never got (docs/reliability.md, "Faults").
    "incident-redrive": {
        "task": "incidents.tasks.redrive",
        "schedule": float(os.environ.get("INCIDENT_REDRIVE_SECONDS", "15")),
    },
    "sms-redrive": {"task": "core.tasks.sms_redrive", "schedule": 60.0},
    "personal-data-retention": {"task": "audit.tasks.anonymise_closed_cases", "schedule": 86400.0},
    # The audit log's hash chain: extended and checked once a day (docs/security.md).
    "audit-integrity-check": {"task": "audit.tasks.verify_chain", "schedule": 86400.0},
}
WORKER_HEARTBEAT_MAX_AGE = int(os.environ.get("WORKER_HEARTBEAT_MAX_AGE", "120"))
# Incident loop: days a reporter has to rate before the sweep closes the incident; minutes
# after which an incident whose task left no trace is re-enqueued by the sweep.
INCIDENT_RATING_WINDOW_DAYS = int(os.environ.get("INCIDENT_RATING_WINDOW_DAYS", "7"))
INCIDENT_TASK_STUCK_MINUTES = int(os.environ.get("INCIDENT_TASK_STUCK_MINUTES", "5"))
# Past this many messages waiting in the broker's queue, the re-drive sends only the tasks that
# were never sent (an old task may just be waiting behind a backlog).
INCIDENT_REDRIVE_MAX_BACKLOG = int(os.environ.get("INCIDENT_REDRIVE_MAX_BACKLOG", "100"))

# Personal data (docs/reliability.md): closed cases are anonymised this many days after they
# closed (daily beat task); the audit log is kept at least 180 days (never purged by the app).
PERSONAL_DATA_RETENTION_DAYS = int(os.environ.get("PERSONAL_DATA_RETENTION_DAYS", "1095"))
AUDIT_RETENTION_DAYS = int(os.environ.get("AUDIT_RETENTION_DAYS", "365"))
check_retention(AUDIT_RETENTION_DAYS, PERSONAL_DATA_RETENTION_DAYS)  # 180+ days, 1+ day
# The audit log's hash chain (audit/chain.py): the HMAC key (default: derived from SECRET_KEY;
# keep it out of the database's reach) and how old a row must be before the daily task seals it.
AUDIT_CHAIN_KEY = os.environ.get("AUDIT_CHAIN_KEY", "")
AUDIT_CHAIN_GRACE_SECONDS = int(os.environ.get("AUDIT_CHAIN_GRACE_SECONDS", "300"))
# Volunteers' raw GPS tracks (行踪轨迹, PIPL Art. 28): kept this many days, then only the cells
# covered and the times (docs/volunteers.md; a product default, not a legal figure).
VOLUNTEER_TRACK_RETENTION_DAYS = int(os.environ.get("VOLUNTEER_TRACK_RETENTION_DAYS", "90"))

# REST API.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # drf-spectacular's, plus the error answers every operation may give (core/api.py).
    "DEFAULT_SCHEMA_CLASS": "core.api.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GridGov API",
    "DESCRIPTION": "网格治理门户 REST API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs pages (/api/v1/schema/, docs/, redoc/): signed-in users only in
    # production (they map every endpoint and field); open on a developer's machine.
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.IsAuthenticated"
        if PRODUCTION
        else "rest_framework.permissions.AllowAny"
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets shared by name across apps get explicit component names (one entry per set).
    "ENUM_NAME_OVERRIDES": {
        "AssignmentStateEnum": "assignments.models.AssignmentState",
        "IncidentStateEnum": "incidents.models.IncidentState",
        "IncidentChannelEnum": "incidents.models.Channel",
        "HandlingLevelEnum": "incidents.models.HandlingLevel",
        # Same field names, different choice sets in other apps: one clear name each, so
        # `check --deploy` (which builds the schema) stays free of warnings.
        "PetitionChannelEnum": "petitions.models.PetitionChannel",
        "PetitionKindEnum": "petitions.models.PetitionKind",
        "PetitionLevelEnum": "petitions.models.PetitionLevel",
        "PetitionStateEnum": "petitions.models.PetitionState",
        "PetitionOutcomeEnum": "petitions.models.Outcome",
        "MediationCaseStateEnum": "mediation.models.CaseState",
        "MediationCaseSourceEnum": "mediation.models.CaseSource",
        "MediationApplicationSourceEnum": ["online", "walk_in", "court"],
        "MediationCaseOutcomeEnum": "mediation.models.CaseOutcome",
        "PerformanceEnum": "mediation.models.Performance",
        "ExportKindEnum": "governance.models.ExportKind",
        "ServiceRequestStateEnum": "resident_services.models.RequestState",
        "ServiceBookingStateEnum": "resident_services.models.BookingState",
        "VolunteerTaskLevelEnum": "volunteers.models.TaskLevel",
        "VolunteerClaimStateEnum": "volunteers.models.ClaimState",
        "ScreeningRiskLevelEnum": "screening.models.RiskLevel",
        "ScreeningDisputeStateEnum": "screening.models.DisputeState",
        "ScreeningDisputeSourceEnum": "screening.models.DisputeSource",
        "ScreeningReportStateEnum": "screening.models.ReportState",
    },
}

# Integrations (docs/api.md): the Open311 jurisdiction_id this portal serves.
OPEN311_JURISDICTION_ID = os.environ.get("OPEN311_JURISDICTION_ID", "gridgov.local")

# Notifications: SMS through a pluggable backend (console/file by default).
SMS_BACKEND = os.environ.get("SMS_BACKEND", "core.sms.FileBackend")
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH", str(VAR_DIR / "sms.log"))
SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = os.environ.get("SMS_GATEWAY_TOKEN", "")

# Working time (limits in working hours/days): the office hours are admin data
# (core.models.OfficeHours, Django admin), the holidays too (core.models.CalendarDay).

# Security headers; production hardening (docs/reliability.md "Hardening").
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Permissions-Policy (accounts.middleware.PermissionsPolicyMiddleware): the location picker and
# patrols use geolocation, photo capture the camera; everything else is off.
PERMISSIONS_POLICY = {
    "geolocation": "(self)",
    "camera": "(self)",
    "microphone": "()",
    "payment": "()",
    "usb": "()",
}
# Content-Security-Policy (governance/settings_security.py): scripts only from our own static
# files, map tiles from MAP_TILE_URL's host.
CONTENT_SECURITY_POLICY = content_security_policy(MAP_TILE_URL)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # pages and scripts read the token from the form, never the cookie
CSRF_COOKIE_SAMESITE = "Lax"
# Sessions end after SESSION_IDLE_TIMEOUT seconds without a request and, whatever the
# activity, SESSION_MAX_LIFETIME seconds after sign-in (accounts.middleware.
# SessionLifetimeMiddleware, which renews the session and its cookie at most once a minute
# rather than writing it on every request).
SESSION_IDLE_TIMEOUT = int(os.environ.get("SESSION_IDLE_TIMEOUT", str(30 * 60)))
SESSION_MAX_LIFETIME = int(os.environ.get("SESSION_MAX_LIFETIME", str(10 * 3600)))
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT
# Rate limits (core.ratelimit, docs/reliability.md): failed sign-ins per client address and
# per account (on top of django-axes' lockout of one account from one address).
LOGIN_FAILURES_PER_IP = os.environ.get("LOGIN_FAILURES_PER_IP", "30/15m")
LOGIN_FAILURES_PER_USERNAME = os.environ.get("LOGIN_FAILURES_PER_USERNAME", "20/h")
# Anonymous public reports per client address and hour; tracking look-ups per client address
# and 10 minutes (the page and the API together); failed look-ups per tracking number before it
# is locked, and for how long; "resend my code" per number and per client (incidents.tracking).
INCIDENT_PUBLIC_REPORTS_PER_HOUR = int(os.environ.get("INCIDENT_PUBLIC_REPORTS_PER_HOUR", "5"))
INCIDENT_TRACK_TRIES_PER_10_MINUTES = int(
    os.environ.get("INCIDENT_TRACK_TRIES_PER_10_MINUTES", "20")
)
INCIDENT_TRACK_FAILURES_PER_NUMBER = int(os.environ.get("INCIDENT_TRACK_FAILURES_PER_NUMBER", "5"))
INCIDENT_TRACK_LOCK_MINUTES = int(os.environ.get("INCIDENT_TRACK_LOCK_MINUTES", "60"))
INCIDENT_CODE_RESENDS_PER_NUMBER = os.environ.get("INCIDENT_CODE_RESENDS_PER_NUMBER", "3/h")
INCIDENT_CODE_RESENDS_PER_CLIENT = os.environ.get("INCIDENT_CODE_RESENDS_PER_CLIENT", "10/h")
if TESTING:
    # The suite signs in (and fails to) many times from 127.0.0.1 with one cache per process;
    # the tests of the limits set their own (tests/test_hardening.py).
    LOGIN_FAILURES_PER_IP = os.environ.get("LOGIN_FAILURES_PER_IP", "100000/15m")
    LOGIN_FAILURES_PER_USERNAME = os.environ.get("LOGIN_FAILURES_PER_USERNAME", "100000/h")
# The request header naming the client behind the reverse proxy (e.g. HTTP_X_REAL_IP), else
# REMOTE_ADDR. The header is read only from a request whose REMOTE_ADDR is one of
# TRUSTED_PROXIES (comma-separated addresses or networks, e.g. "172.30.0.1" or "10.0.0.0/24");
# empty (the default): never (core.ratelimit.client_ip).
CLIENT_IP_META = os.environ.get("CLIENT_IP_META", "REMOTE_ADDR")
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
check_trusted_proxies(TRUSTED_PROXIES)  # addresses or networks only
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Every handler masks phones and ID numbers (core/logging.py; governance/settings_security.py).
LOGGING = logging_config(os.environ.get("LOG_LEVEL", "INFO"))

# Uploads.
PHOTO_MAX_BYTES = int(os.environ.get("PHOTO_MAX_BYTES", str(10 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
