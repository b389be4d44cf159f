from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from core.calendar import add_calendar_days_statutory
from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from core.models import Notification, SmsMessage
from incidents.models import Incident
from mediation import selectors, services
from mediation.models import (
    TRANSITIONS,
    AgreementSignature,
    CaseOutcome,
    CaseState,
    MediationCase,
    MediationEvent,
    MediationPolicy,
    MediationRoom,
    MediationSession,
)
from mediation.tests.builders import (
    at,
    dispute_incident,
    in_session,
    parties,
    sign_all,
    walk_in,
    written_agreement,
)

# --- intake -------------------------------------------------------------------------------


def test_online_application_links_the_resident_and_notifies_the_room(world):
    case = services.case_apply_online(
        actor=world.resident,
        room_id=world.rooms["village_a1"].pk,
        category_code="1001",
        facts="邻居噪音",
        requests="停止噪音",
        parties=parties(),
    )
    assert case.state == CaseState.APPLIED
    assert case.source == "online"
    assert case.applicant_user == world.resident
    assert case.parties.get(role="applicant").user == world.resident
    assert case.case_number.startswith(f"TJ{timezone.localdate():%Y%m%d}")
    assert case.region_code == world.rooms["village_a1"].region_code
    assert Notification.objects.filter(user=world.mediator, url__contains=str(case.pk)).exists()
    assert list(case.events.values_list("action", flat=True)) == ["applied"]


def test_case_numbers_count_up_within_a_day(world):
    first = walk_in(world)
    second = walk_in(world)
    assert int(second.case_number[-4:]) == int(first.case_number[-4:]) + 1


@pytest.mark.parametrize(
    ("bad_parties", "message"),
    [
        ([{"role": "applicant", "name": "张三"}], "respondent"),
        ([{"role": "respondent", "name": "李四"}], "applicant"),
        (
            [
                {"role": "applicant", "name": "张三", "id_number": "123"},
                {"role": "respondent", "name": "李四"},
            ],
            "ID number",
        ),
        (
            [
                {"role": "applicant", "name": "张三", "phone": "12345"},
                {"role": "respondent", "name": "李四"},
            ],
            "phone",
        ),
        (
            [
                {"role": "applicant", "name": ""},
                {"role": "respondent", "name": "李四", "phone": ""},
            ],
            "applicant",
        ),
    ],
)
def test_bad_parties_write_nothing(world, bad_parties, message, settings):
    settings.LANGUAGE_CODE = "en"
    with pytest.raises(ValidationFailed) as error:
        services.case_apply_online(
            actor=world.resident,
            room_id=world.rooms["village_a1"].pk,
            category_code="1001",
            facts="事实",
            parties=bad_parties,
        )
    assert any(message in text for text in error.value.extra["parties"])
    assert not MediationCase.objects.exists()


def test_a_room_refuses_a_dispute_it_does_not_take_and_non_disputes(world):
    with pytest.raises(ValidationFailed) as error:
        services.case_apply_online(
            actor=world.resident,
            room_id=world.rooms["village_a1"].pk,
            category_code="1006",
            facts="医疗纠纷",
            parties=parties(),
        )
    assert "room" in error.value.extra
    with pytest.raises(ValidationFailed) as error:
        services.case_apply_online(
            actor=world.resident,
            room_id=world.rooms["village_a1"].pk,
            category_code="0102",
            facts="垃圾",
            parties=parties(),
        )
    assert "category" in error.value.extra
    assert not MediationCase.objects.exists()


def test_only_the_rooms_mediators_register_walk_ins(world):
    with pytest.raises(PermissionDeniedError):
        walk_in(world, actor=world.mediator2)
    with pytest.raises(PermissionDeniedError):
        walk_in(world, actor=world.resident)
    case = walk_in(world, actor=world.admin)
    assert case.created_by == world.admin


def test_court_referral_keeps_its_reference(world):
    case = walk_in(world, source="court", court_reference="(2026)闽0602民诉前调1号")
    assert case.source == "court"
    assert case.court_reference.startswith("(2026)")


# --- the full path ------------------------------------------------------------------------


def test_full_case_path_with_a_written_agreement(world, django_capture_on_commit_callbacks):
    mediator = world.mediator
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        case = services.case_apply_online(
            actor=world.resident,
            room_id=world.rooms["village_a1"].pk,
            category_code="1001",
            facts="楼道堆放杂物",
            parties=parties(),
        )
        case = services.case_accept(actor=mediator, case_id=case.pk)
        assert case.state == CaseState.ACCEPTED
        assert case.mediator == mediator
        # 30 calendar days; 2026-04-01 is a Wednesday (a working day).
        assert timezone.localtime(case.due_at).date().isoformat() == "2026-04-01"
        with django_capture_on_commit_callbacks() as callbacks:
            session = services.session_schedule(
                actor=mediator, case_id=case.pk, starts_at=at(2026, 3, 4, 9), place="调解室"
            )
        assert callbacks, "SMS to the parties is sent after commit"
        assert SmsMessage.objects.filter(phone="13700000001").exists()
        assert SmsMessage.objects.filter(phone="13700000002").exists()
        assert Notification.objects.filter(
            user=world.resident, title__contains="2026-03-04 09:00"
        ).exists()
    with time_machine.travel(at(2026, 3, 4, 9, 5), tick=False):
        services.session_start(actor=mediator, session_id=session.pk)
        services.session_record_minutes(
            actor=mediator,
            session_id=session.pk,
            minutes="双方陈述，达成一致",
            attendees="张三、李四",
        )
        agreement = written_agreement(world, case)
        case.refresh_from_db()
        assert case.state == CaseState.IN_SESSION
        assert not agreement.is_effective
        sign_all(world, case)
        case.refresh_from_db()
        agreement.refresh_from_db()
        assert agreement.is_effective
        assert case.state == CaseState.AGREEMENT_REACHED
        assert case.outcome == CaseOutcome.AGREEMENT
        assert timezone.localtime(case.confirmation_due_at).date().isoformat() == "2026-04-03"
        services.case_request_confirmation(actor=mediator, case_id=case.pk, court="芗城区人民法院")
    with time_machine.travel(at(2026, 3, 20, 10), tick=False):
        services.case_follow_up(
            actor=mediator, case_id=case.pk, performance="fully", result="已清理"
        )
        case = services.case_close(actor=mediator, case_id=case.pk)
    assert case.state == CaseState.CLOSED
    session.refresh_from_db()
    assert session.state == MediationSession.State.HELD
    assert session.minutes == "双方陈述，达成一致"
    actions = list(case.events.values_list("action", flat=True))
    assert actions == [
        "applied",
        "accepted",
        "session_scheduled",
        "session_started",
        "minutes_recorded",
        "agreement_recorded",
        "agreement_signed",
        "agreement_signed",
        "agreement_signed",
        "agreement_sealed",
        "agreement_effective",
        "confirmation_requested",
        "followed_up",
        "closed",
    ]
    states = [(e.from_state, e.to_state) for e in case.events.exclude(to_state="").order_by("id")]
    for source, target in states:
        if source:
            assert target in TRANSITIONS[source]


def test_oral_agreement_is_effective_when_recorded(world):
    case = in_session(world)
    agreement = written_agreement(world, case, form="oral")
    case.refresh_from_db()
    assert agreement.is_effective
    assert case.state == CaseState.AGREEMENT_REACHED
    assert case.confirmation_due_at is None  # confirmation needs a written agreement
    with pytest.raises(ConflictError):
        services.case_request_confirmation(actor=world.mediator, case_id=case.pk, court="法院")
    with pytest.raises(ConflictError):
        services.agreement_sign(actor=world.mediator, case_id=case.pk, party_id=None)


def test_agreement_is_not_effective_until_every_party_and_the_mediator_signed(world):
    case = in_session(world)
    agreement = written_agreement(world, case)
    applicant, respondent = case.parties.order_by("position")
    services.agreement_sign(actor=world.mediator, case_id=case.pk, party_id=applicant.pk)
    services.agreement_sign(actor=world.mediator, case_id=case.pk, party_id=None)
    agreement.refresh_from_db()
    case.refresh_from_db()
    assert not agreement.is_effective
    assert case.state == CaseState.IN_SESSION
    with pytest.raises(ConflictError):  # may not follow up an agreement not in effect
        services.case_follow_up(
            actor=world.mediator, case_id=case.pk, performance="fully", result="x"
        )
    with pytest.raises(ConflictError):  # nobody signs twice
        services.agreement_sign(actor=world.mediator, case_id=case.pk, party_id=applicant.pk)
    with pytest.raises(ConflictError):  # no more changes once signing started
        written_agreement(world, case)
    services.agreement_sign(
        actor=world.mediator, case_id=case.pk, party_id=respondent.pk, method="fingerprint"
    )
    agreement.refresh_from_db()
    case.refresh_from_db()
    # Every signature is there, but the committee has not sealed it yet (Art. 29).
    assert not agreement.is_effective
    assert case.state == CaseState.IN_SESSION
    services.agreement_seal(actor=world.mediator, case_id=case.pk)
    agreement.refresh_from_db()
    case.refresh_from_db()
    assert agreement.is_effective
    assert case.state == CaseState.AGREEMENT_REACHED
    signatures = AgreementSignature.objects.filter(agreement=agreement)
    assert signatures.count() == 3
    assert {s.signer_name for s in signatures} == {"张三", "李四", str(world.mediator)}
    assert all(s.recorded_by == world.mediator and s.signed_at for s in signatures)


def test_a_party_with_an_account_signs_for_themselves_only(world):
    case = services.case_apply_online(
        actor=world.resident,
        room_id=world.rooms["village_a1"].pk,
        category_code="1001",
        facts="噪音",
        parties=parties(),
    )
    services.case_accept(actor=world.mediator, case_id=case.pk)
    session = services.session_schedule(
        actor=world.mediator, case_id=case.pk, starts_at=timezone.now() + timedelta(hours=1)
    )
    services.session_start(actor=world.mediator, session_id=session.pk)
    written_agreement(world, case)
    own = case.parties.get(user=world.resident)
    other = case.parties.exclude(pk=own.pk).get()
    services.agreement_sign(actor=world.resident, case_id=case.pk, party_id=own.pk)
    with pytest.raises(PermissionDeniedError):
        services.agreement_sign(actor=world.resident, case_id=case.pk, party_id=other.pk)
    with pytest.raises(PermissionDeniedError):
        services.agreement_sign(actor=world.resident, case_id=case.pk, party_id=None)


def test_agreement_needs_the_article_29_fields(world):
    case = in_session(world)
    with pytest.raises(ValidationFailed) as error:
        services.agreement_record(
            actor=world.mediator,
            case_id=case.pk,
            form="written",
            facts="事实",
            disputed_matters="",
            terms="约定",
            performance_method="履行",
        )
    assert "disputed_matters" in error.value.extra
    assert not services.MediationAgreement.objects.exists()


# --- illegal moves ------------------------------------------------------------------------


def _free_slot():
    """A time nobody has booked yet (one session a day keeps clear of every limit)."""
    return timezone.now() + timedelta(days=MediationSession.objects.count() + 1)


def _case_in(world, state: str) -> MediationCase:
    """A case brought to `state` through the services."""
    mediator = world.mediator
    case = walk_in(world)
    if state == CaseState.APPLIED:
        return case
    if state == CaseState.DECLINED:
        return services.case_decline(actor=mediator, case_id=case.pk, reason="不属受理范围")
    services.case_accept(actor=mediator, case_id=case.pk)
    if state == CaseState.ACCEPTED:
        return MediationCase.objects.get(pk=case.pk)
    if state == CaseState.WITHDRAWN:
        party = case.parties.first()
        return services.case_withdraw(
            actor=mediator, case_id=case.pk, reason="拒绝", party_id=party.pk
        )
    if state == CaseState.FAILED:
        return services.case_fail(actor=mediator, case_id=case.pk, reason="分歧大")
    session = services.session_schedule(actor=mediator, case_id=case.pk, starts_at=_free_slot())
    if state == CaseState.SCHEDULED:
        return MediationCase.objects.get(pk=case.pk)
    services.session_start(actor=mediator, session_id=session.pk)
    if state == CaseState.IN_SESSION:
        return MediationCase.objects.get(pk=case.pk)
    written_agreement(world, case, form="oral")
    if state == CaseState.AGREEMENT_REACHED:
        return MediationCase.objects.get(pk=case.pk)
    services.case_follow_up(actor=mediator, case_id=case.pk, performance="fully", result="好")
    if state == CaseState.FOLLOWED_UP:
        return MediationCase.objects.get(pk=case.pk)
    return services.case_close(actor=mediator, case_id=case.pk)


def _attempts(world, case):
    m = world.mediator
    pk = case.pk
    return {
        "accept": lambda: services.case_accept(actor=m, case_id=pk),
        "decline": lambda: services.case_decline(actor=m, case_id=pk, reason="r"),
        "schedule": lambda: services.session_schedule(actor=m, case_id=pk, starts_at=_free_slot()),
        "agreement": lambda: written_agreement(world, case),
        "fail": lambda: services.case_fail(actor=m, case_id=pk, reason="r"),
        "withdraw": lambda: services.case_withdraw(
            actor=m, case_id=pk, reason="r", party_id=case.parties.first().pk
        ),
        "extend": lambda: services.case_extend(
            actor=m, case_id=pk, days=10, parties_consent=True, note="双方同意"
        ),
        "confirmation": lambda: services.case_request_confirmation(
            actor=m, case_id=pk, court="法院"
        ),
        "follow_up": lambda: services.case_follow_up(
            actor=m, case_id=pk, performance="fully", result="r"
        ),
        "close": lambda: services.case_close(actor=m, case_id=pk),
    }


ALLOWED = {
    CaseState.APPLIED: {"accept", "decline", "withdraw"},
    CaseState.ACCEPTED: {"schedule", "fail", "withdraw", "extend"},
    CaseState.SCHEDULED: {"schedule", "fail", "withdraw", "extend"},
    CaseState.IN_SESSION: {"schedule", "agreement", "fail", "withdraw", "extend"},
    # An oral agreement: judicial confirmation needs a written one (ConflictError too).
    CaseState.AGREEMENT_REACHED: {"follow_up"},
    CaseState.FOLLOWED_UP: {"close"},
    CaseState.FAILED: {"close"},
    CaseState.WITHDRAWN: {"close"},
    CaseState.DECLINED: set(),
    CaseState.CLOSED: set(),
}


@pytest.mark.parametrize("state", list(ALLOWED))
def test_every_illegal_move_is_refused_and_changes_nothing(world, state):
    case = _case_in(world, state)
    assert case.state == state
    events_before = MediationEvent.objects.filter(case=case).count()
    attempts = _attempts(world, case)
    for name, attempt in attempts.items():
        if name in ALLOWED[state]:
            continue
        with pytest.raises(ConflictError):
            attempt()
        case.refresh_from_db()
        assert case.state == state, name
    assert MediationEvent.objects.filter(case=case).count() == events_before


@pytest.mark.parametrize("state", [s for s in ALLOWED if ALLOWED[s]])
def test_every_allowed_move_from_a_state_works(world, state):
    for name in ALLOWED[state]:
        case = _case_in(world, state)
        _attempts(world, case)[name]()
        case.refresh_from_db()
        assert case.state in TRANSITIONS[state] | {state}


def test_the_graph_is_closed(world):
    for source, targets in TRANSITIONS.items():
        assert source in CaseState.values
        assert targets <= set(CaseState.values)
    assert TRANSITIONS[CaseState.CLOSED] == set()
    assert TRANSITIONS[CaseState.DECLINED] == set()


# --- sessions -----------------------------------------------------------------------------


def test_double_booking_a_mediator_is_refused(world):
    first = walk_in(world, "village_a1")
    second = walk_in(world, "township_a", category_code="1002")
    services.case_accept(actor=world.mediator, case_id=first.pk)
    services.case_accept(actor=world.mediator, case_id=second.pk)
    start = timezone.now().replace(microsecond=0) + timedelta(days=1)
    services.session_schedule(
        actor=world.mediator, case_id=first.pk, starts_at=start, duration_minutes=90
    )
    # Same mediator, another room, overlapping by 30 minutes: refused, nothing written.
    with pytest.raises(ConflictError):
        services.session_schedule(
            actor=world.mediator, case_id=second.pk, starts_at=start + timedelta(minutes=60)
        )
    assert MediationSession.objects.count() == 1
    assert MediationCase.objects.get(pk=second.pk).state == CaseState.ACCEPTED
    # Right after the first one ends: fine.
    services.session_schedule(
        actor=world.mediator, case_id=second.pk, starts_at=start + timedelta(minutes=90)
    )
    assert MediationSession.objects.count() == 2


def test_a_cancelled_session_frees_the_mediator(world):
    case = walk_in(world)
    services.case_accept(actor=world.mediator, case_id=case.pk)
    start = timezone.now() + timedelta(days=1)
    session = services.session_schedule(actor=world.mediator, case_id=case.pk, starts_at=start)
    services.session_cancel(actor=world.mediator, session_id=session.pk, reason="当事人请假")
    services.session_schedule(actor=world.mediator, case_id=case.pk, starts_at=start)
    assert MediationSession.objects.filter(state="planned").count() == 1


def test_a_room_is_not_booked_beyond_its_daily_capacity(world):
    room = world.rooms["village_a1"]
    room.capacity_per_day = 2
    room.save()
    other = services.room_mediator_add(
        actor=world.admin, room_id=room.pk, user_id=world.mediator2.pk
    )
    day = (timezone.localtime() + timedelta(days=2)).replace(hour=9, minute=0, second=0)
    cases = [walk_in(world) for _ in range(3)]
    for case in cases:
        services.case_accept(actor=world.mediator, case_id=case.pk)
    services.session_schedule(actor=world.mediator, case_id=cases[0].pk, starts_at=day)
    services.session_schedule(
        actor=world.mediator, case_id=cases[1].pk, starts_at=day + timedelta(hours=2)
    )
    with pytest.raises(ConflictError):
        services.session_schedule(
            actor=world.mediator,
            case_id=cases[2].pk,
            starts_at=day + timedelta(hours=5),
            mediator_id=other.user_id,
        )
    # The next day is free.
    services.session_schedule(
        actor=world.mediator, case_id=cases[2].pk, starts_at=day + timedelta(days=1)
    )


def test_sessions_are_not_booked_in_the_past(world):
    case = walk_in(world)
    services.case_accept(actor=world.mediator, case_id=case.pk)
    with pytest.raises(ValidationFailed):
        services.session_schedule(
            actor=world.mediator, case_id=case.pk, starts_at=timezone.now() - timedelta(hours=1)
        )


def test_minutes_only_after_the_session_started(world):
    case = walk_in(world)
    services.case_accept(actor=world.mediator, case_id=case.pk)
    start = timezone.now() + timedelta(hours=2)
    session = services.session_schedule(actor=world.mediator, case_id=case.pk, starts_at=start)
    with pytest.raises(ConflictError):
        services.session_record_minutes(actor=world.mediator, session_id=session.pk, minutes="x")
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        services.session_record_minutes(
            actor=world.mediator, session_id=session.pk, minutes="双方陈述"
        )
    case.refresh_from_db()
    assert case.state == CaseState.IN_SESSION


# --- stopping -----------------------------------------------------------------------------


def test_a_party_refusing_stops_the_case(world):
    case = walk_in(world)
    services.case_accept(actor=world.mediator, case_id=case.pk)
    session = services.session_schedule(
        actor=world.mediator, case_id=case.pk, starts_at=timezone.now() + timedelta(days=1)
    )
    respondent = case.parties.get(role="respondent")
    with pytest.raises(ValidationFailed):  # the mediator must say who refused
        services.case_withdraw(actor=world.mediator, case_id=case.pk, reason="不愿调解")
    case = services.case_withdraw(
        actor=world.mediator, case_id=case.pk, reason="不愿调解", party_id=respondent.pk
    )
    assert case.state == CaseState.WITHDRAWN
    assert case.outcome == CaseOutcome.WITHDRAWN
    assert "李四" in case.outcome_note
    session.refresh_from_db()
    assert session.state == MediationSession.State.CANCELLED
    event = case.events.last()
    assert event.action == "party_refused"
    assert event.data["party_id"] == respondent.pk
    with pytest.raises(ConflictError):  # mediation has stopped: no more sessions
        services.session_schedule(
            actor=world.mediator, case_id=case.pk, starts_at=timezone.now() + timedelta(days=2)
        )


def test_the_applicant_withdraws_their_own_application(world):
    case = services.case_apply_online(
        actor=world.resident,
        room_id=world.rooms["village_a1"].pk,
        category_code="1001",
        facts="噪音",
        parties=parties(),
    )
    case = services.case_withdraw(actor=world.resident, case_id=case.pk, reason="已自行和解")
    assert case.state == CaseState.WITHDRAWN
    assert case.events.last().action == "withdrawn"
    assert Notification.objects.filter(
        user=world.mediator, dedupe_key=f"mediation:{case.pk}:withdrawn:mediator"
    ).exists()


def test_extension_needs_the_parties_consent(world):
    case = walk_in(world)
    case = services.case_accept(actor=world.mediator, case_id=case.pk)
    due = case.due_at
    with pytest.raises(ValidationFailed):
        services.case_extend(
            actor=world.mediator, case_id=case.pk, days=15, parties_consent=False, note="未同意"
        )
    case = services.case_extend(
        actor=world.mediator,
        case_id=case.pk,
        days=15,
        parties_consent=True,
        note="双方签字同意延期",
    )
    assert case.due_at >= due + timedelta(days=15)
    assert case.extension_days == 15
    event = case.events.last()
    assert event.action == "extended"
    assert event.note == "双方签字同意延期"


def test_declining_needs_a_reason(world):
    case = walk_in(world)
    with pytest.raises(ValidationFailed):
        services.case_decline(actor=world.mediator, case_id=case.pk, reason=" ")
    case = services.case_decline(actor=world.mediator, case_id=case.pk, reason="已起诉")
    assert case.state == CaseState.DECLINED
    assert case.decline_reason == "已起诉"


def test_judicial_confirmation_only_within_30_days(world):
    with time_machine.travel(at(2026, 5, 6, 9), tick=False):
        case = in_session(world)
        written_agreement(world, case)
        sign_all(world, case)
        case.refresh_from_db()
        # 30 days after 2026-05-06 is 2026-06-05 (a Friday).
        assert timezone.localtime(case.confirmation_due_at).date().isoformat() == "2026-06-05"
    with time_machine.travel(at(2026, 6, 6, 9), tick=False), pytest.raises(ConflictError):
        services.case_request_confirmation(actor=world.mediator, case_id=case.pk, court="法院")
    case.refresh_from_db()
    assert case.state == CaseState.AGREEMENT_REACHED


# --- permissions and scope ----------------------------------------------------------------


def test_a_mediator_of_another_room_cannot_see_or_move_the_case(world):
    case = walk_in(world)
    with pytest.raises(NotFoundError):
        services.case_accept(actor=world.mediator2, case_id=case.pk)
    with pytest.raises(NotFoundError):
        services.case_accept(actor=world.resident, case_id=case.pk)
    assert MediationCase.objects.get(pk=case.pk).state == CaseState.APPLIED


def test_a_supervisor_sees_but_does_not_mediate(world):
    case = walk_in(world)
    with pytest.raises(PermissionDeniedError):
        services.case_accept(actor=world.supervisor, case_id=case.pk)


def test_assigning_a_mediator_from_outside_the_room_is_refused(world):
    case = walk_in(world)
    with pytest.raises(ValidationFailed):
        services.case_accept(actor=world.mediator, case_id=case.pk, mediator_id=world.mediator2.pk)


# --- rooms --------------------------------------------------------------------------------


def _room_data(world, **overrides):
    values = {
        "name": "金品社区调解室",
        "room_type": "评理说事点",
        "level": "village",
        "region_code": world.regions["a2"].code,
        "category_codes": ["1001"],
        "address": "金品社区服务中心",
        "lat": 24.505,
        "lng": 117.625,
        "opening_hours": "周一至周五",
        "capacity_per_day": 3,
    }
    values.update(overrides)
    return services.room_data_clean(**values)


def test_admin_creates_edits_and_reorders_rooms(world):
    room = services.room_create(actor=world.admin, data=_room_data(world))
    assert room.room_type == "reasoning_point"
    assert room.region_code == world.regions["a2"].code
    assert [c.code for c in room.categories.all()] == ["1001"]
    assert room.sort_order == max(MediationRoom.objects.values_list("sort_order", flat=True))
    room = services.room_update(
        actor=world.admin,
        room_id=room.pk,
        data=_room_data(world, capacity_per_day=5, category_codes=[], gold_rated=True),
    )
    assert room.capacity_per_day == 5
    assert room.gold_rated
    assert room.categories.count() == 0  # every dispute
    services.room_move(actor=world.admin, room_id=room.pk, direction="up")
    order = list(MediationRoom.objects.values_list("pk", flat=True))
    assert order.index(room.pk) == len(order) - 2
    services.room_reorder(actor=world.admin, room_ids=[room.pk])
    assert MediationRoom.objects.first() == room


def test_room_validation_reports_every_field(world):
    with pytest.raises(ValidationFailed) as error:
        services.room_data_clean(
            name="",
            room_type="卡拉OK",
            level="village",
            region_code=world.regions["street_a"].code,  # a street for a village room
            category_codes=["0102", "9999"],
            lat=100.0,
            lng=None,
            capacity_per_day=-1,
        )
    assert set(error.value.extra) >= {
        "name",
        "room_type",
        "region",
        "categories",
        "lat",
        "capacity_per_day",
    }


def test_only_admins_configure_rooms(world):
    with pytest.raises(PermissionDeniedError):
        services.room_create(actor=world.mediator, data=_room_data(world))
    with pytest.raises(PermissionDeniedError):
        services.room_set_active(
            actor=world.supervisor, room_id=world.rooms["village_a1"].pk, active=False
        )


def test_duplicate_room_names_are_refused(world):
    with pytest.raises(ValidationFailed):
        services.room_create(actor=world.admin, data=_room_data(world, name="西桥社区评理说事点"))


def test_deactivating_a_room_keeps_its_cases_and_takes_no_new_ones(world):
    room = world.rooms["village_a1"]
    case = walk_in(world)
    services.case_accept(actor=world.mediator, case_id=case.pk)
    services.room_set_active(actor=world.admin, room_id=room.pk, active=False)
    case.refresh_from_db()
    assert case.room == room
    # The ongoing case is still mediated there.
    services.session_schedule(
        actor=world.mediator, case_id=case.pk, starts_at=timezone.now() + timedelta(days=1)
    )
    with pytest.raises(ConflictError):
        walk_in(world)
    services.room_set_active(actor=world.admin, room_id=room.pk, active=True)
    walk_in(world)


def test_room_mediators_must_have_the_mediator_role(world):
    room = world.rooms["county_family"]
    with pytest.raises(ValidationFailed):
        services.room_mediator_add(actor=world.admin, room_id=room.pk, user_id=world.resident.pk)
    membership = services.room_mediator_add(
        actor=world.admin, room_id=room.pk, user_id=world.mediator.pk, title="家事调解员"
    )
    assert membership.title == "家事调解员"
    services.room_mediator_remove(actor=world.admin, room_id=room.pk, user_id=world.mediator.pk)
    membership.refresh_from_db()
    assert not membership.active


# --- CSV import ---------------------------------------------------------------------------

CSV_HEADER = "name,type,level,region_code,categories,address,lat,lng,capacity,gold,mediators\n"


def test_csv_import_creates_and_updates_rooms(world):
    content = CSV_HEADER + (
        "金品社区评理说事点,评理说事点,village,350602001002,1001;1002,金品社区,24.505,117.625,3,否,"
        "med1:调解员\n"
        "西桥社区评理说事点,reasoning_point,村,350602001001,1001,新地址,,,5,是,\n"
    )
    result = services.rooms_import_csv(actor=world.admin, content=content.encode("utf-8"))
    assert (result.created, result.updated) == (1, 1)
    new = MediationRoom.objects.get(name="金品社区评理说事点")
    assert new.level == "village"
    assert sorted(new.categories.values_list("code", flat=True)) == ["1001", "1002"]
    assert new.memberships.get().user == world.mediator
    updated = MediationRoom.objects.get(name="西桥社区评理说事点")
    assert updated.address == "新地址"
    assert updated.capacity_per_day == 5
    assert updated.gold_rated


def test_csv_import_reads_gbk_from_excel(world):
    content = CSV_HEADER + "金品社区评理说事点,评理说事点,社区,350602001002,,,,,,,\n"
    result = services.rooms_import_csv(actor=world.admin, content=content.encode("gbk"))
    assert result.created == 1


def test_csv_import_with_bad_rows_writes_nothing(world, settings):
    settings.LANGUAGE_CODE = "en"
    before = list(MediationRoom.objects.values_list("name", "capacity_per_day"))
    content = CSV_HEADER + (
        "好房间,评理说事点,village,350602001002,,,,,3,,\n"  # line 2 fine
        "坏类型,卡拉OK,village,350602001002,,,,,3,,\n"  # line 3 unknown type
        "错层级,评理说事点,township,350602001002,,,,,3,,\n"  # line 4 community for township
        "无地区,评理说事点,village,350699999999,,,,,3,,\n"  # line 5 unknown region
        "坏坐标,评理说事点,village,350602001002,,abc,117,3,,\n"  # line 6 bad number
        "好房间,评理说事点,village,350602001002,,,,,3,,\n"  # line 7 duplicate name
        "非调解员,评理说事点,village,350602001002,,,,,3,,res\n"  # line 8 not a mediator
        "坏类别,评理说事点,village,350602001002,0102,,,,3,,\n"  # line 9 not a dispute
        # an update, rolled back too
        "西桥社区评理说事点,评理说事点,village,350602001001,,,,,1,,\n"
    )
    with pytest.raises(ValidationFailed) as error:
        services.rooms_import_csv(actor=world.admin, content=content.encode("utf-8"))
    rows = error.value.extra["rows"]
    for line in (3, 4, 5, 6, 7, 8, 9):
        assert any(text.startswith(f"line {line}:") for text in rows), (line, rows)
    assert not any(text.startswith("line 2:") for text in rows)
    assert list(MediationRoom.objects.values_list("name", "capacity_per_day")) == before


def test_csv_import_needs_the_required_columns(world):
    with pytest.raises(ValidationFailed) as error:
        services.rooms_import_csv(actor=world.admin, content=b"name,type\nx,y\n")
    assert "level" in error.value.message
    with pytest.raises(ValidationFailed):
        services.rooms_import_csv(actor=world.admin, content=CSV_HEADER.encode())
    with pytest.raises(PermissionDeniedError):
        services.rooms_import_csv(actor=world.mediator, content=CSV_HEADER.encode())


# --- referral from an incident and back ---------------------------------------------------


def test_referral_from_an_incident_and_agreement_closes_it(
    world, django_capture_on_commit_callbacks
):
    incident = dispute_incident(world)
    assert incident.state == "accepted"
    case = services.case_create_from_incident(
        actor=world.handler,
        incident_id=incident.pk,
        room_id=world.rooms["village_a1"].pk,
        parties=parties(),
        facts="",
    )
    assert case.source == "incident"
    assert case.incident_id == incident.pk
    assert case.region_code == incident.region_code
    assert case.facts == incident.description
    incident.refresh_from_db()
    assert incident.state == "mediating"
    assert incident.events.filter(action="refer_to_mediation").exists()
    with pytest.raises(ConflictError):  # one open case per incident
        services.case_create_from_incident(
            actor=world.handler,
            incident_id=incident.pk,
            room_id=world.rooms["township_a"].pk,
            parties=parties(),
            facts="x",
        )
    services.case_accept(actor=world.mediator, case_id=case.pk)
    session = services.session_schedule(
        actor=world.mediator, case_id=case.pk, starts_at=timezone.now() + timedelta(hours=1)
    )
    services.session_start(actor=world.mediator, session_id=session.pk)
    with django_capture_on_commit_callbacks(execute=True):
        written_agreement(world, case, form="oral")
    incident.refresh_from_db()
    assert incident.state == "closed"
    assert "李四于三日内清理杂物" in incident.result
    case.refresh_from_db()
    assert case.incident_notified_at is not None
    assert case.events.filter(action="incident_notified").count() == 1
    # Running the task again changes nothing.
    from mediation.tasks import report_outcome_to_incident

    report_outcome_to_incident.delay(case.pk)
    assert case.events.filter(action="incident_notified").count() == 1


def test_failed_mediation_sends_the_incident_back(world, django_capture_on_commit_callbacks):
    incident = dispute_incident(world)
    case = services.case_create_from_incident(
        actor=world.handler,
        incident_id=incident.pk,
        room_id=world.rooms["village_a1"].pk,
        parties=parties(),
        facts="装修噪音",
    )
    services.case_accept(actor=world.mediator, case_id=case.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.case_fail(actor=world.mediator, case_id=case.pk, reason="分歧太大")
    incident.refresh_from_db()
    assert incident.state == "dispatched"
    assert incident.events.filter(action="mediation_concluded").exists()


def test_a_non_dispute_incident_cannot_be_referred(world):
    incident = dispute_incident(world, category_key="litter")
    with pytest.raises(ValidationFailed):
        services.case_create_from_incident(
            actor=world.handler,
            incident_id=incident.pk,
            room_id=world.rooms["village_a1"].pk,
            parties=parties(),
            facts="x",
        )
    assert not MediationCase.objects.exists()


def test_a_referral_the_incident_refuses_writes_nothing(world):
    incident = dispute_incident(world)
    with pytest.raises(NotFoundError):  # a resident sees no such incident
        services.case_create_from_incident(
            actor=world.resident,
            incident_id=incident.pk,
            room_id=world.rooms["village_a1"].pk,
            parties=parties(),
            facts="x",
        )
    assert not MediationCase.objects.exists()
    assert Incident.objects.get(pk=incident.pk).state == "accepted"


def test_petition_referral_contract(world):
    officer = services.User.objects.create_user(username="pet", password="x")
    from accounts.models import Role

    officer.roles.set(Role.objects.filter(code="petition_officer"))
    officer = services.User.objects.get(pk=officer.pk)
    case = services.case_create_from_petition(
        actor=officer,
        petition_id=42,
        room_id=world.rooms["township_a"].pk,
        parties=parties(),
        facts="信访事项转调解",
        category_code="1002",
    )
    assert case.source == "petition"
    assert case.petition_id == 42
    with pytest.raises(ConflictError):
        services.case_create_from_petition(
            actor=officer,
            petition_id=42,
            room_id=world.rooms["township_a"].pk,
            parties=parties(),
            facts="again",
            category_code=None,
        )
    with pytest.raises(PermissionDeniedError):
        services.case_create_from_petition(
            actor=world.resident,
            petition_id=43,
            room_id=world.rooms["township_a"].pk,
            parties=parties(),
            facts="x",
            category_code=None,
        )


def test_agreement_signature_unique_constraint_is_in_the_database(world):
    case = in_session(world)
    agreement = written_agreement(world, case)
    services.agreement_sign(actor=world.mediator, case_id=case.pk, party_id=None)
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        AgreementSignature.objects.create(
            agreement=agreement,
            party=None,
            signer_name="x",
            signed_at=timezone.now(),
            recorded_by=world.mediator,
        )


# --- the committee's seal and the date of effect (人民调解法 Art. 29, 33) -------------------


def _sign_every_party_and_the_mediator(world, case, signed_at):
    for party in case.parties.all():
        services.agreement_sign(
            actor=world.mediator, case_id=case.pk, party_id=party.pk, signed_at=signed_at
        )
    services.agreement_sign(
        actor=world.mediator, case_id=case.pk, party_id=None, signed_at=signed_at
    )


def test_written_agreement_is_not_effective_without_the_committee_seal(world):
    case = in_session(world)
    agreement = written_agreement(world, case)
    _sign_every_party_and_the_mediator(world, case, None)
    agreement.refresh_from_db()
    case.refresh_from_db()
    assert not agreement.is_effective
    assert agreement.effective_at is None
    assert case.state == CaseState.IN_SESSION
    assert case.confirmation_due_at is None
    with pytest.raises(ConflictError):  # no judicial confirmation before it is in effect
        services.case_request_confirmation(actor=world.mediator, case_id=case.pk, court="法院")
    assert "seal" in selectors.case_actions_for(user=world.mediator, case=case)

    services.agreement_seal(actor=world.mediator, case_id=case.pk)
    agreement.refresh_from_db()
    case.refresh_from_db()
    assert agreement.is_effective
    assert agreement.sealed_by == world.mediator
    assert case.state == CaseState.AGREEMENT_REACHED
    sealed = case.events.get(action="agreement_sealed")
    assert sealed.actor == world.mediator
    assert sealed.note == world.rooms["village_a1"].name
    assert list(case.events.values_list("action", flat=True))[-2:] == [
        "agreement_sealed",
        "agreement_effective",
    ]
    with pytest.raises(ConflictError):  # once in effect, nothing more to seal
        services.agreement_seal(actor=world.mediator, case_id=case.pk)


def test_effect_and_confirmation_window_count_from_signing_and_sealing_not_data_entry(world):
    """The review's probe: everybody signed and the seal was applied on 2026-06-01, entered on
    06-13. The agreement is in effect from 06-01, and the 30 days of Art. 33 end on 2026-07-01
    (a Wednesday, a working day in the calendar: no holiday shift), not on 07-13."""
    with time_machine.travel(at(2026, 5, 29, 9), tick=False):
        case = in_session(world)
        agreement = written_agreement(world, case)
    with time_machine.travel(at(2026, 6, 13, 10), tick=False):
        _sign_every_party_and_the_mediator(world, case, at(2026, 6, 1, 10))
        services.agreement_seal(actor=world.mediator, case_id=case.pk, sealed_at=at(2026, 6, 1, 11))
        agreement.refresh_from_db()
        case.refresh_from_db()
        assert agreement.effective_at == at(2026, 6, 1, 11)
        assert agreement.sealed_at == at(2026, 6, 1, 11)
        assert timezone.localtime(case.confirmation_due_at).date().isoformat() == "2026-07-01"
        event = case.events.get(action="agreement_effective")
        assert event.data["effective_at"] == at(2026, 6, 1, 11).isoformat()
    with time_machine.travel(at(2026, 7, 2, 9), tick=False), pytest.raises(ConflictError):
        services.case_request_confirmation(
            actor=world.mediator, case_id=case.pk, court="芗城区人民法院"
        )


def test_effective_on_the_latest_signature_when_the_seal_came_first(world):
    with time_machine.travel(at(2026, 6, 1, 9), tick=False):
        case = in_session(world)
        agreement = written_agreement(world, case)
    with time_machine.travel(at(2026, 6, 10, 9), tick=False):
        services.agreement_seal(actor=world.mediator, case_id=case.pk, sealed_at=at(2026, 6, 2))
        with pytest.raises(ConflictError):  # sealed: the text can no longer change
            written_agreement(world, case)
        applicant, respondent = case.parties.order_by("position")
        services.agreement_sign(
            actor=world.mediator, case_id=case.pk, party_id=applicant.pk, signed_at=at(2026, 6, 2)
        )
        services.agreement_sign(
            actor=world.mediator, case_id=case.pk, party_id=None, signed_at=at(2026, 6, 2)
        )
        services.agreement_sign(
            actor=world.mediator, case_id=case.pk, party_id=respondent.pk, signed_at=at(2026, 6, 5)
        )
        agreement.refresh_from_db()
        case.refresh_from_db()
    assert agreement.effective_at == at(2026, 6, 5)
    # 2026-07-05 is a Sunday: the statutory limit moves to Monday 07-06.
    expected = add_calendar_days_statutory(at(2026, 6, 5), services.CONFIRMATION_DAYS)
    assert case.confirmation_due_at == expected
    assert timezone.localtime(expected).date().isoformat() == "2026-07-06"


def test_the_seal_date_is_checked_and_only_room_staff_apply_it(world):
    with time_machine.travel(at(2026, 6, 1, 9), tick=False):
        case = in_session(world)
        written_agreement(world, case)
    with time_machine.travel(at(2026, 6, 3, 9), tick=False):
        with pytest.raises(ValidationFailed) as error:
            services.agreement_seal(
                actor=world.mediator, case_id=case.pk, sealed_at=at(2026, 6, 4, 9)
            )
        assert "sealed_at" in error.value.extra
        with pytest.raises(ValidationFailed) as error:
            services.agreement_seal(
                actor=world.mediator, case_id=case.pk, sealed_at=at(2026, 5, 31, 9)
            )
        assert "sealed_at" in error.value.extra
        with pytest.raises(PermissionDeniedError):  # sees the case, is no mediator of the room
            services.agreement_seal(actor=world.supervisor, case_id=case.pk)
        with pytest.raises(NotFoundError):  # a mediator of another room does not see it
            services.agreement_seal(actor=world.mediator2, case_id=case.pk)
        assert not case.events.filter(action="agreement_sealed").exists()
        services.agreement_seal(actor=world.mediator, case_id=case.pk, sealed_at=at(2026, 6, 2))
        with pytest.raises(ConflictError):  # the seal is applied once
            services.agreement_seal(actor=world.mediator, case_id=case.pk)


def test_oral_agreement_needs_no_seal(world):
    case = in_session(world)
    written_agreement(world, case, form="oral")
    with pytest.raises(ConflictError):
        services.agreement_seal(actor=world.mediator, case_id=case.pk)


# --- settle period and extension cap are admin data (MediationPolicy) ---------------------


def test_the_settle_period_and_the_extension_cap_come_from_the_policy(world):
    MediationPolicy.objects.create(settle_days=15, max_extension_days=10)
    with time_machine.travel(at(2026, 3, 2, 9), tick=False):
        case = services.case_accept(actor=world.mediator, case_id=walk_in(world).pk)
        # 15 calendar days: 2026-03-17 is a Tuesday.
        assert timezone.localtime(case.due_at).date().isoformat() == "2026-03-17"
        with pytest.raises(ValidationFailed) as error:
            services.case_extend(
                actor=world.mediator, case_id=case.pk, days=11, parties_consent=True, note="同意"
            )
        assert "days" in error.value.extra
        case = services.case_extend(
            actor=world.mediator, case_id=case.pk, days=10, parties_consent=True, note="同意"
        )
        assert case.extension_days == 10
        assert timezone.localtime(case.due_at).date().isoformat() == "2026-03-27"


def test_the_policy_defaults_are_30_and_60_days(world):
    policy = MediationPolicy.current()
    assert (policy.settle_days, policy.max_extension_days) == (30, 60)
    case = services.case_accept(actor=world.mediator, case_id=walk_in(world).pk)
    with pytest.raises(ValidationFailed):
        services.case_extend(
            actor=world.mediator, case_id=case.pk, days=61, parties_consent=True, note="同意"
        )
    case = services.case_extend(
        actor=world.mediator, case_id=case.pk, days=60, parties_consent=True, note="同意"
    )
    assert case.extension_days == 60
