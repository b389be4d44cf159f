"""Encryption at rest of personal data (ID numbers): Fernet (AES-128-CBC + HMAC-SHA256).

Keys come from settings.FIELD_ENCRYPTION_KEYS (the environment variable FIELD_ENCRYPTION_KEY,
a comma-separated list). The first key encrypts; every key decrypts, so a key is rotated by
putting the new key first, running `manage.py reencrypt_personal_data`, then dropping the old
one. A key is either a Fernet key (44 characters of url-safe base64) or any passphrase of at
least 32 characters (stretched with SHA-256). Development derives a key from SECRET_KEY;
production refuses to start without FIELD_ENCRYPTION_KEY (governance/settings.py).

Stored values carry a prefix ("enc1:") so plain values written before encryption are still read
(and re-encrypted by the data migrations); equal plaintexts encrypt differently each time, so
matching uses keyed hashes (petitions.personal_data.lookup_key), never the ciphertext.
"""

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "enc1:"


def _fernet_key(raw: str) -> bytes:
    raw = raw.strip()
    try:
        if len(base64.urlsafe_b64decode(raw.encode())) == 32 and len(raw) == 44:
            return raw.encode()
    except (ValueError, TypeError):
        pass
    if len(raw) < 32:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY: each key is a Fernet key or at least 32 characters."
        )
    return base64.urlsafe_b64encode(hashlib.sha256(raw.encode()).digest())


def development_key(secret_key: str) -> str:
    """The key used when FIELD_ENCRYPTION_KEY is not set (never in production)."""
    digest = hashlib.sha256(f"gridgov-field-encryption:{secret_key}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


@lru_cache(maxsize=8)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def cipher() -> MultiFernet:
    keys = getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or [
        development_key(settings.SECRET_KEY)
    ]
    return _cipher(tuple(keys))


def is_encrypted(value: str | None) -> bool:
    return bool(value) and str(value).startswith(PREFIX)


def encrypt(value: str | None) -> str:
    """The stored form of `value` ("" stays "", an already encrypted value is kept)."""
    if not value:
        return ""
    if is_encrypted(value):
        return value
    return PREFIX + cipher().encrypt(str(value).encode()).decode()


def decrypt(value: str | None) -> str:
    """The plaintext of a stored value; a plain (not yet encrypted) value is returned as is."""
    if not value:
        return ""
    if not is_encrypted(value):
        return str(value)
    try:
        return cipher().decrypt(value[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored value cannot be decrypted with any FIELD_ENCRYPTION_KEY."
        ) from exc


def rotate(value: str | None) -> str:
    """Re-encrypt a stored value with the first key (key rotation)."""
    if not value:
        return ""
    if not is_encrypted(value):
        return encrypt(value)
    return PREFIX + cipher().rotate(value[len(PREFIX) :].encode()).decode()


class EncryptedCharField(models.CharField):
    """A CharField stored encrypted; Python code sees the plaintext. Only exact "" (blank)
    lookups make sense on it: equal values encrypt differently."""

    description = "Text encrypted at rest"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 255)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def to_python(self, value):
        value = super().to_python(value)
        return decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value


def _convert_column(apps, schema_editor, model_label: str, field_name: str, convert) -> int:
    """Rewrite one column row by row with raw SQL (no model code: migrations stay valid)."""
    model = apps.get_model(model_label)
    table = schema_editor.quote_name(model._meta.db_table)
    column = schema_editor.quote_name(model._meta.get_field(field_name).column)
    pk = schema_editor.quote_name(model._meta.pk.column)
    connection = schema_editor.connection
    changed = 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {pk}, {column} FROM {table} WHERE {column} <> ''")  # noqa: S608  # nosec B608 # quoted identifiers, bound values
        rows = cursor.fetchall()
        for row_pk, value in rows:
            new = convert(value)
            if new != value:
                cursor.execute(
                    f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",  # noqa: S608  # nosec B608 # quoted identifiers, bound values
                    [new, row_pk],
                )
                changed += 1
    return changed


def encrypt_column(model_label: str, field_name: str):
    """A RunPython pair (forward: encrypt plain values; backward: decrypt them)."""

    def forward(apps, schema_editor):
        _convert_column(apps, schema_editor, model_label, field_name, encrypt)

    def backward(apps, schema_editor):
        _convert_column(apps, schema_editor, model_label, field_name, decrypt)

    return forward, backward
