"""Services of screening: logging, the colour and its alerts, the "4+2" moves, scope and roles,
bad input that writes nothing."""

import pytest
from django.db import transaction

from core.exceptions import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from core.models import Notification, SmsMessage
from incidents.tests.factories import make_incident
from mediation.models import MediationCase
from screening import services
from screening.models import Dispute, DisputeEvent, DisputeParty
from screening.tests.conftest import parties

pytestmark = pytest.mark.django_db


def register(world, actor=None, **kwargs) -> Dispute:
    return services.dispute_register(
        actor=actor or world.worker,
        kind_code=kwargs.pop("kind_code", "neighbour"),
        place=kwargs.pop("place", "西桥社区3号楼楼道"),
        story=kwargs.pop("story", "两户因楼道堆物争吵"),
        parties=kwargs.pop("parties", parties()),
        grid_cell_id=kwargs.pop("grid_cell_id", world.cell_a1_1.pk),
        **kwargs,
    )


def test_a_weapon_makes_it_red_and_alerts_community_street_and_police(world):
    with transaction.atomic():
        dispute = register(world, factor_codes=["weapon"])
    assert dispute.level == dispute.computed_level == "red"
    assert dispute.state == "registered"
    told = set(
        Notification.objects.filter(dedupe_key=f"screening:{dispute.pk}:alert:red").values_list(
            "user_id", flat=True
        )
    )
    # the cell's worker (community), the street's dispatcher (综治), the paired police officer
    assert {world.worker.pk, world.dispatcher.pk, world.police.pk} <= told
    assert world.worker_b.pk not in told and world.dispatcher_b.pk not in told
    sms = SmsMessage.objects.filter(dedupe_key__startswith=f"screening:{dispute.pk}:alert:red")
    assert {m.phone for m in sms} >= {world.police.phone, world.dispatcher.phone}
    # no party's name or phone leaves in an alert
    texts = [m.text for m in sms] + [n.title + n.body for n in Notification.objects.all()]
    for text in texts:
        assert "张三丰" not in text and "13911112222" not in text
    assert DisputeEvent.objects.filter(dispute=dispute, action="alert").count() == 1


def test_a_blue_dispute_alerts_nobody(world):
    dispute = register(world)
    assert dispute.level == "blue"
    assert not Notification.objects.filter(dedupe_key__contains=f"{dispute.pk}:alert").exists()
    assert list(dispute.events.values_list("action", flat=True)) == ["register"]


def test_parties_are_encrypted_at_rest_and_masked(world):
    dispute = register(world)
    party = DisputeParty.objects.get(dispute=dispute, side="applicant")
    assert party.name == "张三丰" and party.masked_name == "张**"
    assert party.masked_phone == "139****2222"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT name, phone FROM screening_disputeparty WHERE id = %s", [party.pk])
        raw_name, raw_phone = cursor.fetchone()
    assert raw_name.startswith("enc1:") and "张三丰" not in raw_name
    assert raw_phone.startswith("enc1:")


def test_raising_by_hand_needs_a_reason_and_never_lowers(world):
    with pytest.raises(ValidationFailed) as error:
        register(world, level="orange")
    assert "level_reason" in error.value.extra
    with pytest.raises(ValidationFailed):
        register(world, factor_codes=["weapon"], level="yellow", level_reason="x")
    assert not Dispute.objects.exists()
    dispute = register(world, level="orange", level_reason="双方曾动手")
    assert (dispute.computed_level, dispute.level) == ("blue", "orange")
    with pytest.raises(ValidationFailed):
        services.dispute_raise_level(
            actor=world.worker, dispute_id=dispute.pk, level="yellow", reason="x"
        )
    raised = services.dispute_raise_level(
        actor=world.dispatcher, dispute_id=dispute.pk, level="red", reason="扬言带刀"
    )
    assert raised.level == "red"
    assert Notification.objects.filter(dedupe_key=f"screening:{dispute.pk}:alert:red").exists()


def test_assessment_lowers_only_with_a_reason(world):
    dispute = register(world, factor_codes=["violence_threat"])
    assert dispute.level == "orange"
    kept = services.dispute_assess(
        actor=world.worker, dispute_id=dispute.pk, factor_codes=[], note="双方情绪平稳"
    )
    assert (kept.computed_level, kept.level) == ("blue", "orange")
    lowered = services.dispute_assess(
        actor=world.worker,
        dispute_id=dispute.pk,
        factor_codes=[],
        note="复核",
        lower_reason="威胁系误传，已核实",
    )
    assert lowered.level == "blue"
    event = lowered.events.filter(action="assess").last()
    assert event.data["lowered_because"] == "威胁系误传，已核实"


def test_the_whole_flow_to_mediation_and_closed(world):
    dispute = register(world, factor_codes=["repeated"])
    services.dispute_mediate_on_spot(actor=world.worker, dispute_id=dispute.pk, note="劝解")
    services.dispute_assess(
        actor=world.worker, dispute_id=dispute.pk, factor_codes=["repeated"], note="黄色"
    )
    routed = services.dispute_route(actor=world.worker, dispute_id=dispute.pk, target="mediation")
    case = MediationCase.objects.get()
    assert routed.mediation_case == case and case.room == world.room  # the nearest room
    assert {p.name for p in case.parties.all()} == {"张三丰", "李四光"}
    assert routed.route_unit == world.room.name
    services.dispute_follow_up(actor=world.worker, dispute_id=dispute.pk, note="已受理")
    closed = services.dispute_close(
        actor=world.worker, dispute_id=dispute.pk, outcome="resolved", note="达成协议"
    )
    assert closed.state == "closed" and closed.visit_due_at and closed.follow_up_due_at is None
    visited = services.dispute_visit(actor=world.worker, dispute_id=dispute.pk, note="无反复")
    assert visited.state == "visited"
    assert list(visited.events.values_list("action", flat=True)) == [
        "register",
        "mediate_on_spot",
        "assess",
        "route",
        "follow_up",
        "close",
        "visit",
    ]
    assert (visited.follow_ups, visited.follow_ups_on_time) == (1, 1)
    with pytest.raises(ConflictError):
        services.dispute_follow_up(actor=world.worker, dispute_id=dispute.pk, note="x")


def test_route_to_mediation_needs_both_sides(world):
    dispute = register(world, parties=[{"side": "applicant", "name": "王五"}])
    services.dispute_assess(actor=world.worker, dispute_id=dispute.pk, factor_codes=[], note="a")
    with pytest.raises(ValidationFailed):
        services.dispute_route(actor=world.worker, dispute_id=dispute.pk, target="mediation")
    dispute.refresh_from_db()
    assert dispute.state == "assessed" and not MediationCase.objects.exists()


def test_route_to_police_and_department_tells_them(world):
    dispute = register(world)
    services.dispute_assess(actor=world.worker, dispute_id=dispute.pk, factor_codes=[], note="a")
    services.dispute_route(actor=world.worker, dispute_id=dispute.pk, target="police")
    assert Notification.objects.filter(
        user=world.police, dedupe_key__startswith=f"screening:{dispute.pk}:route"
    ).exists()
    other = register(world)
    services.dispute_assess(actor=world.worker, dispute_id=other.pk, factor_codes=[], note="a")
    with pytest.raises(ValidationFailed):
        services.dispute_route(actor=world.worker, dispute_id=other.pk, target="department")
    services.dispute_route(
        actor=world.worker, dispute_id=other.pk, target="department", unit="城管执法"
    )
    assert Notification.objects.filter(
        user=world.handler, dedupe_key__startswith=f"screening:{other.pk}:route"
    ).exists()


def test_scope_and_roles(world):
    dispute = register(world)
    with pytest.raises(NotFoundError):  # street B's worker does not see street A's dispute
        services.dispute_mediate_on_spot(actor=world.worker_b, dispute_id=dispute.pk, note="x")
    with pytest.raises(NotFoundError):
        services.dispute_mediate_on_spot(actor=world.resident, dispute_id=dispute.pk, note="x")
    with pytest.raises(PermissionDeniedError):  # the police officer sees it but does not mediate
        services.dispute_mediate_on_spot(actor=world.police, dispute_id=dispute.pk, note="x")
    with pytest.raises(PermissionDeniedError):
        register(world, actor=world.resident)
    with pytest.raises(ValidationFailed):  # street B's worker may not log in street A
        register(world, actor=world.worker_b)


def test_bad_input_writes_nothing(world):
    for kwargs in (
        {"kind_code": "nope"},
        {"place": " "},
        {"story": ""},
        {"parties": []},
        {"parties": [{"side": "applicant", "name": "王五", "phone": "123"}]},
        {"parties": [{"side": "x", "name": "王五"}]},
        {"factor_codes": ["nope"]},
        {"grid_cell_id": 999999},
        {"level": "purple"},
    ):
        with pytest.raises(ValidationFailed):
            register(world, **kwargs)
    assert not Dispute.objects.exists() and not DisputeParty.objects.exists()


def test_referred_from_an_incident_the_actor_sees(world):
    incident = make_incident(world, state="dispatched", cell="cell_a1_1", category="1001")
    dispute = register(world, source="incident", incident_id=incident.pk)
    assert dispute.incident == incident
    hidden = make_incident(
        world,
        state="dispatched",
        cell="cell_b1_1",
        category="1001",
        assignee=world.worker_b,
        verifier=world.worker_b,
    )
    with pytest.raises(ValidationFailed):
        register(world, source="incident", incident_id=hidden.pk)


def test_link_escalation(world):
    dispute = register(world)
    incident = make_incident(world, state="dispatched", cell="cell_a1_1")
    with pytest.raises(PermissionDeniedError):
        services.dispute_link_escalation(
            actor=world.worker, dispute_id=dispute.pk, incident_id=incident.pk
        )
    linked = services.dispute_link_escalation(
        actor=world.dispatcher, dispute_id=dispute.pk, incident_id=incident.pk, note="持刀伤人"
    )
    assert linked.escalated_incident == incident
    with pytest.raises(ConflictError):
        services.dispute_link_escalation(
            actor=world.dispatcher, dispute_id=dispute.pk, incident_id=incident.pk
        )


def _person(world, *, key_person: bool):
    from registry.models import KeyPersonKind, Person
    from registry.services import basic_save, key_person_create

    person = basic_save(
        actor=world.worker,
        instance=Person(),
        data={"name": "赵六", "phone": "13955556666"},
        cell=world.cell_a1_1,
    )
    if key_person:
        key_person_create(
            actor=world.worker,
            person=person,
            kind=KeyPersonKind.objects.get(code="severe_mental"),
            risk_level=1,
            responsible_worker=world.worker,
        )
    return person


def test_a_linked_key_person_ticks_the_factor_and_makes_it_orange(world):
    person = _person(world, key_person=True)
    dispute = register(
        world,
        parties=[
            {"side": "applicant", "person_id": person.pk},
            {"side": "respondent", "name": "钱七"},
        ],
    )
    assert set(dispute.factors.values_list("code", flat=True)) == {"key_person"}
    assert dispute.level == "orange"
    party = dispute.parties.get(side="applicant")
    assert (party.person, party.name, party.phone) == (person, "赵六", "13955556666")
    # an assessment without the factor keeps it (found by the registry) unless lowered with reason
    kept = services.dispute_assess(
        actor=world.worker, dispute_id=dispute.pk, factor_codes=[], note="a"
    )
    assert kept.level == "orange"


def test_a_plain_person_link_and_a_hidden_one(world):
    person = _person(world, key_person=False)
    dispute = register(world, parties=[{"side": "applicant", "person_id": person.pk}])
    assert dispute.level == "blue" and not dispute.factors.exists()
    with pytest.raises(ValidationFailed):  # street B's worker does not see the person
        register(
            world,
            actor=world.worker_b,
            grid_cell_id=world.cell_b1_1.pk,
            parties=[{"side": "applicant", "person_id": person.pk}],
        )
