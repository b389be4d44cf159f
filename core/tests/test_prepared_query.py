"""core.prepared_query.PreparedQuery: compiled once, the same rows as the ORM."""

from __future__ import annotations

import pytest

from core.models import Notification
from core.prepared_query import PreparedQuery
from tests.builders import make_user

pytestmark = pytest.mark.django_db


def _notes(user_id, ids):
    return (
        Notification.objects.filter(user_id=user_id, pk__in=ids)
        .order_by("pk")
        .values_list("pk", "title", "read_at", "created_at")
    )


def test_rows_and_dicts_equal_the_orms():
    user = make_user("reader", roles=["resident"])
    other = make_user("other", roles=["resident"])
    notes = [Notification.objects.create(user=user, title=f"t{n}") for n in range(3)]
    Notification.objects.create(user=other, title="not mine")
    query = PreparedQuery(_notes)
    ids = [n.pk for n in notes[:2]]
    assert [row[:2] for row in query.rows(user.pk, ids)] == [(n.pk, n.title) for n in notes[:2]]
    expected = list(
        Notification.objects.filter(user_id=user.pk, pk__in=ids)
        .order_by("pk")
        .values("pk", "title", "read_at", "created_at")
    )
    assert query.dicts(user.pk, ids) == expected  # converters applied (aware datetimes ...)
    assert query.dicts(other.pk, ids) == []


def test_compiled_once_per_shape():
    user = make_user("reader", roles=["resident"])
    query = PreparedQuery(_notes)
    query.rows(user.pk, [1, 2])
    query.rows(user.pk + 1, [3, 4])
    assert len(query.compiled) == 1
    query.rows(user.pk, [1, 2, 3])
    assert len(query.compiled) == 2
    _sql, params = query.sql_with_params(user.pk, [5, 6])
    assert {user.pk, 5, 6} <= set(params)


def test_a_value_that_is_not_a_parameter_is_refused():
    query = PreparedQuery(lambda user_id: Notification.objects.filter(user_id=1).values_list("pk"))
    with pytest.raises(RuntimeError, match="not in the SQL"):
        query.rows(1)
