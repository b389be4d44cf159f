"""What audit's personal-data jobs work on, registered by the apps that own the data.

audit sits low in the layers (core < accounts | audit < grids < incidents < mediation <
petitions ...): the retention job (audit.retention) and the key rotation
(`manage.py reencrypt_personal_data`) may not import the models of the apps above it. Each of
those apps registers here instead, from its AppConfig.ready() (`<app>/data_protection.py`):

- a RetentionTarget: which closed objects are due (their final states and the field holding
  when they closed) and the function that blanks their personal data (ids in, bulk UPDATEs);
- its EncryptedFields: the columns core.crypto encrypts at rest, which the key rotation
  re-encrypts with the first key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RetentionTarget:
    label: str  # app_label.model, lower case: AnonymisedRecord.object_type
    final_states: Sequence[str]
    closed_field: str  # when the object closed (falls back to updated_at when empty)
    anonymise: Callable[[list[int]], None]  # blanks the personal data of these objects


@dataclass(frozen=True)
class EncryptedField:
    model: str  # "app_label.Model"
    field: str  # an EncryptedCharField of that model


_retention: dict[str, RetentionTarget] = {}
_encrypted: dict[tuple[str, str], EncryptedField] = {}


def register_retention(target: RetentionTarget) -> None:
    """Register (or replace) the retention target for `target.label`."""
    _retention[target.label] = target


def retention_targets() -> list[RetentionTarget]:
    """The registered targets, by label."""
    return [_retention[label] for label in sorted(_retention)]


def register_encrypted(*fields: EncryptedField) -> None:
    """Register encrypted columns for the key rotation (registering one twice is harmless)."""
    for field in fields:
        _encrypted[(field.model, field.field)] = field


def encrypted_fields() -> list[EncryptedField]:
    """The registered encrypted columns, by model and field."""
    return [_encrypted[key] for key in sorted(_encrypted)]
