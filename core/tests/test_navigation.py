import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from core.navigation import menu_for
from tests.builders import make_user

pytestmark = pytest.mark.django_db


def names(user):
    return [item["name"] for item in menu_for(user)]


def test_anonymous_gets_the_public_entries_only():
    assert "admin:index" not in names(AnonymousUser())


def test_menu_follows_roles():
    resident = names(make_user("r", roles=["resident"]))
    admin = names(make_user("a", roles=["admin"]))
    assert "home" in resident and "admin:index" not in resident
    assert "admin:index" in admin
    root = names(User.objects.create_superuser("root", password="Strong-Pass-2026"))
    assert "admin:index" in root


def test_entries_resolve_to_urls():
    for item in menu_for(make_user("a", roles=["admin"])):
        assert item["url"].startswith("/")
        assert str(item["label"])


def test_home_page_shows_the_menu_and_unread_count(client):
    from core.services import notification_send

    user = make_user("r", roles=["resident"], display_name="王小明")
    notification_send(user_ids=[user.pk], title="x")
    client.force_login(user)
    html = client.get("/").content.decode()
    assert "欢迎，王小明" in html
    assert 'data-nav="home"' in html
    assert 'id="unread-count">1<' in html
