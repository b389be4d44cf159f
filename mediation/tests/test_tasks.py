from datetime import date, timedelta

import time_machine

from core.models import Notification, SmsMessage
from mediation import services
from mediation.models import MediationCase, MediationPolicy
from mediation.tasks import sweep_deadlines
from mediation.tests.builders import at, dispute_incident, parties, sign_all, walk_in


def sweep() -> dict[str, int]:
    return sweep_deadlines.delay().get()


def test_settle_deadline_warning_then_overdue_once_each(world):
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        case = walk_in(world)
        case = services.case_accept(actor=world.mediator, case_id=case.pk)
    # Due 2026-04-01 (30 days); warned 5 days before.
    with time_machine.travel(at(2026, 3, 20, 9), tick=False):
        assert sweep()["settle"] == 0
    with time_machine.travel(at(2026, 3, 28, 10), tick=False):
        assert sweep()["settle"] == 1
        assert sweep()["settle"] == 0  # idempotent
    warnings = Notification.objects.filter(user=world.mediator, dedupe_key__contains="settle")
    assert warnings.count() == 1
    with time_machine.travel(at(2026, 4, 2, 9), tick=False):
        result = sweep()
        assert (result["overdue"], result["settle"]) == (1, 0)
        assert sweep()["overdue"] == 0
    assert list(case.events.filter(actor=None).values_list("action", flat=True)) == [
        "settle_reminder",
        "overdue",
    ]
    # With the parties' consent the deadline moves and the reminders start again.
    with time_machine.travel(at(2026, 4, 2, 10), tick=False):
        case = services.case_extend(
            actor=world.mediator, case_id=case.pk, days=15, parties_consent=True, note="同意"
        )
        assert sweep()["overdue"] == 0
    assert case.due_at.date() >= date(2026, 4, 16)
    with time_machine.travel(case.due_at - timedelta(days=2), tick=False):
        assert sweep()["settle"] == 1


def test_judicial_confirmation_reminder_goes_to_the_parties_before_the_window_closes(world):
    resident_case = services.case_apply_online(
        actor=world.resident,
        room_id=world.rooms["village_a1"].pk,
        category_code="1001",
        facts="噪音",
        parties=parties(),
    )
    with time_machine.travel(at(2026, 5, 6, 9), tick=False):
        services.case_accept(actor=world.mediator, case_id=resident_case.pk)
        session = services.session_schedule(
            actor=world.mediator, case_id=resident_case.pk, starts_at=at(2026, 5, 6, 10)
        )
        services.session_start(actor=world.mediator, session_id=session.pk)
        services.agreement_record(
            actor=world.mediator,
            case_id=resident_case.pk,
            form="written",
            facts="f",
            disputed_matters="d",
            terms="t",
            performance_method="p",
            performance_deadline=date(2026, 6, 30),
        )
        sign_all(world, resident_case)
    resident_case.refresh_from_db()
    assert resident_case.confirmation_due_at.date() == date(2026, 6, 5)
    with time_machine.travel(at(2026, 5, 25, 9), tick=False):
        assert sweep()["confirmation"] == 0
    with time_machine.travel(at(2026, 5, 30, 9), tick=False):
        assert sweep()["confirmation"] == 1
        assert sweep()["confirmation"] == 0
    key = f"mediation:{resident_case.pk}:confirmation-reminder"
    assert Notification.objects.filter(user=world.resident, dedupe_key=key).exists()
    assert SmsMessage.objects.filter(dedupe_key__startswith=key).count() == 2  # both parties
    # After the window: nothing more.
    with time_machine.travel(at(2026, 6, 8, 9), tick=False):
        assert sweep()["confirmation"] == 0


def test_no_confirmation_reminder_once_requested(world):
    with time_machine.travel(at(2026, 5, 6, 9), tick=False):
        case = walk_in(world)
        services.case_accept(actor=world.mediator, case_id=case.pk)
        session = services.session_schedule(
            actor=world.mediator, case_id=case.pk, starts_at=at(2026, 5, 6, 10)
        )
        services.session_start(actor=world.mediator, session_id=session.pk)
        services.agreement_record(
            actor=world.mediator,
            case_id=case.pk,
            form="written",
            facts="f",
            disputed_matters="d",
            terms="t",
            performance_method="p",
        )
        sign_all(world, case)
        services.case_request_confirmation(actor=world.mediator, case_id=case.pk, court="法院")
    with time_machine.travel(at(2026, 5, 30, 9), tick=False):
        assert sweep()["confirmation"] == 0


def test_follow_up_reminder_after_the_performance_deadline(world):
    policy = MediationPolicy.objects.create(follow_up_days=3)
    with time_machine.travel(at(2026, 5, 6, 9), tick=False):
        case = walk_in(world)
        services.case_accept(actor=world.mediator, case_id=case.pk)
        session = services.session_schedule(
            actor=world.mediator, case_id=case.pk, starts_at=at(2026, 5, 6, 10)
        )
        services.session_start(actor=world.mediator, session_id=session.pk)
        services.agreement_record(
            actor=world.mediator,
            case_id=case.pk,
            form="oral",
            facts="f",
            disputed_matters="d",
            terms="t",
            performance_method="p",
            performance_deadline=date(2026, 5, 20),
        )
    case.refresh_from_db()
    assert case.follow_up_due_at.date() == date(2026, 5, 20) + timedelta(days=policy.follow_up_days)
    with time_machine.travel(at(2026, 5, 21, 9), tick=False):
        assert sweep()["follow_up"] == 0
    with time_machine.travel(at(2026, 5, 22, 18), tick=False):
        assert sweep()["follow_up"] == 1
        assert sweep()["follow_up"] == 0
    assert Notification.objects.filter(
        user=world.mediator, dedupe_key=f"mediation:{case.pk}:follow-up-reminder"
    ).exists()


def test_a_lost_outcome_report_is_redriven(world):
    incident = dispute_incident(world)
    case = services.case_create_from_incident(
        actor=world.handler,
        incident_id=incident.pk,
        room_id=world.rooms["village_a1"].pk,
        parties=parties(),
        facts="x",
    )
    services.case_accept(actor=world.mediator, case_id=case.pk)
    # Inside the test transaction the on-commit task never runs: as if the message were lost.
    services.case_fail(actor=world.mediator, case_id=case.pk, reason="分歧")
    incident.refresh_from_db()
    assert incident.state == "mediating"
    assert sweep()["redriven"] == 0  # too early: the task may still be on its way
    case.refresh_from_db()
    with time_machine.travel(case.concluded_at + timedelta(minutes=11), tick=False):
        assert sweep()["redriven"] == 1
        assert sweep()["redriven"] == 0
    incident.refresh_from_db()
    assert incident.state == "dispatched"
    assert MediationCase.objects.get(pk=case.pk).incident_notified_at is not None
