import pytest

from tests.builders import make_grid_worker, make_user


@pytest.fixture
def people(region_tree):
    """One user per viewpoint over the small city of tests.builders.make_region_tree."""
    t = region_tree
    return {
        "admin": make_user("boss", roles=["admin"], is_staff=True, is_superuser=True),
        "supervisor": make_user("sup", roles=["supervisor"], region=t["city"], phone="13900000010"),
        "dispatcher_a": make_user("disp_a", roles=["dispatcher"], region=t["street_a"]),
        "dispatcher_b": make_user("disp_b", roles=["dispatcher"], region=t["street_b"]),
        "worker_a": make_grid_worker("gw_a", cells=[t["cell_a1_1"]], phone="13900000011"),
        "worker_b": make_grid_worker("gw_b", cells=[t["cell_b1_1"]], phone="13900000012"),
        "resident": make_user("res", roles=["resident"], phone="13900000013"),
        "lost_staff": make_user("nobody", roles=["dispatcher"]),  # staff without a region
    }


@pytest.fixture(autouse=True)
def _english_messages():
    """Problem messages are asserted in English (their msgids); the catalogue is tested apart."""
    from django.utils import translation

    with translation.override("en"):
        yield
