import pytest

from assignments.tests.builders import make_world


@pytest.fixture
def world(region_tree):
    return make_world(region_tree)
