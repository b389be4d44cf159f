"""What audit's personal-data jobs do with residents' records (registered at ready()): the
pending SMS code column is encrypted at rest and re-encrypted by the key rotation."""

from audit.registry import EncryptedField, register_encrypted


def register() -> None:
    register_encrypted(EncryptedField("residents.PhoneCode", "code_pending"))
