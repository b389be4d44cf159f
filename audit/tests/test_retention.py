"""The retention job: personal data of long-closed cases anonymised, statistics kept, and a
second run changes nothing."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.models import AnonymisedRecord, AuditEvent, AuditKind
from audit.retention import ANONYMISED, anonymise_closed_cases
from governance.aggregates import facts_refresh_locked
from governance.models import IncidentFact
from incidents.models import Incident
from incidents.tests.factories import make_incident
from mediation.models import CaseParty, MediationCase
from mediation.tests import builders as mb
from petitions.models import Petition, Petitioner
from petitions.tests import factories as pf

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - timedelta(days=4 * 365)
RECENTLY = timezone.now() - timedelta(days=30)


def incidents_city(world) -> SimpleNamespace:
    return SimpleNamespace(
        cell_village=world.regions["cell_village"],
        categories={"neighbour": world.cats["neighbour"]},
        resident=world.resident,
        worker=world.mediator,
    )


def closed_incident(world, closed_at, phone="13912345678") -> Incident:
    return make_incident(
        incidents_city(world),
        state="closed",
        category="neighbour",
        cell="cell_village",
        reporter_name="王五",
        reporter_phone=phone,
        closed_at=closed_at,
        rating=5,
    )


def closed_case(world, closed_at) -> MediationCase:
    case = mb.walk_in(world)
    MediationCase.objects.filter(pk=case.pk).update(
        state="closed", outcome="agreement", closed_at=closed_at
    )
    return case


def closed_petition(world, closed_at, id_number=pf.ID_A) -> Petition:
    officer = pf.officer(f"officer{id_number[-4:]}", region=world.regions["district"])
    petition = pf.file_letter(
        officer,
        region=world.regions["a1"],
        people=[pf.person(id_number=id_number, phone=f"1390000{id_number[-4:]}")],
    )
    Petition.objects.filter(pk=petition.pk).update(
        state="closed", closed_at=closed_at, satisfaction="satisfied"
    )
    return petition


def statistics() -> dict:
    facts = sorted(
        IncidentFact.objects.values_list(
            "incident_id", "category_id", "region_code", "state", "rating", "closed_at"
        )
    )
    return {
        "facts": facts,
        "incidents": sorted(
            Incident.objects.values_list("pk", "state", "category_id", "region_code", "rating")
        ),
        "cases": sorted(MediationCase.objects.values_list("pk", "state", "outcome", "room_id")),
        "petitions": sorted(
            Petition.objects.values_list("pk", "state", "category_id", "satisfaction")
        ),
        "people": (Petitioner.objects.count(), CaseParty.objects.count()),
    }


def test_anonymises_old_closed_cases_keeps_statistics_and_is_idempotent(world):
    old_incident = closed_incident(world, LONG_AGO)
    new_incident = closed_incident(world, RECENTLY, phone="13912345679")
    old_case, new_case = closed_case(world, LONG_AGO), closed_case(world, RECENTLY)
    old_petition = closed_petition(world, LONG_AGO, pf.ID_A)
    new_petition = closed_petition(world, RECENTLY, pf.ID_C)
    facts_refresh_locked(full=True)
    before = statistics()

    counts = anonymise_closed_cases()

    assert counts == {
        "assignments.assignment": 0,
        "deliberation.meeting": 0,
        "incidents.incident": 1,
        "mediation.mediationcase": 1,
        "petitions.petition": 1,
        "screening.dispute": 0,
    }
    old_incident.refresh_from_db()
    assert (old_incident.reporter_name, old_incident.reporter_phone) == (ANONYMISED, "")
    new_incident.refresh_from_db()
    assert new_incident.reporter_phone == "13912345679"
    for party in old_case.parties.all():
        assert (party.name, party.phone, party.id_number, party.address) == (ANONYMISED, "", "", "")
    assert new_case.parties.get(role="applicant").id_number == "350602199001011234"
    person = old_petition.petitioners.get()
    assert (person.name, person.id_number, person.phone, person.address) == (
        ANONYMISED,
        "",
        "",
        "",
    )
    assert (person.id_key, person.phone_key) == ("", "")
    assert new_petition.petitioners.get().id_number == pf.ID_C
    facts_refresh_locked(full=True)
    assert statistics() == before

    run = AuditEvent.objects.get(kind=AuditKind.RETENTION_RUN)
    assert run.details["anonymised"] == counts

    # A second run: nothing left to do, nothing changed.
    assert set(anonymise_closed_cases().values()) == {0}
    assert AnonymisedRecord.objects.count() == 3
    assert statistics() == before
    assert AuditEvent.objects.filter(kind=AuditKind.RETENTION_RUN).count() == 2


def test_management_command_and_period_setting(world, settings, capsys):
    closed_incident(world, RECENTLY)
    settings.PERSONAL_DATA_RETENTION_DAYS = 3650
    call_command("anonymise_closed_cases")
    assert "incidents.incident: 0 anonymised" in capsys.readouterr().out
    call_command("anonymise_closed_cases", "--days", "7")
    assert "incidents.incident: 1 anonymised" in capsys.readouterr().out
    assert Incident.objects.get().reporter_name == ANONYMISED


def test_beat_runs_the_task_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["personal-data-retention"]
    assert entry["task"] == "audit.tasks.anonymise_closed_cases"
    from audit.tasks import anonymise_closed_cases as task

    assert task.name == entry["task"]
