"""Scoping and the KPI formulas on a hand-made data set with known answers."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.exceptions import NotFoundError
from petitions import selectors, services
from petitions.models import Petition, PetitionState
from petitions.tests import factories as f
from tests.builders import make_user

pytestmark = pytest.mark.django_db
S = PetitionState
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 30, 12, tzinfo=TZ)


def test_officers_see_their_region_and_petitioners_their_own(region_tree, district_officer):
    officer_a = f.officer("officer_a", region=region_tree["street_a"])
    officer_b = f.officer("officer_b", region=region_tree["street_b"])
    head_b = f.supervisor("head_b", region=region_tree["street_b"])
    dispatcher = make_user("dispatcher", roles=["dispatcher"], region=region_tree["district"])
    resident = f.resident()
    other = f.resident("other", phone="13800000002")
    in_a = f.file_web(resident, region=region_tree["a1"])
    in_b = f.file_letter(
        district_officer,
        region=region_tree["b1"],
        matter="道路坑洼",
        request="请求修路",
        people=[f.person("李四", id_number=f.ID_B, phone="13900000002")],
    )

    def visible(user):
        return set(selectors.petitions_visible(user=user).values_list("pk", flat=True))

    assert visible(district_officer) == {in_a.pk, in_b.pk}
    assert visible(officer_a) == {in_a.pk}
    assert visible(officer_b) == {in_b.pk}
    assert visible(head_b) == {in_b.pk}
    assert visible(resident) == {in_a.pk}
    assert visible(other) == set()
    assert visible(dispatcher) == set()  # petitions are for petition staff only
    with pytest.raises(NotFoundError):
        selectors.petition_get_for_user(user=officer_b, petition_id=in_a.pk)
    # After a transfer, the receiving unit sees it too.
    services.petition_transfer(
        actor=district_officer,
        petition_id=in_a.pk,
        to_region=region_tree["street_b"],
        unit_name="东铺头街道",
    )
    assert visible(officer_b) == {in_a.pk, in_b.pk}


def test_masking_follows_the_viewer(region_tree, district_officer):
    resident = f.resident()
    head = f.supervisor(region=region_tree["district"])
    outsider = f.officer("outsider", region=region_tree["street_b"])
    petition = f.file_web(resident, region=region_tree["a1"])

    def seen(viewer):
        (person,) = selectors.petitioners_for_viewer(petition=petition, viewer=viewer)
        return person.id_number, person.phone

    assert seen(district_officer) == (f.ID_A, "13800000001")
    assert seen(resident) == ("3506**********1235", "13800000001")
    assert seen(head) == ("3506**********1235", "138****0001")
    assert seen(outsider) == ("3506**********1235", "138****0001")


def test_track_needs_the_phone_unless_owner(region_tree):
    resident = f.resident()
    petition = f.file_web(resident, region=region_tree["a1"])
    number = petition.tracking_number
    assert selectors.petition_track(tracking_number=number, phone_last4="0001") == petition
    assert selectors.petition_track(tracking_number=number.lower(), phone_last4="0001") == petition
    assert selectors.petition_track(tracking_number=number, phone_last4="9999") is None
    assert selectors.petition_track(tracking_number=number) is None
    assert selectors.petition_track(tracking_number=number, user=resident) == petition
    assert selectors.petition_track(tracking_number="XF000000AAAAAA", phone_last4="0001") is None


def make(region, category, **fields) -> Petition:
    """A petition row with exactly the fields a KPI reads (the hand-made data set)."""
    defaults = {
        "tracking_number": f"XF{Petition.objects.count():012d}",
        "channel": "letter",
        "kind": "request",
        "matter": "m",
        "request": "r",
        "facts_and_reasons": "f",
        "category": category,
        "region": region,
        "region_code": region.code,
        "level": "village" if region.level == "community" else "township",
        "received_at": NOW - timedelta(days=40),
        "accept_due_at": NOW - timedelta(days=25),
        "state": S.RECEIVED,
    }
    defaults.update(fields)
    return Petition.objects.create(**defaults)


def test_kpis_on_a_hand_made_data_set(region_tree, district_officer):
    a1, street = region_tree["a1"], region_tree["street_a"]
    env, labour = f.category("07"), f.category("03")
    told = {"told_at": NOW - timedelta(days=30)}
    replied = {"accepted_at": NOW - timedelta(days=30), "reply_due_at": NOW - timedelta(days=1)}
    # 1: told in time, replied in time, satisfied, settled, closed backlog (resolved).
    make(
        a1,
        env,
        state=S.CLOSED,
        told_on_time=True,
        **told,
        **replied,
        replied_at=NOW - timedelta(days=5),
        replied_on_time=True,
        satisfaction="satisfied",
        backlog=True,
        backlog_resolved_at=NOW - timedelta(days=1),
    )
    # 2: told in time, replied late, dissatisfied, raised again (review), backlog not resolved.
    make(
        a1,
        env,
        state=S.REVIEW_REQUESTED,
        told_on_time=True,
        **told,
        **replied,
        replied_at=NOW - timedelta(hours=2),
        replied_on_time=False,
        satisfaction="dissatisfied",
        raised_again_after_reply=True,
        backlog=True,
    )
    # 3: told late, accepted, reply deadline passed, not replied (due, not on time).
    make(street, labour, state=S.IN_HANDLING, told_on_time=False, **told, **replied)
    # 4: told in time, accepted, reply not yet due.
    make(
        street,
        labour,
        state=S.ACCEPTED,
        told_on_time=True,
        **told,
        accepted_at=NOW - timedelta(days=10),
        reply_due_at=NOW + timedelta(days=50),
    )
    # 5: received yesterday, not yet told, still within 15 days: not due.
    make(a1, env, received_at=NOW - timedelta(days=1), accept_due_at=NOW + timedelta(days=14))
    # 6: received long ago, never told: due and failed.
    make(a1, labour, received_at=NOW - timedelta(days=40), accept_due_at=NOW - timedelta(days=25))
    # 7: basically satisfied, replied in time, settled.
    make(
        region_tree["b1"],
        env,
        state=S.REPLIED,
        told_on_time=True,
        **told,
        **replied,
        replied_at=NOW - timedelta(days=3),
        replied_on_time=True,
        satisfaction="basically_satisfied",
    )
    # A merged submission is not a case.
    make(a1, env, state=S.MERGED)

    kpis = selectors.petition_kpis(
        qs=selectors.petitions_for_analysis(user=district_officer), now=NOW
    )

    def ratio(key):
        return kpis[key]["numerator"], kpis[key]["denominator"]

    assert ratio("timely_acceptance") == (4, 6)  # 1,2,4,7 of 1,2,3,4,6,7
    assert ratio("on_time_completion") == (2, 4)  # 1,7 of 1,2,3,7
    assert ratio("satisfaction") == (2, 3)  # 1,7 of 1,2,7
    assert ratio("settled") == (2, 3)  # 1,7 of 1,2,7
    assert ratio("backlog_resolution") == (1, 2)
    assert ratio("local_share") == (7, 7)
    assert kpis["satisfaction"]["rate"] == pytest.approx(0.6667)
    assert kpis["timely_acceptance"]["percent"] == 66.7


def test_analysis_counts(region_tree, district_officer):
    make(region_tree["a1"], f.category("07"), channel="web", repeat_count=2, backlog=True)
    make(region_tree["a1"], f.category("07"), kind="suggestion")
    make(region_tree["street_a"], f.category("03"), received_at=NOW - timedelta(days=80))
    make(region_tree["a1"], f.category("07"), state=S.MERGED)
    analysis = selectors.petition_analysis(user=district_officer)
    assert analysis["total"] == 3
    assert {row["key"]: row["count"] for row in analysis["by_channel"]} == {"letter": 2, "web": 1}
    assert {row["key"]: row["count"] for row in analysis["by_kind"]} == {
        "request": 2,
        "suggestion": 1,
    }
    assert {row["key"]: row["count"] for row in analysis["by_level"]} == {
        "village": 2,
        "township": 1,
    }
    assert {row["label"]: row["count"] for row in analysis["by_category"]} == {
        "生态环境": 2,
        "劳动和社会保障": 1,
    }
    assert {row["key"]: row["count"] for row in analysis["by_month"]} == {
        "2026-04": 1,
        "2026-05": 2,
    }
    assert analysis["repeated"] == {"petitions": 1, "submissions_merged": 2}
    assert analysis["backlog"]["total"] == 1
    # The period filter.
    period = selectors.petition_analysis(
        user=district_officer, date_from=datetime(2026, 5, 1).date()
    )
    assert period["total"] == 2


def test_petitions_linked_to_an_incident_are_scoped(region_tree, district_officer):
    from incidents.models import Category, Incident

    parent = Category.objects.create(code="01", name="市容环境")
    category = Category.objects.create(code="0102", name="暴露垃圾", parent=parent)
    incident = Incident.objects.create(
        tracking_number="SJ0001", category=category, description="d", channel="api"
    )
    petition = f.file_letter(district_officer, region=region_tree["a1"])
    Petition.objects.filter(pk=petition.pk).update(incident=incident)
    assert list(
        selectors.petitions_linked_to_incident(user=district_officer, incident_id=incident.pk)
    ) == [petition]
    outsider = f.officer("outsider", region=region_tree["street_b"])
    assert not selectors.petitions_linked_to_incident(user=outsider, incident_id=incident.pk)
