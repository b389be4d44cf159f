"""Residents' pages: the public home, sign-up and sign-in by code (with the CAPTCHA), 我的,
认领, the data rights, following and 办理公开."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from incidents.models import IncidentFollower, IncidentState
from incidents.tests.factories import make_incident
from residents import services
from residents.models import PhoneCode
from residents.tests.conftest import last_code

pytestmark = pytest.mark.django_db
PHONE = "13912345678"


def test_the_public_home_for_an_anonymous_visitor(client, city):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    page = response.content.decode()
    for entry in (
        "entry-report",
        "entry-track",
        "entry-mediation",
        "entry-petition",
        "entry-services",
        "entry-results",
        "entry-sign-up",
        "entry-sign-in",
    ):
        assert entry in page
    assert 'href="/services/"' in page and "city-figures" in page and "language-form" in page
    assert city.resident.phone not in page


def test_signed_in_users_keep_their_home(client, city):
    client.force_login(city.dispatcher)
    response = client.get("/")
    assert response.status_code == 200 and "resident-entries" not in response.content.decode()


def test_the_home_shows_this_months_figures(client, city):
    from governance.aggregates import incident_facts_refresh

    incident = make_incident(city, state=IncidentState.CLOSED, closed_at=timezone.now(), rating=5)
    incident_facts_refresh(incident_ids=[incident.pk])
    page = client.get("/").content.decode()
    assert 'id="figure-received">1<' in page and 'id="figure-closed">1<' in page


def _send(client, url, REMOTE_ADDR="127.0.0.1", **data):
    return client.post(
        url, {"send": "1", **data}, HTTP_ACCEPT_LANGUAGE="zh-hans", REMOTE_ADDR=REMOTE_ADDR
    )


def test_sign_up_page(client, city, django_capture_on_commit_callbacks):
    url = reverse("residents:sign_up")
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = _send(client, url, phone=PHONE)
    assert response.status_code == 200 and 'id="code-sent"' in response.content.decode()
    response = client.post(
        url,
        {
            "phone": PHONE,
            "code": "000000" if last_code(PHONE) != "000000" else "111111",
            "name": "林小梅",
            "home_region": city.a1.pk,
            "privacy_accepted": "on",
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400 and "验证码错误" in response.content.decode()
    assert not User.objects.filter(phone=PHONE).exists()
    response = client.post(
        url,
        {
            "phone": PHONE,
            "code": last_code(PHONE),
            "name": "林小梅",
            "home_region": city.a1.pk,
            "privacy_accepted": "on",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("residents:mine")
    user = User.objects.get(phone=PHONE)
    assert user.is_verified_resident
    assert client.get(reverse("residents:mine")).status_code == 200


def test_too_many_sends_is_a_429_with_a_chinese_message(client, city):
    url = reverse("residents:sign_up")
    assert _send(client, url, phone=PHONE).status_code == 200
    response = _send(client, url, phone=PHONE)
    assert response.status_code == 429 and "Retry-After" in response
    assert "过多" in response.content.decode()
    assert PhoneCode.objects.count() == 1


def test_the_captcha_after_several_sends_from_one_address(client, city, settings):
    import time_machine
    from captcha.models import CaptchaStore
    from django.utils.timezone import timedelta

    url = reverse("residents:sign_up")
    start = timezone.now()
    for n in range(services.CAPTCHA_AFTER):
        with time_machine.travel(start + timedelta(minutes=2 * n)):
            _send(client, url, phone=f"1391234560{n}")
    with time_machine.travel(start + timedelta(minutes=10)):
        page = client.get(url).content.decode()
        assert "captcha_0" in page
        response = _send(client, url, phone="13912345699")
        assert response.status_code == 200 and "请输入图中字符" in response.content.decode()
        assert not PhoneCode.objects.filter(phone="13912345699").exists()
        store = CaptchaStore.objects.order_by("-pk").first()
        _send(client, url, phone="13912345699", captcha_0=store.hashkey, captcha_1=store.response)
        assert PhoneCode.objects.filter(phone="13912345699").exists()


def test_sign_in_by_code_page_and_unknown_phone(client, city, django_capture_on_commit_callbacks):
    url = reverse("residents:sign_in")
    response = _send(client, url, phone="13900000000", REMOTE_ADDR="10.1.1.1")
    assert "尚未注册" in response.content.decode()
    phone = city.resident.phone
    with django_capture_on_commit_callbacks(execute=True):
        _send(client, url, phone=phone)
    response = client.post(url, {"phone": phone, "code": last_code(phone)})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == city.resident.pk


def test_the_login_page_links_to_code_sign_in(client):
    assert reverse("residents:sign_in") in client.get(reverse("accounts:login")).content.decode()


def test_mine_lists_my_items_with_their_links(client, city):
    mine = make_incident(city, reporter=city.resident, state=IncidentState.FEEDBACK_SENT)
    followed = make_incident(city, reporter=city.resident2)
    IncidentFollower.objects.create(incident=followed, user=city.resident, source="follow")
    theirs = make_incident(city, reporter=city.resident2, description="别人的事")
    client.force_login(city.resident)
    page = client.get(reverse("residents:mine")).content.decode()
    assert reverse("residents:report", args=[mine.public_id]) in page
    assert reverse("residents:report", args=[followed.public_id]) in page
    assert theirs.public_id not in page and "别人的事" not in page
    assert "#rate" in page  # the rating is asked
    assert client.get(reverse("residents:report", args=[followed.public_id])).status_code == 200
    assert client.get(reverse("residents:report", args=[theirs.public_id])).status_code == 404


def test_claim_page(client, city):
    incident = make_incident(city, reporter=None, reporter_phone=city.resident.phone)
    client.force_login(city.resident)
    page = client.get(reverse("residents:mine")).content.decode()
    assert "claim-link" in page
    city.resident.phone_verified_at = timezone.now()
    city.resident.save()
    response = client.post(reverse("residents:claim"))
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.reporter == city.resident


def test_claim_needs_a_verified_phone(client, city):
    client.force_login(city.resident)
    response = client.post(reverse("residents:claim"), {"code": "123456"})
    assert response.status_code == 400


def test_download_my_data(client, city):
    make_incident(city, reporter=city.resident, description="门口垃圾")
    client.force_login(city.resident)
    response = client.get(reverse("residents:my_data_json"))
    assert response.status_code == 200
    assert json.loads(response.content)["reports"][0]["description"] == "门口垃圾"
    response = client.get(reverse("residents:my_data_xlsx"))
    assert response.status_code == 200 and response.content[:2] == b"PK"


def test_close_my_account(client, city):
    client.force_login(city.resident)
    url = reverse("residents:close_account")
    response = client.post(url, {"confirm_phone": "13000000000"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    assert client.post(url, {"confirm_phone": city.resident.phone}).status_code == 302
    city.resident.refresh_from_db()
    assert not city.resident.is_active
    assert "_auth_user_id" not in client.session


def test_follow_from_the_report_form(client, city):
    incident = make_incident(city, reporter=city.resident2)
    url = reverse("residents:follow", args=[incident.public_id])
    assert reverse("residents:sign_in") in client.post(url)["Location"]
    client.force_login(city.resident)
    response = client.post(url)
    assert response.status_code == 302
    assert IncidentFollower.objects.filter(incident=incident, user=city.resident).exists()
    client.force_login(city.dispatcher)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert 'id="followers-count"' in page


def test_report_form_offers_nearby_reports(client, city):
    client.force_login(city.resident)
    page = client.get(reverse("incidents:report")).content.decode()
    assert 'id="nearby-reports"' in page and "nearby.js" in page


def test_public_results_pages(client, city):
    shown = make_incident(
        city,
        state=IncidentState.CLOSED,
        closed_at=timezone.now(),
        description="门口垃圾 13912345678",
        public_result="已清运",
    )
    dispute = make_incident(
        city, category="1001", state=IncidentState.CLOSED, closed_at=timezone.now()
    )
    with translation.override("zh-hans"):
        page = client.get(reverse("residents:results")).content.decode()
    assert shown.public_id in page and dispute.public_id not in page
    assert "13912345678" not in page and shown.tracking_number not in page
    assert client.get(reverse("residents:result", args=[shown.public_id])).status_code == 200
    assert client.get(reverse("residents:result", args=[dispute.public_id])).status_code == 404


def test_merge_page(client, city):
    target = make_incident(city)
    duplicate = make_incident(city, reporter=city.resident)
    url = reverse("incidents:merge", args=[duplicate.pk])
    client.force_login(city.resident)
    assert client.get(url).status_code == 403
    client.force_login(city.dispatcher)
    assert client.get(url).status_code == 200
    assert client.post(url, {"into": target.public_id, "reason": ""}).status_code == 400
    assert client.post(url, {"into": target.public_id, "reason": "同一处"}).status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.merged_into == target
    page = client.get(reverse("incidents:detail", args=[duplicate.pk])).content.decode()
    assert 'id="merged-into"' in page
