import pytest

from volunteers.tests import factories as f


@pytest.fixture
def world(region_tree):
    from incidents.loaders import load_categories

    load_categories()
    organiser = f.organiser("org_a", region_tree["street_a"])
    organiser_b = f.organiser("org_b", region_tree["street_b"])
    volunteer = f.approved_volunteer("vol1", region_tree["a1"], organiser)
    return {
        **region_tree,
        "organiser": organiser,
        "organiser_b": organiser_b,
        "volunteer": volunteer,
    }
