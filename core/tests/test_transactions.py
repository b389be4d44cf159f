import pytest
from django.db import transaction

from core.transactions import on_commit_once

pytestmark = pytest.mark.django_db


def test_a_callback_is_registered_once_per_transaction(django_capture_on_commit_callbacks):
    calls = []

    def publish() -> None:
        calls.append(1)

    def other() -> None:
        calls.append(2)

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        on_commit_once(publish)
        on_commit_once(publish)
        on_commit_once(other)
    assert callbacks == [publish, other]
    assert calls == [1, 2]
