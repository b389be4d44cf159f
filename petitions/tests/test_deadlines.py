"""Every statutory deadline, with time travel, holiday shifts and the extension cap."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from core.exceptions import ConflictError, ValidationFailed
from petitions import deadlines, services
from petitions.models import PetitionState
from petitions.tests import factories as f

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


def test_tell_within_15_days_moves_past_national_day(region_tree, district_officer, holidays):
    # 16 Sep + 15 days = 1 Oct, a holiday (1-7 Oct): the limit ends on 8 Oct.
    with time_machine.travel(at(2026, 9, 16, 10), tick=False):
        petition = f.file_letter(district_officer, region=region_tree["a1"])
    assert petition.accept_due_at == at(2026, 10, 8, 23, 59, 59)
    assert petition.due_at == petition.accept_due_at


def test_tell_within_15_days_moves_past_a_weekend(region_tree, district_officer):
    # Friday 9 Jan + 15 = Saturday 24 Jan -> Monday 26 Jan.
    with time_machine.travel(at(2026, 1, 9, 9), tick=False):
        petition = f.file_letter(district_officer, region=region_tree["a1"])
    assert petition.accept_due_at == at(2026, 1, 26, 23, 59, 59)


def test_tell_within_15_days_on_an_ordinary_day(region_tree, district_officer):
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):  # Monday + 15 = Tuesday 17 Mar
        petition = f.file_letter(district_officer, region=region_tree["a1"])
    assert petition.accept_due_at == at(2026, 3, 17, 23, 59, 59)


def test_letter_received_earlier_counts_from_receipt(region_tree, district_officer):
    with time_machine.travel(at(2026, 3, 20, 9), tick=False):
        petition = f.file_letter(
            district_officer, region=region_tree["a1"], received_at=at(2026, 3, 2, 9)
        )
    assert petition.accept_due_at == at(2026, 3, 17, 23, 59, 59)


def test_telling_in_time_and_late_is_recorded(region_tree, district_officer):
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        on_time = f.file_letter(district_officer, region=region_tree["a1"])
        late = f.file_letter(
            district_officer,
            region=region_tree["a2"],
            matter="道路坑洼",
            request="请求修路",
            people=[f.person("李四", id_number=f.ID_B, phone="13900000002")],
        )
    with time_machine.travel(at(2026, 3, 17, 23, 0), tick=False):
        on_time = services.petition_accept(actor=district_officer, petition_id=on_time.pk)
    with time_machine.travel(at(2026, 3, 18, 0, 30), tick=False):
        late = services.petition_accept(actor=district_officer, petition_id=late.pk)
    assert on_time.told_on_time is True
    assert late.told_on_time is False
    assert late.ever_overdue is True


def test_reply_within_60_days_moves_past_labour_day(region_tree, district_officer, holidays):
    # Accepted Mon 2 Mar + 60 days = Fri 1 May (holiday; 2-3 weekend, 4-5 holiday) -> 6 May.
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        petition = f.file_letter(district_officer, region=region_tree["a1"])
        petition = services.petition_accept(actor=district_officer, petition_id=petition.pk)
    assert petition.reply_due_at == at(2026, 5, 6, 23, 59, 59)
    assert petition.due_at == petition.reply_due_at


def test_extension_of_30_days_approved_by_the_head(region_tree, district_officer):
    head = f.supervisor(region=region_tree["district"])
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        petition = f.file_letter(district_officer, region=region_tree["a1"])
        services.petition_accept(actor=district_officer, petition_id=petition.pk)
    with time_machine.travel(at(2026, 4, 20, 9), tick=False):
        services.petition_extension_request(
            actor=district_officer, petition_id=petition.pk, days=30, reason="需现场勘验"
        )
        petition = services.petition_extension_decide(
            actor=head, petition_id=petition.pk, approve=True
        )
    # 2 Mar + 90 days = Sun 31 May -> Mon 1 Jun.
    assert petition.state == PetitionState.EXTENDED
    assert petition.extension_days == 30
    assert petition.reply_due_at == at(2026, 6, 1, 23, 59, 59)
    event = petition.events.get(action="extended")
    assert event.public and event.note == "需现场勘验"  # the reason is told to the petitioner


def test_extension_cap_31_days_refused(region_tree, district_officer):
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        petition = f.file_letter(district_officer, region=region_tree["a1"])
        services.petition_accept(actor=district_officer, petition_id=petition.pk)
        with pytest.raises(ValidationFailed):
            services.petition_extension_request(
                actor=district_officer, petition_id=petition.pk, days=31, reason="复杂"
            )
        with pytest.raises(ValidationFailed):
            services.petition_extension_request(
                actor=district_officer, petition_id=petition.pk, days=0, reason="复杂"
            )


def test_only_one_extension(region_tree, district_officer):
    head = f.supervisor(region=region_tree["district"])
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        petition = f.file_letter(district_officer, region=region_tree["a1"])
        services.petition_accept(actor=district_officer, petition_id=petition.pk)
        services.petition_extension_request(
            actor=district_officer, petition_id=petition.pk, days=10, reason="复杂"
        )
        services.petition_extension_decide(actor=head, petition_id=petition.pk, approve=True)
        with pytest.raises(ConflictError):
            services.petition_extension_request(
                actor=district_officer, petition_id=petition.pk, days=10, reason="再延"
            )


def test_extension_needs_the_head_and_comes_before_the_deadline(region_tree, district_officer):
    head = f.supervisor(region=region_tree["district"])
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        petition = f.file_letter(district_officer, region=region_tree["a1"])
        services.petition_accept(actor=district_officer, petition_id=petition.pk)
        services.petition_extension_request(
            actor=district_officer, petition_id=petition.pk, days=10, reason="复杂"
        )
        with pytest.raises(services.PermissionDeniedError):
            services.petition_extension_decide(
                actor=district_officer, petition_id=petition.pk, approve=True
            )
    past_the_deadline = time_machine.travel(at(2026, 5, 2, 9), tick=False)  # due 1 May
    with past_the_deadline, pytest.raises(ConflictError):
        services.petition_extension_decide(actor=head, petition_id=petition.pk, approve=True)
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        other = f.file_letter(
            district_officer,
            region=region_tree["a2"],
            matter="道路坑洼",
            request="请求修路",
            people=[f.person("李四", id_number=f.ID_B, phone="13900000002")],
        )
        services.petition_accept(actor=district_officer, petition_id=other.pk)
    with time_machine.travel(at(2026, 5, 2, 9), tick=False), pytest.raises(ConflictError):
        services.petition_extension_request(
            actor=district_officer, petition_id=other.pk, days=10, reason="晚了"
        )


def test_objection_within_5_working_days(region_tree, district_officer, holidays):
    receiver = f.officer("receiver", region=region_tree["street_a"])
    # Transferred Thu 2 Apr; Mon 6 Apr is a holiday: Fri 3, Tue 7, Wed 8, Thu 9, Fri 10.
    with time_machine.travel(at(2026, 4, 2, 10), tick=False):
        petition = f.file_letter(district_officer, region=region_tree["a1"])
        petition = services.petition_transfer(
            actor=district_officer,
            petition_id=petition.pk,
            to_region=region_tree["street_a"],
            unit_name="西桥街道办事处",
        )
    assert petition.objection_due_at == at(2026, 4, 10, 17, 30)
    # The receiving unit has 15 days from the transfer to tell the petitioner (Art. 23).
    assert petition.accept_due_at == at(2026, 4, 17, 23, 59, 59)
    with time_machine.travel(at(2026, 4, 10, 18, 0), tick=False), pytest.raises(ConflictError):
        services.petition_transfer_object(
            actor=receiver, petition_id=petition.pk, reason="不属于本单位职权"
        )
    with time_machine.travel(at(2026, 4, 10, 17, 0), tick=False):
        petition = services.petition_transfer_object(
            actor=receiver, petition_id=petition.pk, reason="不属于本单位职权"
        )
    assert petition.state == PetitionState.RECEIVED
    assert petition.handling_region is None


def _replied(region_tree, officer, when: datetime):
    with time_machine.travel(when, tick=False):
        petition = f.file_letter(officer, region=region_tree["a1"])
        services.petition_accept(actor=officer, petition_id=petition.pk)
        return services.petition_reply(actor=officer, petition_id=petition.pk, opinion=f.opinion())


def test_review_requested_within_30_days_answered_within_30(region_tree, district_officer):
    petition = _replied(region_tree, district_officer, at(2026, 3, 2, 9))
    assert petition.review_request_due_at == at(2026, 4, 1, 23, 59, 59)
    with time_machine.travel(at(2026, 4, 1, 20), tick=False):
        petition = services.petition_review_request(
            actor=district_officer, petition_id=petition.pk, reason="不服"
        )
    # 1 Apr + 30 = Fri 1 May (no holiday table in this test: an ordinary Friday).
    assert petition.review_due_at == at(2026, 5, 1, 23, 59, 59)


def test_review_answer_due_moves_past_labour_day(region_tree, district_officer, holidays):
    petition = _replied(region_tree, district_officer, at(2026, 3, 20, 9))
    with time_machine.travel(at(2026, 4, 1, 9), tick=False):  # + 30 = 1 May (holiday) -> 6 May
        petition = services.petition_review_request(
            actor=district_officer, petition_id=petition.pk, reason="不服"
        )
    assert petition.review_due_at == at(2026, 5, 6, 23, 59, 59)
    assert petition.due_at == petition.review_due_at


def test_review_request_after_30_days_refused(region_tree, district_officer):
    petition = _replied(region_tree, district_officer, at(2026, 3, 2, 9))
    with time_machine.travel(at(2026, 4, 2, 0, 30), tick=False), pytest.raises(ConflictError):
        services.petition_review_request(
            actor=district_officer, petition_id=petition.pk, reason="不服"
        )


def test_reexamination_windows_and_hearing_time_not_counted(
    region_tree, street_a_officer, district_officer, city_officer
):
    # Replied by the street; reviewed by the district above it; re-examined by the city.
    petition = _replied(region_tree, street_a_officer, at(2026, 3, 2, 9))
    with time_machine.travel(at(2026, 3, 10, 9), tick=False):
        services.petition_review_request(
            actor=district_officer, petition_id=petition.pk, reason="不服"
        )
        petition = services.petition_review(
            actor=district_officer, petition_id=petition.pk, opinion=f.opinion("not_support")
        )
    assert petition.reexam_request_due_at == at(2026, 4, 9, 23, 59, 59)
    with time_machine.travel(at(2026, 4, 10, 9), tick=False), pytest.raises(ConflictError):
        services.petition_reexam_request(
            actor=district_officer, petition_id=petition.pk, reason="不服复查"
        )
    with time_machine.travel(at(2026, 4, 9, 9), tick=False):
        petition = services.petition_reexam_request(
            actor=district_officer, petition_id=petition.pk, reason="不服复查"
        )
    assert petition.reexam_due_at == at(2026, 5, 11, 23, 59, 59)  # 9 Apr + 30 = Sat 9 May -> 11
    petition = services.petition_hearing_record(
        actor=city_officer, petition_id=petition.pk, days=7, note="听证"
    )
    assert petition.reexam_due_at == at(2026, 5, 18, 23, 59, 59)  # + 7 days: Sat 16 -> Mon 18
    assert petition.due_at == petition.reexam_due_at


def test_deadline_helpers_match_the_articles():
    start = at(2026, 3, 2, 9)
    assert deadlines.accept_due(start).date().isoformat() == "2026-03-17"
    assert deadlines.reply_due(start).date().isoformat() == "2026-05-01"  # no holiday table here
    assert deadlines.reply_due(start, 30).date().isoformat() == "2026-06-01"
    assert deadlines.review_request_due(start).date().isoformat() == "2026-04-01"
    assert deadlines.reexam_due(start, 5).date().isoformat() == "2026-04-06"
