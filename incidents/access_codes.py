"""The public tracking secret (查询码): drawing, hashing and checking it (incidents.tracking has
the budgets and the pages' helpers; see its docstring).

A report gets a random access code from an unambiguous alphabet with its tracking number. Only
a salted HMAC of it is stored (`Incident.access_code_hash`); the code is shown once and sent by
SMS to a reporter known by phone. Nothing here reads the database or imports an app module, so
the services, the selectors and the pages can all use it.
"""

from __future__ import annotations

import hmac
import secrets

from django.utils.crypto import salted_hmac

ACCESS_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
ACCESS_CODE_LENGTH = 8  # 31^8 ≈ 8.5e11 codes
_HASH_PREFIX = "hmac-sha256"
_KEY_SALT = "incidents.tracking.access_code"
# Compared against when the number does not exist: the same work either way.
_DUMMY_HASH = f"{_HASH_PREFIX}$0000000000000000${'0' * 64}"


# --- the code ---------------------------------------------------------------------------------


def access_code_new() -> str:
    """A fresh random access code, e.g. K7M3Q9XP."""
    return "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))


def access_code_normalize(code: str) -> str:
    """What a person typed: case, spaces and dashes do not matter."""
    return "".join(str(code or "").split()).replace("-", "").upper()[:32]


def _digest(salt: str, code: str) -> str:
    return salted_hmac(f"{_KEY_SALT}:{salt}", code, algorithm="sha256").hexdigest()


def access_code_hash(code: str) -> str:
    """The stored form: "hmac-sha256$<salt>$<hex>" (salted, keyed with the SECRET_KEY)."""
    salt = secrets.token_hex(8)
    return f"{_HASH_PREFIX}${salt}${_digest(salt, access_code_normalize(code))}"


def access_code_matches(stored: str, code: str) -> bool:
    """Constant-time check of a typed code against the stored hash (False for an empty one);
    the same work whether or not there is a stored hash."""
    typed = access_code_normalize(code)
    parts = (stored or "").split("$")
    valid = len(parts) == 3 and parts[0] == _HASH_PREFIX
    _prefix, salt, expected = parts if valid else _DUMMY_HASH.split("$")
    same = hmac.compare_digest(_digest(salt, typed).encode(), expected.encode())
    return valid and bool(typed) and same


def tracking_proof(stored: str) -> str:
    """What the session keeps once a browser proved the code (never the code itself): it stops
    working when a new code is issued."""
    return salted_hmac(f"{_KEY_SALT}:proof", stored or "-", algorithm="sha256").hexdigest()[:32]


def tracking_proof_matches(stored: str, proof: str) -> bool:
    return bool(stored) and hmac.compare_digest(tracking_proof(stored), str(proof or ""))
