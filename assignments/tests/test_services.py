"""Issuing, fan-out and the moves of an assignment (assignments.services)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from assignments import services
from assignments.models import (
    Assignment,
    AssignmentEvent,
    AssignmentState,
    DocumentService,
    Task,
)
from assignments.tests.builders import SERVICE, issue, issue_service, photo, signature
from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from core.models import Notification

pytestmark = pytest.mark.django_db
S = AssignmentState


def test_issue_fans_out_one_assignment_per_cell_with_an_issue_event_and_a_notice(world):
    task = issue(world, cells=[world.cell_a1, world.cell_a2])
    assignments = list(task.assignments.order_by("cell__code"))
    assert [a.cell for a in assignments] == [world.cell_a1, world.cell_a2]
    assert all(a.state == S.ISSUED and a.worker is None for a in assignments)
    assert [a.region_code for a in assignments] == ["350602001001", "350602001002"]
    assert task.office == "西桥街道" and task.office_region == world.tree["street_a"]
    event = AssignmentEvent.objects.get(assignment=assignments[0])
    assert (event.action, event.from_state, event.to_state) == ("issue", "", "issued")
    assert Notification.objects.filter(user=world.worker_a1).count() == 1
    assert Notification.objects.filter(user=world.worker_a2).count() == 1


def test_a_community_gives_each_of_its_cells_and_named_workers_their_own(world):
    task = issue(world, cells=[], communities=[world.tree["a1"]], workers=[world.worker_a2])
    cells = {a.cell_id for a in task.assignments.filter(cell__isnull=False)}
    assert cells == {world.tree["cell_a1_1"].pk, world.tree["cell_a1_2"].pk}
    named = task.assignments.get(cell__isnull=True)
    assert named.worker == world.worker_a2 and named.region_code == "350602001002"


def test_issuing_outside_ones_region_is_refused_and_writes_nothing(world):
    with pytest.raises(ValidationFailed) as refused:
        issue(world, cells=[world.cell_a1, world.cell_b])
    assert "cells" in refused.value.extra
    assert not Task.objects.exists() and not Assignment.objects.exists()


def test_workers_and_residents_may_not_issue(world):
    for user in (world.worker_a1, world.resident):
        with pytest.raises(PermissionDeniedError):
            issue(world, issuer=user)


def test_an_explicit_grant_lets_a_court_liaison_issue_into_the_district(world):
    task = issue(world, issuer=world.court, cells=[world.cell_a1, world.cell_b])
    assert task.office == "芗城区人民法院" and task.office_region == world.tree["district"]
    assert task.assignments.count() == 2


def test_bad_input_gives_field_messages(world):
    with pytest.raises(ValidationFailed) as refused:
        issue(world, title=" ", deadline=timezone.now() - timedelta(hours=1), cells=[])
    assert {"title", "deadline", "cells"} <= set(refused.value.extra)
    with pytest.raises(ValidationFailed) as refused:
        issue(world, form_fields=[{"label": "房屋类型", "type": "choice", "choices": ["自有"]}])
    assert "form_fields" in refused.value.extra
    with pytest.raises(ValidationFailed) as refused:
        issue(world, form_fields=[{"label": "x", "type": "date"}])
    assert "form_fields" in refused.value.extra


def test_a_service_of_documents_needs_one_target_and_its_addressee(world):
    with pytest.raises(ValidationFailed) as refused:
        issue(
            world,
            issuer=world.court,
            kind_code="service_of_documents",
            cells=[world.cell_a1, world.cell_a2],
        )
    assert {"cells", "document_title", "addressee_name", "addressee_address"} <= set(
        refused.value.extra
    )
    task = issue_service(world)
    service = DocumentService.objects.get(task=task)
    assert service.addressee_phone == SERVICE.addressee_phone
    assert task.requires_photo and task.requires_signature


def test_the_addressee_phone_and_id_number_are_encrypted_at_rest(world):
    from django.db import connection

    task = issue_service(world)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT addressee_phone, addressee_id_number FROM assignments_documentservice "
            "WHERE task_id = %s",
            [task.pk],
        )
        phone, id_number = cursor.fetchone()
    assert SERVICE.addressee_phone not in phone and SERVICE.addressee_id_number not in id_number


def test_a_campaign_task_is_due_by_the_campaign_deadline(world):
    deadline = timezone.now() + timedelta(days=10)
    campaign = services.campaign_create(
        actor=world.dispatcher_a,
        title="安全隐患专项排查",
        region_id=world.tree["street_a"].pk,
        deadline=deadline,
    )
    task = issue(world, campaign_id=campaign.pk, deadline=None)
    assert task.deadline == deadline and task.campaign == campaign
    with pytest.raises(ValidationFailed) as refused:
        issue(world, campaign_id=campaign.pk, deadline=deadline + timedelta(days=1))
    assert "deadline" in refused.value.extra
    with pytest.raises(ValidationFailed):
        services.campaign_create(
            actor=world.dispatcher_a,
            title="x",
            region_id=world.tree["street_b"].pk,
            deadline=deadline,
        )


def test_a_cell_worker_accepts_and_it_becomes_theirs(world):
    assignment = issue(world).assignments.get()
    with pytest.raises(NotFoundError):
        services.assignment_accept(assignment_id=assignment.pk, actor=world.worker_b)
    with pytest.raises(PermissionDeniedError):
        services.assignment_accept(assignment_id=assignment.pk, actor=world.supervisor_a)
    services.assignment_accept(assignment_id=assignment.pk, actor=world.worker_a1)
    assignment.refresh_from_db()
    assert assignment.state == S.ACCEPTED and assignment.worker == world.worker_a1
    with pytest.raises(ConflictError):
        services.assignment_accept(assignment_id=assignment.pk, actor=world.worker_a1)


def _accepted(world, **extra):
    assignment = issue(world, **extra).assignments.get()
    services.assignment_accept(assignment_id=assignment.pk, actor=world.worker_a1)
    return assignment


def test_completing_checks_the_evidence_on_the_server_and_writes_nothing_when_refused(world):
    assignment = _accepted(
        world,
        requires_photo=True,
        requires_gps=True,
        form_fields=[
            {"label": "家中人数", "type": "number", "required": True},
            {"label": "是否独居", "type": "yes_no"},
            {"label": "房屋类型", "type": "choice", "choices": ["自有", "租住"]},
        ],
    )
    with pytest.raises(ValidationFailed) as refused:
        services.assignment_complete(
            assignment_id=assignment.pk,
            actor=world.worker_a1,
            evidence=services.Evidence(answers={"f1": "三", "f2": "maybe", "f3": "别墅"}),
        )
    assert {"photo", "latitude", "f1", "f2", "f3"} <= set(refused.value.extra)
    assignment.refresh_from_db()
    assert assignment.state == S.ACCEPTED and not assignment.photo
    services.assignment_complete(
        assignment_id=assignment.pk,
        actor=world.worker_a1,
        evidence=services.Evidence(
            note="已走访",
            answers={"f1": "2", "f2": "是", "f3": "租住"},
            photo=photo(),
            latitude="24.505",
            longitude="117.605",
        ),
    )
    assignment.refresh_from_db()
    assert assignment.state == S.DONE and assignment.done_at is not None
    assert assignment.form_answers == {"f1": 2, "f2": True, "f3": "租住"}
    assert assignment.photo and str(assignment.latitude) == "24.505000"
    assert Notification.objects.filter(user=world.dispatcher_a, title__contains="走访").exists()
    with pytest.raises(ConflictError):
        services.assignment_complete(
            assignment_id=assignment.pk,
            actor=world.worker_a1,
            evidence=services.Evidence(note="again"),
        )


def test_only_the_worker_who_accepted_completes(world):
    assignment = issue(world).assignments.get()
    with pytest.raises(ValidationFailed):
        services.assignment_complete(
            assignment_id=assignment.pk, actor=world.worker_a1, evidence=services.Evidence(note="x")
        )


def test_a_service_delivered_needs_the_addressees_signature(world):
    assignment = issue_service(world).assignments.get()
    services.assignment_accept(assignment_id=assignment.pk, actor=world.worker_a1)
    base = {"outcome": "delivered", "served_place": "西桥社区3栋201", "photo": photo()}
    with pytest.raises(ValidationFailed) as refused:
        services.assignment_complete(
            assignment_id=assignment.pk, actor=world.worker_a1, evidence=services.Evidence(**base)
        )
    assert "signature" in refused.value.extra
    with pytest.raises(ValidationFailed) as refused:
        services.assignment_complete(
            assignment_id=assignment.pk,
            actor=world.worker_a1,
            evidence=services.Evidence(
                **{**base, "photo": photo()}, signature=signature(blank=True)
            ),
        )
    assert "signature" in refused.value.extra
    services.assignment_complete(
        assignment_id=assignment.pk,
        actor=world.worker_a1,
        evidence=services.Evidence(**{**base, "photo": photo()}, signature=signature()),
    )
    assignment.refresh_from_db()
    assert assignment.delivery_outcome == "delivered" and assignment.signature
    assert assignment.served_at is not None and assignment.receipt_number.startswith("SD")


def test_a_refused_service_needs_the_reason_not_a_signature(world):
    assignment = issue_service(world).assignments.get()
    services.assignment_accept(assignment_id=assignment.pk, actor=world.worker_a1)
    with pytest.raises(ValidationFailed) as refused:
        services.assignment_complete(
            assignment_id=assignment.pk,
            actor=world.worker_a1,
            evidence=services.Evidence(outcome="refused", served_place="门口", photo=photo()),
        )
    assert "not_signed_reason" in refused.value.extra
    services.assignment_complete(
        assignment_id=assignment.pk,
        actor=world.worker_a1,
        evidence=services.Evidence(
            outcome="refused", served_place="门口", photo=photo(), not_signed_reason="拒绝签收"
        ),
    )
    assignment.refresh_from_db()
    assert assignment.delivery_outcome == "refused" and not assignment.signature


def test_return_reassign_cancel_and_reopen(world):
    assignment = _accepted(world)
    with pytest.raises(ValidationFailed):
        services.assignment_return(assignment_id=assignment.pk, actor=world.worker_a1, reason=" ")
    services.assignment_return(
        assignment_id=assignment.pk, actor=world.worker_a1, reason="不在本网格"
    )
    assignment.refresh_from_db()
    assert assignment.state == S.RETURNED
    with pytest.raises(PermissionDeniedError):
        services.assignment_reassign(
            assignment_id=assignment.pk, actor=world.worker_a1, worker_id=world.worker_a2.pk
        )
    with pytest.raises(ValidationFailed):
        services.assignment_reassign(
            assignment_id=assignment.pk, actor=world.dispatcher_a, worker_id=world.worker_b.pk
        )
    services.assignment_reassign(
        assignment_id=assignment.pk, actor=world.dispatcher_a, worker_id=world.worker_a2.pk
    )
    assignment.refresh_from_db()
    assert assignment.state == S.ISSUED and assignment.worker == world.worker_a2
    services.assignment_accept(assignment_id=assignment.pk, actor=world.worker_a2)
    services.assignment_complete(
        assignment_id=assignment.pk, actor=world.worker_a2, evidence=services.Evidence(note="ok")
    )
    services.assignment_reopen(
        assignment_id=assignment.pk, actor=world.dispatcher_a, reason="照片不清"
    )
    assignment.refresh_from_db()
    assert assignment.state == S.ACCEPTED and assignment.done_at is None
    services.assignment_cancel(assignment_id=assignment.pk, actor=world.dispatcher_a, reason="撤回")
    assignment.refresh_from_db()
    assert assignment.state == S.CANCELLED
    actions = list(assignment.events.values_list("action", flat=True))
    assert actions == [
        "issue",
        "accept",
        "return",
        "reassign",
        "accept",
        "complete",
        "reopen",
        "cancel",
    ]


def test_task_cancel_withdraws_every_open_assignment(world):
    task = issue(world, cells=[world.cell_a1, world.cell_a2])
    with pytest.raises(PermissionDeniedError):
        services.task_cancel(task_id=task.pk, actor=world.supervisor_a, reason="x")
    assert services.task_cancel(task_id=task.pk, actor=world.dispatcher_a, reason="重复下达") == 2
    assert set(task.assignments.values_list("state", flat=True)) == {S.CANCELLED}


def test_the_timeline_is_append_only(world):
    event = issue(world).assignments.get().events.get()
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()


def _registry_person(world, id_number="350602198001011234"):
    from registry.models import Building, Home, Person

    cell = world.cell_a2
    building = Building.objects.create(
        cell=cell, region_code=cell.community.code, name="金品3栋", address="金品社区3栋"
    )
    home = Home.objects.create(
        cell=cell, region_code=cell.community.code, building=building, number="502"
    )
    person = Person(cell=cell, region_code=cell.community.code, name="陈建国", home=home)
    person.id_number = id_number
    person.phone = "13711112222"
    person.save()
    return person


def test_the_addressee_links_to_the_registry_by_id_number_and_is_served_in_their_cell(world):
    person = _registry_person(world)
    task = issue(
        world,
        issuer=world.court,
        kind_code="service_of_documents",
        cells=[],
        service=services.ServiceInput(
            document_title="传票", addressee_id_number="350602198001011234"
        ),
    )
    service = task.service
    assert service.addressee_person == person and service.addressee_home == person.home
    assert service.addressee_building == person.home.building
    assert service.addressee_name == "陈建国" and service.addressee_address == "金品社区3栋 502"
    assert service.addressee_phone == "13711112222"
    assert task.assignments.get().cell == world.cell_a2


def test_registry_links_outside_the_issuers_region_are_not_found(world):
    person = _registry_person(world)
    with pytest.raises(ValidationFailed) as refused:
        issue(
            world,
            issuer=world.dispatcher_b,
            kind_code="service_of_documents",
            cells=[world.cell_b],
            service=services.ServiceInput(
                document_title="传票",
                addressee_name="x",
                addressee_address="y",
                addressee_person_id=person.pk,
            ),
        )
    assert "addressee_person" in refused.value.extra
    # an ID number from another region links nothing (and reveals nothing)
    task = issue(
        world,
        issuer=world.dispatcher_b,
        kind_code="service_of_documents",
        cells=[world.cell_b],
        service=services.ServiceInput(
            document_title="传票",
            addressee_name="某人",
            addressee_address="东铺头",
            addressee_id_number="350602198001011234",
        ),
    )
    assert task.service.addressee_person is None
