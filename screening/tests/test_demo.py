import pytest

from screening import demo
from screening.models import Dispute

pytestmark = pytest.mark.django_db


def test_demo_loads_once(region_tree):
    from tests.builders import make_grid_worker

    make_grid_worker("gridworker", cells=[region_tree["cell_a1_1"]])
    demo.load_demo()
    demo.load_demo()
    assert Dispute.objects.count() == 3
    assert set(Dispute.objects.values_list("level", flat=True)) == {"red", "orange", "yellow"}
    region_tree["cell_a1_1"].refresh_from_db()
    assert region_tree["cell_a1_1"].police_officer.username == "police"
