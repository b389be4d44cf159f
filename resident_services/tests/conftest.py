import pytest

from resident_services.tests.factories import build_services


@pytest.fixture
def svc(region_tree):
    return build_services(region_tree)
