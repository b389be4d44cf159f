"""Domain review 2026-12, petitions:
#4 the review / re-examination request windows (Art. 35/36) run from the day the petitioner
   received the written opinion (online: the day it was sent; otherwise recorded by an officer);
#6 the review is answered by the unit above the replying one, the re-examination by the unit
   above the reviewer (a unit = the issuing officer's region);
#5 warning days, backlog threshold and repeat thresholds are admin data (PetitionPolicy)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.admin.sites import site
from django.utils import timezone
from rest_framework.test import APIClient

from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from core.models import Notification
from petitions import selectors, services
from petitions.models import PetitionPolicy, PetitionState
from petitions.tests import factories as f

pytestmark = pytest.mark.django_db
S = PetitionState
TZ = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


def _replied_by_post(region_tree, officer, when):
    with time_machine.travel(when, tick=False):
        petition = f.file_letter(officer, region=region_tree["a1"])
        services.petition_accept(actor=officer, petition_id=petition.pk)
        return services.petition_reply(
            actor=officer, petition_id=petition.pk, opinion=f.opinion(delivery="post")
        )


# --- #4 delivery --------------------------------------------------------------------------------


def test_review_window_runs_from_the_recorded_delivery_by_post(region_tree, street_a_officer):
    petition = _replied_by_post(region_tree, street_a_officer, at(2026, 3, 2, 9))
    reply = petition.opinions.get(kind="reply")
    assert reply.delivery_manner == "post" and reply.delivered_at is None
    assert petition.review_request_due_at is None  # not running before the petitioner has it
    with time_machine.travel(at(2026, 3, 11, 9), tick=False):
        petition = services.petition_delivery_record(
            actor=street_a_officer,
            petition_id=petition.pk,
            kind="reply",
            delivered_on=date(2026, 3, 10),
            manner="post",
        )
    # Received Tue 10 Mar + 30 days = Thu 9 Apr (not 1 Apr, 30 days from the issue).
    assert petition.review_request_due_at == at(2026, 4, 9, 23, 59, 59)
    event = petition.events.get(action="opinion_delivered")
    assert event.public and event.data["delivered_on"] == "2026-03-10"
    with time_machine.travel(at(2026, 4, 8, 9), tick=False):
        petition = services.petition_review_request(
            actor=street_a_officer, petition_id=petition.pk, reason="不服"
        )
    assert petition.state == S.REVIEW_REQUESTED


def test_review_request_after_30_days_from_receipt_refused(region_tree, street_a_officer):
    petition = _replied_by_post(region_tree, street_a_officer, at(2026, 3, 2, 9))
    with time_machine.travel(at(2026, 3, 11, 9), tick=False):
        services.petition_delivery_record(
            actor=street_a_officer,
            petition_id=petition.pk,
            kind="reply",
            delivered_on=date(2026, 3, 10),
            manner="in_person",
        )
    with time_machine.travel(at(2026, 4, 10, 9), tick=False), pytest.raises(ConflictError):
        services.petition_review_request(
            actor=street_a_officer, petition_id=petition.pk, reason="不服"
        )


def test_review_request_before_the_delivery_is_recorded_is_accepted(region_tree, street_a_officer):
    petition = _replied_by_post(region_tree, street_a_officer, at(2026, 3, 2, 9))
    with time_machine.travel(at(2026, 5, 20, 9), tick=False):  # long after issue + 30
        petition = services.petition_review_request(
            actor=street_a_officer, petition_id=petition.pk, reason="不服，已收到答复"
        )
    assert petition.state == S.REVIEW_REQUESTED
    # And the sweep never closes a reply whose delivery is unknown.
    other = _replied_by_post(region_tree, street_a_officer, at(2026, 3, 2, 9))
    services.petitions_sweep_deadlines(now=at(2099, 1, 1))
    other.refresh_from_db()
    assert other.state == S.REPLIED


def test_online_delivery_is_the_day_it_was_sent(region_tree, street_a_officer):
    resident = f.resident()
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        petition = f.file_web(resident, region=region_tree["a1"])
        services.petition_accept(actor=street_a_officer, petition_id=petition.pk)
        petition = services.petition_reply(
            actor=street_a_officer, petition_id=petition.pk, opinion=f.opinion(delivery="")
        )
    reply = petition.opinions.get(kind="reply")
    assert reply.delivery_manner == "online" and reply.delivered_at == at(2026, 3, 2, 9)
    assert petition.review_request_due_at == at(2026, 4, 1, 23, 59, 59)
    assert "delivery" not in selectors.petition_actions(petition=petition, user=street_a_officer)


def test_delivery_record_is_checked(region_tree, street_a_officer):
    petition = f.file_letter(street_a_officer, region=region_tree["a1"])
    services.petition_accept(actor=street_a_officer, petition_id=petition.pk)
    with pytest.raises(ValidationFailed) as excinfo:  # no account: online is impossible
        services.petition_reply(
            actor=street_a_officer, petition_id=petition.pk, opinion=f.opinion(delivery="online")
        )
    assert "delivery_manner" in excinfo.value.extra
    petition = services.petition_reply(
        actor=street_a_officer, petition_id=petition.pk, opinion=f.opinion(delivery="post")
    )
    assert "delivery" in selectors.petition_actions(petition=petition, user=street_a_officer)
    today = timezone.localdate()
    with pytest.raises(ValidationFailed):  # in the future
        services.petition_delivery_record(
            actor=street_a_officer,
            petition_id=petition.pk,
            kind="reply",
            delivered_on=today + timedelta(days=1),
            manner="post",
        )
    with pytest.raises(ValidationFailed):  # before it was issued
        services.petition_delivery_record(
            actor=street_a_officer,
            petition_id=petition.pk,
            kind="reply",
            delivered_on=today - timedelta(days=3),
            manner="post",
        )
    with pytest.raises(PermissionDeniedError):
        services.petition_delivery_record(
            actor=f.resident(),
            petition_id=petition.pk,
            kind="reply",
            delivered_on=today,
            manner="post",
        )
    services.petition_delivery_record(
        actor=street_a_officer,
        petition_id=petition.pk,
        kind="reply",
        delivered_on=today,
        manner="post",
    )
    with pytest.raises(ConflictError):  # once
        services.petition_delivery_record(
            actor=street_a_officer,
            petition_id=petition.pk,
            kind="reply",
            delivered_on=today,
            manner="post",
        )


def test_reexamination_window_runs_from_the_review_opinions_receipt_api(
    region_tree, street_a_officer, district_officer
):
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        petition = f.file_letter(street_a_officer, region=region_tree["a1"])
        services.petition_accept(actor=street_a_officer, petition_id=petition.pk)
        services.petition_reply(
            actor=street_a_officer, petition_id=petition.pk, opinion=f.opinion()
        )
        services.petition_review_request(
            actor=street_a_officer, petition_id=petition.pk, reason="不服"
        )
        petition = services.petition_review(
            actor=district_officer, petition_id=petition.pk, opinion=f.opinion(delivery="post")
        )
    assert petition.reexam_request_due_at is None
    client = APIClient()
    client.force_authenticate(district_officer)
    with time_machine.travel(at(2026, 3, 20, 9), tick=False):
        response = client.post(
            f"/api/v1/petitions/{petition.pk}/delivery/",
            {"kind": "review", "manner": "post", "delivered_on": "2026-03-16"},
            format="json",
        )
    assert response.status_code == 200, response.json()
    assert response.json()["reexam_request_due_at"].startswith("2026-04-15T23:59:59")
    review = next(o for o in response.json()["opinions"] if o["kind"] == "review")
    assert review["delivery_manner"] == "post" and review["delivered_at"]


# --- #6 the unit above ---------------------------------------------------------------------------


def test_review_by_the_unit_above_the_replying_one(
    region_tree, street_a_officer, district_officer, city_officer
):
    petition = f.file_letter(street_a_officer, region=region_tree["a1"])
    services.petition_accept(actor=street_a_officer, petition_id=petition.pk)
    services.petition_reply(actor=street_a_officer, petition_id=petition.pk, opinion=f.opinion())
    assert petition.opinions.get(kind="reply").issuing_region == region_tree["street_a"]
    services.petition_review_request(actor=street_a_officer, petition_id=petition.pk, reason="x")
    petition.refresh_from_db()
    assert "review" not in selectors.petition_actions(petition=petition, user=street_a_officer)
    assert "review" in selectors.petition_actions(petition=petition, user=district_officer)
    colleague = f.officer("officer_a2", region=region_tree["street_a"])
    for same_unit in (street_a_officer, colleague):
        with pytest.raises(PermissionDeniedError):
            services.petition_review(actor=same_unit, petition_id=petition.pk, opinion=f.opinion())
    with pytest.raises(NotFoundError):  # a sibling street does not even see it
        services.petition_review(
            actor=f.officer("officer_b", region=region_tree["street_b"]),
            petition_id=petition.pk,
            opinion=f.opinion(),
        )
    petition = services.petition_review(
        actor=district_officer, petition_id=petition.pk, opinion=f.opinion()
    )
    assert petition.state == S.REVIEWED
    services.petition_reexam_request(actor=district_officer, petition_id=petition.pk, reason="x")
    # The re-examination: not the reviewing district, but the city above it.
    with pytest.raises(PermissionDeniedError):
        services.petition_reexamine(
            actor=district_officer, petition_id=petition.pk, opinion=f.opinion()
        )
    with pytest.raises(PermissionDeniedError):
        services.petition_hearing_record(actor=district_officer, petition_id=petition.pk, days=2)
    petition = services.petition_reexamine(
        actor=city_officer, petition_id=petition.pk, opinion=f.opinion()
    )
    assert petition.state == S.REEXAMINED


def test_a_district_reply_is_reviewed_by_the_city(region_tree, district_officer, city_officer):
    petition = f.file_letter(district_officer, region=region_tree["a1"])
    services.petition_accept(actor=district_officer, petition_id=petition.pk)
    services.petition_reply(actor=district_officer, petition_id=petition.pk, opinion=f.opinion())
    services.petition_review_request(actor=district_officer, petition_id=petition.pk, reason="x")
    client = APIClient()
    client.force_authenticate(district_officer)
    body = {
        "request": "r",
        "facts_and_reasons": "f",
        "decision": "d",
        "legal_basis": "l",
        "outcome": "explain",
        "delivery_manner": "in_person",
    }
    refused = client.post(f"/api/v1/petitions/{petition.pk}/review/", body, format="json")
    assert refused.status_code == 403
    client.force_authenticate(city_officer)
    done = client.post(f"/api/v1/petitions/{petition.pk}/review/", body, format="json")
    assert done.status_code == 200 and done.json()["state"] == "reviewed"


# --- #5 policy ----------------------------------------------------------------------------------


def test_policy_is_registered_in_admin_with_the_current_defaults():
    assert PetitionPolicy in site._registry
    policy = PetitionPolicy.current()
    assert (policy.warn_days, policy.backlog_repeats) == (3, 2)
    assert (policy.match_same_region, policy.match_same_category, policy.match_any_category) == (
        0.35,
        0.45,
        0.75,
    )


def test_backlog_threshold_comes_from_the_policy(region_tree, district_officer):
    PetitionPolicy.objects.create(backlog_repeats=1)
    resident = f.resident()
    first = f.file_web(resident, region=region_tree["a1"])
    f.file_web(resident, region=region_tree["a1"], matter="餐馆油烟扰民")
    first.refresh_from_db()
    assert first.repeat_count == 1 and first.backlog  # 1 repeat is enough now (default 2)


def test_match_threshold_comes_from_the_policy(region_tree):
    resident = f.resident()
    first = f.file_web(resident, region=region_tree["a1"])
    PetitionPolicy.objects.create(match_same_region=0.99)
    again = f.file_web(resident, region=region_tree["a1"], matter="餐馆油烟扰民")
    assert again.state == S.RECEIVED and again.merged_into is None
    PetitionPolicy.objects.update(match_same_region=0.35)
    third = f.file_web(resident, region=region_tree["a1"], matter="餐馆油烟扰民严重")
    assert third.state == S.MERGED and third.merged_into in (first, again)


def test_warning_days_come_from_the_policy(region_tree, district_officer):
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        petition = f.file_letter(district_officer, region=region_tree["a1"])  # due 17 Mar
    assert services.petitions_sweep_deadlines(now=at(2026, 3, 9, 9))["warned"] == 0  # 3 days
    PetitionPolicy.objects.create(warn_days=10)
    assert services.petitions_sweep_deadlines(now=at(2026, 3, 9, 9))["warned"] == 1
    assert Notification.objects.filter(
        user=district_officer, dedupe_key__contains=f"petition-{petition.pk}-warn"
    ).exists()
