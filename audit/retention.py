"""The retention job (PIPL: personal data kept no longer than needed).

Closed incidents, mediation cases and petitions whose case closed more than
settings.PERSONAL_DATA_RETENTION_DAYS ago lose the personal data of the people in them:
names become "已匿名", phones, ID numbers and addresses of persons are blanked (with the
petitioners' lookup keys). Everything the statistics read is kept: category, region, grid cell,
times, states, deadlines, ratings, the timelines and the KPI facts. Incident photos carry no
EXIF (stripped at upload).

The apps that hold the data register what is due and how it is blanked (audit.registry, from
their `data_protection.py` at ready()): audit imports none of them.

Each anonymised object gets an AnonymisedRecord (its `anonymised_at` marker): a second run finds
nothing to do. Every run writes one `retention_run` audit event with the counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.models import AnonymisedRecord, AuditKind
from audit.registry import RetentionTarget, retention_targets
from audit.services import record

ANONYMISED = "已匿名"
BATCH = 500


def _due(model: type[models.Model], target: RetentionTarget, cutoff: datetime) -> models.QuerySet:
    done = AnonymisedRecord.objects.filter(object_type=target.label).values("object_id")
    return (
        model.objects.filter(state__in=target.final_states)
        .annotate(_closed=Coalesce(target.closed_field, "updated_at"))
        .filter(_closed__lt=cutoff)
        .exclude(pk__in=done)
        .order_by("pk")
    )


def anonymise_closed_cases(
    *, now: datetime | None = None, days: int | None = None, actor=None
) -> dict[str, int]:
    """Anonymise every due object; returns the count per kind (0 everywhere on a second run)."""
    from django.apps import apps

    now = now or timezone.now()
    days = settings.PERSONAL_DATA_RETENTION_DAYS if days is None else days
    cutoff = now - timedelta(days=days)
    counts: dict[str, int] = {}
    for target in retention_targets():
        model = apps.get_model(target.label)
        anonymise = target.anonymise
        counts[target.label] = 0
        while True:
            ids = list(_due(model, target, cutoff).values_list("pk", flat=True)[:BATCH])
            if not ids:
                break
            with transaction.atomic():
                anonymise(ids)
                AnonymisedRecord.objects.bulk_create(
                    [
                        AnonymisedRecord(object_type=target.label, object_id=pk, anonymised_at=now)
                        for pk in ids
                    ],
                    ignore_conflicts=True,
                )
            counts[target.label] += len(ids)
    record(
        AuditKind.RETENTION_RUN,
        actor=actor,
        actor_label="" if actor else "system",
        details={"days": days, "cutoff": cutoff.isoformat(), "anonymised": counts},
    )
    return counts
