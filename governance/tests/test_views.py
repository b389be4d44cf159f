import pytest

from tests.builders import make_user

pytestmark = pytest.mark.django_db


def test_home_is_the_public_home_for_anonymous_visitors(client):
    # Issue 17: the residents' front door (residents.views.public_home), no sign-in needed.
    response = client.get("/")
    assert response.status_code == 200 and 'id="resident-entries"' in response.content.decode()


def test_home_greets_in_chinese_and_english(client):
    client.force_login(make_user("wang", display_name="王五", roles=["dispatcher"]))
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in html and "欢迎，王五" in html and "退出登录" in html
    html = client.get("/", headers={"accept-language": "en"}).content.decode()
    assert '<html lang="en">' in html and "Welcome, 王五" in html and "Log out" in html


def test_language_selector_switches_and_remembers(client):
    client.force_login(make_user("wang"))
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302 and response.url == "/"
    assert '<html lang="en">' in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-hans">' in client.get("/").content.decode()


def test_api_docs_and_schema_are_served_locally(client):
    client.force_login(make_user("wang"))
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    assert client.get("/api/v1/schema/").status_code == 200
