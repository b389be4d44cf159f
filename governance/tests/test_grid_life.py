"""The December apps' cards on the supervisor dashboard (governance/dashboards/grid_life.py):
figures from each app's own selectors, for the dashboard's region, linking to its page."""

import pytest
from django.urls import reverse

from governance import aggregates
from governance.tests.kpi_data import NOW, PERIOD, build_city
from tests.builders import make_user


@pytest.fixture
def supervisor(region_tree):
    build_city(region_tree)
    aggregates.incident_facts_rebuild(now=NOW)
    return make_user(
        "life_supervisor", roles=["supervisor"], region=region_tree["city"], phone="13700000120"
    )


def test_dashboard_shows_a_card_per_app_with_a_drill_down_link(client, supervisor, region_tree):
    from volunteers.models import Volunteer

    client.force_login(supervisor)
    dashboard = client.get(reverse("governance:dashboard"), PERIOD)
    assert 'id="grid-life-slot"' in dashboard.content.decode()  # loaded after the page
    response = client.get(reverse("governance:grid_life"), PERIOD)
    assert response.status_code == 200
    cards = {card.key: card for card in response.context["grid_life"]}
    assert set(cards) == {"services", "volunteers", "screening", "deliberation", "registry"}
    city = region_tree["city"].code
    assert cards["volunteers"].url == f"{reverse('volunteers:supervision')}?region={city}"
    html = response.content.decode()
    for key in cards:
        assert f'id="grid-life-{key}"' in html
    # Figures are the apps' own: with no volunteer in the city, none is active.
    assert not Volunteer.objects.exists()
    active_volunteers = cards["volunteers"].figures[2][1]
    assert active_volunteers == 0


def test_a_region_outside_the_scope_shows_no_other_region(client, region_tree):
    street_supervisor = make_user(
        "life_street", roles=["supervisor"], region=region_tree["street_a"], phone="13700000121"
    )
    client.force_login(street_supervisor)
    response = client.get(reverse("governance:grid_life"), PERIOD)
    assert response.status_code == 200
    for card in response.context["grid_life"]:
        assert card.url.endswith(f"region={region_tree['street_a'].code}")


def test_the_cards_need_kpi_access(client, region_tree):
    resident = make_user("life_resident", roles=["resident"], phone="13700000122")
    client.force_login(resident)
    assert client.get(reverse("governance:grid_life")).status_code == 403
    outside = make_user(
        "life_outside", roles=["supervisor"], region=region_tree["street_b"], phone="13700000123"
    )
    client.force_login(outside)
    response = client.get(reverse("governance:grid_life"), {"region": region_tree["street_a"].code})
    assert response.status_code == 404
