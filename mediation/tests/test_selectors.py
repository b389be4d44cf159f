from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from mediation import selectors, services
from mediation.models import MediationSession
from mediation.tests.builders import at, dispute_incident, in_session, parties, walk_in

# --- referral proposals -------------------------------------------------------------------


def names(proposals) -> list[str]:
    return [p.room.name for p in proposals]


def test_a_village_dispute_goes_to_the_village_room_then_up(world):
    proposals = selectors.rooms_proposed(
        region_code="350602001001", category=world.cats["neighbour"]
    )
    assert names(proposals) == ["西桥社区评理说事点", "西桥街道两代表一委员调解室"]
    assert [p.tier for p in proposals] == [0, 1]
    family = selectors.rooms_proposed(region_code="350602001001", category=world.cats["family"])
    assert names(family) == [
        "西桥社区评理说事点",
        "西桥街道两代表一委员调解室",
        "芗城区家事纠纷调解室",
    ]


def test_a_community_without_its_own_room_starts_at_the_street(world):
    proposals = selectors.rooms_proposed(region_code="350602001002", category=world.cats["family"])
    assert names(proposals) == ["西桥街道两代表一委员调解室", "芗城区家事纠纷调解室"]


def test_a_town_village_dispute_goes_to_the_village_sages_then_the_county(world):
    proposals = selectors.rooms_proposed(region_code="350602101201", category=world.cats["family"])
    assert names(proposals) == ["石亭村乡贤调解室", "芗城区家事纠纷调解室"]
    # Another street's rooms are never proposed.
    assert "东铺头派出所警调对接工作室" not in names(proposals)


def test_a_category_only_a_city_room_takes(world):
    for code in ("350602001001", "350602101201", "350602002001"):
        proposals = selectors.rooms_proposed(region_code=code, category=world.cats["medical"])
        assert names(proposals) == ["漳州市医患纠纷人民调解委员会"]
        assert proposals[0].tier == 3


def test_inactive_and_full_rooms_are_not_proposed(world):
    village = world.rooms["village_a1"]
    village.capacity_per_day = 1
    village.save()
    case = walk_in(world)
    services.case_accept(actor=world.mediator, case_id=case.pk)
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    # One session a day for the next 7 days fills a 1-a-day room.
    for offset in range(1, 8):
        day = today + timedelta(days=offset)
        MediationSession.objects.create(
            case=case,
            room=village,
            mediator=world.mediator,
            starts_at=datetime(day.year, day.month, day.day, 9, tzinfo=tz),
            ends_at=datetime(day.year, day.month, day.day, 10, tzinfo=tz),
            place="x",
        )
    tomorrow = today + timedelta(days=1)
    proposals = selectors.rooms_proposed(
        region_code="350602001001", category=world.cats["neighbour"], on_date=tomorrow
    )
    assert names(proposals) == ["西桥街道两代表一委员调解室"]
    # A cancelled session gives its slot back.
    MediationSession.objects.filter(starts_at__date=tomorrow + timedelta(days=1)).update(
        state="cancelled"
    )
    proposals = selectors.rooms_proposed(
        region_code="350602001001", category=world.cats["neighbour"], on_date=tomorrow
    )
    assert names(proposals)[0] == "西桥社区评理说事点"
    assert proposals[0].free_slots == 1
    services.room_set_active(actor=world.admin, room_id=village.pk, active=False)
    proposals = selectors.rooms_proposed(
        region_code="350602001001", category=world.cats["neighbour"], on_date=tomorrow
    )
    assert names(proposals) == ["西桥街道两代表一委员调解室"]


def test_gold_rooms_come_first_within_a_level(world):
    from mediation.models import MediationRoom

    gold = MediationRoom.objects.create(
        name="西桥社区金牌调解室",
        room_type="personal",
        level="village",
        region=world.regions["a1"],
        gold_rated=True,
    )
    proposals = selectors.rooms_proposed(
        region_code="350602001001", category=world.cats["neighbour"]
    )
    assert names(proposals)[:2] == [gold.name, "西桥社区评理说事点"]


def test_proposals_for_an_incident_use_its_community(world):
    incident = dispute_incident(world)
    proposals = selectors.rooms_proposed_for_incident(incident=incident)
    assert names(proposals)[0] == "西桥社区评理说事点"


# --- scoping ------------------------------------------------------------------------------


@pytest.fixture
def spread(world):
    """A case in each of three rooms."""
    return {
        "village_a1": walk_in(world, "village_a1"),
        "township_a": walk_in(world, "township_a"),
        "township_b": walk_in(world, "township_b", actor=world.mediator2),
    }


def visible(user) -> set[str]:
    return set(selectors.cases_visible(user).values_list("room__name", flat=True))


def test_a_mediator_sees_only_their_rooms_cases(world, spread):
    assert visible(world.mediator) == {"西桥社区评理说事点", "西桥街道两代表一委员调解室"}
    assert visible(world.mediator2) == {"东铺头派出所警调对接工作室"}
    case = spread["village_a1"]
    with pytest.raises(selectors.NotFoundError):
        selectors.case_get_for_user(user=world.mediator2, case_id=case.pk)


def test_a_mediator_who_leaves_the_room_stops_seeing_its_cases(world, spread):
    services.room_mediator_remove(
        actor=world.admin, room_id=world.rooms["township_a"].pk, user_id=world.mediator.pk
    )
    assert visible(world.mediator) == {"西桥社区评理说事点"}


def test_supervisors_see_their_region_and_admins_everything(world, spread):
    assert len(visible(world.supervisor)) == 3
    assert visible(world.supervisor_b) == {"东铺头派出所警调对接工作室"}
    assert selectors.cases_visible(world.admin).count() == 3


def test_residents_see_their_own_applications_only(world, spread):
    assert visible(world.resident) == set()
    mine = services.case_apply_online(
        actor=world.resident,
        room_id=world.rooms["township_a"].pk,
        category_code="1002",
        facts="家事",
        parties=parties(),
    )
    assert list(selectors.cases_visible(world.resident)) == [mine]
    assert list(selectors.cases_applied_by(user=world.resident)) == [mine]


def test_the_handler_who_referred_sees_the_case(world):
    incident = dispute_incident(world)
    case = services.case_create_from_incident(
        actor=world.handler,
        incident_id=incident.pk,
        room_id=world.rooms["village_a1"].pk,
        parties=parties(),
        facts="x",
    )
    assert list(selectors.cases_visible(world.handler)) == [case]
    assert selectors.case_for_incident(incident_id=incident.pk) == case


def test_actions_offered_follow_role_and_state(world):
    case = walk_in(world)
    assert selectors.case_actions_for(user=world.mediator, case=case) >= {"accept", "decline"}
    assert selectors.case_actions_for(user=world.mediator2, case=case) == set()
    assert selectors.case_actions_for(user=world.supervisor, case=case) == set()
    case = in_session(world)
    assert {"agreement", "minutes", "schedule", "fail", "refuse"} <= selectors.case_actions_for(
        user=world.mediator, case=case
    )


# --- statistics ---------------------------------------------------------------------------


def test_success_rate_and_days_to_settle(world):
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        settled = walk_in(world, "village_a1")
        failed = walk_in(world, "village_a1", category_code="1002")
        withdrawn = walk_in(world, "township_a")
        walk_in(world, "village_a1")  # still open: not counted
        for case in (settled, failed):
            services.case_accept(actor=world.mediator, case_id=case.pk)
    with time_machine.travel(at(2026, 3, 6, 9), tick=False):
        session = services.session_schedule(
            actor=world.mediator, case_id=settled.pk, starts_at=at(2026, 3, 6, 10)
        )
        services.session_start(actor=world.mediator, session_id=session.pk)
        services.agreement_record(
            actor=world.mediator,
            case_id=settled.pk,
            form="oral",
            facts="f",
            disputed_matters="d",
            terms="t",
            performance_method="p",
        )
        services.case_fail(actor=world.mediator, case_id=failed.pk, reason="分歧")
        services.case_withdraw(
            actor=world.mediator,
            case_id=withdrawn.pk,
            reason="拒绝",
            party_id=withdrawn.parties.first().pk,
        )
    by_room = {row["label"]: row for row in selectors.case_stats(user=world.admin)}
    village = by_room["西桥社区评理说事点"]
    assert (village["concluded"], village["agreements"]) == (2, 1)
    assert village["success_rate"] == 0.5
    assert village["average_days_to_settle"] == 4.0
    township = by_room["西桥街道两代表一委员调解室"]
    assert (township["concluded"], township["agreements"], township["success_rate"]) == (1, 0, 0)
    assert township["average_days_to_settle"] is None
    by_level = {row["key"]: row for row in selectors.case_stats(user=world.admin, group_by="level")}
    assert by_level["village"]["concluded"] == 2
    assert by_level["township"]["concluded"] == 1
    by_category = {
        row["key"]: row for row in selectors.case_stats(user=world.admin, group_by="category")
    }
    assert by_category["1001"]["agreements"] == 1
    assert by_category["1002"]["agreements"] == 0
    by_type = {
        row["key"]: row for row in selectors.case_stats(user=world.admin, group_by="room_type")
    }
    assert by_type["reasoning_point"]["concluded"] == 2
    # Scoped: a supervisor of another street sees none of it.
    assert selectors.case_stats(user=world.supervisor_b) == []
    # A date window.
    assert selectors.case_stats(user=world.admin, concluded_to=at(2026, 3, 5).date()) == []
