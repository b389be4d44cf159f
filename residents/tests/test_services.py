"""Residents' services: codes, sign-up and sign-in by code, claim, the data rights."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone, translation

from accounts.models import User
from core.exceptions import PermissionDeniedError, ValidationFailed
from incidents.models import Incident, IncidentState
from incidents.tests.factories import make_incident
from residents import rights, services
from residents.models import CodePurpose, PhoneCode, ResidentProfile
from residents.privacy import PRIVACY_NOTICE_VERSION
from residents.tests.conftest import SENT, last_code

pytestmark = pytest.mark.django_db
PHONE = "13912345678"


def ask(phone=PHONE, purpose=CodePurpose.SIGN_UP, client="10.0.0.1", captcha_ok=False):
    return services.phone_code_request(
        request=services.CodeRequest(phone=phone, purpose=purpose, client=client),
        captcha_ok=captcha_ok,
    )


def sign_up(city, code, **overrides):
    values = {
        "phone": PHONE,
        "code": code,
        "name": "林小梅",
        "home_region_id": city.a1.pk,
        "privacy_accepted": True,
    }
    values.update(overrides)
    return services.resident_sign_up(**values)


def test_a_code_is_sent_by_the_task_and_kept_only_hashed(city, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        item = ask()
    code = last_code(PHONE)
    item.refresh_from_db()
    assert item.code_pending == "" and item.sent_at is not None
    assert code not in item.code_hash
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT code_hash, code_pending FROM residents_phonecode")
        assert all(code not in (value or "") for row in cursor.fetchall() for value in row)
    from core.models import SmsMessage

    assert not SmsMessage.objects.filter(text__contains=code).exists()


def test_sign_up_with_the_code(city, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask()
    user = sign_up(city, last_code(PHONE))
    assert user.phone == PHONE and user.display_name == "林小梅"
    assert user.phone_verified_at is not None and user.home_region == city.a1
    assert user.is_verified_resident and user.has_role("resident")
    assert not user.has_usable_password()
    profile = ResidentProfile.objects.get(user=user)
    assert profile.privacy_notice_version == PRIVACY_NOTICE_VERSION
    assert profile.privacy_accepted_at is not None


def test_bad_input_changes_nothing_and_keeps_the_code(city, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask()
    code = last_code(PHONE)
    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as caught:
        sign_up(city, code, privacy_accepted=False, name="", home_region_id=None)
    assert set(caught.value.extra) == {"privacy_accepted", "name", "home_region"}
    assert "隐私" in caught.value.extra["privacy_accepted"][0]
    assert not User.objects.filter(phone=PHONE).exists()
    assert sign_up(city, code).phone == PHONE  # the code was not used up


def test_a_wrong_code_counts_a_try_and_five_end_it(city, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask()
    code = last_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        with translation.override("zh-hans"), pytest.raises(ValidationFailed) as caught:
            sign_up(city, wrong)
        assert str(left) in caught.value.extra["code"][0]
        assert "验证码" in caught.value.extra["code"][0]
    with pytest.raises(ValidationFailed):
        sign_up(city, wrong)
    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as caught:
        sign_up(city, code)  # the right code, too late: a new one is needed
    assert "重新获取" in caught.value.extra["code"][0]
    assert not User.objects.filter(phone=PHONE).exists()
    assert PhoneCode.objects.get().attempts == 5


def test_an_expired_code_is_refused(city, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask()
    code = last_code(PHONE)
    later = timezone.now() + timedelta(minutes=5, seconds=1)
    with (
        time_machine.travel(later),
        translation.override("zh-hans"),
        pytest.raises(ValidationFailed) as caught,
    ):
        sign_up(city, code)
    assert "过期" in caught.value.extra["code"][0]
    assert not User.objects.filter(phone=PHONE).exists()


def test_sends_are_limited_per_phone_and_per_address(city):
    ask()
    with translation.override("zh-hans"), pytest.raises(services.TooManyRequests) as caught:
        ask(client="10.0.0.2")  # the same phone a second later, from elsewhere
    assert caught.value.status_code == 429 and caught.value.retry_after > 0
    assert "过多" in caught.value.message
    assert PhoneCode.objects.count() == 1
    with pytest.raises(services.TooManyRequests):
        ask(phone="13912345679")  # another phone from the same address within the minute


def test_ten_a_day_per_phone(city):
    start = timezone.now()
    for n in range(10):
        with time_machine.travel(start + timedelta(minutes=2 * n)):
            ask(client=f"10.0.1.{n}", captcha_ok=True)
    with (
        time_machine.travel(start + timedelta(minutes=30)),
        pytest.raises(services.TooManyRequests),
    ):
        ask(client="10.0.2.1", captcha_ok=True)
    assert PhoneCode.objects.count() == 10


def test_a_captcha_after_several_sends_from_one_address(city):
    start = timezone.now()
    for n in range(services.CAPTCHA_AFTER):
        with time_machine.travel(start + timedelta(minutes=2 * n)):
            ask(phone=f"1391234560{n}")
    with time_machine.travel(start + timedelta(minutes=10)):
        with pytest.raises(ValidationFailed) as caught:
            ask(phone="13912345699")
        assert "captcha" in caught.value.extra
        assert PhoneCode.objects.count() == services.CAPTCHA_AFTER
        ask(phone="13912345699", captcha_ok=True)


def test_sign_in_by_code_and_an_unknown_phone(city, django_capture_on_commit_callbacks):
    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as caught:
        ask(purpose=CodePurpose.SIGN_IN)
    assert "注册" in caught.value.extra["phone"][0]
    assert PhoneCode.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        ask(phone=city.resident.phone, purpose=CodePurpose.SIGN_IN, client="10.0.0.3")
    user = services.resident_sign_in(phone=city.resident.phone, code=last_code(city.resident.phone))
    assert user == city.resident and user.phone_verified_at is not None


def test_probing_for_accounts_spends_the_address_budget(city):
    with pytest.raises(ValidationFailed):
        ask(phone="13900000000", purpose=CodePurpose.SIGN_IN)
    with pytest.raises(services.TooManyRequests):  # the same address within the minute
        ask(phone="13900000001", purpose=CodePurpose.SIGN_IN)


def test_sign_up_code_is_not_a_sign_in_code(city, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask(phone=city.resident.phone, purpose=CodePurpose.SIGN_IN)
    with (
        time_machine.travel(timezone.now() + timedelta(minutes=2)),
        pytest.raises(ValidationFailed),
    ):
        ask(phone=city.resident.phone, purpose=CodePurpose.SIGN_UP, client="10.9.9.9")
    with pytest.raises(ValidationFailed):
        services.resident_sign_in(phone=city.resident.phone, code="12345")  # not 6 digits


def test_claim_reports_mediation_and_petitions(city):
    resident = city.resident
    anonymous = make_incident(city, reporter=None, reporter_phone=resident.phone)
    other = make_incident(city, reporter=None, reporter_phone="13800009999")
    with pytest.raises(PermissionDeniedError):
        rights.resident_claim(user=resident)
    resident.phone_verified_at = timezone.now()
    resident.save()
    counts = rights.resident_claim(user=resident)
    assert counts["incidents"] == 1
    anonymous.refresh_from_db()
    other.refresh_from_db()
    assert anonymous.reporter == resident and other.reporter is None
    assert rights.resident_claim(user=resident)["incidents"] == 0  # twice: nothing more


def test_download_my_data(city):
    make_incident(city, reporter=city.resident, description="门口垃圾")
    data = rights.resident_data_export(user=city.resident)
    assert data["account"]["phone"] == city.resident.phone
    assert [r["description"] for r in data["reports"]] == ["门口垃圾"]
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(rights.resident_data_xlsx(data)))
    assert {"account", "reports", "follows", "mediation_applications", "petitions"} <= set(
        book.sheetnames
    )


def test_close_my_account_anonymises_what_is_closed(city):
    resident = city.resident
    closed = make_incident(
        city,
        state=IncidentState.CLOSED,
        reporter=resident,
        reporter_name="林小梅",
        reporter_phone=resident.phone,
        closed_at=timezone.now(),
    )
    open_one = make_incident(
        city, reporter=resident, reporter_name="林小梅", reporter_phone=resident.phone
    )
    with pytest.raises(ValidationFailed):
        rights.resident_account_close(user=resident, confirm_phone="13000000000")
    assert User.objects.get(pk=resident.pk).is_active
    rights.resident_account_close(user=resident, confirm_phone=resident.phone)
    closed.refresh_from_db()
    open_one.refresh_from_db()
    resident.refresh_from_db()
    assert closed.reporter_phone == "" and closed.reporter_name != "林小梅"
    assert open_one.reporter_phone == resident.phone or open_one.reporter_name == "林小梅"
    assert not resident.is_active and resident.phone is None and resident.display_name != "resident"
    assert Incident.objects.filter(pk=closed.pk).exists()  # statistics keep the row


def test_the_code_task_runs_once(city, django_capture_on_commit_callbacks):
    from residents.tasks import phone_code_send, phone_codes_purge

    with django_capture_on_commit_callbacks(execute=True):
        item = ask()
    assert len(SENT) == 1
    phone_code_send.run(item.pk)  # a second run: nothing left to send
    assert len(SENT) == 1
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert phone_codes_purge.run() == 1


def test_demo_is_idempotent(city):
    from residents.demo import load_demo

    load_demo()
    load_demo()
    city.resident.refresh_from_db()
    assert city.resident.is_verified_resident
    assert ResidentProfile.objects.filter(user=city.resident).count() == 1
