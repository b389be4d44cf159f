"""The sweeps with time travel: follow-up deadlines per colour, and the monthly reports
(零报告) with the communities that have not reported flagged."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from core.exceptions import ConflictError, ValidationFailed
from core.models import Notification
from screening import services, tasks
from screening.models import Dispute, ScreeningReport
from screening.tests.test_services import register

pytestmark = pytest.mark.django_db
TZ = timezone.get_fixed_timezone(8 * 60)
START = datetime(2026, 3, 10, 9, 0, tzinfo=TZ)


@pytest.mark.parametrize(("factors", "days"), [(["weapon"], 1), (["group"], 3), ([], 15)])
def test_follow_up_deadline_by_colour(world, factors, days):
    with time_machine.travel(START, tick=False):
        dispute = register(world, factor_codes=factors)
    assert dispute.follow_up_due_at == START + timedelta(days=days)
    with time_machine.travel(START + timedelta(days=days, minutes=-1), tick=False):
        assert tasks.sweep_deadlines() == {"overdue": 0}
    with time_machine.travel(START + timedelta(days=days, minutes=1), tick=False):
        assert tasks.sweep_deadlines() == {"overdue": 1}
        assert tasks.sweep_deadlines() == {"overdue": 0}  # idempotent
    dispute.refresh_from_db()
    assert dispute.overdue
    assert dispute.events.filter(action="overdue").count() == 1
    told = Notification.objects.filter(dedupe_key__startswith=f"screening:{dispute.pk}:overdue")
    assert {n.user_id for n in told} >= {world.worker.pk, world.dispatcher.pk}


def test_a_late_follow_up_is_not_on_time_and_clears_the_flag(world):
    with time_machine.travel(START, tick=False):
        dispute = register(world, factor_codes=["weapon"])
        services.dispute_assess(
            actor=world.worker, dispute_id=dispute.pk, factor_codes=["weapon"], note="红"
        )
        services.dispute_route(actor=world.worker, dispute_id=dispute.pk, target="police")
    with time_machine.travel(START + timedelta(hours=12), tick=False):
        services.dispute_follow_up(actor=world.police, dispute_id=dispute.pk, note="已约谈")
    with time_machine.travel(START + timedelta(days=3), tick=False):
        tasks.sweep_deadlines()
        services.dispute_follow_up(actor=world.worker, dispute_id=dispute.pk, note="迟到")
    dispute.refresh_from_db()
    assert (dispute.follow_ups, dispute.follow_ups_on_time) == (2, 1)
    assert not dispute.overdue
    assert dispute.follow_up_due_at == START + timedelta(days=4)


def test_closed_disputes_are_not_flagged(world):
    with time_machine.travel(START, tick=False):
        dispute = register(world, factor_codes=["weapon"])
        services.dispute_mediate_on_spot(actor=world.worker, dispute_id=dispute.pk, note="x")
        services.dispute_close(
            actor=world.worker, dispute_id=dispute.pk, outcome="resolved", note="当场化解"
        )
    with time_machine.travel(START + timedelta(days=30), tick=False):
        assert tasks.sweep_deadlines() == {"overdue": 0}


def test_monthly_reports_zero_reports_and_the_sweep(world):
    # March: A1 logs a dispute; A2 sends a zero report; B1 says nothing.
    with time_machine.travel(START, tick=False):
        register(world)
    with time_machine.travel(datetime(2026, 4, 2, 10, 0, tzinfo=TZ), tick=False):
        with pytest.raises(ValidationFailed):  # A1 logged one: not a zero report
            services.report_submit(
                actor=world.worker, region_id=world.a1.pk, month=START.date(), zero_report=True
            )
        report = services.report_submit(
            actor=world.worker, region_id=world.a1.pk, month=START.date(), zero_report=False
        )
        assert (report.state, report.disputes_found) == ("reported", 1)
        zero = services.report_submit(
            actor=world.dispatcher, region_id=world.a2.pk, month=START.date(), zero_report=True
        )
        assert zero.zero_report and zero.state == "reported"
        with pytest.raises(ConflictError):
            services.report_submit(
                actor=world.dispatcher, region_id=world.a2.pk, month=START.date(), zero_report=True
            )
        with pytest.raises(ValidationFailed):  # nothing logged in B1: it must be a zero report
            services.report_submit(
                actor=world.worker_b, region_id=world.b1.pk, month=START.date(), zero_report=False
            )
        assert tasks.sweep_reports() == {"flagged": 0}  # not yet the due day (the 5th)
    with time_machine.travel(datetime(2026, 4, 5, 1, 0, tzinfo=TZ), tick=False):
        assert tasks.sweep_reports() == {"flagged": 1}
        assert tasks.sweep_reports() == {"flagged": 0}
    missing = ScreeningReport.objects.get(region=world.b1)
    assert missing.state == "missing" and missing.month.isoformat() == "2026-03-01"
    told = Notification.objects.filter(dedupe_key__contains=f"report:{world.b1.pk}:2026-03")
    assert {n.user_id for n in told} >= {world.worker_b.pk, world.dispatcher_b.pk}
    with time_machine.travel(datetime(2026, 4, 8, 10, 0, tzinfo=TZ), tick=False):
        late = services.report_submit(
            actor=world.worker_b, region_id=world.b1.pk, month=START.date(), zero_report=True
        )
    assert late.state == "late" and late.pk == missing.pk
    # April has not ended: a future month may not be reported; May's sweep flags April's.
    with (
        time_machine.travel(datetime(2026, 4, 8, 10, 0, tzinfo=TZ), tick=False),
        pytest.raises(ValidationFailed),
    ):
        services.report_submit(
            actor=world.worker_b,
            region_id=world.b1.pk,
            month=datetime(2026, 5, 1).date(),
            zero_report=True,
        )
    with time_machine.travel(datetime(2026, 5, 6, 10, 0, tzinfo=TZ), tick=False):
        assert tasks.sweep_reports() == {"flagged": 3}
    assert Dispute.objects.count() == 1


def test_a_worker_reports_only_for_their_community(world):
    from core.exceptions import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        services.report_submit(
            actor=world.worker_b, region_id=world.a1.pk, month=START.date(), zero_report=True
        )
