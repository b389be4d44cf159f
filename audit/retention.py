"""The retention job (PIPL: personal data kept no longer than needed).

Closed incidents, mediation cases and petitions whose case closed more than
settings.PERSONAL_DATA_RETENTION_DAYS ago lose the personal data of the people in them:
names become "已匿名", phones, ID numbers and addresses of persons are blanked (with the
petitioners' lookup keys). Everything the statistics read is kept: category, region, grid cell,
times, states, deadlines, ratings, the timelines and the KPI facts. Incident photos carry no
EXIF (stripped at upload).

Each anonymised object gets an AnonymisedRecord (its `anonymised_at` marker): a second run finds
nothing to do. Every run writes one `retention_run` audit event with the counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.models import AnonymisedRecord, AuditKind
from audit.services import record

ANONYMISED = "已匿名"
BATCH = 500


@dataclass
class Target:
    label: str  # app_label.model
    final_states: list[str]
    closed_field: str


def _targets() -> list[Target]:
    from incidents.models import FINAL_STATES as INCIDENT_FINAL
    from mediation.models import FINAL_STATES as CASE_FINAL
    from petitions.models import FINAL_STATES as PETITION_FINAL

    return [
        Target("incidents.incident", list(INCIDENT_FINAL), "closed_at"),
        Target("mediation.mediationcase", list(CASE_FINAL), "closed_at"),
        Target("petitions.petition", list(PETITION_FINAL), "closed_at"),
    ]


def _due(model: type[models.Model], target: Target, cutoff: datetime) -> models.QuerySet:
    done = AnonymisedRecord.objects.filter(object_type=target.label).values("object_id")
    return (
        model.objects.filter(state__in=target.final_states)
        .annotate(_closed=Coalesce(target.closed_field, "updated_at"))
        .filter(_closed__lt=cutoff)
        .exclude(pk__in=done)
        .order_by("pk")
    )


def _anonymise_incidents(ids: list[int]) -> None:
    from incidents.models import Incident

    Incident.objects.filter(pk__in=ids).update(reporter_name=ANONYMISED, reporter_phone="")


def _anonymise_cases(ids: list[int]) -> None:
    from mediation.models import AgreementSignature, CaseParty, MediationAgreement

    CaseParty.objects.filter(case_id__in=ids).update(
        name=ANONYMISED, id_number="", phone="", address=""
    )
    MediationAgreement.objects.filter(case_id__in=ids).update(parties_details=ANONYMISED)
    AgreementSignature.objects.filter(agreement__case_id__in=ids, party__isnull=False).update(
        signer_name=ANONYMISED
    )


def _anonymise_petitions(ids: list[int]) -> None:
    from petitions.models import Petitioner

    Petitioner.objects.filter(petition_id__in=ids).update(
        name=ANONYMISED,
        id_number_value="",
        id_key="",
        phone="",
        phone_key="",
        address="",
    )


ANONYMISERS = {
    "incidents.incident": _anonymise_incidents,
    "mediation.mediationcase": _anonymise_cases,
    "petitions.petition": _anonymise_petitions,
}


def anonymise_closed_cases(
    *, now: datetime | None = None, days: int | None = None, actor=None
) -> dict[str, int]:
    """Anonymise every due object; returns the count per kind (0 everywhere on a second run)."""
    from django.apps import apps

    now = now or timezone.now()
    days = settings.PERSONAL_DATA_RETENTION_DAYS if days is None else days
    cutoff = now - timedelta(days=days)
    counts: dict[str, int] = {}
    for target in _targets():
        model = apps.get_model(target.label)
        anonymise = ANONYMISERS[target.label]
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
