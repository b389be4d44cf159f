"""A dispute goes to mediation: the handler of a dispute incident refers it from the refer page
(rooms proposed nearest first), the mediator accepts, schedules a session, starts it, records a
written agreement and every signature; the agreement takes effect and the incident closes."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents import services as incident_services
from incidents.models import Category, Incident
from mediation.models import MediationCase, MediationRoom, RoomMediator
from tests.builders import DEFAULT_PASSWORD, make_grid_worker, make_user
from tests.conftest import login, wait_until


def _world(region_tree) -> dict:
    disputes = Category.objects.create(code="10", name="矛盾纠纷")
    neighbour = Category.objects.create(
        code="1001",
        parent=disputes,
        name="邻里纠纷",
        is_dispute=True,
        handled_at="grid",
        verify_within="1d",
        dispatch_within="1h",
        resolve_within="3d",
    )
    village = MediationRoom.objects.create(
        name="西桥社区评理说事点",
        room_type="reasoning_point",
        level="village",
        region=region_tree["a1"],
        address="西桥社区党群服务中心",
        sort_order=1,
    )
    township = MediationRoom.objects.create(
        name="西桥街道两代表一委员调解室",
        room_type="two_reps_one_member",
        level="township",
        region=region_tree["street_a"],
        sort_order=2,
    )
    mediator = make_user(
        "mediator",
        roles=["mediator"],
        region=region_tree["street_a"],
        phone="13800000008",
        display_name="蔡秀英",
    )
    RoomMediator.objects.create(room=village, user=mediator, title="调解员")
    RoomMediator.objects.create(room=township, user=mediator, title="首席调解员")
    handler = make_user(
        "handler",
        roles=["department_handler"],
        region=region_tree["district"],
        department="城管执法",
        phone="13800000007",
        display_name="李振华",
    )
    dispatcher = make_user(
        "dispatcher", roles=["dispatcher"], region=region_tree["street_a"], phone="13800000003"
    )
    worker = make_grid_worker("gridworker", cells=[region_tree["cell_a1_1"]], phone="13800000005")
    # A dispute found on patrol; whatever the routing rules did with it, the dispatcher gives it
    # to the handler, who accepts it.
    incident = incident_services.incident_report(
        actor=worker,
        category=neighbour,
        description="邻居装修噪音扰民，双方多次争吵",
        channel="patrol",
        lat=24.505,
        lng=117.605,
        address="西桥社区1号楼",
    )
    incident.refresh_from_db()
    if incident.state == "reported":
        incident_services.incident_start_verification(incident_id=incident.pk)
        incident.refresh_from_db()
    if incident.state == "verified":
        incident_services.incident_dispatch(
            incident_id=incident.pk, actor=dispatcher, assignee_id=handler.pk
        )
    else:
        incident_services.incident_reassign(
            incident_id=incident.pk, actor=dispatcher, assignee_id=handler.pk
        )
    incident_services.incident_accept(incident_id=incident.pk, actor=handler)
    incident.refresh_from_db()
    assert incident.state == "accepted"
    assert incident.assignee == handler
    return {"incident": incident, "mediator": mediator, "handler": handler, "village": village}


@pytest.mark.browser
def test_handler_refers_mediator_settles_incident_closes(browser_page, live_server, region_tree):
    page = browser_page
    data = _world(region_tree)
    incident = data["incident"]

    # The handler opens the refer page: the community's room first, then the street's.
    login(page, live_server.url, "handler", DEFAULT_PASSWORD)
    page.goto(f"/mediation/refer/{incident.pk}/")
    expect(page.locator("h1")).to_contain_text(incident.tracking_number)
    proposals = page.locator("#room-proposals label[data-room-name]")
    expect(proposals).to_have_count(2)
    expect(proposals.nth(0)).to_have_attribute("data-room-name", "西桥社区评理说事点")
    expect(proposals.nth(1)).to_have_attribute("data-room-name", "西桥街道两代表一委员调解室")
    expect(proposals.nth(0).locator("input[type=radio]")).to_be_checked()
    page.fill("#id_parties-0-name", "张三")
    page.fill("#id_parties-0-phone", "13700000001")
    page.fill("#id_parties-1-name", "李四")
    page.fill("#id_parties-1-phone", "13700000002")
    page.click("#refer-submit")
    expect(page).to_have_url(re.compile(r"/mediation/cases/\d+/$"))
    expect(page.locator("#case-state")).to_have_attribute("data-state", "applied")
    expect(page.locator("#case-incident")).to_contain_text(incident.tracking_number)
    case = MediationCase.objects.get(incident=incident)
    assert Incident.objects.get(pk=incident.pk).state == "mediating"
    page.click("#logout-button")

    # The mediator finds the case in "my cases", accepts it and books a session for tomorrow.
    login(page, live_server.url, "mediator", DEFAULT_PASSWORD)
    page.goto("/mediation/")
    expect(page).to_have_url(re.compile(r"/mediation/cases/$"))
    page.click(f"#case-table tr[data-case-number='{case.case_number}'] a")
    page.click("[data-testid=open-accept]")
    page.click("#submit-accept")
    expect(page.locator("#case-state")).to_have_attribute("data-state", "accepted")
    expect(page.locator("#case-mediator")).to_have_text("蔡秀英")

    tomorrow = (timezone.localtime() + timedelta(days=1)).replace(hour=9, minute=30)
    page.click("[data-testid=open-schedule]")
    page.fill("#id_starts_at", tomorrow.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_place", "西桥社区党群服务中心二楼")
    page.click("#submit-schedule")
    expect(page.locator("#case-state")).to_have_attribute("data-state", "scheduled")
    session_row = page.locator("#session-table tr[data-session-state=planned]")
    expect(session_row).to_contain_text(tomorrow.strftime("%Y-%m-%d %H:%M"))

    # The session: both parties came, the mediator starts it and records the agreement.
    session_row.locator("[data-testid^=start-session-]").click()
    expect(page.locator("#case-state")).to_have_attribute("data-state", "in_session")
    page.click("[data-testid=open-agreement]")
    page.check("#form-agreement input[name=form][value=written]")
    page.fill("#id_disputed_matters", "装修时间和噪音")
    page.fill("#id_responsibilities", "李四装修未遵守作息时间，负主要责任")
    page.fill("#id_terms", "李四今后只在工作日8:00-12:00、14:00-18:00装修，并向张三赔礼道歉")
    page.fill("#id_performance_method", "自即日起履行，社区调解员一周后回访")
    page.click("#submit-agreement")
    expect(page.locator("#agreement-status")).to_have_attribute("data-effective", "no")
    expect(page.locator("#case-state")).to_have_attribute("data-state", "in_session")

    # Every party and the mediator sign, then the committee's seal is applied: only then is
    # the agreement in effect (人民调解法 Art. 29).
    for _ in range(3):
        page.click("[data-testid=open-sign]")
        page.select_option("#form-sign select[name=signer]", index=0)
        page.click("#submit-sign")
    expect(page.locator("#signature-list li")).to_have_count(3)
    expect(page.locator("#agreement-status")).to_have_attribute("data-effective", "no")
    page.click("[data-testid=open-seal]")
    page.click("#submit-seal")
    expect(page.locator("#agreement-seal")).to_have_attribute("data-sealed", "yes")
    expect(page.locator("#agreement-status")).to_have_attribute("data-effective", "yes")
    expect(page.locator("#case-state")).to_have_attribute("data-state", "agreement_reached")

    # The incident was told (after commit, by a task) and is closed with the agreement.
    wait_until(
        lambda: Incident.objects.get(pk=incident.pk).state == "closed",
        timeout=20,
        message="the incident did not close after the agreement",
    )
    closed = Incident.objects.get(pk=incident.pk)
    assert "赔礼道歉" in closed.result
    assert closed.events.filter(action="mediation_concluded").exists()
    page.reload()
    expect(page.locator("#case-timeline li[data-action=incident_notified]")).to_have_count(1)

    # The printable agreement: the room's name, one copy per party and one for the archive.
    page.goto(f"/mediation/cases/{case.pk}/print/")
    expect(page.locator("article.copy")).to_have_count(3)
    expect(page.locator("article.copy").first).to_contain_text("西桥社区评理说事点")
    expect(page.locator("article.copy").first).to_contain_text("人民调解协议书")
