"""Patrol log (巡查日志): services, scope, pages and API."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from incidents import patrols as helpers
from incidents import selectors, services
from incidents.models import Channel, PatrolLog
from incidents.tests.conftest import IN_A1_1, IN_A1_2, IN_B1_1

pytestmark = pytest.mark.django_db


def point(lat_lng, moment):
    return [lat_lng[0], lat_lng[1], moment.isoformat()]


# --- pure helpers -----------------------------------------------------------------------------


def test_haversine_and_track_distance():
    # one degree of latitude is about 111.2 km
    assert helpers.haversine_m((24.0, 117.0), (25.0, 117.0)) == pytest.approx(111_195, rel=1e-3)
    now = timezone.now()
    track = [point(IN_A1_1, now), point(IN_A1_2, now), point(IN_A1_1, now)]
    leg = helpers.haversine_m(IN_A1_1, IN_A1_2)
    assert 1000 < leg < 1020  # 0.01° of longitude at 24.5° N
    assert helpers.track_distance_m(track) == pytest.approx(2 * leg)


def test_points_are_validated_as_a_batch():
    now = timezone.now()
    start = now - timedelta(minutes=10)
    ok = helpers.clean_points(
        [[24.5, 117.6, int(now.timestamp() * 1000)], {"lat": 24.5, "lng": 117.61}],
        not_before=start,
        now=now,
    )
    assert len(ok) == 2 and all(isinstance(p[2], str) for p in ok)
    for bad in (
        "nope",
        [[91, 117.6, now.isoformat()]],
        [[24.5, "x", now.isoformat()]],
        [[24.5, 117.6, "yesterday"]],
        [[24.5, 117.6, (start - timedelta(hours=1)).isoformat()]],  # before the patrol
        [[24.5, 117.6, (now + timedelta(hours=1)).isoformat()]],  # in the future
        [[24.5, 117.6, now.isoformat()]] * (helpers.MAX_POINTS_PER_CALL + 1),
    ):
        with pytest.raises(ValidationFailed) as caught:
            helpers.clean_points(bad, not_before=start, now=now)
        assert "points" in caught.value.extra


# --- services ---------------------------------------------------------------------------------


def test_start_add_points_end(city):
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False):
        patrol = services.patrol_start(actor=city.worker, notes="早班")
    assert patrol.is_open and patrol.region_code == city.cell_a1_1.community.code
    assert set(patrol.cells.all()) == {city.cell_a1_1}  # the worker's own cells by default
    with time_machine.travel(t0 + timedelta(seconds=60), tick=False):
        services.patrol_add_points(
            patrol_id=patrol.pk,
            actor=city.worker,
            points=[
                point(IN_A1_1, t0 + timedelta(seconds=30)),
                point(IN_A1_2, t0 + timedelta(seconds=60)),
            ],
        )
        # a retried request (same times) adds nothing
        again = services.patrol_add_points(
            patrol_id=patrol.pk,
            actor=city.worker,
            points=[point(IN_A1_2, t0 + timedelta(seconds=60))],
        )
    assert len(again.track) == 2
    assert again.distance_m == pytest.approx(helpers.haversine_m(IN_A1_1, IN_A1_2), abs=0.2)
    assert city.cell_a1_2 in again.cells.all()  # walked through a neighbouring cell
    with time_machine.travel(t0 + timedelta(minutes=45), tick=False):
        ended = services.patrol_end(patrol_id=patrol.pk, actor=city.worker, notes="路灯不亮")
    assert ended.ended_at == t0 + timedelta(minutes=45) and ended.notes == "路灯不亮"
    with pytest.raises(ConflictError):
        services.patrol_add_points(
            patrol_id=patrol.pk, actor=city.worker, points=[point(IN_A1_1, timezone.now())]
        )
    with pytest.raises(ConflictError):
        services.patrol_end(patrol_id=patrol.pk, actor=city.worker)


def test_one_open_patrol_per_worker_and_only_grid_workers(city):
    services.patrol_start(actor=city.worker)
    with pytest.raises(ConflictError):
        services.patrol_start(actor=city.worker)
    assert PatrolLog.objects.filter(worker=city.worker).count() == 1
    with pytest.raises(PermissionDeniedError):
        services.patrol_start(actor=city.dispatcher)
    with pytest.raises(ValidationFailed):
        services.patrol_start(actor=city.worker2, cell_ids=[city.cell_a1_1.pk])  # not theirs
    assert not PatrolLog.objects.filter(worker=city.worker2).exists()


def test_a_bad_point_writes_nothing(city):
    patrol = services.patrol_start(actor=city.worker)
    good = point(IN_A1_1, timezone.now())
    with pytest.raises(ValidationFailed):
        services.patrol_add_points(
            patrol_id=patrol.pk, actor=city.worker, points=[good, [24.5, 200, good[2]]]
        )
    patrol.refresh_from_db()
    assert patrol.track == [] and patrol.distance_m == 0


def test_only_the_worker_records_their_patrol(city):
    patrol = services.patrol_start(actor=city.worker)
    now_point = [point(IN_A1_1, timezone.now())]
    with pytest.raises(PermissionDeniedError):  # the dispatcher reads it, never writes it
        services.patrol_add_points(patrol_id=patrol.pk, actor=city.dispatcher, points=now_point)
    with pytest.raises(NotFoundError):  # another worker does not even see it
        services.patrol_end(patrol_id=patrol.pk, actor=city.worker2)


def test_patrol_reports_are_linked_to_the_open_patrol(city):
    patrol = services.patrol_start(actor=city.worker)
    during = services.incident_report(
        actor=city.worker,
        category=city.categories["0102"],
        description="井盖缺失",
        channel=Channel.PATROL,
        lat=IN_A1_1[0],
        lng=IN_A1_1[1],
    )
    web = services.incident_report(
        actor=city.resident,
        category=city.categories["0102"],
        description="居民上报",
        channel=Channel.RESIDENT_WEB,
        lat=IN_A1_1[0],
        lng=IN_A1_1[1],
    )
    services.patrol_end(patrol_id=patrol.pk, actor=city.worker)
    after = services.incident_report(
        actor=city.worker,
        category=city.categories["0102"],
        description="巡查结束后",
        channel=Channel.PATROL,
        lat=IN_A1_1[0],
        lng=IN_A1_1[1],
    )
    assert during.patrol_id == patrol.pk
    assert web.patrol_id is None and after.patrol_id is None
    assert list(selectors.patrol_incidents(city.worker, patrol)) == [during]


# --- scope ------------------------------------------------------------------------------------


def test_who_sees_which_patrols(city):
    a = services.patrol_start(actor=city.worker)
    b = services.patrol_start(actor=city.worker_b)
    assert set(selectors.patrols_visible(city.worker)) == {a}
    assert set(selectors.patrols_visible(city.worker2)) == set()
    assert set(selectors.patrols_visible(city.dispatcher)) == {a}  # street A
    assert set(selectors.patrols_visible(city.dispatcher_b)) == {b}  # street B
    assert set(selectors.patrols_visible(city.supervisor)) == {a, b}  # the city
    assert set(selectors.patrols_visible(city.admin)) == {a, b}
    assert set(selectors.patrols_visible(city.resident)) == set()
    assert set(selectors.patrols_visible(city.handler)) == set()
    with pytest.raises(NotFoundError):
        selectors.patrol_get_for_user(user=city.dispatcher_b, patrol_id=a.pk)


# --- pages ------------------------------------------------------------------------------------


def login(client, user):
    client.force_login(user, backend="accounts.backends.PhoneOrUsernameBackend")


def test_start_record_and_stop_from_the_pages(client, city):
    login(client, city.worker)
    tasks = client.get(reverse("incidents:my_tasks"))
    assert b'id="patrol-start"' in tasks.content
    response = client.post(reverse("incidents:patrol_start"))
    patrol = PatrolLog.objects.get(worker=city.worker)
    assert response.status_code == 302 and response.url == reverse(
        "incidents:patrol_detail", args=[patrol.pk]
    )
    page = client.get(response.url)
    assert page.status_code == 200
    assert b'id="patrol-map"' in page.content and b"data-points-url" in page.content
    assert b'id="patrol-end"' in page.content
    # the page's script: JSON points, answered in JSON
    url = reverse("incidents:patrol_points", args=[patrol.pk])
    sent = client.post(
        url,
        data=json.dumps({"points": [point(IN_A1_1, timezone.now())]}),
        content_type="application/json",
    )
    assert sent.status_code == 200 and sent.json()["points"] == 1
    bad = client.post(
        url, data=json.dumps({"points": [[999, 0, None]]}), content_type="application/json"
    )
    assert bad.status_code == 400 and "points" in bad.json()["errors"]
    # a point added by hand
    manual = client.post(url, {"lat": IN_A1_2[0], "lng": IN_A1_2[1]})
    assert manual.status_code == 302
    patrol.refresh_from_db()
    assert len(patrol.track) == 2 and patrol.distance_m > 900
    # my tasks shows the stop button, which keeps the notes
    PatrolLog.objects.filter(pk=patrol.pk).update(notes="早班")
    assert b'id="patrol-stop"' in client.get(reverse("incidents:my_tasks")).content
    client.post(reverse("incidents:patrol_end", args=[patrol.pk]))
    patrol.refresh_from_db()
    assert patrol.ended_at is not None and patrol.notes == "早班"
    listing = client.get(reverse("incidents:patrols"))
    assert listing.status_code == 200
    assert f'data-patrol-id="{patrol.pk}"'.encode() in listing.content
    assert b"km" in listing.content
    ended_page = client.get(reverse("incidents:patrol_detail", args=[patrol.pk]))
    assert b"data-points-url" not in ended_page.content


def test_a_second_start_goes_to_the_open_patrol(client, city):
    login(client, city.worker)
    client.post(reverse("incidents:patrol_start"))
    patrol = PatrolLog.objects.get(worker=city.worker)
    again = client.post(reverse("incidents:patrol_start"))
    assert again.url == reverse("incidents:patrol_detail", args=[patrol.pk])
    assert PatrolLog.objects.filter(worker=city.worker).count() == 1


def test_patrol_pages_are_scoped(client, city):
    patrol = services.patrol_start(actor=city.worker)
    login(client, city.dispatcher)
    assert client.get(reverse("incidents:patrol_detail", args=[patrol.pk])).status_code == 200
    listing = client.get(reverse("incidents:patrols"))
    assert f'data-patrol-id="{patrol.pk}"'.encode() in listing.content
    assert b'id="patrol-start"' not in listing.content
    # the dispatcher cannot write into it
    response = client.post(
        reverse("incidents:patrol_points", args=[patrol.pk]),
        data=json.dumps({"points": [point(IN_A1_1, timezone.now())]}),
        content_type="application/json",
    )
    assert response.status_code == 403
    client.logout()
    login(client, city.dispatcher_b)
    assert client.get(reverse("incidents:patrol_detail", args=[patrol.pk])).status_code == 404
    client.logout()
    login(client, city.resident)
    assert client.get(reverse("incidents:patrols")).status_code == 403


def test_the_menu_lists_the_patrol_log(client, city):
    login(client, city.worker)
    assert (
        reverse("incidents:patrols").encode() in client.get(reverse("incidents:my_tasks")).content
    )


# --- API --------------------------------------------------------------------------------------


def test_patrol_api(client, city):
    login(client, city.worker)
    created = client.post("/api/v1/patrols/", {"notes": "夜巡"}, content_type="application/json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert client.post("/api/v1/patrols/", {}, content_type="application/json").status_code == 409
    moment = timezone.now()
    added = client.post(
        f"/api/v1/patrols/{pk}/points/",
        {"points": [point(IN_B1_1, moment - timedelta(seconds=1)), point(IN_A1_1, moment)]},
        content_type="application/json",
    )
    assert added.status_code == 200 and len(added.json()["track"]) == 2
    assert added.json()["distance_m"] > 0
    bad = client.post(
        f"/api/v1/patrols/{pk}/points/", {"points": [[1]]}, content_type="application/json"
    )
    assert bad.status_code == 400
    ended = client.post(f"/api/v1/patrols/{pk}/end/", {}, content_type="application/json")
    assert ended.status_code == 200 and ended.json()["is_open"] is False
    assert ended.json()["notes"] == "夜巡"
    listing = client.get("/api/v1/patrols/")
    assert listing.status_code == 200 and listing.json()["results"][0]["id"] == pk
    client.logout()
    login(client, city.dispatcher_b)
    assert client.get(f"/api/v1/patrols/{pk}/").status_code == 404
    assert client.get("/api/v1/patrols/").json()["results"] == []
    client.logout()
    login(client, city.dispatcher)
    assert client.get(f"/api/v1/patrols/{pk}/").status_code == 200
    assert client.post("/api/v1/patrols/", {}, content_type="application/json").status_code == 403
