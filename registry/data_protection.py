"""What audit's personal-data jobs do with registry (audit.registry; registered at ready()).

Key rotation: ID numbers and phones of people, owners' and contacts' phones, and the import
files waiting for confirmation are encrypted at rest (core.crypto). No retention target: the
grid's basic data is kept while the person lives in the cell; a deactivated record keeps its
history (docs/basic-data.md).
"""

from __future__ import annotations

from audit.registry import EncryptedField, register_encrypted


def register() -> None:
    register_encrypted(
        EncryptedField("registry.Person", "id_number_value"),
        EncryptedField("registry.Person", "phone_value"),
        EncryptedField("registry.Home", "owner_phone_value"),
        EncryptedField("registry.Organisation", "contact_phone_value"),
        EncryptedField("registry.Place", "contact_phone_value"),
    )
