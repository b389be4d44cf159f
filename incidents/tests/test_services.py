"""The loop's services: every move, its permission and scope checks, and bad input."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from core.models import Notification, SmsMessage
from incidents import services
from incidents.models import Incident, IncidentEvent, IncidentPhoto, IncidentState
from incidents.tests.conftest import (
    IN_A1_1,
    IN_A1_2,
    IN_B1_1,
    IN_B1_NO_CELL,
    OUTSIDE,
    gps_exif,
    jpeg_upload,
)
from incidents.tests.factories import make_incident

S = IncidentState
pytestmark = pytest.mark.django_db


def report(city, run, *, actor="resident", code="0102", point=IN_A1_1, **kwargs):
    actor = getattr(city, actor) if isinstance(actor, str) else actor
    kwargs.setdefault(
        "channel", "patrol" if actor and actor.has_role("grid_worker") else "resident_web"
    )
    incident = run(
        services.incident_report,
        actor=actor,
        category=city.categories[code],
        description="路边垃圾堆积",
        lat=point[0],
        lng=point[1],
        **kwargs,
    )
    incident.refresh_from_db()
    return incident


def actions(incident):
    return list(incident.events.values_list("action", flat=True))


def media_files(settings) -> list[str]:
    root = settings.MEDIA_ROOT
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]


# --- the loop ---------------------------------------------------------------------------------


def test_resident_report_runs_the_whole_loop_to_closed(city, run_on_commit):
    incident = report(city, run_on_commit, code="0101")  # 私搭乱建: department 城管执法
    assert incident.tracking_number.startswith("GG") and len(incident.tracking_number) == 10
    assert incident.state == S.VERIFYING
    assert incident.grid_cell == city.cell_a1_1 and incident.region_code == "350602001001"
    assert incident.verifier == city.worker
    assert incident.verify_due_at == incident.created_at + timedelta(hours=1)

    run_on_commit(services.incident_verify, incident_id=incident.pk, actor=city.worker)
    incident.refresh_from_db()
    assert incident.state == S.DISPATCHED
    assert incident.assignee == city.handler  # the only 城管执法 handler covering the place
    assert incident.handling_department == "城管执法"
    assert incident.resolve_due_at > incident.dispatched_at

    run_on_commit(services.incident_accept, incident_id=incident.pk, actor=city.handler)
    run_on_commit(
        services.incident_resolve,
        incident_id=incident.pk,
        actor=city.handler,
        result="已拆除",
        photos=[jpeg_upload()],
    )
    incident.refresh_from_db()
    assert incident.state == S.RESOLVED and incident.check_required
    assert incident.checker == city.worker and incident.due_at == incident.check_due_at

    run_on_commit(services.incident_check, incident_id=incident.pk, actor=city.worker)
    incident.refresh_from_db()
    assert incident.state == S.FEEDBACK_SENT
    assert incident.rate_due_at == incident.feedback_at + timedelta(days=7)
    feedback = Notification.objects.get(user=city.resident)
    assert f"?no={incident.tracking_number}" in feedback.url

    run_on_commit(services.incident_rate, actor=city.resident, incident_id=incident.pk, rating=5)
    incident.refresh_from_db()
    assert incident.state == S.CLOSED and incident.rating == 5
    assert actions(incident) == [
        "report",
        "start_verification",
        "verify",
        "dispatch",
        "accept",
        "resolve",
        "check",
        "send_feedback",
        "rate",
        "close",
    ]
    assert IncidentEvent.objects.filter(incident=incident, actor__isnull=True).count() == 4
    assert IncidentPhoto.objects.filter(incident=incident, event__action="resolve").count() == 1


def test_grid_workers_own_report_is_verified_at_once_and_routed(city, run_on_commit):
    incident = report(city, run_on_commit, actor="worker", code="0102")  # grid level
    assert incident.channel == "patrol"
    assert actions(incident) == ["report", "start_verification", "dispatch"]
    assert incident.state == S.DISPATCHED
    assert incident.assignee == city.worker  # the only worker of the cell
    assert incident.handling_level == "grid"


def test_grid_work_in_a_cell_with_several_workers_goes_to_the_pool(city, run_on_commit):
    from tests.builders import make_grid_worker

    other = make_grid_worker("worker_a1_bis", cells=[city.cell_a1_1])
    incident = report(city, run_on_commit, code="0102")
    run_on_commit(services.incident_verify, incident_id=incident.pk, actor=incident.verifier)
    incident.refresh_from_db()
    assert incident.state == S.DISPATCHED and incident.claimable and incident.assignee is None
    dispatched = incident.events.get(action="dispatch")
    told = Notification.objects.filter(dedupe_key=f"incident:{incident.pk}:e{dispatched.pk}")
    assert set(told.values_list("user", flat=True)) == {city.worker.pk, other.pk}

    services.incident_claim(incident_id=incident.pk, actor=other)
    with pytest.raises(ConflictError) as lost:
        services.incident_claim(incident_id=incident.pk, actor=city.worker)
    assert str(other) in lost.value.message
    incident.refresh_from_db()
    assert incident.state == S.ACCEPTED and incident.assignee == other


def test_verifier_is_the_least_busy_worker_of_the_cell(city, run_on_commit):
    from tests.builders import make_grid_worker

    busy = city.worker
    idle = make_grid_worker("idle", cells=[city.cell_a1_1])
    make_incident(city, state=S.VERIFYING, verifier=busy)
    incident = report(city, run_on_commit)
    assert incident.verifier == idle
    assert Notification.objects.filter(user=idle, dedupe_key__startswith="incident:").exists()


def test_a_place_in_no_cell_falls_to_the_community_dispatcher(city, run_on_commit):
    incident = report(city, run_on_commit, point=IN_B1_NO_CELL)
    assert incident.grid_cell is None and incident.region == city.b1
    assert incident.handling_level == "community"
    assert incident.verifier == city.dispatcher_b


def test_verify_can_correct_the_category(city, run_on_commit):
    incident = report(city, run_on_commit, code="0102")
    run_on_commit(
        services.incident_verify,
        incident_id=incident.pk,
        actor=city.worker,
        category_id=city.categories["0101"].pk,
    )
    incident.refresh_from_db()
    assert incident.category.code == "0101" and incident.assignee == city.handler
    assert incident.events.get(action="verify").data == {"category": ["0102", "0101"]}


def test_mark_invalid_tells_the_reporter(city, run_on_commit):
    incident = report(city, run_on_commit)
    services.incident_mark_invalid(incident_id=incident.pk, actor=city.worker, reason="重复上报")
    incident.refresh_from_db()
    assert incident.state == S.INVALID and incident.invalid_reason == "重复上报"
    assert incident.closed_at is not None and incident.due_at is None
    assert Notification.objects.filter(user=city.resident).exists()


def test_return_sends_it_back_to_the_dispatchers(city, run_on_commit):
    incident = report(city, run_on_commit, code="0101")
    run_on_commit(services.incident_verify, incident_id=incident.pk, actor=city.worker)
    with pytest.raises(ValidationFailed) as no_reason:
        services.incident_return(incident_id=incident.pk, actor=city.handler, reason=" ")
    assert "reason" in no_reason.value.extra
    run_on_commit(
        services.incident_return, incident_id=incident.pk, actor=city.handler, reason="不归我们管"
    )
    incident.refresh_from_db()
    assert incident.state == S.VERIFIED and incident.assignee is None
    assert incident.return_count == 1 and incident.handling_department == ""
    assert incident.task_enqueued_at is None  # a person dispatches it again
    returned = incident.events.get(action="return")
    assert Notification.objects.filter(
        user=city.dispatcher, dedupe_key=f"incident:{incident.pk}:e{returned.pk}"
    ).exists()
    from incidents.selectors import incidents_visible

    assert not incidents_visible(city.handler).filter(pk=incident.pk).exists()
    run_on_commit(
        services.incident_dispatch, incident_id=incident.pk, actor=city.dispatcher, level="street"
    )
    incident.refresh_from_db()
    assert incident.state == S.DISPATCHED and incident.handling_region == city.street_a


def test_dispatch_needs_exactly_one_target_in_the_incidents_area(city):
    incident = make_incident(city, state=S.VERIFIED)
    with pytest.raises(ValidationFailed) as none:
        services.incident_dispatch(incident_id=incident.pk, actor=city.dispatcher)
    assert "target" in none.value.extra
    with pytest.raises(ValidationFailed) as far:
        services.incident_dispatch(
            incident_id=incident.pk, actor=city.dispatcher, assignee_id=city.worker_b.pk
        )
    assert "assignee" in far.value.extra
    with pytest.raises(ValidationFailed) as wrong_region:
        services.incident_dispatch(
            incident_id=incident.pk,
            actor=city.dispatcher,
            level="street",
            region_id=city.street_b.pk,
        )
    assert "region" in wrong_region.value.extra
    assert Incident.objects.get(pk=incident.pk).state == S.VERIFIED
    services.incident_dispatch(incident_id=incident.pk, actor=city.dispatcher, to_pool=True)
    incident.refresh_from_db()
    assert incident.claimable and incident.state == S.DISPATCHED


def test_second_dispatcher_gets_a_conflict_naming_who_has_it(city):
    incident = make_incident(city, state=S.VERIFIED)
    services.incident_dispatch(
        incident_id=incident.pk, actor=city.dispatcher, assignee_id=city.worker.pk
    )
    with pytest.raises(ConflictError) as lost:
        services.incident_dispatch(
            incident_id=incident.pk, actor=city.admin, assignee_id=city.worker2.pk
        )
    assert str(city.worker) in lost.value.message


def test_reassign_keeps_the_resolve_deadline(city):
    incident = make_incident(city, state=S.ACCEPTED)
    due = incident.resolve_due_at
    services.incident_reassign(
        incident_id=incident.pk, actor=city.dispatcher, assignee_id=city.worker2.pk
    )
    incident.refresh_from_db()
    assert incident.state == S.DISPATCHED and incident.assignee == city.worker2
    assert incident.resolve_due_at == due


def test_escalate_moves_one_level_up_until_the_district(city):
    incident = make_incident(city, state=S.ACCEPTED)
    with pytest.raises(ValidationFailed):
        services.incident_escalate(incident_id=incident.pk, actor=city.dispatcher, reason="")
    steps = []
    for _ in range(3):
        services.incident_escalate(incident_id=incident.pk, actor=city.supervisor, reason="慢")
        incident.refresh_from_db()
        steps.append((incident.handling_level, incident.handling_region.code))
    assert steps == [
        ("community", "350602001001"),
        ("street", "350602001000"),
        ("district", "350602000000"),
    ]
    assert incident.state == S.DISPATCHED and incident.assignee is None
    assert incident.escalation_level == 3 and incident.escalate_at is None
    with pytest.raises(ConflictError):
        services.incident_escalate(incident_id=incident.pk, actor=city.supervisor, reason="慢")


def test_extension_request_then_approval_moves_the_deadline(city):
    incident = make_incident(city, state=S.ACCEPTED, escalate_at=timezone.now())
    until = incident.resolve_due_at + timedelta(days=3)
    with pytest.raises(ValidationFailed):
        services.incident_request_extension(
            incident_id=incident.pk, actor=city.worker, until=timezone.now(), reason="缺材料"
        )
    services.incident_request_extension(
        incident_id=incident.pk, actor=city.worker, until=until, reason="缺材料"
    )
    incident.refresh_from_db()
    assert incident.extension_requested and incident.escalate_at is None
    with pytest.raises(ConflictError):
        services.incident_request_extension(
            incident_id=incident.pk, actor=city.worker, until=until, reason="again"
        )
    with pytest.raises(PermissionDeniedError):
        services.incident_approve_extension(incident_id=incident.pk, actor=city.worker)
    services.incident_approve_extension(incident_id=incident.pk, actor=city.dispatcher)
    incident.refresh_from_db()
    assert incident.resolve_due_at == until == incident.due_at
    assert incident.extension_count == 1 and not incident.extension_requested
    assert incident.escalate_at == until
    granted = incident.events.get(action="approve_extension")
    assert Notification.objects.filter(
        user=city.worker, dedupe_key=f"incident:{incident.pk}:e{granted.pk}"
    ).exists()


def test_extension_rejected_keeps_the_deadline(city):
    incident = make_incident(city, state=S.ACCEPTED)
    due = incident.resolve_due_at
    services.incident_request_extension(
        incident_id=incident.pk, actor=city.worker, until=due + timedelta(days=1), reason="x"
    )
    services.incident_reject_extension(
        incident_id=incident.pk, actor=city.dispatcher, reason="不行"
    )
    incident.refresh_from_db()
    assert incident.resolve_due_at == due and not incident.extension_requested


def test_park_and_unpark(city):
    incident = make_incident(city, state=S.ACCEPTED, escalate_at=timezone.now())
    # 挂账 is for a case still unsolved past its handling deadline: move the clock past it.
    with time_machine.travel(incident.resolve_due_at + timedelta(minutes=1), tick=False):
        services.incident_park(incident_id=incident.pk, actor=city.dispatcher, reason="待资金")
        incident.refresh_from_db()
        assert incident.parked and incident.escalate_at is None and incident.warn_at is None
        with pytest.raises(ConflictError):
            services.incident_park(incident_id=incident.pk, actor=city.dispatcher, reason="again")
        new_due = timezone.now() + timedelta(days=10)
        services.incident_unpark(incident_id=incident.pk, actor=city.supervisor, resolve_by=new_due)
    incident.refresh_from_db()
    assert not incident.parked and incident.resolve_due_at == new_due == incident.escalate_at


def test_rework_goes_back_to_the_same_handler(city, run_on_commit):
    incident = make_incident(
        city,
        state=S.RESOLVED,
        assignee=city.handler,
        handling_level="department",
        handling_department="城管执法",
        checker=city.worker,
        check_required=True,
    )
    run_on_commit(
        services.incident_rework, incident_id=incident.pk, actor=city.worker, reason="没拆干净"
    )
    incident.refresh_from_db()
    assert incident.state == S.DISPATCHED and incident.assignee == city.handler
    assert incident.rework_count == 1
    assert incident.resolve_due_at > timezone.now()


def test_resolve_by_a_worker_of_the_cell_needs_no_check(city, run_on_commit):
    incident = make_incident(city, state=S.ACCEPTED)
    run_on_commit(
        services.incident_resolve, incident_id=incident.pk, actor=city.worker, result="清理了"
    )
    incident.refresh_from_db()
    assert incident.state == S.FEEDBACK_SENT and not incident.check_required
    with pytest.raises(ConflictError):
        services.incident_check(incident_id=incident.pk, actor=city.worker)


def test_low_rating_reopens_and_goes_back_to_the_handler(city, run_on_commit):
    incident = make_incident(
        city,
        state=S.FEEDBACK_SENT,
        assignee=city.handler,
        handling_level="department",
        handling_department="城管执法",
        handling_region=city.district,
    )
    run_on_commit(
        services.incident_rate,
        actor=city.resident,
        incident_id=incident.pk,
        rating=1,
        comment="没解决",
    )
    incident.refresh_from_db()
    assert incident.state == S.DISPATCHED and incident.reopen_count == 1
    assert incident.assignee == city.handler
    assert actions(incident) == ["rate", "reopen", "dispatch"]


def test_rating_validation_and_who_may_rate(city):
    incident = make_incident(city, state=S.FEEDBACK_SENT)
    with pytest.raises(ValidationFailed) as bad:
        services.incident_rate(actor=city.resident, incident_id=incident.pk, rating=6)
    assert "rating" in bad.value.extra
    with pytest.raises(NotFoundError):
        services.incident_rate(actor=city.resident2, incident_id=incident.pk, rating=5)
    with pytest.raises(PermissionDeniedError):
        services.incident_rate(actor=city.admin, incident_id=incident.pk, rating=5)


def test_anonymous_rating_with_tracking_number_and_access_code(city, run_on_commit):
    incident = make_incident(
        city,
        state=S.FEEDBACK_SENT,
        reporter=None,
        reporter_phone="13912345678",
        channel="hotline_12345",
    )
    with pytest.raises(NotFoundError):
        services.incident_rate(
            actor=None, rating=4, tracking_number=incident.tracking_number, access_code="5678"
        )
    run_on_commit(
        services.incident_rate,
        actor=None,
        rating=4,
        tracking_number=incident.tracking_number.lower(),
        access_code=incident.access_code.lower(),
    )
    incident.refresh_from_db()
    assert incident.state == S.CLOSED and incident.rating == 4


def test_hotline_call_has_no_user_reporter_and_gets_sms_feedback(city, run_on_commit):
    incident = report(
        city,
        run_on_commit,
        actor="dispatcher",
        channel="hotline_12345",
        reporter_name="王女士",
        reporter_phone="13912345678",
    )
    assert incident.reporter is None and incident.reporter_phone == "13912345678"
    assert incident.events.get(action="report").actor == city.dispatcher
    incident.refresh_from_db()
    run_on_commit(services.incident_verify, incident_id=incident.pk, actor=city.worker)
    run_on_commit(services.incident_accept, incident_id=incident.pk, actor=city.worker)
    run_on_commit(
        services.incident_resolve, incident_id=incident.pk, actor=city.worker, result="已清运"
    )
    incident.refresh_from_db()
    assert incident.state == S.FEEDBACK_SENT
    sms = SmsMessage.objects.get(dedupe_key=f"incident:{incident.pk}:feedback:0")
    assert sms.phone == "13912345678" and incident.tracking_number in sms.text


def test_external_id_never_files_twice(city, run_on_commit):
    # The same caller (here a partner's intake: no user) sending the same ticket twice.
    first = report(
        city,
        run_on_commit,
        actor=None,
        channel="hotline_12345",
        reporter_phone="13912345678",
        external_id="P:12345-001",
    )
    again = report(
        city,
        run_on_commit,
        actor=None,
        channel="hotline_12345",
        reporter_phone="13912345678",
        external_id="P:12345-001",
    )
    assert first.pk == again.pk and Incident.objects.count() == 1


def test_patrol_report_is_closed_after_feedback(city, run_on_commit):
    incident = report(city, run_on_commit, actor="worker")
    run_on_commit(services.incident_accept, incident_id=incident.pk, actor=city.worker)
    run_on_commit(
        services.incident_resolve, incident_id=incident.pk, actor=city.worker, result="ok"
    )
    incident.refresh_from_db()
    assert incident.state == S.CLOSED
    assert actions(incident)[-2:] == ["send_feedback", "close"]


# --- 随手办 -----------------------------------------------------------------------------------


def test_fix_on_spot_records_verified_and_resolved_with_evidence(city, run_on_commit, settings):
    with pytest.raises(ValidationFailed) as no_photo:
        services.incident_fix_on_spot(
            actor=city.worker,
            category=city.categories["0201"],
            description="小广告",
            result="已清除",
            photos=[],
            lat=IN_A1_1[0],
            lng=IN_A1_1[1],
        )
    assert "photos" in no_photo.value.extra
    incident = run_on_commit(
        services.incident_fix_on_spot,
        actor=city.worker,
        category=city.categories["0201"],
        description="小广告",
        result="已清除",
        photos=[jpeg_upload()],
        lat=IN_A1_1[0],
        lng=IN_A1_1[1],
    )
    incident.refresh_from_db()
    assert incident.state == S.CLOSED
    assert actions(incident) == ["report", "fix_on_spot", "send_feedback", "close"]
    assert incident.verifier == incident.assignee == city.worker
    assert incident.events.get(action="fix_on_spot").photos.count() == 1


def test_fix_on_spot_outside_the_workers_grid_is_refused(city):
    with pytest.raises(ValidationFailed) as far:
        services.incident_fix_on_spot(
            actor=city.worker,
            category=city.categories["0201"],
            description="小广告",
            result="已清除",
            photos=[jpeg_upload()],
            lat=IN_B1_1[0],
            lng=IN_B1_1[1],
        )
    assert "location" in far.value.extra
    with pytest.raises(PermissionDeniedError):
        services.incident_fix_on_spot(
            actor=city.resident,
            category=city.categories["0201"],
            description="x",
            result="y",
            photos=[jpeg_upload()],
            lat=IN_A1_1[0],
            lng=IN_A1_1[1],
        )
    assert Incident.objects.count() == 0


def test_fix_on_spot_of_a_residents_report_during_verification(city, run_on_commit):
    incident = report(city, run_on_commit)
    run_on_commit(
        services.incident_fix_on_spot,
        incident_id=incident.pk,
        actor=city.worker,
        result="顺手清理了",
        photos=[jpeg_upload()],
    )
    incident.refresh_from_db()
    assert incident.state == S.FEEDBACK_SENT  # the resident rates it
    assert incident.verified_at and incident.resolved_at and not incident.check_required


# --- mediation hooks --------------------------------------------------------------------------


def test_mediation_agreement_closes_the_incident(city):
    incident = make_incident(city, state=S.VERIFIED, category="1001")
    services.incident_mediation_referred(
        incident_id=incident.pk, actor=city.dispatcher, case_id=7, room_name="评理说事点"
    )
    services.incident_mediation_referred(  # the same case again: nothing new
        incident_id=incident.pk, actor=city.dispatcher, case_id=7, room_name="评理说事点"
    )
    incident.refresh_from_db()
    assert incident.state == S.MEDIATING and incident.due_at is None
    with pytest.raises(ConflictError):
        services.incident_mediation_concluded(
            incident_id=incident.pk, case_id=8, agreement_reached=True
        )
    services.incident_mediation_concluded(
        incident_id=incident.pk, case_id=7, agreement_reached=True, note="双方达成协议"
    )
    services.incident_mediation_concluded(
        incident_id=incident.pk, case_id=7, agreement_reached=True, note="双方达成协议"
    )
    incident.refresh_from_db()
    assert incident.state == S.CLOSED and incident.result == "双方达成协议"
    assert actions(incident) == ["refer_to_mediation", "mediation_concluded"]


def test_failed_mediation_goes_back_to_the_handling_unit(city):
    incident = make_incident(
        city, state=S.ACCEPTED, category="1001", assignee=city.worker, handling_level="grid"
    )
    services.incident_mediation_referred(
        incident_id=incident.pk, actor=city.worker, case_id=3, room_name="调解室"
    )
    services.incident_mediation_concluded(
        incident_id=incident.pk, case_id=3, agreement_reached=False, note="调解不成"
    )
    incident.refresh_from_db()
    assert incident.state == S.DISPATCHED and incident.assignee == city.worker
    assert incident.resolve_due_at > timezone.now()


def test_mediation_referral_needs_someone_working_the_incident(city):
    incident = make_incident(city, state=S.VERIFIED, category="1001")
    with pytest.raises(NotFoundError):
        services.incident_mediation_referred(
            incident_id=incident.pk, actor=city.dispatcher_b, case_id=1, room_name="x"
        )
    with pytest.raises(PermissionDeniedError):
        services.incident_mediation_referred(
            incident_id=incident.pk, actor=city.resident, case_id=1, room_name="x"
        )


# --- scope and permission ---------------------------------------------------------------------


def test_nobody_moves_an_incident_outside_their_scope(city):
    incident = make_incident(city, state=S.VERIFYING)
    for outsider in (city.dispatcher_b, city.worker_b, city.resident2, city.worker2):
        with pytest.raises(NotFoundError):
            services.incident_verify(incident_id=incident.pk, actor=outsider)
    with pytest.raises(PermissionDeniedError):
        services.incident_verify(incident_id=incident.pk, actor=city.resident)  # sees, may not
    assert Incident.objects.get(pk=incident.pk).state == S.VERIFYING
    assert not IncidentEvent.objects.exists()


def test_unit_members_accept_unit_work_and_others_may_not(city):
    incident = make_incident(
        city,
        state=S.DISPATCHED,
        assignee=None,
        handling_level="street",
        handling_region=city.street_a,
    )
    with pytest.raises(PermissionDeniedError):
        services.incident_accept(incident_id=incident.pk, actor=city.worker)
    services.incident_accept(incident_id=incident.pk, actor=city.dispatcher)
    incident.refresh_from_db()
    assert incident.assignee == city.dispatcher


# --- illegal moves ----------------------------------------------------------------------------


def _calls(city):
    """action -> (actor, call(incident, actor)) with otherwise valid input."""
    later = timezone.now() + timedelta(days=30)
    return {
        "assign_verifier": (
            "admin",
            lambda i, a: services.incident_assign_verifier(
                incident_id=i.pk, actor=a, verifier_id=city.worker.pk
            ),
        ),
        "verify": ("admin", lambda i, a: services.incident_verify(incident_id=i.pk, actor=a)),
        "mark_invalid": (
            "admin",
            lambda i, a: services.incident_mark_invalid(incident_id=i.pk, actor=a, reason="r"),
        ),
        "dispatch": (
            "admin",
            lambda i, a: services.incident_dispatch(incident_id=i.pk, actor=a, to_pool=True),
        ),
        "claim": ("worker", lambda i, a: services.incident_claim(incident_id=i.pk, actor=a)),
        "accept": ("admin", lambda i, a: services.incident_accept(incident_id=i.pk, actor=a)),
        "return": (
            "admin",
            lambda i, a: services.incident_return(incident_id=i.pk, actor=a, reason="r"),
        ),
        "reassign": (
            "admin",
            lambda i, a: services.incident_reassign(incident_id=i.pk, actor=a, to_pool=True),
        ),
        "escalate": (
            "admin",
            lambda i, a: services.incident_escalate(incident_id=i.pk, actor=a, reason="r"),
        ),
        "request_extension": (
            "admin",
            lambda i, a: services.incident_request_extension(
                incident_id=i.pk, actor=a, until=later, reason="r"
            ),
        ),
        "approve_extension": (
            "admin",
            lambda i, a: services.incident_approve_extension(incident_id=i.pk, actor=a),
        ),
        "reject_extension": (
            "admin",
            lambda i, a: services.incident_reject_extension(incident_id=i.pk, actor=a, reason="r"),
        ),
        "park": (
            "admin",
            lambda i, a: services.incident_park(incident_id=i.pk, actor=a, reason="r"),
        ),
        "unpark": ("admin", lambda i, a: services.incident_unpark(incident_id=i.pk, actor=a)),
        "resolve": (
            "admin",
            lambda i, a: services.incident_resolve(incident_id=i.pk, actor=a, result="r"),
        ),
        "check": ("admin", lambda i, a: services.incident_check(incident_id=i.pk, actor=a)),
        "rework": (
            "admin",
            lambda i, a: services.incident_rework(incident_id=i.pk, actor=a, reason="r"),
        ),
        "send_feedback": (
            "admin",
            lambda i, a: services.incident_send_feedback(incident_id=i.pk, actor=a),
        ),
        "rate": (
            "resident",
            lambda i, a: services.incident_rate(actor=a, incident_id=i.pk, rating=5),
        ),
        "reopen": ("admin", lambda i, a: services.incident_reopen(incident_id=i.pk, actor=a)),
        "close": ("admin", lambda i, a: services.incident_close(incident_id=i.pk, actor=a)),
        "fix_on_spot": (
            "worker",
            lambda i, a: services.incident_fix_on_spot(
                incident_id=i.pk, actor=a, result="r", photos=[jpeg_upload()]
            ),
        ),
        "refer_to_mediation": (
            "admin",
            lambda i, a: services.incident_mediation_referred(
                incident_id=i.pk, actor=a, case_id=98, room_name="r"
            ),
        ),
        "mediation_concluded": (
            None,
            lambda i, a: services.incident_mediation_concluded(
                incident_id=i.pk, case_id=99, agreement_reached=True
            ),
        ),
    }


def _illegal_pairs():
    from incidents.models import ACTIONS

    system_only = {"start_verification"}
    return [
        (action, state)
        for action, moves in ACTIONS.items()
        if action not in system_only
        for state in IncidentState.values
        if state not in moves
    ]


@pytest.mark.parametrize(("action", "state"), _illegal_pairs())
def test_every_illegal_move_is_refused(city, action, state):
    incident = make_incident(
        city,
        state=state,
        mediation_case_id=99,
        extension_requested=True,
        parked=True,
        extension_requested_until=timezone.now() + timedelta(days=40),
    )
    actor_name, call = _calls(city)[action]
    actor = getattr(city, actor_name) if actor_name else None
    events = IncidentEvent.objects.count()
    with pytest.raises(ConflictError):
        call(incident, actor)
    assert Incident.objects.get(pk=incident.pk).state == state
    assert IncidentEvent.objects.count() == events


def test_every_action_of_the_graph_has_a_call():
    from incidents.models import ACTIONS

    assert set(ACTIONS) - {"start_verification"} == set(_calls(None))


@pytest.mark.parametrize("state", [s for s in IncidentState.values if s != S.REPORTED])
def test_start_verification_leaves_a_moved_incident_alone(city, state):
    incident = make_incident(city, state=state)
    services.incident_start_verification(incident_id=incident.pk)
    assert Incident.objects.get(pk=incident.pk).state == state
    assert not IncidentEvent.objects.exists()


# --- bad input writes nothing -----------------------------------------------------------------


def _bad_reports(city):
    huge = SimpleUploadedFile("big.jpg", b"\xff\xd8" + b"0" * 64, content_type="image/jpeg")
    huge.size = 50 * 1024 * 1024
    fake = SimpleUploadedFile("photo.jpg", b"this is text, not a photo", content_type="image/jpeg")
    return {
        "missing location": ({"lat": None, "lng": None}, "location"),
        "outside the city": ({"lat": OUTSIDE[0], "lng": OUTSIDE[1]}, "location"),
        "unknown category": ({"category": None}, "category"),
        "huge photo": ({"photos": [huge]}, "photos"),
        "fake photo": ({"photos": [jpeg_upload(), fake]}, "photos"),
        "empty description": ({"description": "  "}, "description"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing location",
        "outside the city",
        "unknown category",
        "huge photo",
        "fake photo",
        "empty description",
    ],
)
def test_bad_report_raises_field_errors_and_writes_nothing(city, settings, case):
    overrides, field = _bad_reports(city)[case]
    arguments = {
        "actor": city.resident,
        "category": city.categories["0102"],
        "description": "垃圾",
        "channel": "resident_web",
        "lat": IN_A1_1[0],
        "lng": IN_A1_1[1],
        "photos": [jpeg_upload()],
        **overrides,
    }
    with pytest.raises(ValidationFailed) as error:
        services.incident_report(**arguments)
    assert field in error.value.extra
    assert Incident.objects.count() == 0 and IncidentEvent.objects.count() == 0
    assert IncidentPhoto.objects.count() == 0 and media_files(settings) == []


def test_a_failure_inside_the_transaction_removes_stored_photos(city, settings, monkeypatch):
    def broken(incident_id, task_name):
        raise RuntimeError("broker down")

    monkeypatch.setattr("incidents.services.report._enqueue_on_commit", broken)
    with pytest.raises(RuntimeError):
        services.incident_report(
            actor=city.resident,
            category=city.categories["0102"],
            description="垃圾",
            channel="resident_web",
            lat=IN_A1_1[0],
            lng=IN_A1_1[1],
            photos=[jpeg_upload(), jpeg_upload()],
        )
    assert Incident.objects.count() == 0 and media_files(settings) == []


def test_photo_location_is_used_only_when_the_reporter_agrees(city, run_on_commit):
    with_gps = jpeg_upload(exif=gps_exif(*IN_A1_2))
    with pytest.raises(ValidationFailed):
        services.incident_report(
            actor=city.resident,
            category=city.categories["0102"],
            description="垃圾",
            channel="resident_web",
            photos=[with_gps],
        )
    with_gps.seek(0)
    incident = report(
        city, run_on_commit, point=(None, None), photos=[with_gps], use_photo_location=True
    )
    assert incident.grid_cell == city.cell_a1_2
    assert abs(incident.lat - IN_A1_2[0]) < 1e-4 and abs(incident.lng - IN_A1_2[1]) < 1e-4


def test_residents_may_not_report_from_patrol(city):
    with pytest.raises(ValidationFailed) as error:
        services.incident_report(
            actor=city.resident,
            category=city.categories["0102"],
            description="垃圾",
            channel="patrol",
            lat=IN_A1_1[0],
            lng=IN_A1_1[1],
        )
    assert "channel" in error.value.extra


def test_tracking_numbers_are_unambiguous_and_random():
    numbers = {services.tracking_number_new() for _ in range(2000)}
    assert len(numbers) == 2000
    for number in numbers:
        assert len(number) == 10 and number.startswith("GG")
        assert not set(number[2:]) & set("01OIL")


def test_a_tracking_number_collision_draws_again(city, monkeypatch):
    taken = make_incident(city, state=S.CLOSED)
    draws = iter([taken.tracking_number, "GGABCDEFGH"])
    monkeypatch.setattr("incidents.services.report.tracking_number_new", lambda: next(draws))
    incident = services.incident_report(
        actor=city.resident,
        category=city.categories["0102"],
        description="垃圾",
        channel="resident_web",
        lat=IN_A1_1[0],
        lng=IN_A1_1[1],
    )
    assert incident.tracking_number == "GGABCDEFGH"


def test_a_petition_referral_is_filed_for_the_petitioner(city, run_on_commit):
    from tests.builders import make_user

    officer = make_user("petition", roles=["petition_officer"], region=city.district)
    incident = report(
        city,
        run_on_commit,
        actor=officer,
        channel="petition",
        reporter_name="李先生",
        reporter_phone="13912340000",
    )
    assert incident.reporter is None and incident.reporter_name == "李先生"
    assert incident.events.get(action="report").actor == officer
    assert services.incident_can_be_rated(incident)


def test_work_sent_to_a_unit_with_nobody_in_it_tells_the_dispatchers(city):
    from core.models import Notification

    incident = make_incident(city, state=S.VERIFIED)
    services.incident_dispatch(
        incident_id=incident.pk, actor=city.admin, level="department", department="市场监管"
    )
    incident.refresh_from_db()
    assert incident.state == S.DISPATCHED and incident.handling_department == "市场监管"
    told = Notification.objects.filter(dedupe_key__startswith=f"incident:{incident.pk}:e")
    assert list(told.values_list("user_id", flat=True)) == [city.dispatcher.pk]
    assert incident.tracking_number in told.get().title


def test_work_sent_to_a_unit_with_members_tells_only_them(city):
    from core.models import Notification

    incident = make_incident(city, state=S.VERIFIED)
    services.incident_dispatch(
        incident_id=incident.pk, actor=city.admin, level="department", department="城管执法"
    )
    told = Notification.objects.filter(dedupe_key__startswith=f"incident:{incident.pk}:e")
    assert list(told.values_list("user_id", flat=True)) == [city.handler.pk]
