import pytest

from deliberation.demo import ROUND_TITLE, TITLE_DECIDED, TITLE_OPEN, load_demo
from deliberation.models import BudgetRound, Decision, Proposal
from deliberation.tests import factories as f
from tests.builders import make_user

pytestmark = pytest.mark.django_db


def test_demo_loads_once(region_tree):
    make_user("dispatcher", roles=["dispatcher"], region=region_tree["street_a"])
    make_user("resident", roles=["resident"], phone="13800000001")
    f.category()
    f.kind()
    load_demo()
    load_demo()
    assert Proposal.objects.filter(title__in=[TITLE_OPEN, TITLE_DECIDED]).count() == 2
    assert Decision.objects.count() == 1
    assert BudgetRound.objects.filter(title=ROUND_TITLE, phase="collect").count() == 1
