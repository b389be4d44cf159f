"""What audit's personal-data jobs do with incidents (audit.registry; registered at ready()).

Retention: a closed incident keeps everything the statistics read; the reporter's name becomes
"已匿名" and the reporter's phone is blanked.
"""

from __future__ import annotations

from audit.registry import RetentionTarget, register_retention
from audit.retention import ANONYMISED
from incidents.models import FINAL_STATES, Incident


def anonymise_incidents(ids: list[int]) -> None:
    Incident.objects.filter(pk__in=ids).update(reporter_name=ANONYMISED, reporter_phone="")


def register() -> None:
    register_retention(
        RetentionTarget("incidents.incident", list(FINAL_STATES), "closed_at", anonymise_incidents)
    )
