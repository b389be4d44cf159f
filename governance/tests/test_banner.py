from io import StringIO

import pytest
from django.core.management import call_command

from core.banner import demo_banner_add, demo_banner_lines


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def test_banner_lines_are_added_once_in_order():
    assert demo_banner_lines() == []
    assert demo_banner_add("Open311 API key: abc") is True
    assert demo_banner_add("Open311 API key: abc") is False
    assert demo_banner_add("second\nline") is True
    assert demo_banner_add("   ") is False
    assert demo_banner_lines() == ["Open311 API key: abc", "second line"]


@pytest.mark.django_db
def test_portal_banner_prints_url_logins_and_banner_lines():
    from tests.builders import make_user

    out = StringIO()
    call_command("portal_banner", "--url", "http://127.0.0.1:8123/", stdout=out)
    text = out.getvalue()
    assert "http://127.0.0.1:8123/" in text
    assert "load_demo_city" in text  # no demo users yet

    make_user("admin", roles=["admin"])
    demo_banner_add("Partner API key: k-123")
    out = StringIO()
    call_command("portal_banner", "--url", "http://127.0.0.1:8123/", stdout=out)
    text = out.getvalue()
    assert "Demo-2026!" in text and "gridworker" in text
    assert "Partner API key: k-123" in text
