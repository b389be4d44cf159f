"""附议, merges and 办理公开: nearby reports, following, merging (and the KPIs), public results."""

from __future__ import annotations

import pytest
from django.utils import timezone

from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from incidents.models import Action, IncidentFollower, IncidentPhoto, IncidentState
from incidents.services.follows import incident_follow, incident_merge, incident_public_result_set
from incidents.tests.factories import make_incident
from residents import selectors

pytestmark = pytest.mark.django_db
HERE = (24.505, 117.605)
METRES_30_NORTH = (24.505 + 30 / 111_000, 117.605)
METRES_80_NORTH = (24.505 + 80 / 111_000, 117.605)


def test_nearby_open_reports_of_the_category_within_its_radius(city):
    near = make_incident(
        city, lat=METRES_30_NORTH[0], lng=METRES_30_NORTH[1], description="路边垃圾 13912345678"
    )
    make_incident(city, lat=METRES_80_NORTH[0], lng=METRES_80_NORTH[1])  # too far (50 m)
    make_incident(city, state=IncidentState.CLOSED, closed_at=timezone.now())  # closed
    make_incident(city, category="0101")  # another category
    rows = selectors.incidents_nearby(category=city.categories["0102"], lat=HERE[0], lng=HERE[1])
    assert [r.public_id for r in rows] == [near.public_id]
    assert 25 <= rows[0].distance_m <= 35
    assert "13912345678" not in rows[0].text  # scrubbed
    assert not hasattr(rows[0], "tracking_number") and not hasattr(rows[0], "reporter_phone")


def test_nearby_never_for_disputes_nor_old_reports(city):
    make_incident(city, category="1001")
    assert (
        selectors.incidents_nearby(category=city.categories["1001"], lat=HERE[0], lng=HERE[1]) == []
    )
    old = make_incident(city)
    old.created_at = timezone.now() - timezone.timedelta(days=31)
    old.save(update_fields=["created_at"])
    assert (
        selectors.incidents_nearby(category=city.categories["0102"], lat=HERE[0], lng=HERE[1]) == []
    )


def test_follow_instead_of_filing(city, django_capture_on_commit_callbacks):
    incident = make_incident(city, reporter=city.resident)
    follower = incident_follow(actor=city.resident2, public_id=incident.public_id)
    assert follower.source == IncidentFollower.Source.FOLLOW
    incident_follow(actor=city.resident2, public_id=incident.public_id)  # twice: one row
    assert IncidentFollower.objects.filter(incident=incident).count() == 1
    with pytest.raises(ConflictError):
        incident_follow(actor=city.resident, public_id=incident.public_id)  # own report
    dispute = make_incident(city, category="1001")
    with pytest.raises(NotFoundError):
        incident_follow(actor=city.resident2, public_id=dispute.public_id)
    closed = make_incident(city, state=IncidentState.CLOSED, closed_at=timezone.now())
    with pytest.raises(ConflictError):
        incident_follow(actor=city.resident2, public_id=closed.public_id)


def test_followers_get_the_reporters_public_notices(city, django_capture_on_commit_callbacks):
    from core.models import Notification
    from incidents import services

    incident = make_incident(city, state=IncidentState.CHECKED, reporter=city.resident)
    incident_follow(actor=city.resident2, public_id=incident.public_id)
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_send_feedback(incident_id=incident.pk)
    assert Notification.objects.filter(user=city.resident2).exists()
    assert Notification.objects.filter(user=city.resident).exists()


def test_staff_merge_a_duplicate(city, django_capture_on_commit_callbacks):
    target = make_incident(city, reporter=city.resident)
    duplicate = make_incident(city, reporter=city.resident2)
    with pytest.raises(PermissionDeniedError):
        incident_merge(
            actor=city.worker,
            incident_id=duplicate.pk,
            into_public_id=target.public_id,
            reason="同一处",
        )
    with pytest.raises(ValidationFailed):
        incident_merge(
            actor=city.dispatcher,
            incident_id=duplicate.pk,
            into_public_id=target.public_id,
            reason="",
        )
    with pytest.raises(ValidationFailed):
        incident_merge(
            actor=city.dispatcher,
            incident_id=duplicate.pk,
            into_public_id=duplicate.public_id,
            reason="r",
        )
    duplicate.refresh_from_db()
    assert duplicate.state == IncidentState.REPORTED
    with django_capture_on_commit_callbacks(execute=True):
        incident_merge(
            actor=city.dispatcher,
            incident_id=duplicate.pk,
            into_public_id=target.public_id,
            reason="同一处",
        )
    duplicate.refresh_from_db()
    assert duplicate.state == IncidentState.CLOSED and duplicate.merged_into == target
    assert duplicate.events.filter(action=Action.MERGE, public=True).exists()
    assert target.events.filter(action=Action.MERGED_IN, public=True).exists()
    assert IncidentFollower.objects.filter(
        incident=target, user=city.resident2, source=IncidentFollower.Source.MERGE
    ).exists()
    other = make_incident(city)
    with pytest.raises(ValidationFailed):  # a closed (merged) report takes no merge
        incident_merge(
            actor=city.dispatcher,
            incident_id=other.pk,
            into_public_id=duplicate.public_id,
            reason="r",
        )


def test_a_merged_case_is_not_a_closed_case_in_the_kpis(city):
    from governance.aggregates import incident_facts_refresh
    from governance.models import IncidentDailyCount, IncidentFact

    target = make_incident(city)
    duplicate = make_incident(city)
    incident_merge(
        actor=city.dispatcher, incident_id=duplicate.pk, into_public_id=target.public_id, reason="r"
    )
    really_closed = make_incident(city, state=IncidentState.CLOSED, closed_at=timezone.now())
    incident_facts_refresh(incident_ids=[target.pk, duplicate.pk, really_closed.pk])
    fact = IncidentFact.objects.get(pk=duplicate.pk)
    assert fact.state == "merged" and fact.closed_at is None and fact.closed_on_time is None
    assert IncidentFact.objects.get(pk=really_closed.pk).closed_at is not None
    totals = {
        name: sum(getattr(row, name) for row in IncidentDailyCount.objects.all())
        for name in ("reported", "closed")
    }
    assert totals == {"reported": 3, "closed": 1}  # received counts it, closed does not


def test_public_results(city):
    shown = make_incident(
        city,
        state=IncidentState.CLOSED,
        closed_at=timezone.now(),
        rating=5,
        description="门口垃圾，联系13912345678",
        reporter_name="林小梅",
    )
    incident_public_result_set(
        actor=city.dispatcher,
        incident_id=shown.pk,
        public_result="已清运，身份证350602199001011235",
    )
    dispute = make_incident(
        city, category="1001", state=IncidentState.CLOSED, closed_at=timezone.now()
    )
    open_one = make_incident(city)
    rows = selectors.results_page()
    ids = [r.public_id for r in rows]
    assert shown.public_id in ids and dispute.public_id not in ids and open_one.public_id not in ids
    row = rows[ids.index(shown.public_id)]
    assert "13912345678" not in row.text and "350602199001011235" not in row.result
    assert row.rating == 5 and row.area == city.a1.name


def test_only_photos_marked_public_are_public(city):
    from django.core.files.base import ContentFile

    incident = make_incident(city, state=IncidentState.CLOSED, closed_at=timezone.now())
    photo = IncidentPhoto.objects.create(incident=incident, image=ContentFile(b"x", name="p.jpg"))
    with pytest.raises(NotFoundError):
        selectors.public_photo_get(photo_id=photo.pk)
    incident_public_result_set(
        actor=city.dispatcher,
        incident_id=incident.pk,
        public_result="好",
        public_photo_ids=[photo.pk],
    )
    assert selectors.public_photo_get(photo_id=photo.pk) == photo
    with pytest.raises(PermissionDeniedError):
        incident_public_result_set(actor=city.worker, incident_id=incident.pk, public_result="x")


def test_the_queue_shows_how_many_follow(client, city):
    incident = make_incident(city, reporter=city.resident)
    incident_follow(actor=city.resident2, public_id=incident.public_id)
    incident.refresh_from_db()
    assert incident.followers_count == 1
    client.force_login(city.dispatcher)
    page = client.get("/incidents/queue/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'class="flag flag-followers">1 人关注<' in page
