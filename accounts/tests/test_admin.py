import pytest

from accounts.models import User
from tests.builders import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client):
    admin = User.objects.create_superuser("root", password="Strong-Pass-2026")
    client.force_login(admin)
    return client


def test_user_changelist_masks_phones_and_searches_by_phone(admin_client_):
    make_user("wang", phone="13800001234")
    make_user("li", phone="13900005678")
    response = admin_client_.get("/admin/accounts/user/", {"q": "13800001234"})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<td class="field-masked_phone">138****1234</td>' in html
    assert [row.username for row in response.context["cl"].result_list] == ["wang"]


def test_user_change_page_edits_portal_fields(admin_client_, region_tree):
    user = make_user("wang")
    url = f"/admin/accounts/user/{user.pk}/change/"
    assert admin_client_.get(url).status_code == 200
    response = admin_client_.post(
        url,
        {
            "username": "wang",
            "phone": "13800001234",
            "display_name": "王五",
            "roles": ["dispatcher"],
            "scope_region": region_tree["street_a"].pk,
            "department": "",
            "is_active": "on",
            "date_joined_0": "2026-01-05",
            "date_joined_1": "09:00:00",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.phone == "13800001234"
    assert user.role_codes == {"dispatcher"}
    assert user.scope_region == region_tree["street_a"]


def test_admin_refuses_an_invalid_phone(admin_client_):
    user = make_user("wang")
    response = admin_client_.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "username": "wang",
            "phone": "12345",
            "is_active": "on",
            "date_joined_0": "2026-01-05",
            "date_joined_1": "09:00:00",
        },
    )
    assert response.status_code == 200
    assert "phone" in response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.phone is None


def test_add_user_through_the_admin(admin_client_):
    response = admin_client_.post(
        "/admin/accounts/user/add/",
        {
            "username": "newbie",
            "password1": "Strong-Pass-2026",
            "password2": "Strong-Pass-2026",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(username="newbie").check_password("Strong-Pass-2026")


def test_role_admin_lists_roles(admin_client_):
    html = admin_client_.get("/admin/accounts/role/").content.decode()
    assert "网格员" in html


def test_non_staff_cannot_open_the_admin(client):
    client.force_login(make_user("wang", roles=["dispatcher"]))
    assert client.get("/admin/accounts/user/").status_code == 302
