import pytest

from deliberation.tests import factories as f


@pytest.fixture
def world(region_tree):
    """Staff of street A (covers A1, A2), a supervisor of the district, residents of A1 and A2,
    an unverified user, staff of street B."""
    tree = region_tree
    f.policy(support_threshold=2, review_days=10, review_warn_days=2, notice_days=3)
    return {
        **tree,
        "staff": f.staff("staff_a", tree["street_a"]),
        "staff_b": f.staff("staff_b", tree["street_b"]),
        "supervisor": f.staff("supervisor_d", tree["district"], role="supervisor"),
        "alice": f.resident("alice", tree["a1"], display_name="王小丽"),
        "bob": f.resident("bob", tree["a1"]),
        "carol": f.resident("carol", tree["a1"]),
        "dave": f.resident("dave", tree["a2"]),
        "unverified": f.resident("eve", tree["a1"], verified=False),
    }
