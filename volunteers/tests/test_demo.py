import pytest

from volunteers.demo import load_demo
from volunteers.models import PatrolTask, Team, Volunteer


@pytest.mark.django_db
def test_demo_loads_twice_without_duplicates(region_tree):
    from tests.builders import make_user

    make_user("dispatcher", roles=["dispatcher"], region=region_tree["street_a"])
    load_demo()
    load_demo()
    assert Volunteer.objects.get(user__username="volunteer").state == "approved"
    assert Team.objects.count() == 2
    assert PatrolTask.objects.filter(post__isnull=True).count() == 1
    region_tree["cell_a1_1"].refresh_from_db()
    assert region_tree["cell_a1_1"].police_officer.username == "police"
