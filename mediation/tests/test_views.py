import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from mediation import services
from mediation.models import CaseState, MediationCase, MediationRoom, MediationSession
from mediation.tests.builders import (
    dispute_incident,
    in_session,
    parties,
    sign_all,
    walk_in,
    written_agreement,
)


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.mark.parametrize(
    ("who", "target"),
    [
        ("admin", "mediation:rooms"),
        ("mediator", "mediation:case_list"),
        ("supervisor", "mediation:stats"),
        ("resident", "mediation:my_cases"),
        ("handler", "mediation:my_cases"),
    ],
)
def test_home_depends_on_the_role(world, login, who, target):
    response = login(getattr(world, who)).get(reverse("mediation:home"))
    assert response.status_code == 302
    assert response.url == reverse(target)


def test_pages_need_a_login(client, db):
    response = client.get(reverse("mediation:case_list"))
    assert response.status_code == 302
    assert "login" in response.url


# --- rooms --------------------------------------------------------------------------------


def test_rooms_pages_are_for_admins_only(world, login):
    client = login(world.mediator)
    for name in ("mediation:rooms", "mediation:room_create", "mediation:room_import"):
        assert client.get(reverse(name)).status_code == 403
    client = login(world.admin)
    response = client.get(reverse("mediation:rooms"))
    assert response.status_code == 200
    content = response.content.decode()
    for room in world.rooms.values():
        assert f'data-room-id="{room.pk}"' in content


def test_admin_creates_a_room_on_the_page(world, login):
    client = login(world.admin)
    assert client.get(reverse("mediation:room_create")).status_code == 200
    data = {
        "name": "金品社区评理说事点",
        "room_type": "reasoning_point",
        "level": "village",
        "region": world.regions["a2"].pk,
        "categories": [world.cats["neighbour"].pk],
        "address": "金品社区",
        "lat": "24.505",
        "lng": "117.625",
        "capacity_per_day": "3",
        "active": "on",
    }
    response = client.post(reverse("mediation:room_create"), data)
    room = MediationRoom.objects.get(name="金品社区评理说事点")
    assert response.status_code == 302
    assert response.url == reverse("mediation:room_edit", args=[room.pk])
    assert room.active
    assert list(room.categories.all()) == [world.cats["neighbour"]]
    # A level that does not fit the region: the form shows the error, nothing is saved.
    response = client.post(
        reverse("mediation:room_create"), {**data, "name": "错的", "level": "township"}
    )
    assert response.status_code == 200
    assert not MediationRoom.objects.filter(name="错的").exists()
    assert response.context["form"].errors["region"]


def test_admin_edits_deactivates_reorders_and_staffs_a_room(world, login):
    client = login(world.admin)
    room = world.rooms["county_family"]
    response = client.get(reverse("mediation:room_edit", args=[room.pk]))
    assert response.status_code == 200
    response = client.post(reverse("mediation:room_toggle", args=[room.pk]))
    assert response.status_code == 302
    room.refresh_from_db()
    assert not room.active
    before = list(MediationRoom.objects.values_list("pk", flat=True)).index(room.pk)
    assert before > 0
    client.post(reverse("mediation:room_move", args=[room.pk]), {"direction": "up"})
    order = list(MediationRoom.objects.values_list("pk", flat=True))
    assert order.index(room.pk) == before - 1
    client.post(
        reverse("mediation:room_mediator_add", args=[room.pk]),
        {"user": world.mediator.pk, "title": "家事调解员"},
    )
    assert room.memberships.filter(user=world.mediator, active=True).exists()
    client.post(reverse("mediation:room_mediator_remove", args=[room.pk, world.mediator.pk]))
    assert not room.memberships.filter(user=world.mediator, active=True).exists()


def test_import_page_shows_bad_rows_and_writes_nothing(world, login):
    client = login(world.admin)
    content = (
        "name,type,level,region_code\n好,评理说事点,village,350602001002\n坏,X,village,1\n"
    ).encode()
    response = client.post(
        reverse("mediation:room_import"), {"file": SimpleUploadedFile("r.csv", content)}
    )
    assert response.status_code == 200
    assert 'id="import-errors"' in response.content.decode()
    assert len(response.context["row_errors"]) >= 2
    assert not MediationRoom.objects.filter(name__in=["好", "坏"]).exists()
    good = "name,type,level,region_code\n好,评理说事点,village,350602001002\n".encode()
    response = client.post(
        reverse("mediation:room_import"), {"file": SimpleUploadedFile("r.csv", good)}
    )
    assert response.status_code == 302
    assert MediationRoom.objects.filter(name="好").exists()


def test_room_map_has_every_located_room(world, login):
    MediationRoom.objects.filter(pk=world.rooms["village_a1"].pk).update(lat=24.505, lng=117.61)
    response = login(world.admin).get(reverse("mediation:room_map"))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="room-map"' in content
    assert "leaflet.js" in content
    assert "cdn" not in content.lower()
    points = response.context["room_points"]
    assert [p["name"] for p in points] == ["西桥社区评理说事点"]
    assert len(response.context["rooms"]) == 6


# --- cases --------------------------------------------------------------------------------


def test_a_mediator_lists_only_their_rooms_cases(world, login):
    mine = walk_in(world)
    other = walk_in(world, "township_b", actor=world.mediator2)
    content = login(world.mediator).get(reverse("mediation:case_list")).content.decode()
    assert mine.case_number in content
    assert other.case_number not in content


def test_a_resident_applies_online_and_tracks_the_case(world, login):
    client = login(world.resident)
    assert client.get(reverse("mediation:apply")).status_code == 200
    data = {
        "room": world.rooms["village_a1"].pk,
        "category": world.cats["neighbour"].pk,
        "facts": "楼上噪音",
        "requests": "停止噪音",
        "parties-TOTAL_FORMS": "3",
        "parties-INITIAL_FORMS": "0",
        "parties-0-role": "applicant",
        "parties-0-name": "王小明",
        "parties-0-phone": "13900000009",
        "parties-1-role": "respondent",
        "parties-1-name": "刘某",
        "parties-1-phone": "13700000005",
        "parties-2-role": "respondent",
    }
    response = client.post(reverse("mediation:apply"), data)
    case = MediationCase.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("mediation:case_detail", args=[case.pk])
    assert case.applicant_user == world.resident
    assert case.parties.count() == 2
    content = client.get(reverse("mediation:my_cases")).content.decode()
    assert case.case_number in content
    detail = client.get(response.url).content.decode()
    assert "137****0005" in detail  # the other party's phone is masked
    assert "13700000005" not in detail
    # A missing respondent: the form says so, nothing is written.
    data["parties-1-name"] = ""
    data["parties-1-phone"] = ""
    response = client.post(reverse("mediation:apply"), data)
    assert response.status_code == 200
    assert MediationCase.objects.count() == 1


def test_the_mediator_sees_contacts_in_full(world, login):
    case = walk_in(world)
    content = login(world.mediator).get(reverse("mediation:case_detail", args=[case.pk]))
    assert "13700000002" in content.content.decode()
    supervisor_view = login(world.supervisor).get(reverse("mediation:case_detail", args=[case.pk]))
    assert "137****0002" in supervisor_view.content.decode()
    assert "13700000002" not in supervisor_view.content.decode()


def test_case_pages_are_404_outside_the_scope(world, login):
    case = walk_in(world)
    assert (
        login(world.mediator2).get(reverse("mediation:case_detail", args=[case.pk])).status_code
        == 404
    )


def test_mediator_actions_on_the_case_page(world, login):
    case = walk_in(world)
    client = login(world.mediator)
    url = reverse("mediation:case_action", args=[case.pk, "accept"])
    response = client.post(url, {})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED
    start = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("mediation:case_action", args=[case.pk, "schedule"]),
        {"starts_at": start, "duration_minutes": "60", "place": "调解室"},
    )
    assert response.status_code == 302
    session = MediationSession.objects.get(case=case)
    response = client.post(reverse("mediation:session_action", args=[session.pk, "start"]))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.IN_SESSION
    # Bad input: the page comes back with the error; nothing changes.
    response = client.post(reverse("mediation:case_action", args=[case.pk, "fail"]), {"reason": ""})
    assert response.status_code == 400
    assert response.context["open_action"] == "fail"
    case.refresh_from_db()
    assert case.state == CaseState.IN_SESSION
    # A move the state does not allow: a clear message, never a 500.
    response = client.post(
        reverse("mediation:case_action", args=[case.pk, "follow_up"]),
        {"performance": "fully", "result": "x"},
    )
    assert response.status_code == 400
    assert response.context["messages"]


def test_unknown_actions_are_404(world, login):
    case = walk_in(world)
    response = login(world.mediator).post(
        reverse("mediation:case_action", args=[case.pk, "teleport"])
    )
    assert response.status_code == 404


def test_printable_agreement_has_a_copy_per_party_and_an_archive_copy(world, login):
    case = in_session(world)
    written_agreement(world, case)
    client = login(world.mediator)
    response = client.get(reverse("mediation:agreement_print", args=[case.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert content.count('class="copy"') == case.parties.count() + 1
    assert content.count("西桥社区评理说事点") >= case.parties.count() + 1
    assert "李四于三日内清理杂物" in content
    sign_all(world, case, seal=False)
    content = client.get(reverse("mediation:agreement_print", args=[case.pk])).content.decode()
    assert content.count("张三 (") >= 1  # the signature line is filled in
    assert "<mark>" in content  # signed by all, not sealed: not in effect (Art. 29)
    services.agreement_seal(actor=world.mediator, case_id=case.pk)
    content = client.get(reverse("mediation:agreement_print", args=[case.pk])).content.decode()
    today = timezone.localdate().isoformat()
    assert "<mark>" not in content
    assert f'id="seal-line">西桥社区评理说事点 {today}' in content


def test_calendar_shows_the_weeks_sessions(world, login):
    case = walk_in(world)
    services.case_accept(actor=world.mediator, case_id=case.pk)
    start = timezone.now() + timedelta(days=1)
    session = services.session_schedule(actor=world.mediator, case_id=case.pk, starts_at=start)
    client = login(world.mediator)
    week = timezone.localtime(start).date().isoformat()
    content = client.get(reverse("mediation:calendar"), {"week": week}).content.decode()
    assert f'data-session-id="{session.pk}"' in content
    content = login(world.mediator2).get(reverse("mediation:calendar"), {"week": week})
    assert f'data-session-id="{session.pk}"' not in content.content.decode()


def test_stats_page(world, login):
    assert login(world.resident).get(reverse("mediation:stats")).status_code == 403
    response = login(world.supervisor).get(reverse("mediation:stats"), {"group_by": "level"})
    assert response.status_code == 200
    assert "echarts.min.js" in response.content.decode()


def test_handler_refers_an_incident_from_the_refer_page(world, login):
    incident = dispute_incident(world)
    client = login(world.handler)
    url = reverse("mediation:refer", args=[incident.pk])
    response = client.get(url)
    assert response.status_code == 200
    names = [p.room.name for p in response.context["proposals"]]
    assert names == ["西桥社区评理说事点", "西桥街道两代表一委员调解室"]
    data = {
        "room": world.rooms["village_a1"].pk,
        "facts": incident.description,
        "parties-TOTAL_FORMS": "2",
        "parties-INITIAL_FORMS": "0",
    }
    for index, party in enumerate(parties()):
        for key, value in party.items():
            data[f"parties-{index}-{key}"] = value
    response = client.post(url, data)
    case = MediationCase.objects.get()
    assert response.status_code == 302
    assert case.incident_id == incident.pk
    incident.refresh_from_db()
    assert incident.state == "mediating"
    assert login(world.resident).get(url).status_code == 404


def test_the_pages_render_in_english(world, login, settings):
    case = walk_in(world)
    client = login(world.mediator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    content = client.get(reverse("mediation:case_detail", args=[case.pk])).content.decode()
    assert "Timeline" in content
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    content = client.get(reverse("mediation:case_detail", args=[case.pk])).content.decode()
    assert "办理过程" in content


def test_room_points_json_is_valid(world, login):
    MediationRoom.objects.update(lat=24.5, lng=117.6)
    response = login(world.admin).get(reverse("mediation:room_map"))
    content = response.content.decode()
    start = content.index('id="room-points"')
    payload = content[content.index(">", start) + 1 : content.index("</script>", start)]
    assert len(json.loads(payload)) == 6


def test_agreement_and_signatures_on_the_case_page(world, login):
    case = in_session(world)
    client = login(world.mediator)
    response = client.post(
        reverse("mediation:case_action", args=[case.pk, "agreement"]),
        {
            "form": "written",
            "facts": "楼道堆放杂物",
            "disputed_matters": "清理",
            "terms": "三日内清理",
            "performance_method": "自行清理",
        },
    )
    assert response.status_code == 302
    page = client.get(reverse("mediation:case_detail", args=[case.pk]))
    signers = dict(page.context["forms"]["sign"].fields["signer"].choices)
    assert len(signers) == 3 and "mediator" in signers
    for signer in list(signers):
        response = client.post(
            reverse("mediation:case_action", args=[case.pk, "sign"]),
            {"signer": signer, "method": "signature"},
        )
        assert response.status_code == 302
    case.refresh_from_db()
    # Signed by everyone but not sealed by the committee: not in effect yet (Art. 29).
    assert case.state == CaseState.IN_SESSION
    content = client.get(reverse("mediation:case_detail", args=[case.pk])).content.decode()
    assert 'data-effective="no"' in content
    assert 'data-sealed="no"' in content
    assert 'id="form-seal"' in content
    response = client.post(reverse("mediation:case_action", args=[case.pk, "seal"]), {})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.AGREEMENT_REACHED
    content = client.get(reverse("mediation:case_detail", args=[case.pk])).content.decode()
    assert 'data-effective="yes"' in content
    assert 'data-sealed="yes"' in content


def test_the_refer_page_refuses_a_non_dispute(world, login):
    """can_refer_to_mediation gates the page: a non-dispute cannot be referred (403), and the
    reporter's phone is not shown."""
    incident = dispute_incident(world, category_key="litter")
    response = login(world.handler).get(reverse("mediation:refer", args=[incident.pk]))
    assert response.status_code == 403
    assert 'id="refer-form"' not in response.content.decode()


# --- M1: the referral page gates the referral and masks the reporter's phone by role ------


def _resident_dispute(world, phone="13900000011"):
    """A dispute reported by a resident (with a phone), dispatched to the handler."""
    from incidents import services as incident_services
    from tests.builders import make_user

    reporter = make_user("reporter1", roles=["resident"], phone=phone)
    incident = incident_services.incident_report(
        actor=reporter,
        category=world.cats["neighbour"],
        description="楼上装修噪音与漏水，邻里发生争执",
        channel="resident_web",
        lat=24.505,
        lng=117.605,
        address="西桥社区1号楼",
    )
    incident_services.incident_start_verification(incident_id=incident.pk)
    incident_services.incident_verify(incident_id=incident.pk, actor=world.dispatcher)
    incident = incident_services.incident_dispatch(
        incident_id=incident.pk, actor=world.dispatcher, assignee_id=world.handler.pk
    )
    incident = incident_services.incident_accept(incident_id=incident.pk, actor=world.handler)
    return reporter, incident


def _unmasked_events(viewer, incident):
    from audit.models import AuditEvent, AuditKind

    return AuditEvent.objects.filter(
        kind=AuditKind.UNMASKED, actor=viewer, object_id=str(incident.pk)
    )


def _refer_data(world, response) -> dict:
    """The referral form as the page prefilled it (its rows are initial forms), plus a
    respondent."""
    formset = response.context["formset"]
    data = {
        "room": world.rooms["village_a1"].pk,
        "facts": response.context["form"]["facts"].value(),
        "parties-TOTAL_FORMS": "2",
        "parties-INITIAL_FORMS": "2",
    }
    for key, value in formset.forms[0].initial.items():
        data[f"parties-0-{key}"] = value
    data.update({"parties-1-role": "respondent", "parties-1-name": "李四"})
    return data


def test_refer_page_masks_the_reporters_phone_for_a_supervisor_and_writes_no_audit(world, login):
    _reporter, incident = _resident_dispute(world)
    client = login(world.supervisor)
    url = reverse("mediation:refer", args=[incident.pk])
    response = client.get(url)
    assert response.status_code == 200
    content = response.content.decode()
    assert "139****0011" in content
    assert "13900000011" not in content
    assert not _unmasked_events(world.supervisor, incident).exists()
    # Sent back unchanged, the masked phone stands for the real one: never stored masked.
    response = client.post(url, _refer_data(world, response))
    assert response.status_code == 302, response.context and response.context["form"].errors
    applicant = MediationCase.objects.get(incident=incident).parties.get(role="applicant")
    assert applicant.phone == "13900000011"
    assert not _unmasked_events(world.supervisor, incident).exists()


@pytest.mark.parametrize("who", ["dispatcher", "handler"])
def test_refer_page_shows_the_phone_in_full_to_contact_roles_with_an_audit_event(world, login, who):
    _reporter, incident = _resident_dispute(world)
    viewer = getattr(world, who)
    response = login(viewer).get(reverse("mediation:refer", args=[incident.pk]))
    assert response.status_code == 200
    assert 'value="13900000011"' in response.content.decode()
    events = _unmasked_events(viewer, incident)
    assert events.count() == 1
    assert events.get().details["fields"] == ["reporter_phone"]


def test_refer_page_and_form_refused_to_a_role_that_cannot_refer(world, login):
    reporter, incident = _resident_dispute(world)
    url = reverse("mediation:refer", args=[incident.pk])
    client = login(reporter)  # sees their own report, may not refer it
    assert client.get(url).status_code == 403
    data = {
        "room": world.rooms["village_a1"].pk,
        "facts": "x",
        "parties-TOTAL_FORMS": "2",
        "parties-INITIAL_FORMS": "0",
        "parties-0-role": "applicant",
        "parties-0-name": "王女士",
        "parties-1-role": "respondent",
        "parties-1-name": "李四",
    }
    assert client.post(url, data).status_code == 403
    assert not MediationCase.objects.exists()
    # A mediator of another street does not see the incident at all.
    assert login(world.mediator2).get(url).status_code == 404
    # Once referred, the incident is mediating: no second referral page.
    services.case_create_from_incident(
        actor=world.handler,
        incident_id=incident.pk,
        room_id=world.rooms["village_a1"].pk,
        parties=parties(),
        facts="x",
    )
    assert login(world.handler).get(url).status_code == 403
