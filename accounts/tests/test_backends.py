import pytest
from django.contrib.auth import authenticate

from accounts.backends import lockout_username
from tests.builders import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_sign_in_with_username_or_phone(rf):
    user = make_user("wang", phone="13800001234")
    request = rf.post("/accounts/login/")
    assert authenticate(request, username="wang", password=DEFAULT_PASSWORD) == user
    assert authenticate(request, username="13800001234", password=DEFAULT_PASSWORD) == user
    assert authenticate(request, username=" 13800001234 ", password=DEFAULT_PASSWORD) == user


def test_wrong_password_unknown_user_and_inactive_user_are_refused(rf):
    make_user("wang", phone="13800001234")
    make_user("gone", is_active=False)
    request = rf.post("/accounts/login/")
    assert authenticate(request, username="wang", password="wrong") is None
    assert authenticate(request, username="13800009999", password=DEFAULT_PASSWORD) is None
    assert authenticate(request, username="gone", password=DEFAULT_PASSWORD) is None


def test_lockout_counts_a_phone_against_its_account(rf):
    make_user("wang", phone="13800001234")
    request = rf.post("/accounts/login/", {"username": "13800001234"})
    assert lockout_username(request, {"username": "13800001234"}) == "wang"
    assert lockout_username(request, {"username": "wang"}) == "wang"
    assert lockout_username(request, None) == "wang"
    assert lockout_username(request, {"username": "nobody"}) == "nobody"
    assert lockout_username(request, {"username": ""}) == ""
