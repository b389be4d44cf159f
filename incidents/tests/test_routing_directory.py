"""The routing directory (incidents.directory): the region tree and who holds the dispatcher and
department-handler roles where, kept per process under the pickers' shared token (issue #8).

Another process's change reaches this process only through the shared token: `saved_elsewhere`
saves through the ordinary signals (which publish the token) but keeps this process's copy,
as a change made by another web or worker process would. Without the token check, every
answer below after such a change would be the stale one."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, RoleCode, User
from grids.models import Region
from incidents import caches, directory, page_selectors, routing
from incidents.models import HandlingLevel, IncidentState
from incidents.tests.factories import make_incident
from tests.builders import make_user

S = IncidentState
pytestmark = pytest.mark.django_db
CG = "城管执法"


@pytest.fixture(autouse=True)
def own_cache(settings):
    """A cache of this module's own (the test settings' file cache is shared with whatever
    else runs tests on this machine, and their tokens would change under these tests)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "incidents-routing-directory",
        }
    }
    yield
    from django.core.cache import cache

    cache.clear()


@contextmanager
def saved_elsewhere(monkeypatch):
    """Saves inside the block behave as another process's: the signals publish the shared
    token, but this process's snapshot is not forgotten (only the token tells it)."""
    with monkeypatch.context() as patch:
        patch.setattr(caches, "clear_pickers", lambda: None)
        yield


@contextmanager
def cache_down(monkeypatch):
    """The shared cache is unreachable: every read and write raises (as core/tests do)."""
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    with monkeypatch.context() as patch:
        for name in ("get", "add", "set"):
            patch.setattr(cache, name, down)
        yield


def warm() -> directory.Directory:
    known = directory.current()
    assert known is not None
    return known


def routed(city, category: str, **fields) -> routing.DispatchTarget:
    return routing.route(make_incident(city, state=S.VERIFIED, category=category, **fields))


# --- the same answers as the database -----------------------------------------------------


def routing_answers(regions: list[Region]) -> dict:
    """Every routing read for every region, code, department and level of the test city."""
    departments = [CG, "交警", "水利", ""]
    codes = [r.code for r in regions] + ["", "350699000000"]
    return {
        "nearest": {r.pk: routing.nearest_dispatcher_ids(r) for r in regions},
        "nearest_by_id": {r.pk: routing.nearest_dispatcher_ids(r.pk) for r in regions},
        "unknown_region": routing.nearest_dispatcher_ids(987_654),
        "at": {r.pk: routing.dispatcher_ids_at(r) for r in regions},
        "chain": {r.pk: routing._region_chain_ids(r.pk) for r in regions},
        "handlers": {
            (d, code): routing.department_handler_ids(d, code)
            for d in departments
            for code in codes
        },
        "level": {
            (r.pk, level): getattr(routing.region_at_level(r, level), "pk", None)
            for r in regions
            for level in HandlingLevel.values
        },
    }


def test_the_directory_answers_exactly_like_the_database(city, monkeypatch):
    # Staff that test the edges: inactive people, two roles at once, a handler of another
    # department, a second dispatcher (order), a dispatcher without a region, a supervisor.
    make_user("dispatcher_a1", roles=["dispatcher"], region=city.a1)
    make_user("dispatcher_a1_b", roles=["dispatcher"], region=city.a1)
    make_user("gone", roles=["dispatcher"], region=city.a2, is_active=False)
    make_user(
        "gone_cg",
        roles=["department_handler"],
        region=city.district,
        department=CG,
        is_active=False,
    )
    make_user(
        "both", roles=["dispatcher", "department_handler"], region=city.street_b, department="交警"
    )
    make_user("water", roles=["department_handler"], region=city.b1, department="水利")
    make_user("nowhere", roles=["dispatcher"])
    make_user("cg_street", roles=["department_handler"], region=city.street_a, department=CG)
    regions = list(Region.objects.order_by("pk"))
    with monkeypatch.context() as patch:
        patch.setattr(directory, "current", lambda: None)  # the database, as before
        expected = routing_answers(regions)
    warm()
    with CaptureQueriesContext(connection) as ctx:
        assert routing_answers(regions) == expected
    assert ctx.captured_queries == []  # every answer came from the snapshot
    assert expected["nearest"][city.a1.pk] == sorted(
        User.objects.filter(username__in=["dispatcher_a1", "dispatcher_a1_b"]).values_list(
            "pk", flat=True
        )
    )
    assert expected["handlers"][(CG, city.a1.code)] == sorted(
        [city.handler.pk, User.objects.get(username="cg_street").pk]
    )


def test_it_is_built_with_two_queries_once_per_token(city):
    with CaptureQueriesContext(connection) as ctx:
        known = warm()
    assert len(ctx.captured_queries) == 2, [q["sql"] for q in ctx.captured_queries]
    assert '"boundary"' not in ctx.captured_queries[0]["sql"]
    with CaptureQueriesContext(connection) as ctx:
        assert directory.current() is known
        assert routing.nearest_dispatcher_ids(city.a1) == [city.dispatcher.pk]
        street = routing.region_at_level(city.a1, HandlingLevel.STREET)
    assert ctx.captured_queries == []
    assert street.pk == city.street_a.pk and street.name == city.street_a.name
    # The boundary is not kept; reading it is one query, and gives the stored one.
    community = known.region(city.a1.pk)
    with CaptureQueriesContext(connection) as ctx:
        assert community.boundary == city.a1.boundary
    assert len(ctx.captured_queries) == 1
    page_selectors.PICKERS_TOKEN.publish()
    with CaptureQueriesContext(connection) as ctx:
        assert directory.current() is not known
    assert len(ctx.captured_queries) == 2


# --- another process's changes: seen through the token --------------------------------------


def test_a_dispatcher_added_elsewhere_is_routed_to(city, monkeypatch):
    assert routing.nearest_dispatcher_ids(city.a1) == [city.dispatcher.pk]  # the street's
    # Community-level work (grid work outside any cell): nobody of the community's own.
    target = routed(city, "0108", grid_cell=None)
    assert (target.kind, target.level, target.assignee_id) == ("unit", "community", None)
    with saved_elsewhere(monkeypatch):
        own = make_user("dispatcher_a1", roles=["dispatcher"], region=city.a1)
    assert routing.nearest_dispatcher_ids(city.a1) == [own.pk]  # the community's own
    assert routing.dispatcher_ids_at(city.a1) == [own.pk]
    # ... now the community's dispatcher, in person.
    target = routed(city, "0108", grid_cell=None)
    assert (target.kind, target.level, target.assignee_id) == ("person", "community", own.pk)


def test_a_dispatcher_deactivated_elsewhere_is_never_chosen(city, monkeypatch):
    target = routed(city, "0107")  # street level, 交警: nobody of 交警, the street's dispatcher
    assert (target.kind, target.assignee_id) == ("person", city.dispatcher.pk)
    with saved_elsewhere(monkeypatch):
        city.dispatcher.is_active = False
        city.dispatcher.save()
    assert routing.dispatcher_ids_at(city.street_a) == []
    assert routing.nearest_dispatcher_ids(city.a1) == []
    target = routed(city, "0107")
    assert (target.kind, target.region_id, target.assignee_id) == ("unit", city.street_a.pk, None)


def test_a_handler_moved_to_another_department_elsewhere(city, monkeypatch):
    target = routed(city, "0101")  # department level, 城管执法: the district's handler
    assert (target.kind, target.department, target.assignee_id) == ("person", CG, city.handler.pk)
    with saved_elsewhere(monkeypatch):
        city.handler.department = "水利"
        city.handler.save()
    assert routing.department_handler_ids(CG, city.a1.code) == []
    assert routing.department_handler_ids("水利", city.a1.code) == [city.handler.pk]
    # Nobody of 城管执法 here any more: the district government takes it.
    target = routed(city, "0101")
    assert (target.kind, target.level, target.department) == ("unit", "district", "")


def test_a_handler_given_another_scope_elsewhere(city, monkeypatch):
    assert routing.department_handler_ids(CG, city.b1.code) == [city.handler.pk]
    with saved_elsewhere(monkeypatch):
        city.handler.scope_region = city.street_a
        city.handler.save()
    assert routing.department_handler_ids(CG, city.a1.code) == [city.handler.pk]
    assert routing.department_handler_ids(CG, city.b1.code) == []
    target = routed(city, "0101", cell="cell_b1_1")
    assert (target.kind, target.level) == ("unit", "district")
    assert routed(city, "0101").assignee_id == city.handler.pk


def test_a_region_re_parented_elsewhere(city, monkeypatch):
    assert routing.nearest_dispatcher_ids(city.a1) == [city.dispatcher.pk]
    assert routing.region_at_level(city.a1, HandlingLevel.STREET).pk == city.street_a.pk
    with saved_elsewhere(monkeypatch):
        moved = Region.objects.get(pk=city.a1.pk)
        moved.parent = city.street_b
        moved.save()
    city.a1.parent_id = city.street_b.pk  # the caller's instance, as a fresh read gives it
    assert routing.nearest_dispatcher_ids(city.a1) == [city.dispatcher_b.pk]
    assert routing.region_at_level(city.a1, HandlingLevel.STREET).pk == city.street_b.pk
    assert routing._region_chain_ids(city.a1.pk) == [
        city.a1.pk,
        city.street_b.pk,
        city.district.pk,
        city.city.pk,
    ]
    target = routed(city, "0107")
    assert (target.region_id, target.assignee_id) == (city.street_b.pk, city.dispatcher_b.pk)


def test_roles_changed_elsewhere(city, monkeypatch):
    assert routing.nearest_dispatcher_ids(city.a1) == [city.dispatcher.pk]
    with saved_elsewhere(monkeypatch):
        city.dispatcher.roles.remove(Role.objects.get(code=RoleCode.DISPATCHER))
    assert routing.nearest_dispatcher_ids(city.a1) == []
    with saved_elsewhere(monkeypatch):
        city.worker2.roles.add(Role.objects.get(code=RoleCode.DEPARTMENT_HANDLER))
        User.objects.filter(pk=city.worker2.pk).update(department="交警")  # no signal ...
        city.worker2.roles.add(Role.objects.get(code=RoleCode.DISPATCHER))  # ... this one
    assert routing.nearest_dispatcher_ids(city.a1) == [city.worker2.pk]
    assert routing.department_handler_ids("交警", city.a1.code) == [city.worker2.pk]


def test_without_a_new_token_the_snapshot_is_what_routing_reads(city):
    """The snapshot is what answers (not the database): a change that publishes nothing (a
    bulk update: no signal) is not seen until a token is published."""
    assert routing.dispatcher_ids_at(city.street_a) == [city.dispatcher.pk]
    User.objects.filter(pk=city.dispatcher.pk).update(is_active=False)
    assert routing.dispatcher_ids_at(city.street_a) == [city.dispatcher.pk]
    page_selectors.PICKERS_TOKEN.publish()
    assert routing.dispatcher_ids_at(city.street_a) == []


def test_this_process_sees_its_own_change_at_once(city):
    """The process that saves forgets its copy in the signal (caches.clear_pickers), before
    the token is even read again."""
    warm()
    city.dispatcher.is_active = False
    city.dispatcher.save()
    assert directory.DIRECTORY._values == {}
    assert routing.nearest_dispatcher_ids(city.a1) == []


def test_clear_pickers_forgets_the_directory(city):
    known = warm()
    page_selectors.clear_pickers()  # what the root conftest does between tests
    assert directory.DIRECTORY._token is None and directory.DIRECTORY._values == {}
    assert directory.current() is not known


# --- the cache is down: the database answers -------------------------------------------------


def test_with_the_cache_unreachable_routing_reads_the_database(city, monkeypatch):
    warm()  # a snapshot exists: it must not be used while the token cannot be read
    with cache_down(monkeypatch):
        User.objects.filter(pk=city.dispatcher.pk).update(is_active=False)  # no signal
        make_user("dispatcher_b1", roles=["dispatcher"], region=city.b1)
        assert directory.current() is None
        with CaptureQueriesContext(connection) as ctx:
            assert routing.nearest_dispatcher_ids(city.a1) == []
        assert len(ctx.captured_queries) == 2  # the chain, the dispatchers along it
        assert routing.dispatcher_ids_at(city.b1) == sorted(
            User.objects.filter(username="dispatcher_b1").values_list("pk", flat=True)
        )
        assert routing.department_handler_ids(CG, city.a1.code) == [city.handler.pk]
        assert routing.region_at_level(city.a1, HandlingLevel.DISTRICT).pk == city.district.pk
        target = routed(city, "0107")
        assert (target.kind, target.region_id) == ("unit", city.street_a.pk)
        assert routed(city, "0101").assignee_id == city.handler.pk


# --- one snapshot per decision ---------------------------------------------------------------


def test_a_pinned_block_reads_the_token_once_and_still_sees_its_own_changes(city, monkeypatch):
    reads = []
    read = page_selectors.PICKERS_TOKEN.read
    monkeypatch.setattr(page_selectors.PICKERS_TOKEN, "read", lambda: reads.append(1) or read())
    with directory.pinned():
        assert routing.nearest_dispatcher_ids(city.a1) == [city.dispatcher.pk]
        assert routing.department_handler_ids(CG, city.a1.code) == [city.handler.pk]
        with directory.pinned():  # nested: the same snapshot
            assert routing.dispatcher_ids_at(city.street_a) == [city.dispatcher.pk]
        assert len(reads) == 1
        city.dispatcher.is_active = False
        city.dispatcher.save()  # this process's own change: seen at once
        assert routing.dispatcher_ids_at(city.street_a) == []
        assert len(reads) == 2
    routing.dispatcher_ids_at(city.street_a)
    assert len(reads) == 3  # outside a block: every lookup reads the token
    reads.clear()
    routed(city, "0107")  # route() is one decision: one read
    assert len(reads) == 1
