"""The deadline sweep: warnings before, overdue flags after, closing, idempotence."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from core.models import Notification
from petitions import services, tasks
from petitions.models import BacklogReason, PetitionEvent, PetitionState
from petitions.tests import factories as f

pytestmark = pytest.mark.django_db
S = PetitionState
TZ = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


def test_warns_officers_in_scope_before_the_deadline_once(region_tree, district_officer):
    outsider = f.officer("outsider", region=region_tree["street_b"])
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):  # due 17 Mar
        petition = f.file_letter(district_officer, region=region_tree["a1"])
    with time_machine.travel(at(2026, 3, 10, 9), tick=False):
        assert tasks.sweep_deadlines() == {"warned": 0, "overdue": 0, "closed": 0}
    with time_machine.travel(at(2026, 3, 15, 9), tick=False):
        assert tasks.sweep_deadlines()["warned"] == 1
        assert tasks.sweep_deadlines()["warned"] == 0  # twice is harmless
    warnings = Notification.objects.filter(dedupe_key__contains="-warn-")
    assert list(warnings.values_list("user", flat=True)) == [district_officer.pk]
    assert not Notification.objects.filter(user=outsider).exists()
    petition.refresh_from_db()
    assert petition.warned_for == petition.due_at and not petition.overdue


def test_flags_overdue_joins_backlog_and_lists_it(region_tree, district_officer):
    from petitions import selectors

    head = f.supervisor(region=region_tree["district"])
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        petition = f.file_letter(district_officer, region=region_tree["a1"])
    with time_machine.travel(at(2026, 3, 18, 0, 5), tick=False):
        assert tasks.sweep_deadlines()["overdue"] == 1
        assert tasks.sweep_deadlines()["overdue"] == 0
        assert list(selectors.petitions_overdue(user=district_officer)) == [petition]
    petition.refresh_from_db()
    assert petition.overdue and petition.ever_overdue
    assert petition.backlog and petition.backlog_reason == BacklogReason.OVERDUE
    assert PetitionEvent.objects.filter(petition=petition, action="overdue").count() == 1
    assert Notification.objects.filter(user=head, dedupe_key__contains="-overdue-").count() == 1
    # Acting late clears the current flag but the record stays.
    with time_machine.travel(at(2026, 3, 19, 9), tick=False):
        petition = services.petition_accept(actor=district_officer, petition_id=petition.pk)
    assert not petition.overdue and petition.ever_overdue and petition.told_on_time is False
    assert petition.backlog


def test_closes_after_the_review_window_and_resolves_backlog(region_tree, district_officer):
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        petition = f.file_letter(district_officer, region=region_tree["a1"])
        services.petition_accept(actor=district_officer, petition_id=petition.pk)
    with time_machine.travel(at(2026, 5, 2, 9), tick=False):  # reply due 1 May: overdue
        tasks.sweep_deadlines()
        services.petition_reply(
            actor=district_officer, petition_id=petition.pk, opinion=f.opinion()
        )
    with time_machine.travel(at(2026, 6, 1, 9), tick=False):  # window until 1 Jun 23:59
        assert tasks.sweep_deadlines()["closed"] == 0
    with time_machine.travel(at(2026, 6, 2, 9), tick=False):
        assert tasks.sweep_deadlines()["closed"] == 1
        assert tasks.sweep_deadlines()["closed"] == 0
    petition.refresh_from_db()
    assert petition.state == S.CLOSED
    assert petition.backlog_resolved_at is not None
    assert petition.replied_on_time is False
    closed = petition.events.get(action="closed")
    assert closed.actor is None  # the system


def test_reexamined_petitions_are_closed_by_the_sweep(
    region_tree, district_officer, street_a_officer, city_officer
):
    petition = f.file_letter(district_officer, region=region_tree["a1"])
    pk = petition.pk
    services.petition_accept(actor=street_a_officer, petition_id=pk)
    services.petition_reply(actor=street_a_officer, petition_id=pk, opinion=f.opinion())
    services.petition_review_request(actor=district_officer, petition_id=pk, reason="不服")
    services.petition_review(actor=district_officer, petition_id=pk, opinion=f.opinion())
    services.petition_reexam_request(actor=district_officer, petition_id=pk, reason="不服")
    services.petition_reexamine(actor=city_officer, petition_id=pk, opinion=f.opinion())
    assert tasks.sweep_deadlines()["closed"] == 1
    petition.refresh_from_db()
    assert petition.state == S.CLOSED
