"""Encryption at rest of personal data (ID numbers).

The algorithm is settings.FIELD_ENCRYPTION_ALGORITHM:
- "fernet" (the default, and every value stored before December 2026): AES-128-CBC +
  HMAC-SHA256, stored as "enc1:<fernet token>";
- "aes-gcm": AES-256-GCM, stored as "enc2:a256gcm:<key id>:<base64 nonce+ciphertext+tag>";
- "sm4-gcm": SM4 in GCM mode (GB/T 32907, for 密评), through the `cryptography` package (OpenSSL
  3 provides SM4-GCM), stored as "enc2:sm4gcm:<key id>:<...>".
Every stored form is read whatever the setting, so switching algorithm is: set it, run
`manage.py reencrypt` (every registered column is rewritten with the chosen algorithm and the
first key), done.

Keys come from settings.FIELD_ENCRYPTION_KEYS (the environment variable FIELD_ENCRYPTION_KEY,
a comma-separated list). The first key encrypts; every key decrypts, so a key is rotated by
putting the new key first, running `manage.py reencrypt`, then dropping the old one. A key is
either a Fernet key (44 characters of url-safe base64) or any passphrase of at least 32
characters. For the GCM algorithms the cipher key is derived from it (SHA-256, or SM3 for SM4:
16 bytes), and the key id (8 hex digits of a hash of the key) names which key encrypted a
value. Development derives a key from SECRET_KEY; production refuses to start without
FIELD_ENCRYPTION_KEY (governance/settings.py).

Stored values carry a prefix so plain values written before encryption are still read (and
re-encrypted by the data migrations); equal plaintexts encrypt differently each time, so
matching uses keyed hashes (petitions.personal_data.lookup_key), never the ciphertext.
"""

import base64
import hashlib
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "enc1:"
PREFIX_AEAD = "enc2:"
AEAD_TAGS = {"aes-gcm": "a256gcm", "sm4-gcm": "sm4gcm"}
AEAD_NAMES = {tag: name for name, tag in AEAD_TAGS.items()}
NONCE_BYTES = 12
TAG_BYTES = 16


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


def _keys() -> tuple[str, ...]:
    keys = getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or [
        development_key(settings.SECRET_KEY)
    ]
    return tuple(keys)


def cipher() -> MultiFernet:
    return _cipher(_keys())


def algorithm() -> str:
    name = getattr(settings, "FIELD_ENCRYPTION_ALGORITHM", "fernet") or "fernet"
    if name != "fernet" and name not in AEAD_TAGS:
        raise ImproperlyConfigured(f"Unknown FIELD_ENCRYPTION_ALGORITHM {name!r}.")
    return name


# --- the GCM algorithms ----------------------------------------------------------------------


@lru_cache(maxsize=32)
def key_id(raw: str) -> str:
    _fernet_key(raw)  # same rules: a Fernet key or 32+ characters
    return hashlib.sha256(b"gridgov-field-key-id:" + raw.strip().encode()).hexdigest()[:8]


@lru_cache(maxsize=32)
def _aead_key(raw: str, name: str) -> bytes:
    material = raw.strip().encode()
    if name == "sm4-gcm":
        return hashlib.new("sm3", b"gridgov-sm4:" + material).digest()[:16]
    return hashlib.sha256(b"gridgov-aes:" + material).digest()


def _aad(tag: str, kid: str) -> bytes:
    return f"gridgov-field:{tag}:{kid}".encode()


def _seal(name: str, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    if name == "aes-gcm":
        return AESGCM(key).encrypt(nonce, data, aad)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(data) + encryptor.finalize() + encryptor.tag


def _open(name: str, key: bytes, nonce: bytes, blob: bytes, aad: bytes) -> bytes:
    if name == "aes-gcm":
        return AESGCM(key).decrypt(nonce, blob, aad)
    body, tag = blob[:-TAG_BYTES], blob[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(body) + decryptor.finalize()


def _aead_encrypt(plaintext: str, name: str) -> str:
    raw = _keys()[0]
    tag, kid = AEAD_TAGS[name], key_id(raw)
    nonce = os.urandom(NONCE_BYTES)
    blob = _seal(name, _aead_key(raw, name), nonce, plaintext.encode(), _aad(tag, kid))
    encoded = base64.urlsafe_b64encode(nonce + blob).decode().rstrip("=")
    return f"{PREFIX_AEAD}{tag}:{kid}:{encoded}"


def _aead_parts(value: str) -> tuple[str, str, bytes]:
    try:
        tag, kid, encoded = value[len(PREFIX_AEAD) :].split(":", 2)
        data = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        name = AEAD_NAMES[tag]
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured("A stored value is not a valid encrypted value.") from exc
    return name, kid, data


def _aead_decrypt(value: str) -> str:
    name, kid, data = _aead_parts(value)
    nonce, blob = data[:NONCE_BYTES], data[NONCE_BYTES:]
    for raw in _keys():
        if key_id(raw) != kid:
            continue
        try:
            return _open(
                name, _aead_key(raw, name), nonce, blob, _aad(AEAD_TAGS[name], kid)
            ).decode()
        except InvalidTag:
            break
    raise ImproperlyConfigured("A stored value cannot be decrypted with any FIELD_ENCRYPTION_KEY.")


# --- the public functions ------------------------------------------------------------------


def is_encrypted(value: str | None) -> bool:
    return bool(value) and (str(value).startswith(PREFIX) or str(value).startswith(PREFIX_AEAD))


def _encrypt_plain(plaintext: str) -> str:
    name = algorithm()
    if name == "fernet":
        return PREFIX + cipher().encrypt(plaintext.encode()).decode()
    return _aead_encrypt(plaintext, name)


def encrypt(value: str | None) -> str:
    """The stored form of `value` ("" stays "", an already encrypted value is kept)."""
    if not value:
        return ""
    if is_encrypted(value):
        return value
    return _encrypt_plain(str(value))


def decrypt(value: str | None) -> str:
    """The plaintext of a stored value; a plain (not yet encrypted) value is returned as is."""
    if not value:
        return ""
    value = str(value)
    if value.startswith(PREFIX_AEAD):
        return _aead_decrypt(value)
    if not value.startswith(PREFIX):
        return value
    try:
        return cipher().decrypt(value[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored value cannot be decrypted with any FIELD_ENCRYPTION_KEY."
        ) from exc


def is_current(value: str | None) -> bool:
    """Whether a stored value is already in the chosen algorithm under the first key (a GCM
    value; a Fernet value is always re-encrypted by rotate(), as MultiFernet does)."""
    if not value or not str(value).startswith(PREFIX_AEAD):
        return False
    name, kid, _data = _aead_parts(str(value))
    return name == algorithm() and kid == key_id(_keys()[0])


def rotate(value: str | None) -> str:
    """Re-encrypt a stored value with the chosen algorithm and the first key (key rotation and
    the switch between algorithms); a value already so encrypted is kept."""
    if not value:
        return ""
    if not is_encrypted(value):
        return encrypt(value)
    if algorithm() == "fernet" and str(value).startswith(PREFIX):
        return PREFIX + cipher().rotate(str(value)[len(PREFIX) :].encode()).decode()
    if is_current(value):
        return str(value)
    return _encrypt_plain(decrypt(value))


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
