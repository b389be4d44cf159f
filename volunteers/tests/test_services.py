from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from core.exceptions import ConflictError, PermissionDeniedError, ValidationFailed
from incidents.models import Category, Incident, PatrolLog
from volunteers import selectors, services
from volunteers.models import (
    Claim,
    ClaimState,
    PatrolTask,
    PointEntry,
    ServiceRecord,
    TeamKind,
    VolunteerState,
)
from volunteers.tests import factories as f

pytestmark = pytest.mark.django_db


def test_apply_needs_a_verified_resident(world):
    user = f.resident("unverified", world["a1"])
    user.phone_verified_at = None
    user.save()
    with pytest.raises(PermissionDeniedError):
        services.volunteer_apply(actor=user, community_id=world["a1"].pk, real_name="张三")


def test_apply_decline_reapply_approve(world):
    user = f.resident("applicant", world["a1"])
    volunteer = services.volunteer_apply(
        actor=user, community_id=world["a1"].pk, real_name="张三", availability="周末"
    )
    assert volunteer.state == VolunteerState.APPLIED
    with pytest.raises(ValidationFailed):
        services.volunteer_decline(actor=world["organiser"], volunteer_id=volunteer.pk, reason="")
    # another street's organiser does not see it
    with pytest.raises(Exception) as exc:
        services.volunteer_approve(actor=world["organiser_b"], volunteer_id=volunteer.pk)
    assert exc.value.status_code == 404
    services.volunteer_decline(
        actor=world["organiser"], volunteer_id=volunteer.pk, reason="人数已满"
    )
    volunteer.refresh_from_db()
    assert volunteer.state == VolunteerState.DECLINED and volunteer.decline_reason == "人数已满"
    services.volunteer_apply(actor=user, community_id=world["a1"].pk, real_name="张三")
    volunteer = services.volunteer_approve(actor=world["organiser"], volunteer_id=volunteer.pk)
    assert volunteer.number.startswith("ZY350602001001")
    user.refresh_from_db()
    assert "volunteer" in set(user.roles.values_list("code", flat=True))
    assert [e.action for e in volunteer.events.all()] == ["apply", "decline", "apply", "approve"]
    with pytest.raises(ConflictError):
        services.volunteer_apply(actor=user, community_id=world["a1"].pk, real_name="张三")


def test_team_kinds_are_seeded_and_teams_serve_cells(world):
    names = set(TeamKind.objects.values_list("name", flat=True))
    assert {"治安巡防队", "法律援助队", "志愿服务队", "平安妈妈", "厝边阿姨"} <= names
    kind = TeamKind.objects.get(code="neighbour_aunties")
    team = services.team_save(
        actor=world["organiser"],
        name="厝边阿姨巡防队",
        kind_id=kind.pk,
        region_id=world["a1"].pk,
        cell_ids=[world["cell_a1_1"].pk],
        leader_id=world["volunteer"].user_id,
    )
    with pytest.raises(ValidationFailed):
        services.team_save(
            actor=world["organiser"],
            name="越界",
            kind_id=kind.pk,
            region_id=world["a1"].pk,
            cell_ids=[world["cell_b1_1"].pk],
        )
    page = selectors.two_plus_n(world["cell_a1_1"])
    assert page["teams"] == [team]
    assert team.memberships.get().user_id == world["volunteer"].user_id


def test_post_refuses_bad_input_and_foreign_regions(world):
    with pytest.raises(ValidationFailed) as exc:
        f.task(world["organiser"], world["b1"], [world["cell_b1_1"]])
    assert "region" in exc.value.extra
    with pytest.raises(ValidationFailed) as exc:
        f.task(world["organiser"], world["a1"], [], places=0)
    assert {"cells", "places"} <= set(exc.value.extra)
    assert PatrolTask.objects.count() == 0


def test_route_task_checks_distance_from_the_line(world):
    task = f.task(
        world["organiser"],
        world["street_a"],
        [],
        level="street",
        route={"type": "LineString", "coordinates": [[117.600, 24.505], [117.620, 24.505]]},
        route_buffer_m=100,
    )
    claim = services.task_claim(actor=world["volunteer"].user, task_id=task.pk)
    with time_machine.travel(f.shift_time(task), tick=False):
        with pytest.raises(ValidationFailed):
            services.claim_check_in(
                actor=world["volunteer"].user, claim_id=claim.pk, lat=24.507, lng=117.61
            )
        services.claim_check_in(
            actor=world["volunteer"].user, claim_id=claim.pk, lat=24.5055, lng=117.61
        )


def test_full_task_refuses_and_changes_nothing(world):
    task = f.task(world["organiser"], world["a1"], [world["cell_a1_1"]], places=1)
    services.task_claim(actor=world["volunteer"].user, task_id=task.pk)
    other = f.approved_volunteer("vol2", world["a1"], world["organiser"])
    with pytest.raises(ConflictError) as exc:
        services.task_claim(actor=other.user, task_id=task.pk)
    assert "1" in exc.value.message
    task.refresh_from_db()
    assert task.taken == 1 and Claim.objects.count() == 1
    with pytest.raises(ConflictError):
        services.task_claim(actor=world["volunteer"].user, task_id=task.pk)


def test_unapproved_or_out_of_area_volunteers_cannot_claim(world):
    task = f.task(world["organiser"], world["a1"], [world["cell_a1_1"]])
    applicant = f.resident("applicant", world["a1"])
    with pytest.raises(PermissionDeniedError):
        services.task_claim(actor=applicant, task_id=task.pk)
    far = f.approved_volunteer("vol_b", world["b1"], world["organiser_b"])
    with pytest.raises(Exception) as exc:
        services.task_claim(actor=far.user, task_id=task.pk)
    assert exc.value.status_code == 404


def test_withdraw_before_cutoff_only(world):
    task = f.task(world["organiser"], world["a1"], [world["cell_a1_1"]], places=2)
    claim = services.task_claim(actor=world["volunteer"].user, task_id=task.pk)
    services.claim_withdraw(actor=world["volunteer"].user, claim_id=claim.pk)
    task.refresh_from_db()
    assert task.taken == 0
    claim = services.task_claim(actor=world["volunteer"].user, task_id=task.pk)
    with (
        time_machine.travel(task.withdraw_until + timedelta(minutes=1), tick=False),
        pytest.raises(ConflictError) as exc,
    ):
        services.claim_withdraw(actor=world["volunteer"].user, claim_id=claim.pk)
    assert "截止" in exc.value.message  # the default language is Chinese
    claim.refresh_from_db()
    task.refresh_from_db()
    assert claim.state == ClaimState.CLAIMED and task.taken == 1


def test_the_whole_patrol_writes_a_record_and_points(world):
    user = world["volunteer"].user
    task = f.task(world["organiser"], world["a1"], [world["cell_a1_1"]], required_checkins=3)
    claim = services.task_claim(actor=user, task_id=task.pk)
    with time_machine.travel(task.starts_at - timedelta(hours=1), tick=False):
        with pytest.raises(ValidationFailed) as exc:
            services.claim_check_in(
                actor=user, claim_id=claim.pk, lat=f.IN_A1_1[0], lng=f.IN_A1_1[1]
            )
        assert "time" in exc.value.extra
    with time_machine.travel(f.shift_time(task, 5), tick=False):
        with pytest.raises(ValidationFailed) as exc:
            services.claim_check_in(
                actor=user, claim_id=claim.pk, lat=f.OUT_OF_A1_1[0], lng=f.OUT_OF_A1_1[1]
            )
        assert "location" in exc.value.extra
        claim.refresh_from_db()
        assert claim.state == ClaimState.CLAIMED and not PatrolLog.objects.exists()
        services.claim_check_in(actor=user, claim_id=claim.pk, lat=f.IN_A1_1[0], lng=f.IN_A1_1[1])
    with time_machine.travel(f.shift_time(task, 30), tick=False):
        services.claim_track(
            actor=user, claim_id=claim.pk, points=[[24.506, 117.606, timezone.now().isoformat()]]
        )
        hazard = services.claim_report_hazard(
            actor=user,
            claim_id=claim.pk,
            category=Category.objects.get(code="0102"),
            description="井盖缺失",
            lat=24.506,
            lng=117.606,
        )
        with pytest.raises(ValidationFailed) as exc:  # one check-in on the way is missing
            services.claim_check_out(actor=user, claim_id=claim.pk, lat=24.506, lng=117.606)
        services.claim_checkpoint(actor=user, claim_id=claim.pk, lat=24.507, lng=117.607)
    with time_machine.travel(f.shift_time(task, 90), tick=False):
        services.claim_check_out(actor=user, claim_id=claim.pk, lat=24.506, lng=117.606)
    claim.refresh_from_db()
    assert claim.state == ClaimState.COMPLETED and claim.checkins == 3
    patrol = claim.patrol
    # in, the fix at 30 min (the checkpoint at the same moment is a repeat), out
    assert patrol.ended_at is not None and len(patrol.track) == 3
    assert list(patrol.cells.values_list("code", flat=True)) == [world["cell_a1_1"].code]
    assert Incident.objects.get(pk=hazard.incident_id).patrol_id == patrol.pk
    service_record = ServiceRecord.objects.get()
    assert service_record.hours == Decimal("1.42")  # 5 → 90 minutes
    services.record_confirm(actor=world["organiser"], record_id=service_record.pk)
    entry = PointEntry.objects.get()
    # 1.42 h × 10 + 1 hazard × 5 + 2 for the patrol
    assert entry.points == Decimal("21.2")
    volunteer = world["volunteer"]
    assert selectors.points_balance(volunteer) == Decimal("21.2")
    assert selectors.leaderboard(volunteer.region_code)[0]["points"] == Decimal("21.2")
    with pytest.raises(ConflictError):
        services.record_confirm(actor=world["organiser"], record_id=service_record.pk)
    # a correction: new record, the old one stops counting, points corrected
    correction = services.record_correct(
        actor=world["organiser"], record_id=service_record.pk, hours="1.5", reason="补录"
    )
    assert selectors.hours_total(volunteer) == 0
    services.record_confirm(actor=world["organiser"], record_id=correction.pk)
    assert selectors.hours_total(volunteer) == Decimal("1.50")
    certificate = services.certificate_issue(actor=user)
    assert certificate.number.startswith("ZYZM") and certificate.total_hours == Decimal("1.50")
    entry_row = PointEntry.objects.first()
    with pytest.raises(RuntimeError):
        entry_row.save()


def test_redeem_never_beyond_balance(world):
    with pytest.raises(ValidationFailed):
        services.points_redeem(
            actor=world["organiser"], volunteer_id=world["volunteer"].pk, points=1, reason="兑换"
        )


def test_items_for_resident(world):
    task = f.task(world["organiser"], world["a1"], [world["cell_a1_1"]])
    services.task_claim(actor=world["volunteer"].user, task_id=task.pk)
    items = selectors.items_for_resident(world["volunteer"].user)
    assert len(items) == 2 and items[1].title == "夜间巡防"
    assert selectors.items_for_resident(world["organiser"]) == []
