"""Password policy (issue 23): length, character classes, history (no reuse of the last N),
maximum age (0 = off), Django's bundled common-password list; the SM3 password hasher."""

from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import PasswordHistory, User
from accounts.passwords import PBKDF2SM3PasswordHasher, password_expired
from tests.builders import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.django_db


def _codes(password: str, user=None) -> set[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return {e.code for e in error.error_list}
    return set()


def test_length_classes_and_common_passwords(settings):
    assert "password_too_short" in _codes("Ab1!x")
    assert "password_too_plain" in _codes("alllowercaseletters")
    assert "password_too_common" in _codes("password123")
    assert _codes("Wide-Field-2031") == set()


def test_history_refuses_the_last_n_passwords(settings):
    settings.PASSWORD_HISTORY_COUNT = 3
    user = make_user("wang")
    passwords = ["Harbour-Light-71", "Mountain-Road-82", "River-Bridge-93"]
    for password in passwords:
        assert _codes(password, user) == set() or password == DEFAULT_PASSWORD
        user.set_password(password)
        user.save()
    assert PasswordHistory.objects.filter(user=user).count() == 3
    for password in passwords:
        assert "password_reused" in _codes(password, user)
    user.set_password("Forest-Trail-04")
    user.save()
    # The oldest fell out of the window of 3.
    assert "password_reused" not in _codes("Harbour-Light-71", user)
    assert "password_reused" in _codes("Forest-Trail-04", user)


def test_the_password_change_page_applies_the_history(client, settings):
    user = make_user("wang")
    client.force_login(user)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": DEFAULT_PASSWORD,
            "new_password2": DEFAULT_PASSWORD,
        },
    )
    assert response.status_code == 200 and response.context["form"].errors
    response = client.post(
        "/accounts/password/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "Quiet-Garden-58",
            "new_password2": "Quiet-Garden-58",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).password_changed_at is not None


def test_maximum_age_is_off_by_default_and_forces_a_change_when_set(client, settings):
    user = make_user("wang")
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=400))
    user.refresh_from_db()
    assert settings.PASSWORD_MAX_AGE_DAYS == 0 and not password_expired(user)
    client.force_login(user)
    assert client.get("/accounts/inbox/").status_code == 200
    settings.PASSWORD_MAX_AGE_DAYS = 90
    response = client.get("/accounts/inbox/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/"
    assert client.get("/accounts/password/").status_code == 200
    client.post(
        "/accounts/password/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "Quiet-Garden-58",
            "new_password2": "Quiet-Garden-58",
        },
    )
    assert client.get("/accounts/inbox/").status_code == 200


def test_the_sm3_password_hasher():
    hasher = PBKDF2SM3PasswordHasher()
    encoded = hasher.encode("Quiet-Garden-58", hasher.salt(), iterations=1000)
    assert encoded.startswith("pbkdf2_sm3$")
    assert hasher.verify("Quiet-Garden-58", encoded)
    assert not hasher.verify("Quiet-Garden-59", encoded)
