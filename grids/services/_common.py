"""What the two imports share: the problems report, the result, the admin check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import PermissionDeniedError


@dataclass(frozen=True)
class ImportProblem:
    """One problem of an import file. `where` names the place: "line 4", "features[2]", "file"."""

    where: str
    field: str
    message: str
    index: int | None = None  # CSV line number or feature index; None for the whole file

    def __str__(self) -> str:
        if self.field:
            return f"{self.where}: {self.field}: {self.message}"
        return f"{self.where}: {self.message}"


@dataclass
class ImportResult:
    problems: list[ImportProblem] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_actor(actor: User | None) -> None:
    if actor is not None and not actor.is_portal_admin:
        raise PermissionDeniedError(_("Only administrators may import regions and grid cells."))


def _save_if_changed(instance, values: dict[str, Any]) -> bool:
    """Set `values` on `instance` and save only when something differs (keeps updated_at)."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if not changed:
        return False
    for name in changed:
        setattr(instance, name, values[name])
    instance.save()
    return True
