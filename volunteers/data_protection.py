"""What audit's personal-data jobs do with volunteers' data (audit.registry; registered at
ready()): the volunteer's ID number is encrypted at rest (core.crypto) and re-encrypted by the
key rotation. GPS tracks have their own, shorter retention (volunteers.services.sweep)."""

from __future__ import annotations

from audit.registry import EncryptedField, register_encrypted


def register() -> None:
    register_encrypted(EncryptedField("volunteers.Volunteer", "id_number"))
