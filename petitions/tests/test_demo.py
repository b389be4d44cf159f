"""The demo petitions load through the services and a second run changes nothing."""

import io

import pytest

from grids import demo as grids_demo
from petitions import demo
from petitions.models import Petition, PetitionEvent, PetitionState

pytestmark = pytest.mark.django_db


def test_demo_petitions_load_once():
    data = grids_demo.load_data(grids_demo.DEMO_FILE)
    grids_demo.load_demo(data, io.StringIO())
    demo.load_demo(data, io.StringIO())
    states = sorted(Petition.objects.values_list("state", flat=True))
    assert states == sorted(
        [
            PetitionState.IN_HANDLING,
            PetitionState.MERGED,
            PetitionState.RECEIVED,
            PetitionState.RECEIVED,
            PetitionState.REPLIED,
        ]
    )
    overdue = Petition.objects.get(matter=demo.MATTER_WAGES)
    assert overdue.overdue and overdue.backlog
    events = PetitionEvent.objects.count()
    out = io.StringIO()
    demo.load_demo(data, out)
    assert Petition.objects.count() == 5
    assert PetitionEvent.objects.count() == events
    assert "0 demo petitions" in out.getvalue()
