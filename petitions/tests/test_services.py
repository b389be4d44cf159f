"""Intake, "file once" merging and undo, refusal after re-examination, illegal moves,
permissions and scope, links to mediation and incidents."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from core.models import Notification, SmsMessage
from petitions import services
from petitions.models import (
    BacklogReason,
    Petition,
    PetitionChannel,
    PetitionEvent,
    PetitionMerge,
    PetitionState,
)
from petitions.tests import factories as f

pytestmark = pytest.mark.django_db
S = PetitionState
TZ = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


# --- Intake ----------------------------------------------------------------------------------


def test_resident_files_online(region_tree, district_officer, django_capture_on_commit_callbacks):
    outsider = f.officer("outsider", region=region_tree["street_b"])
    resident = f.resident()
    with django_capture_on_commit_callbacks(execute=True):
        petition = f.file_web(resident, region=region_tree["a1"])
    assert re.fullmatch(r"XF\d{6}[2-9A-HJ-NP-Z]{6}", petition.tracking_number)
    assert petition.state == S.RECEIVED
    assert petition.channel == PetitionChannel.WEB
    assert petition.owner == resident and petition.registered_by is None
    assert petition.level == "village" and petition.region_code == "350602001001"
    person = petition.petitioners.get()
    assert person.phone == resident.phone  # taken from the account
    assert person.id_key and person.phone_key
    assert list(petition.events.values_list("action", flat=True)) == ["received"]
    # Officers in scope hear of it, others do not; the petitioner gets the tracking number.
    assert Notification.objects.filter(user=district_officer, dedupe_key__endswith="-new").exists()
    assert not Notification.objects.filter(user=outsider).exists()
    sms = SmsMessage.objects.get()
    assert petition.tracking_number in sms.text and sms.phone == resident.phone


def test_officer_registers_a_joint_visit(region_tree, district_officer):
    people = [
        f.person("王一", id_number=f.ID_A, phone="13900000001"),
        f.person("王二", id_number=f.ID_B, phone="0596-2345678"),
    ]
    petition = f.file_letter(
        district_officer,
        region=region_tree["street_a"],
        channel=PetitionChannel.VISIT,
        people=people,
        is_joint=True,
        headcount=30,
    )
    assert petition.is_joint and petition.headcount == 30
    assert petition.level == "township"
    assert petition.registered_by == district_officer
    assert petition.petitioners.count() == 2


def test_joint_visit_sends_at_most_five_representatives(region_tree, district_officer):
    ids = [f.ID_A, f.ID_B, f.ID_C, f.ID_D, "", ""]
    people = [f.person(f"代表{i}", id_number=ids[i], phone=f"1390000001{i}") for i in range(6)]
    with pytest.raises(ValidationFailed) as excinfo:
        f.file_letter(
            district_officer,
            region=region_tree["a1"],
            channel=PetitionChannel.VISIT,
            people=people,
            is_joint=True,
        )
    assert "petitioners" in excinfo.value.extra
    assert not Petition.objects.exists()
    # Six people, five representatives: allowed.
    people[5].is_representative = False
    petition = f.file_letter(
        district_officer,
        region=region_tree["a1"],
        channel=PetitionChannel.VISIT,
        people=people,
        is_joint=True,
    )
    assert petition.petitioners.count() == 6


def test_bad_input_writes_nothing(region_tree, district_officer):
    with pytest.raises(ValidationFailed) as excinfo:
        f.file_letter(
            district_officer,
            region=region_tree["a1"],
            people=[f.person(id_number="350602199001011236", phone="12345")],
        )
    assert "petitioners.0.id_number" in excinfo.value.extra
    assert "petitioners.0.phone" in excinfo.value.extra
    with pytest.raises(ValidationFailed):
        f.file_letter(district_officer, region=region_tree["a1"], matter=" ")
    with pytest.raises(ValidationFailed):
        f.file_letter(district_officer, region=region_tree["a1"], people=[f.person(), f.person()])
    assert not Petition.objects.exists()
    assert not PetitionEvent.objects.exists()


def test_only_officers_register_letters_and_only_in_their_region(region_tree, street_b_officer):
    resident = f.resident()
    with pytest.raises(PermissionDeniedError):
        f.file_letter(resident, region=region_tree["a1"])
    with pytest.raises(PermissionDeniedError):
        f.file_letter(street_b_officer, region=region_tree["a1"])
    with pytest.raises(ValidationFailed):
        f.file_letter(
            f.officer("x", region=region_tree["district"]),
            region=region_tree["a1"],
            received_at=at(2099, 1, 1),
        )


def test_officer_intake_links_the_residents_account_by_mobile(region_tree, district_officer):
    resident = f.resident(phone="13900000001")
    petition = f.file_letter(district_officer, region=region_tree["a1"])
    assert petition.owner == resident


# --- File once -------------------------------------------------------------------------------
# H1: only the same signed-in account merges by itself; a match by ID number or phone (and any
# officer-recorded intake) is a suggestion the officer confirms (`confirm` below).


def confirm(officer, petition, note: str = "") -> Petition:
    """The officer confirms the one pending possible repeat of `petition`."""
    suggestion = petition.merge_suggestions.get(decision="")
    return services.petition_merge_confirm(
        actor=officer, petition_id=petition.pk, suggestion_id=suggestion.pk, note=note
    )


def test_same_account_same_matter_is_merged(region_tree, district_officer):
    resident = f.resident()
    first = f.file_web(resident, region=region_tree["a1"])
    services.petition_accept(actor=district_officer, petition_id=first.pk)
    again = f.file_web(resident, region=region_tree["a1"], matter="楼下餐馆油烟扰民，至今未整改")
    assert again.state == S.MERGED and again.merged_into == first
    first.refresh_from_db()
    assert first.repeat_count == 1
    assert Petition.objects.exclude(state=S.MERGED).count() == 1  # no second case
    merge = PetitionMerge.objects.get()
    assert merge.primary == first and merge.duplicate == again and merge.matched_by == "account"
    codes = [reason["code"] for reason in merge.reasons]
    assert codes[:3] == ["same_account", "same_category", "same_region"]
    assert merge.score >= 0.35
    assert any("0.35" in text for text in merge.reason_texts)
    assert first.events.filter(action="duplicate_merged").exists()
    # The petitioner is told where it stands: their own open petition's number and state.
    note = Notification.objects.get(user=resident, dedupe_key__endswith="-merged")
    assert first.tracking_number in note.title
    assert str(S.ACCEPTED.label) in note.body or "受理" in note.body


def test_same_id_number_is_only_a_suggestion_until_the_officer_confirms(
    region_tree, district_officer
):
    resident = f.resident()
    first = f.file_web(resident, region=region_tree["a1"])
    services.petition_accept(actor=district_officer, petition_id=first.pk)
    again = f.file_letter(
        district_officer,
        region=region_tree["a1"],
        matter="楼下餐馆油烟扰民，至今未整改",
        people=[f.person("张三", id_number=f.ID_A, phone="")],
    )
    assert again.state == S.RECEIVED and again.merged_into is None
    suggestion = again.merge_suggestions.get()
    assert suggestion.candidate == first and suggestion.matched_by == "id_number"
    first.refresh_from_db()
    assert first.repeat_count == 0 and not PetitionMerge.objects.exists()
    again = confirm(district_officer, again, note="同一人")
    assert again.state == S.MERGED and again.merged_into == first
    first.refresh_from_db()
    assert first.repeat_count == 1
    merge = PetitionMerge.objects.get()
    assert merge.matched_by == "id_number"
    assert [r["code"] for r in merge.reasons][:1] == ["same_id_number"]
    suggestion.refresh_from_db()
    assert suggestion.decision == "confirmed" and suggestion.decided_by == district_officer
    assert again.events.filter(action="merge_confirmed", public=False).exists()


def test_matched_by_phone_when_no_id_number(region_tree, district_officer):
    first = f.file_letter(
        district_officer, region=region_tree["a1"], people=[f.person(id_number="")]
    )
    again = f.file_letter(
        district_officer,
        region=region_tree["a1"],
        matter="餐馆油烟扰民",
        people=[f.person(id_number="")],
    )
    assert again.state == S.RECEIVED
    again = confirm(district_officer, again)
    assert again.merged_into == first
    assert again.merge_records.get().matched_by == "phone"


def test_different_matter_or_person_is_not_merged(region_tree, district_officer):
    first = f.file_letter(district_officer, region=region_tree["a1"])
    other_matter = f.file_letter(
        district_officer,
        region=region_tree["a1"],
        matter="建筑工地拖欠农民工工资",
        request="请求支付工资",
        cat=f.category("03"),
    )
    other_person = f.file_letter(
        district_officer,
        region=region_tree["a1"],
        people=[f.person("李四", id_number=f.ID_B, phone="13900000002")],
    )
    assert other_matter.state == S.RECEIVED and other_person.state == S.RECEIVED
    first.refresh_from_db()
    assert first.repeat_count == 0
    assert not PetitionMerge.objects.exists()


def _close(petition, officer):
    services.petition_accept(actor=officer, petition_id=petition.pk)
    services.petition_reply(actor=officer, petition_id=petition.pk, opinion=f.opinion())
    return services.petitions_sweep_deadlines(now=at(2099, 1, 1))


def test_closed_earlier_petition_is_not_merged(region_tree, district_officer):
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        first = f.file_letter(district_officer, region=region_tree["a1"])
        services.petition_accept(actor=district_officer, petition_id=first.pk)
        services.petition_reply(actor=district_officer, petition_id=first.pk, opinion=f.opinion())
    with time_machine.travel(at(2026, 5, 1, 9), tick=False):
        services.petitions_sweep_deadlines()
        first.refresh_from_db()
        assert first.state == S.CLOSED
        again = f.file_letter(district_officer, region=region_tree["a1"])
    assert again.state == S.RECEIVED  # a new case
    first.refresh_from_db()
    assert again.prior_petition is None and first.raised_again_after_reply is False
    again = confirm(district_officer, again)
    assert again.state == S.RECEIVED and again.prior_petition == first
    first.refresh_from_db()
    assert first.raised_again_after_reply is True


def test_undo_a_wrong_merge(region_tree, district_officer):
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        first = f.file_letter(district_officer, region=region_tree["a1"])
    with time_machine.travel(at(2026, 3, 5, 9), tick=False):
        again = confirm(
            district_officer,
            f.file_letter(district_officer, region=region_tree["a1"], matter="餐馆油烟"),
        )
    assert again.state == S.MERGED
    with time_machine.travel(at(2026, 3, 6, 9), tick=False):
        with pytest.raises(PermissionDeniedError):
            services.petition_merge_undo(actor=f.resident(), petition_id=again.pk, reason="错")
        with pytest.raises(ValidationFailed):
            services.petition_merge_undo(actor=district_officer, petition_id=again.pk, reason="")
        again = services.petition_merge_undo(
            actor=district_officer, petition_id=again.pk, reason="是另一家餐馆"
        )
    assert again.state == S.RECEIVED and again.merged_into is None
    assert again.accept_due_at == at(2026, 3, 20, 23, 59, 59)  # 15 days from its own receipt
    assert again.due_at == again.accept_due_at
    first.refresh_from_db()
    assert first.repeat_count == 0
    merge = PetitionMerge.objects.get()
    assert merge.undone_by == district_officer and merge.undo_reason == "是另一家餐馆"
    assert first.events.filter(action="duplicate_unmerged").exists()
    assert again.events.filter(action="merge_undone").exists()
    with pytest.raises(ConflictError):
        services.petition_merge_undo(actor=district_officer, petition_id=again.pk, reason="again")


def test_raised_again_repeatedly_joins_the_backlog_and_undo_clears_it(
    region_tree, district_officer
):
    first = f.file_letter(district_officer, region=region_tree["a1"])
    one = f.file_letter(district_officer, region=region_tree["a1"], matter="餐馆油烟扰民")
    confirm(district_officer, one)
    second = f.file_letter(district_officer, region=region_tree["a1"], matter="油烟扰民餐馆")
    first.refresh_from_db()
    assert first.repeat_count == 1 and not first.backlog  # not before the officer confirms
    confirm(district_officer, second)
    first.refresh_from_db()
    assert first.repeat_count == 2
    assert first.backlog and first.backlog_reason == BacklogReason.REPEATED
    services.petition_merge_undo(actor=district_officer, petition_id=second.pk, reason="误并")
    first.refresh_from_db()
    assert first.repeat_count == 1 and not first.backlog


def test_raised_again_after_reply_is_recorded(region_tree, district_officer):
    first = f.file_letter(district_officer, region=region_tree["a1"])
    services.petition_accept(actor=district_officer, petition_id=first.pk)
    services.petition_reply(actor=district_officer, petition_id=first.pk, opinion=f.opinion())
    again = f.file_letter(district_officer, region=region_tree["a1"], matter="餐馆油烟扰民")
    first.refresh_from_db()
    assert first.raised_again_after_reply is False
    again = confirm(district_officer, again)
    assert again.merged_into == first
    first.refresh_from_db()
    assert first.raised_again_after_reply is True


# --- After re-examination (Art. 36) ----------------------------------------------------------


def _through_reexamination(petition, replier, reviewer, reexaminer):
    """Reply by the street, review by the district above it (Art. 35), re-examination by
    the city above that (Art. 36)."""
    services.petition_accept(actor=replier, petition_id=petition.pk)
    services.petition_reply(actor=replier, petition_id=petition.pk, opinion=f.opinion("explain"))
    services.petition_review_request(actor=replier, petition_id=petition.pk, reason="不服")
    services.petition_review(actor=reviewer, petition_id=petition.pk, opinion=f.opinion("explain"))
    services.petition_reexam_request(actor=reviewer, petition_id=petition.pk, reason="不服")
    return services.petition_reexamine(
        actor=reexaminer, petition_id=petition.pk, opinion=f.opinion("not_support")
    )


def test_same_facts_after_reexamination_are_refused(
    region_tree, district_officer, street_a_officer, city_officer
):
    first = f.file_letter(district_officer, region=region_tree["a1"])
    first = _through_reexamination(first, street_a_officer, district_officer, city_officer)
    assert first.state == S.REEXAMINED
    services.petition_close(actor=district_officer, petition_id=first.pk)
    again = f.file_letter(district_officer, region=region_tree["a1"], matter="餐馆油烟扰民")
    assert again.state == S.RECEIVED  # an identifier match only: the officer decides
    again = confirm(district_officer, again)
    assert again.state == S.NOT_TAKEN
    assert again.prior_petition == first
    # Not the same account: the earlier petition is not named to this filer (H1).
    assert "第三十六条" in again.decision_note and first.tracking_number not in again.decision_note
    event = again.events.get(action="refused_after_reexamination")
    assert event.public and event.data["earlier"] == first.pk
    # A different matter of the same person is taken as usual.
    other = f.file_letter(
        district_officer,
        region=region_tree["a1"],
        matter="建筑工地拖欠农民工工资",
        request="请求支付工资",
        cat=f.category("03"),
    )
    assert other.state == S.RECEIVED


def test_reexamined_but_not_yet_closed_refuses_too(
    region_tree, district_officer, street_a_officer, city_officer
):
    first = _through_reexamination(
        f.file_letter(district_officer, region=region_tree["a1"]),
        street_a_officer,
        district_officer,
        city_officer,
    )
    again = f.file_letter(district_officer, region=region_tree["a1"], matter="餐馆油烟扰民")
    assert first.state == S.REEXAMINED
    assert confirm(district_officer, again).state == S.NOT_TAKEN


# --- Illegal moves ---------------------------------------------------------------------------


def test_illegal_moves_are_refused(region_tree, district_officer):
    petition = f.file_letter(district_officer, region=region_tree["a1"])
    pk = petition.pk
    with pytest.raises(ConflictError):
        services.petition_reply(actor=district_officer, petition_id=pk, opinion=f.opinion())
    with pytest.raises(ConflictError):
        services.petition_start_handling(actor=district_officer, petition_id=pk)
    with pytest.raises(ConflictError):
        services.petition_review(actor=district_officer, petition_id=pk, opinion=f.opinion())
    with pytest.raises(ConflictError):
        services.petition_transfer_object(actor=district_officer, petition_id=pk, reason="x")
    with pytest.raises(ConflictError):
        services.petition_hearing_record(actor=district_officer, petition_id=pk, days=3)
    with pytest.raises(ConflictError):
        services.petition_close(actor=district_officer, petition_id=pk)
    services.petition_accept(actor=district_officer, petition_id=pk)
    with pytest.raises(ConflictError):
        services.petition_accept(actor=district_officer, petition_id=pk)
    with pytest.raises(ConflictError):
        services.petition_decline(actor=district_officer, petition_id=pk, reason="x")
    services.petition_reply(actor=district_officer, petition_id=pk, opinion=f.opinion())
    with pytest.raises(ConflictError):  # one handling opinion only
        services.petition_reply(actor=district_officer, petition_id=pk, opinion=f.opinion())
    with pytest.raises(ConflictError):  # the petitioner may still ask for review
        services.petition_close(actor=district_officer, petition_id=pk)
    petition.refresh_from_db()
    assert petition.state == S.REPLIED
    assert petition.events.filter(action="replied").count() == 1


def test_not_taken_is_final(region_tree, district_officer):
    petition = f.file_letter(district_officer, region=region_tree["a1"])
    services.petition_decline(
        actor=district_officer, petition_id=petition.pk, reason="属司法程序，请向法院起诉"
    )
    with pytest.raises(ConflictError):
        services.petition_accept(actor=district_officer, petition_id=petition.pk)


def test_opinion_needs_every_part_of_article_32(region_tree, district_officer):
    petition = f.file_letter(district_officer, region=region_tree["a1"])
    services.petition_accept(actor=district_officer, petition_id=petition.pk)
    bad = f.opinion()
    bad.legal_basis = ""
    bad.outcome = "maybe"
    with pytest.raises(ValidationFailed) as excinfo:
        services.petition_reply(actor=district_officer, petition_id=petition.pk, opinion=bad)
    assert set(excinfo.value.extra) == {"legal_basis", "outcome"}
    petition.refresh_from_db()
    assert petition.state == S.ACCEPTED and not petition.opinions.exists()


# --- Permissions, rating, review by the petitioner -------------------------------------------


def test_permissions_and_scope(region_tree, district_officer, street_b_officer):
    resident = f.resident()
    head = f.supervisor(region=region_tree["district"])
    petition = f.file_web(resident, region=region_tree["a1"])
    with pytest.raises(PermissionDeniedError):
        services.petition_accept(actor=resident, petition_id=petition.pk)
    with pytest.raises(PermissionDeniedError):
        services.petition_accept(actor=head, petition_id=petition.pk)
    with pytest.raises(NotFoundError):
        services.petition_accept(actor=street_b_officer, petition_id=petition.pk)
    with pytest.raises(NotFoundError):
        services.petition_accept(actor=district_officer, petition_id=999999)


def test_petitioner_rates_once_and_asks_for_review(region_tree, district_officer):
    resident = f.resident()
    other = f.resident("other", phone="13800000002")
    petition = f.file_web(resident, region=region_tree["a1"])
    with pytest.raises(ConflictError):
        services.petition_rate(actor=resident, petition_id=petition.pk, satisfaction="satisfied")
    services.petition_accept(actor=district_officer, petition_id=petition.pk)
    services.petition_reply(actor=district_officer, petition_id=petition.pk, opinion=f.opinion())
    with pytest.raises(PermissionDeniedError):
        services.petition_rate(actor=other, petition_id=petition.pk, satisfaction="satisfied")
    with pytest.raises(ValidationFailed):
        services.petition_rate(actor=resident, petition_id=petition.pk, satisfaction="great")
    petition = services.petition_rate(
        actor=resident, petition_id=petition.pk, satisfaction="dissatisfied", comment="未整改"
    )
    assert petition.satisfaction == "dissatisfied" and petition.rated_at
    with pytest.raises(ConflictError):
        services.petition_rate(actor=resident, petition_id=petition.pk, satisfaction="satisfied")
    with pytest.raises(PermissionDeniedError):
        services.petition_review_request(actor=other, petition_id=petition.pk, reason="x")
    petition = services.petition_review_request(
        actor=resident, petition_id=petition.pk, reason="餐馆仍在直排"
    )
    assert petition.state == S.REVIEW_REQUESTED and petition.raised_again_after_reply


def test_satisfied_petitioner_lets_the_officer_close_early(region_tree, district_officer):
    resident = f.resident()
    petition = f.file_web(resident, region=region_tree["a1"])
    services.petition_accept(actor=district_officer, petition_id=petition.pk)
    services.petition_reply(actor=district_officer, petition_id=petition.pk, opinion=f.opinion())
    services.petition_rate(actor=resident, petition_id=petition.pk, satisfaction="satisfied")
    petition = services.petition_close(actor=district_officer, petition_id=petition.pk)
    assert petition.state == S.CLOSED and petition.due_at is None


def test_transfer_to_another_unit_and_its_acceptance(region_tree, district_officer):
    receiver = f.officer("receiver", region=region_tree["street_b"])
    petition = f.file_letter(district_officer, region=region_tree["a1"])
    with pytest.raises(NotFoundError):  # not yet theirs
        services.petition_accept(actor=receiver, petition_id=petition.pk)
    petition = services.petition_transfer(
        actor=district_officer,
        petition_id=petition.pk,
        to_region=region_tree["street_b"],
        unit_name="东铺头街道办事处",
    )
    assert petition.state == S.TRANSFERRED and petition.told_at is not None
    assert petition.handling_region_code == "350602002000"
    petition = services.petition_accept(actor=receiver, petition_id=petition.pk)
    assert petition.state == S.ACCEPTED
    assert petition.handling_unit == "东铺头街道办事处"


def test_the_whole_path_writes_one_event_per_move(
    region_tree, district_officer, street_a_officer, city_officer
):
    petition = _through_reexamination(
        f.file_letter(district_officer, region=region_tree["a1"]),
        street_a_officer,
        district_officer,
        city_officer,
    )
    services.petition_close(actor=district_officer, petition_id=petition.pk)
    actions = list(petition.events.values_list("action", flat=True))
    assert actions == [
        "received",
        "accepted",
        "replied",
        "review_requested",
        "reviewed",
        "reexam_requested",
        "reexamined",
        "closed",
    ]
    assert list(petition.opinions.values_list("kind", flat=True)) == [
        "reply",
        "review",
        "reexamination",
    ]
    event = petition.events.first()
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()


# --- Links ------------------------------------------------------------------------------------


def test_refer_to_mediation_opens_a_case_in_the_mediation_app(region_tree, district_officer):
    from mediation.models import MediationCase, MediationRoom

    room = MediationRoom.objects.create(
        name="芗城区访调对接工作室",
        room_type="petition_window",
        level="county",
        region=region_tree["district"],
    )
    petition = f.file_letter(district_officer, region=region_tree["a1"])
    with pytest.raises(ConflictError):  # only while it is being handled
        services.petition_refer_to_mediation(
            actor=district_officer, petition_id=petition.pk, room_id=room.pk
        )
    services.petition_accept(actor=district_officer, petition_id=petition.pk)
    petition = services.petition_refer_to_mediation(
        actor=district_officer,
        petition_id=petition.pk,
        room_id=room.pk,
        respondent=services.RespondentInput(name="某某餐馆", phone="13700000000"),
        note="邻里纠纷，双方同意调解",
    )
    case = MediationCase.objects.get()
    assert petition.mediation_case_id == case.pk and case.petition_id == petition.pk
    assert case.source == "petition"
    assert sorted(case.parties.values_list("role", "name")) == [
        ("applicant", "张三"),
        ("respondent", "某某餐馆"),
    ]
    assert petition.mediation_room_name == room.name
    assert petition.state == S.ACCEPTED  # handling goes on
    assert petition.events.get(action="referred_to_mediation").data == {"case_id": case.pk}
    with pytest.raises(ConflictError):
        services.petition_refer_to_mediation(
            actor=district_officer, petition_id=petition.pk, room_id=room.pk
        )


def test_refer_to_mediation_without_a_room_is_a_recorded_request(region_tree, district_officer):
    petition = f.file_letter(district_officer, region=region_tree["a1"])
    services.petition_accept(actor=district_officer, petition_id=petition.pk)
    petition = services.petition_refer_to_mediation(
        actor=district_officer, petition_id=petition.pk, room_name="西桥社区评理说事点"
    )
    assert petition.mediation_case_id is None and petition.mediation_requested_at
    assert petition.mediation_room_name == "西桥社区评理说事点"


def test_turn_into_an_incident(region_tree, district_officer):
    from incidents.models import Category

    parent = Category.objects.create(code="01", name="市容环境")
    category = Category.objects.create(
        code="0102", name="暴露垃圾", parent=parent, handled_at="grid"
    )
    petition = f.file_letter(district_officer, region=region_tree["a1"])
    services.petition_accept(actor=district_officer, petition_id=petition.pk)
    petition = services.petition_turn_into_incident(
        actor=district_officer,
        petition_id=petition.pk,
        category=category,
        lat=24.505,
        lng=117.605,
        address="西桥社区1号",
    )
    assert petition.incident is not None
    assert petition.tracking_number in petition.incident.description
    assert petition.events.get(action="turned_into_incident").note == (
        petition.incident.tracking_number
    )
    with pytest.raises(ConflictError):
        services.petition_turn_into_incident(
            actor=district_officer, petition_id=petition.pk, category=category
        )
