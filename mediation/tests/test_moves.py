"""The move table (mediation.moves) covers every case action of the pages and of the API."""

from mediation import apis, moves
from mediation.apis.cases import _CaseActionApi
from mediation.models import EVENT_ACTION_LABELS, CaseAction


def test_every_case_action_api_names_a_move():
    classes = [
        value
        for value in vars(apis).values()
        if isinstance(value, type)
        and issubclass(value, _CaseActionApi)
        and value is not _CaseActionApi
    ]
    assert len(classes) == 13
    for api_class in classes:
        assert api_class.move in moves.CASE_MOVES, api_class.__name__


def test_every_page_action_has_a_move_and_a_done_message():
    from mediation.views.cases import DONE_MESSAGES

    assert set(DONE_MESSAGES) == set(moves.CASE_MOVES)
    assert set(moves.SESSION_MOVES) == {"start", "cancel", "minutes"}


def test_event_labels_are_derived_from_case_action():
    assert set(EVENT_ACTION_LABELS) == set(CaseAction.values)
    assert EVENT_ACTION_LABELS["session_started"] == CaseAction.SESSION_STARTED.label
