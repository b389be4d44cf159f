"""Builders shared by the mediation tests (plain functions)."""

from datetime import datetime, timedelta

from django.utils import timezone

from incidents.models import Category
from mediation import services
from mediation.models import CaseParty, MediationCase
from tests.builders import make_grid_worker

TZ = timezone.get_fixed_timezone(8 * 60)


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def parties(applicant="张三", respondent="李四", **extra_applicant) -> list[dict]:
    return [
        {
            "role": CaseParty.Role.APPLICANT,
            "name": applicant,
            "phone": "13700000001",
            "id_number": "350602199001011234",
            "address": "西桥社区1号楼",
            **extra_applicant,
        },
        {"role": CaseParty.Role.RESPONDENT, "name": respondent, "phone": "13700000002"},
    ]


def walk_in(world, room_key: str = "village_a1", actor=None, **kwargs) -> MediationCase:
    return services.case_register(
        actor=actor or world.mediator,
        room_id=world.rooms[room_key].pk,
        source=kwargs.pop("source", "walk_in"),
        category_code=kwargs.pop("category_code", "1001"),
        facts=kwargs.pop("facts", "楼道堆放杂物"),
        requests=kwargs.pop("requests", "清理杂物"),
        parties=kwargs.pop("parties", parties()),
        **kwargs,
    )


def in_session(world, room_key: str = "village_a1") -> MediationCase:
    case = walk_in(world, room_key)
    mediator = world.mediator if room_key in ("village_a1", "township_a") else world.mediator2
    services.case_accept(actor=mediator, case_id=case.pk)
    session = services.session_schedule(
        actor=mediator,
        case_id=case.pk,
        starts_at=timezone.now() + timedelta(hours=1),
        place="调解室",
    )
    services.session_start(actor=mediator, session_id=session.pk)
    case.refresh_from_db()
    return case


def written_agreement(world, case: MediationCase, **overrides):
    return services.agreement_record(
        actor=world.mediator,
        case_id=case.pk,
        form=overrides.pop("form", "written"),
        facts="楼道堆放杂物影响通行",
        disputed_matters="杂物清理",
        responsibilities="李四负主要责任",
        terms="李四于三日内清理杂物",
        performance_method="李四自行清理，调解员回访",
        performance_deadline=overrides.pop("performance_deadline", None),
        **overrides,
    )


def sign_all(world, case: MediationCase, *, seal: bool = True) -> None:
    """Every party and the mediator sign; then (by default) the committee's seal is applied,
    which puts the written agreement in effect (人民调解法 Art. 29)."""
    for party in case.parties.all():
        services.agreement_sign(actor=world.mediator, case_id=case.pk, party_id=party.pk)
    services.agreement_sign(actor=world.mediator, case_id=case.pk, party_id=None)
    if seal:
        services.agreement_seal(actor=world.mediator, case_id=case.pk)


def dispute_incident(world, *, category_key="neighbour", accept=True, lat=24.505, lng=117.605):
    """A dispute reported by a grid worker in 西桥社区, dispatched to the handler (and accepted),
    through the incidents services (their on-commit tasks do not run inside a test transaction,
    so the system step is called directly)."""
    from incidents import services as incident_services

    worker = make_grid_worker(
        f"gw{Category.objects.count()}{lat}".replace(".", ""),
        cells=[world.regions["cell_a1_1"]],
    )
    incident = incident_services.incident_report(
        actor=worker,
        category=world.cats[category_key],
        description="邻居装修噪音扰民，双方争吵",
        channel="patrol",
        lat=lat,
        lng=lng,
        address="西桥社区1号楼",
    )
    incident_services.incident_start_verification(incident_id=incident.pk)
    incident = incident_services.incident_dispatch(
        incident_id=incident.pk, actor=world.dispatcher, assignee_id=world.handler.pk
    )
    if accept:
        incident = incident_services.incident_accept(incident_id=incident.pk, actor=world.handler)
    return incident
