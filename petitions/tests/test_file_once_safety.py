"""H1 (security review 2026-12): "file once" merges only what provably comes from the same
person. A free-typed phone or ID number never merges into, reveals or bumps someone else's
petition, on the web form or the API; it is a suggestion the officer confirms or dismisses."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import Notification, SmsMessage
from petitions import services
from petitions.models import (
    Petition,
    PetitionChannel,
    PetitionKind,
    PetitionMerge,
    PetitionMergeSuggestion,
    PetitionState,
)
from petitions.tests import factories as f
from tests.builders import make_user

pytestmark = pytest.mark.django_db
S = PetitionState
VICTIM_PHONE = "13800000013"
MATTER = "夜间施工噪声扰民"
VICTIM_FACTS = "古城社区某工地连续一周在夜间十一点后施工。"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def victim(region_tree, district_officer):
    """An accusation taken by phone (demo petition 4 of the review)."""
    return services.petition_file(
        actor=district_officer,
        channel=PetitionChannel.PHONE,
        kind=PetitionKind.ACCUSATION,
        matter=MATTER,
        request="请求查处夜间违规施工",
        facts_and_reasons=VICTIM_FACTS,
        category=f.category("01"),
        region=region_tree["a1"],
        petitioners=[
            services.PetitionerInput(name="周美华", phone=VICTIM_PHONE, address="古城社区")
        ],
    )


@pytest.fixture
def gridworker2(region_tree):
    return make_user(
        "gridworker2", roles=["grid_worker"], region=region_tree["street_a"], phone="13800000099"
    )


def attack_payload(region, **person) -> dict:
    return {
        "channel": "web",
        "kind": "accusation",
        "matter": MATTER,
        "request": "请求查处夜间违规施工",
        "facts_and_reasons": "x",
        "category": "01",
        "region": region.code,
        "petitioners": [{"name": "任意", **person}],
    }


def assert_untouched(victim):
    victim.refresh_from_db()
    assert victim.repeat_count == 0
    assert not victim.backlog and not victim.raised_again_after_reply
    assert victim.state == S.RECEIVED
    assert not PetitionMerge.objects.filter(primary=victim).exists()
    assert not victim.events.exclude(action="received").exists()


@pytest.mark.parametrize(
    "person", [{"phone": VICTIM_PHONE}, {"id_number": f.ID_A}], ids=["phone", "id_number"]
)
def test_api_another_account_cannot_merge_learn_or_bump(
    client, region_tree, district_officer, victim, gridworker2, person
):
    if "id_number" in person:  # the victim's petition carries the ID number too
        petitioner = victim.petitioners.get()
        petitioner.id_number = f.ID_A
        petitioner.save()
    first = None
    for _attempt in range(3):  # three times: past the backlog threshold of 2
        response = api(gridworker2).post(
            "/api/v1/petitions/", attack_payload(region_tree["a1"], **person), format="json"
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["merge_suggestions"] == []
        assert victim.tracking_number not in response.content.decode()
        assert VICTIM_FACTS not in response.content.decode()
        if first is None:
            first = body
            assert body["state"] == "received" and body["merged_into"] is None
            assert [e["action"] for e in body["events"]] == ["received"]
        else:  # the same account's own repeats join its own first submission
            assert body["state"] == "merged"
            assert body["merged_into"] == first["tracking_number"]
    assert_untouched(victim)
    # The attacker's list, detail and tracking page say nothing of the victim's petition.
    mine = Petition.objects.filter(owner=gridworker2)
    assert mine.count() == 3
    listing = api(gridworker2).get("/api/v1/petitions/").content.decode()
    assert victim.tracking_number not in listing
    for petition in mine:
        detail = api(gridworker2).get(f"/api/v1/petitions/{petition.pk}/").content.decode()
        assert victim.tracking_number not in detail
    client.force_login(gridworker2)
    page = client.post(reverse("petitions:track"), {"tracking_number": first["tracking_number"]})
    assert "track-result" in page.text
    assert victim.tracking_number not in page.text and VICTIM_FACTS not in page.text
    assert victim.tracking_number not in " ".join(
        Notification.objects.filter(user=gridworker2).values_list("title", "body").first() or ()
    )
    # (The victim's own "received" SMS is the only text naming their number.)
    assert SmsMessage.objects.filter(text__contains=victim.tracking_number).count() == 1
    # The officer sees "possible repeat of XF…" on each submission.
    officer_view = api(district_officer).get(f"/api/v1/petitions/{first['id']}/").json()
    assert [s["candidate_tracking_number"] for s in officer_view["merge_suggestions"]] == [
        victim.tracking_number
    ]
    assert "merge_confirm" in officer_view["actions"]


def test_web_form_another_account_cannot_merge_learn_or_bump(
    client, region_tree, district_officer, victim, gridworker2
):
    client.force_login(gridworker2)
    form = {
        "kind": "accusation",
        "category": f.category("01").pk,
        "region": region_tree["a1"].pk,
        "matter": MATTER,
        "request": "请求查处夜间违规施工",
        "facts_and_reasons": "x",
        "name": "任意",
        "id_number": "",
        "phone": VICTIM_PHONE,
        "address": "某地",
    }
    for _attempt in range(3):
        response = client.post(reverse("petitions:file"), form, follow=True)
        assert response.status_code == 200
        assert victim.tracking_number not in response.text and VICTIM_FACTS not in response.text
    assert_untouched(victim)
    mine = Petition.objects.filter(owner=gridworker2).order_by("pk")
    assert mine.count() == 3
    assert PetitionMergeSuggestion.objects.filter(candidate=victim).count() == 1
    page = client.get(reverse("petitions:detail", args=[mine.first().pk]))
    assert 'data-testid="merge-suggestions"' not in page.text
    assert victim.tracking_number not in page.text


def test_officer_confirms_then_the_counts_move_and_the_filer_still_learns_nothing(
    client, region_tree, district_officer, victim, gridworker2
):
    filed = (
        api(gridworker2)
        .post(
            "/api/v1/petitions/",
            attack_payload(region_tree["a1"], phone=VICTIM_PHONE),
            format="json",
        )
        .json()
    )
    suggestion = PetitionMergeSuggestion.objects.get()
    # The filer cannot decide it; an officer of another street does not even see it.
    refused = api(gridworker2).post(
        f"/api/v1/petitions/{filed['id']}/merge-confirm/",
        {"suggestion": suggestion.pk},
        format="json",
    )
    assert refused.status_code in (403, 404)
    outsider = f.officer("outsider", region=region_tree["street_b"])
    assert (
        api(outsider)
        .post(
            f"/api/v1/petitions/{filed['id']}/merge-confirm/",
            {"suggestion": suggestion.pk},
            format="json",
        )
        .status_code
        == 404
    )
    assert_untouched(victim)
    response = api(district_officer).post(
        f"/api/v1/petitions/{filed['id']}/merge-confirm/",
        {"suggestion": suggestion.pk, "note": "核实为同一人"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "merged"
    assert response.json()["merged_into"] == victim.tracking_number  # the officer sees it
    victim.refresh_from_db()
    assert victim.repeat_count == 1
    merged = Petition.objects.get(pk=filed["id"])
    assert merged.events.filter(action="merge_confirmed", actor=district_officer).exists()
    # The filer: state merged, but no number, matter, state or timeline of the other one.
    text = api(gridworker2).get(f"/api/v1/petitions/{filed['id']}/").content.decode()
    assert '"merged_into":null' in text.replace(" ", "")
    assert victim.tracking_number not in text
    client.force_login(gridworker2)
    page = client.post(reverse("petitions:track"), {"tracking_number": filed["tracking_number"]})
    assert "track-merged" in page.text
    assert victim.tracking_number not in page.text and VICTIM_FACTS not in page.text
    detail = client.get(reverse("petitions:detail", args=[filed["id"]]))
    assert victim.tracking_number not in detail.text
    note = Notification.objects.get(user=gridworker2, dedupe_key__endswith="-merged")
    assert victim.tracking_number not in note.title + note.body
    # The victim's public timeline does not name the submission either.
    assert not victim.events.filter(public=True, action="duplicate_merged").exists()


def test_officer_dismisses_a_possible_repeat(region_tree, district_officer, victim, gridworker2):
    filed = (
        api(gridworker2)
        .post(
            "/api/v1/petitions/",
            attack_payload(region_tree["a1"], phone=VICTIM_PHONE),
            format="json",
        )
        .json()
    )
    suggestion = PetitionMergeSuggestion.objects.get()
    response = api(district_officer).post(
        f"/api/v1/petitions/{filed['id']}/merge-dismiss/",
        {"suggestion": suggestion.pk, "note": "不是同一人"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "received" and response.json()["merge_suggestions"] == []
    suggestion.refresh_from_db()
    assert suggestion.decision == "dismissed" and suggestion.decided_by == district_officer
    assert_untouched(victim)
    petition = Petition.objects.get(pk=filed["id"])
    assert petition.events.filter(action="merge_dismissed", public=False).exists()
    filer_view = api(gridworker2).get(f"/api/v1/petitions/{filed['id']}/").json()
    assert [e["action"] for e in filer_view["events"]] == ["received"]
    # Decided once.
    again = api(district_officer).post(
        f"/api/v1/petitions/{filed['id']}/merge-confirm/",
        {"suggestion": suggestion.pk},
        format="json",
    )
    assert again.status_code == 409


def test_a_replied_petition_is_not_flagged_raised_again_by_someone_else(
    region_tree, district_officer, gridworker2
):
    land = f.file_letter(district_officer, region=region_tree["a1"])
    services.petition_accept(actor=district_officer, petition_id=land.pk)
    services.petition_reply(actor=district_officer, petition_id=land.pk, opinion=f.opinion())
    response = api(gridworker2).post(
        "/api/v1/petitions/",
        {
            **attack_payload(region_tree["a1"], phone="13900000001"),
            "kind": "request",
            "category": "07",
            "matter": land.matter,
            "request": land.request,
        },
        format="json",
    )
    assert response.status_code == 201
    land.refresh_from_db()
    assert not land.raised_again_after_reply and land.repeat_count == 0
    assert land.tracking_number not in response.content.decode()


def test_own_account_repeat_merges_at_once(region_tree, district_officer):
    resident = f.resident()
    first = api(resident).post(
        "/api/v1/petitions/",
        attack_payload(region_tree["a1"], phone=resident.phone),
        format="json",
    )
    again = api(resident).post(
        "/api/v1/petitions/",
        attack_payload(region_tree["a1"], phone=""),
        format="json",
    )
    assert again.json()["state"] == "merged"
    assert again.json()["merged_into"] == first.json()["tracking_number"]
    assert not PetitionMergeSuggestion.objects.exists()
