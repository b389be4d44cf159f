import pytest

from mediation.models import (
    EVENT_ACTION_LABELS,
    FINAL_STATES,
    TRANSITIONS,
    CaseParty,
    CaseState,
    MediationEvent,
    MediationPolicy,
    RoomLevel,
    can_move,
    region_code_at_level,
)
from mediation.tests.builders import walk_in


def test_every_state_has_its_moves_declared():
    assert set(TRANSITIONS) == set(CaseState.values)
    for state in FINAL_STATES:
        assert TRANSITIONS[state] == set()
    assert can_move(CaseState.IN_SESSION, CaseState.AGREEMENT_REACHED)
    assert not can_move(CaseState.APPLIED, CaseState.AGREEMENT_REACHED)
    assert not can_move(CaseState.CLOSED, CaseState.APPLIED)


def test_every_state_can_reach_an_end():
    ends = set(FINAL_STATES)
    for state in CaseState.values:
        seen, frontier = {state}, [state]
        while frontier:
            for target in TRANSITIONS[frontier.pop()]:
                if target not in seen:
                    seen.add(target)
                    frontier.append(target)
        assert seen & ends, state


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (RoomLevel.VILLAGE, "350602001001"),
        (RoomLevel.TOWNSHIP, "350602001000"),
        (RoomLevel.COUNTY, "350602000000"),
        (RoomLevel.CITY, "350600000000"),
    ],
)
def test_region_code_at_level(level, expected):
    assert region_code_at_level("350602001001", level) == expected


def test_timeline_events_are_append_only(world):
    case = walk_in(world)
    event = case.events.get()
    event.note = "changed"
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()
    assert MediationEvent.objects.get(pk=event.pk).note == ""
    assert event.action_label == str(EVENT_ACTION_LABELS["registered"])


def test_party_contacts_are_masked_for_who_may_not_see_them(world):
    case = walk_in(world)
    applicant = case.parties.get(role=CaseParty.Role.APPLICANT)
    assert applicant.phone_for(world.mediator) == "13700000001"
    assert applicant.id_number_for(world.mediator) == "350602199001011234"
    assert applicant.phone_for(world.supervisor) == "137****0001"
    assert applicant.id_number_for(world.resident) == "3506**********1234"
    applicant.user = world.resident
    assert applicant.id_number_for(world.resident) == "350602199001011234"


def test_room_takes_every_dispute_when_no_category_is_listed(world):
    room = world.rooms["village_a1"]
    assert room.takes_category(world.cats["neighbour"])
    assert not room.takes_category(world.cats["medical"])
    room.categories.clear()
    assert room.takes_category(world.cats["medical"])


def test_policy_defaults_without_a_row(db):
    policy = MediationPolicy.current()
    assert (policy.settle_warning_days, policy.confirmation_warning_days) == (5, 7)
