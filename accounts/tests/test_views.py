import pytest
from django.conf import settings
from django.urls import reverse

from core.services import notification_send
from tests.builders import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"


def post_login(client, username, password):
    return client.post(LOGIN_URL, {"username": username, "password": password})


class TestLogin:
    def test_login_page_is_chinese_by_default(self, client):
        response = client.get(LOGIN_URL)
        assert response.status_code == 200
        html = response.content.decode()
        assert '<html lang="zh-hans">' in html
        assert "登录" in html
        assert 'id="login-form"' in html

    def test_login_page_in_english_when_asked(self, client):
        html = client.get(LOGIN_URL, headers={"accept-language": "en"}).content.decode()
        assert "Log in" in html and "Username or mobile phone" in html

    def test_login_with_username(self, client):
        user = make_user("wang", phone="13800001234")
        response = post_login(client, "wang", DEFAULT_PASSWORD)
        assert response.status_code == 302
        assert response.url == reverse("home")
        assert client.session["_auth_user_id"] == str(user.pk)

    def test_login_with_phone(self, client):
        user = make_user("wang", phone="13800001234")
        response = post_login(client, "13800001234", DEFAULT_PASSWORD)
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(user.pk)

    def test_wrong_password_shows_an_error_and_does_not_sign_in(self, client):
        make_user("wang")
        response = post_login(client, "wang", "not-the-password")
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
        assert "用户名/手机号或密码错误" in response.content.decode()

    def test_next_parameter_is_honoured(self, client):
        make_user("wang")
        response = client.post(
            f"{LOGIN_URL}?next=/accounts/profile/",
            {"username": "wang", "password": DEFAULT_PASSWORD, "next": "/accounts/profile/"},
        )
        assert response.url == "/accounts/profile/"

    def test_pages_need_login(self, client):
        # "/" is the residents' public home for anonymous visitors (issue 17).
        for url in ("/accounts/profile/", "/accounts/password/", "/accounts/inbox/"):
            response = client.get(url)
            assert response.status_code == 302, url
            assert response.url.startswith(LOGIN_URL), url


class TestLockout:
    def test_account_locked_after_failure_limit_even_with_the_right_password(self, client):
        make_user("wang", phone="13800001234")
        limit = settings.AXES_FAILURE_LIMIT
        for _ in range(limit - 1):
            assert post_login(client, "wang", "wrong").status_code == 200
        locked = post_login(client, "wang", "wrong")
        assert locked.status_code == 429
        assert 'id="locked-message"' in locked.content.decode()
        refused = post_login(client, "wang", DEFAULT_PASSWORD)
        assert refused.status_code == 429
        assert "_auth_user_id" not in client.session

    def test_phone_and_username_share_the_failure_budget(self, client):
        make_user("wang", phone="13800001234")
        limit = settings.AXES_FAILURE_LIMIT
        for attempt in range(limit - 1):
            identifier = "13800001234" if attempt % 2 else "wang"
            assert post_login(client, identifier, "wrong").status_code == 200
        assert post_login(client, "13800001234", "wrong").status_code == 429
        assert post_login(client, "wang", DEFAULT_PASSWORD).status_code == 429

    def test_success_before_the_limit_resets_the_count(self, client):
        make_user("wang")
        limit = settings.AXES_FAILURE_LIMIT
        for _ in range(limit - 1):
            post_login(client, "wang", "wrong")
        assert post_login(client, "wang", DEFAULT_PASSWORD).status_code == 302
        client.logout()
        for _ in range(limit - 1):
            assert post_login(client, "wang", "wrong").status_code == 200
        assert post_login(client, "wang", DEFAULT_PASSWORD).status_code == 302

    def test_other_accounts_are_not_locked(self, client):
        make_user("wang")
        make_user("li")
        for _ in range(settings.AXES_FAILURE_LIMIT):
            post_login(client, "wang", "wrong")
        assert post_login(client, "li", DEFAULT_PASSWORD).status_code == 302


class TestLogout:
    def test_logout_is_a_post(self, client):
        client.force_login(make_user("wang"))
        assert client.get("/accounts/logout/").status_code == 405
        response = client.post("/accounts/logout/")
        assert response.status_code == 302
        assert response.url == reverse("accounts:login")
        assert "_auth_user_id" not in client.session

    def test_logout_button_is_on_every_signed_in_page(self, client):
        client.force_login(make_user("wang"))
        assert 'id="logout-button"' in client.get("/").content.decode()


class TestPasswordChange:
    def test_change_password(self, client):
        user = make_user("wang")
        client.force_login(user)
        response = client.post(
            "/accounts/password/",
            {
                "old_password": DEFAULT_PASSWORD,
                "new_password1": "Another-Pass-2027",
                "new_password2": "Another-Pass-2027",
            },
            follow=True,
        )
        assert response.redirect_chain[-1][0] == reverse("accounts:profile")
        assert "密码已修改" in response.content.decode()
        user.refresh_from_db()
        assert user.check_password("Another-Pass-2027")
        # The session survives the change.
        assert client.get("/accounts/profile/").status_code == 200

    def test_wrong_old_password_or_weak_new_password_changes_nothing(self, client):
        user = make_user("wang")
        client.force_login(user)
        for data in (
            {"old_password": "wrong", "new_password1": "Another-Pass-2027"},
            {"old_password": DEFAULT_PASSWORD, "new_password1": "12345678"},
            {
                "old_password": DEFAULT_PASSWORD,
                "new_password1": "Another-Pass-2027",
                "new_password2": "Different-Pass-2027",
            },
        ):
            data.setdefault("new_password2", data["new_password1"])
            response = client.post("/accounts/password/", data)
            assert response.status_code == 200
        user.refresh_from_db()
        assert user.check_password(DEFAULT_PASSWORD)


class TestProfileAndInbox:
    def test_profile_shows_the_owner_their_full_phone(self, client, region_tree):
        user = make_user(
            "wang", phone="13800001234", roles=["dispatcher"], region=region_tree["street_a"]
        )
        client.force_login(user)
        html = client.get("/accounts/profile/").content.decode()
        assert "13800001234" in html
        assert "西桥街道" in html
        assert "调度员" in html

    def test_inbox_lists_and_marks_read(self, client):
        user = make_user("wang")
        other = make_user("li")
        notification_send(user_ids=[user.pk], title="任务已派遣")
        notification_send(user_ids=[other.pk], title="别人的消息")
        client.force_login(user)
        html = client.get("/accounts/inbox/").content.decode()
        assert "任务已派遣" in html and "别人的消息" not in html
        assert 'id="unread-count">1<' in html
        assert client.get("/accounts/inbox/read/").status_code == 405
        client.post("/accounts/inbox/read/")
        assert not user.notifications.filter(read_at__isnull=True).exists()
        assert other.notifications.filter(read_at__isnull=True).exists()
