"""The production-safety checks of governance/settings.py: each refuses to start
(ImproperlyConfigured) on a setting that is missing or unsafe."""

import ipaddress

from django.core.exceptions import ImproperlyConfigured

DEVELOPMENT_SECRET_KEY = "django-insecure-gridgov-development-key-never-use-in-production"  # noqa: S105 - refused in production  # nosec B105
# Placeholders, as shipped in .env.example ("change-me-..."): never a real key.
PLACEHOLDER_MARKERS = ("change-me", "changeme", "change_me", "django-insecure")
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_DISTINCT = 10  # "aaaa...", "abab..." and the like are not random


def secret_key_problem(key: str) -> str | None:
    """Why `key` cannot be a production SECRET_KEY, or None. A random key of 50+ characters
    (secrets.token_urlsafe(64), or 64 hex digits: 16 distinct characters) always passes."""
    if not key:
        return "it is empty"
    if key == DEVELOPMENT_SECRET_KEY or any(m in key.lower() for m in PLACEHOLDER_MARKERS):
        return "it is the development key or the .env.example placeholder"
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"it is shorter than {SECRET_KEY_MIN_LENGTH} characters"
    if len(set(key)) < SECRET_KEY_MIN_DISTINCT:
        return f"it has fewer than {SECRET_KEY_MIN_DISTINCT} distinct characters"
    return None


def check_secret_key(key: str, production: bool) -> None:
    if production and (problem := secret_key_problem(key)):
        raise ImproperlyConfigured(
            f"Production needs SECRET_KEY: at least {SECRET_KEY_MIN_LENGTH} random characters, "
            f"not the development key or a placeholder ({problem}). "
            'Generate one: python3 -c "import secrets; print(secrets.token_urlsafe(64))"'
        )


def check_field_encryption_keys(keys: list[str], production: bool) -> None:
    if production and (
        not keys or any(m in key.lower() for key in keys for m in PLACEHOLDER_MARKERS)
    ):
        raise ImproperlyConfigured(
            "Production needs FIELD_ENCRYPTION_KEY (a Fernet key, not the .env.example "
            "placeholder; see docs/reliability.md)."
        )


def check_debug_and_hosts(debug: bool, allowed_hosts: list[str], production: bool) -> None:
    if production and debug:
        # DEBUG shows settings and stack traces to anyone, and keeps every query in memory.
        raise ImproperlyConfigured("DEBUG must be off in production (DJANGO_ENV=production).")
    if production and not allowed_hosts:
        raise ImproperlyConfigured("Production needs ALLOWED_HOSTS.")


def check_retention(audit_days: int, personal_data_days: int) -> None:
    if audit_days < 180:
        raise ImproperlyConfigured("AUDIT_RETENTION_DAYS must be at least 180 (PIPL audit trail).")
    if personal_data_days < 1:
        raise ImproperlyConfigured("PERSONAL_DATA_RETENTION_DAYS must be at least 1.")


def check_trusted_proxies(proxies: list[str]) -> None:
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError as error:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {proxy!r} is not an IP address or network"
            ) from error


FIELD_ENCRYPTION_ALGORITHMS = ("fernet", "aes-gcm", "sm4-gcm")


def check_security_policy(
    *, two_factor_enforced: bool, algorithm: str, testing: bool, production: bool
) -> None:
    """docs/security.md: the second factor is enforced outside the test run (where most tests
    sign staff in with force_login; the tests of the control turn it on), and the field
    encryption algorithm is one core.crypto knows."""
    if algorithm not in FIELD_ENCRYPTION_ALGORITHMS:
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_ALGORITHM must be one of {', '.join(FIELD_ENCRYPTION_ALGORITHMS)}."
        )
    if production and not two_factor_enforced and not testing:
        raise ImproperlyConfigured("Production enforces two-factor sign-in (TWO_FACTOR_ENFORCED).")
