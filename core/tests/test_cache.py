"""core.cache.SharedToken: the version token processes compare their copies with."""

import pytest
from django.core.cache import cache

from core.cache import SharedToken

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


def test_a_token_is_made_once_kept_and_replaced_by_publish():
    token = SharedToken("core:test:token")
    first = token.read()
    assert first and token.read() == first  # made once, then the same for everybody
    assert SharedToken("core:test:token").read() == first  # another process's view
    token.publish()
    assert token.read() not in (None, first)
    assert SharedToken("core:test:other").read() != token.read()


def test_an_unreachable_cache_reads_none_and_publish_does_not_raise(monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "set", down)
    token = SharedToken("core:test:token")
    assert token.read() is None
    token.publish()  # logged, not raised
