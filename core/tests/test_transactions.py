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


def test_a_bound_method_counts_as_the_same_callback(django_capture_on_commit_callbacks):
    """token.publish is a new bound-method object on every access: still once."""
    calls = []

    class Token:
        def __init__(self, name: str) -> None:
            self.name = name

        def publish(self) -> None:
            calls.append(self.name)

    first, second = Token("a"), Token("b")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        on_commit_once(first.publish)
        on_commit_once(first.publish)
        on_commit_once(second.publish)
    assert calls == ["a", "b"]
