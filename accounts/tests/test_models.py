import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError

from accounts.models import ROLES_SEEING_CONTACTS, RoleCode, User
from tests.builders import make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("phone", ["13800001234", "19912345678", "15000000000"])
def test_mainland_mobile_numbers_are_accepted(phone):
    user = User(username="u1", phone=phone)
    user.set_password("Strong-Pass-2026")
    user.full_clean()


@pytest.mark.parametrize(
    "phone", ["12800001234", "1380000123", "138000012345", "+8613800001234", "1380000abcd"]
)
def test_other_numbers_are_refused(phone):
    user = User(username="u1", phone=phone)
    user.set_password("Strong-Pass-2026")
    with pytest.raises(ValidationError) as info:
        user.full_clean()
    assert "phone" in info.value.message_dict


def test_blank_phone_is_stored_as_null_so_many_users_may_lack_one():
    first = make_user("first", phone="")
    second = make_user("second", phone="")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.phone is None and second.phone is None


def test_phone_is_unique():
    make_user("first", phone="13800001111")
    with pytest.raises(ValidationError):
        User(username="second", phone="13800001111", password="x").full_clean()


def test_roles_and_portal_admin():
    worker = make_user("worker", roles=[RoleCode.GRID_WORKER, RoleCode.MEDIATOR])
    assert worker.role_codes == {"grid_worker", "mediator"}
    assert worker.has_role(RoleCode.MEDIATOR, RoleCode.SUPERVISOR)
    assert not worker.has_role(RoleCode.ADMIN)
    assert not worker.is_portal_admin
    assert make_user("boss", roles=[RoleCode.ADMIN]).is_portal_admin
    root = User.objects.create_superuser("root", password="Strong-Pass-2026")
    assert root.is_portal_admin and root.has_role(RoleCode.ADMIN)


def test_str_prefers_display_name():
    assert str(make_user("li", display_name="李四")) == "李四"


class TestPhoneFor:
    def test_masked_for_anonymous_and_plain_users(self):
        owner = make_user("owner", roles=["resident"], phone="13812341234")
        other_resident = make_user("other", roles=["resident"], phone="13812340000")
        supervisor = make_user("sup", roles=["supervisor"])
        assert owner.masked_phone == "138****1234"
        assert owner.phone_for(None) == "138****1234"
        assert owner.phone_for(AnonymousUser()) == "138****1234"
        assert owner.phone_for(other_resident) == "138****1234"
        # Supervisors look at figures, not at people's contacts.
        assert owner.phone_for(supervisor) == "138****1234"

    def test_in_full_for_the_owner(self):
        owner = make_user("owner", roles=["resident"], phone="13812341234")
        assert owner.phone_for(owner) == "13812341234"

    @pytest.mark.parametrize("role", sorted(ROLES_SEEING_CONTACTS))
    def test_in_full_for_contact_seeing_roles(self, role):
        owner = make_user("owner", roles=["resident"], phone="13812341234")
        assert owner.phone_for(make_user("staff", roles=[role])) == "13812341234"

    def test_in_full_for_superuser_and_empty_when_no_phone(self):
        owner = make_user("owner", phone="13812341234")
        root = User.objects.create_superuser("root", password="Strong-Pass-2026")
        assert owner.phone_for(root) == "13812341234"
        assert make_user("nophone").phone_for(root) == ""
