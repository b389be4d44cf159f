import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from accounts.selectors import Scope, filter_by_scope, regions_visible, user_scope, users_visible
from grids.models import Region
from tests.builders import make_grid_worker, make_user

pytestmark = pytest.mark.django_db


def codes(qs):
    return sorted(qs.values_list("code", flat=True))


class TestUserScope:
    def test_anonymous_sees_nothing(self):
        scope = user_scope(AnonymousUser())
        assert scope == Scope(user_id=None)
        assert not scope.is_regional
        assert not scope.covers_code("350602001001")

    def test_admin_role_and_superuser_see_everything(self):
        for user in (
            make_user("boss", roles=["admin"]),
            User.objects.create_superuser("root", password="Strong-Pass-2026"),
        ):
            scope = user_scope(user)
            assert scope.everything and scope.is_regional
            assert scope.covers_code("110101001001")

    def test_street_dispatcher_gets_the_street_prefix(self, region_tree):
        user = make_user("d", roles=["dispatcher"], region=region_tree["street_a"])
        scope = user_scope(user)
        assert scope == Scope(user_id=user.pk, prefix="350602001")
        assert scope.covers_code("350602001002")
        assert not scope.covers_code("350602002001")
        assert not scope.covers_code(None)

    def test_grid_worker_gets_community_prefix_and_own_cells(self, region_tree):
        worker = make_grid_worker("g", cells=[region_tree["cell_a1_1"], region_tree["cell_a1_2"]])
        scope = user_scope(worker)
        assert scope.prefix == "350602001001"
        assert scope.cell_ids == {region_tree["cell_a1_1"].pk, region_tree["cell_a1_2"].pk}

    def test_resident_is_never_regional_even_with_a_region(self, region_tree):
        resident = make_user("r", roles=["resident"], region=region_tree["a1"])
        scope = user_scope(resident)
        assert scope == Scope(user_id=resident.pk)
        assert not scope.is_regional

    def test_staff_without_a_region_sees_only_their_own(self):
        scope = user_scope(make_user("d", roles=["dispatcher"]))
        assert scope.prefix is None and not scope.everything


class TestFilterByScope:
    def test_street_user_sees_the_street_and_below(self, region_tree):
        user = make_user("d", roles=["dispatcher"], region=region_tree["street_a"])
        visible = filter_by_scope(Region.objects.all(), user, code_field="code")
        assert codes(visible) == ["350602001000", "350602001001", "350602001002"]

    def test_district_user_sees_the_district(self, region_tree):
        user = make_user("p", roles=["petition_officer"], region=region_tree["district"])
        assert len(codes(regions_visible(user))) == 6  # district, 2 streets, 3 communities

    def test_admin_sees_all_and_resident_nothing(self, region_tree):
        assert codes(regions_visible(make_user("a", roles=["admin"]))) == codes(
            Region.objects.all()
        )
        resident = make_user("r", roles=["resident"], region=region_tree["a1"])
        assert not regions_visible(resident).exists()

    def test_related_code_field(self, region_tree):
        from grids.models import GridCell

        user = make_user("d", roles=["dispatcher"], region=region_tree["street_b"])
        cells = filter_by_scope(GridCell.objects.all(), user, code_field="community__code")
        assert codes(cells) == ["350602002001001"]


class TestUsersVisible:
    def test_regional_user_sees_users_of_the_region_and_self(self, region_tree):
        dispatcher = make_user("d", roles=["dispatcher"], region=region_tree["street_a"])
        inside = make_grid_worker("g_in", cells=[region_tree["cell_a1_1"]])
        outside = make_grid_worker("g_out", cells=[region_tree["cell_b1_1"]])
        no_region = make_user("r", roles=["resident"])
        visible = set(users_visible(dispatcher))
        assert {dispatcher, inside} <= visible
        assert outside not in visible and no_region not in visible

    def test_resident_sees_only_self_and_admin_everyone(self, region_tree):
        resident = make_user("r", roles=["resident"], region=region_tree["a1"])
        make_user("other", roles=["resident"], region=region_tree["a1"])
        assert list(users_visible(resident)) == [resident]
        admin = make_user("a", roles=["admin"])
        assert users_visible(admin).count() == User.objects.count()
