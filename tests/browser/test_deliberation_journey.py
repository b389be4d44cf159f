"""Deliberation at phone size: a resident's proposal is supported, accepted, decided at a
consultation meeting, carried out and rated; a participatory budget round goes from the
residents' projects to the published results. The clock moves by rewriting the dates of the
meeting and the round (the live server reads the real time)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from deliberation import services
from deliberation.models import BudgetRound, Meeting, Proposal
from deliberation.tests import factories as f
from tests.builders import DEFAULT_PASSWORD
from tests.conftest import login

PHONE = {"width": 390, "height": 844}


def switch(page, url, username):
    if page.locator("#logout-button").count():
        page.click("#logout-button")
    login(page, url, username, DEFAULT_PASSWORD)


def fits(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.browser
def test_proposal_to_rated_decision(browser_page, live_server, region_tree):
    page, url = browser_page, live_server.url
    f.policy(support_threshold=1, notice_days=3)
    f.category()
    f.kind()
    f.resident("alice", region_tree["a1"], display_name="王小丽")
    f.resident("bob", region_tree["a1"])
    f.staff("staff_a", region_tree["street_a"])
    page.set_viewport_size(PHONE)

    # Alice proposes on her phone, pinning the place on the map.
    switch(page, url, "alice")
    page.goto("/deliberation/")
    page.click("#propose-link")
    expect(page.locator("#place-map.leaflet-container")).to_be_visible()
    page.fill("#id_title", "东门路灯不亮")
    page.select_option("#id_category", label="环境卫生")
    page.fill("#id_description", "东门到3号楼的路灯坏了两周")
    page.locator("#place-map").click()
    expect(page.locator("#id_lat")).not_to_have_value("")
    fits(page)
    page.click("#proposal-submit")
    expect(page.locator("#proposal")).to_have_attribute("data-state", "collecting")
    proposal = Proposal.objects.get(title="东门路灯不亮")
    detail = f"/deliberation/proposals/{proposal.pk}/"

    # Bob, a neighbour, supports it: the threshold is reached, it goes to review.
    switch(page, url, "bob")
    page.goto(detail)
    page.click("#support-button")
    expect(page.locator("#supported")).to_be_visible()
    expect(page.locator("#proposal")).to_have_attribute("data-state", "reviewing")
    expect(page.locator("#supports-area")).to_have_text("1")

    # The community accepts it and plans a meeting on it.
    switch(page, url, "staff_a")
    page.goto(detail)
    page.select_option("#id_decision", "accept")
    page.click("#review-submit")
    expect(page.locator("#proposal")).to_have_attribute("data-state", "accepted")
    page.goto("/deliberation/meetings/new/")
    page.select_option("#id_community", label="西桥社区")
    page.fill("#id_title", "路灯协商议事会")
    page.fill("#id_place", "社区议事厅")
    starts = timezone.localtime(timezone.now() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#id_starts_at", starts)
    page.check("input[name=topics]")
    page.click("#meeting-submit")
    expect(page.locator("#meeting")).to_have_attribute("data-state", "planned")
    page.click("summary:has-text('添加参会人')")
    page.select_option("#id_kind", label="居民代表")
    page.fill("#id_name", "李四")
    page.click("#participant-submit")
    page.click("#notice-button")
    expect(page.locator("#meeting")).to_have_attribute("data-state", "noticed")
    meeting = Meeting.objects.get(title="路灯协商议事会")

    # The meeting day comes: minutes, then the decision with who and by when.
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=timezone.now() - timedelta(hours=1))
    page.reload()
    page.fill("#id_minutes", "讨论了换灯和加装太阳能灯两个方案")
    page.select_option("#speaker", label="居民代表 李四")
    page.fill("#id_speech", "建议加装太阳能灯")
    page.click("#minutes-submit")
    expect(page.locator("#meeting")).to_have_attribute("data-state", "held")
    page.fill("#id_text", "加装太阳能路灯两盏")
    page.fill("#id_carried_by", "物业公司")
    page.fill("#id_due_date", (timezone.localdate() + timedelta(days=14)).isoformat())
    page.select_option("#decision-proposal", label="东门路灯不亮")
    page.click("#decision-submit")
    expect(page.locator("#decisions .decision-link")).to_have_count(1)

    # Anybody sees the decision and the proposal as decided (the proposer's name masked).
    page.click("#logout-button")
    page.goto(detail)
    expect(page.locator("#proposal")).to_have_attribute("data-state", "decided")
    expect(page.locator("#proposal")).to_contain_text("王**")
    expect(page.locator("#proposal")).not_to_contain_text("王小丽")
    page.click(".decision-link")
    expect(page.locator("#decision")).to_have_attribute("data-state", "open")
    decision_url = page.url

    # Staff report it done; Bob rates the result.
    login(page, url, "staff_a", DEFAULT_PASSWORD)
    page.goto(decision_url)
    page.fill("#id_note", "两盏太阳能路灯已安装")
    page.check("#id_complete")
    page.click("#progress-submit")
    expect(page.locator("#decision")).to_have_attribute("data-state", "done")
    switch(page, url, "bob")
    page.goto(decision_url)
    fits(page)
    page.select_option("#id_score", "5")
    page.click("#rating-submit")
    expect(page.locator("#rated")).to_be_visible()
    expect(page.locator("#rating-average")).to_contain_text("5")
    expect(page.locator("#timeline li[data-action='rate']")).to_have_count(1)
    assert re.search(r"/deliberation/decisions/\d+/$", page.url)


def _move_dates(budget_round, **days):
    """Shift the round's dates relative to now (days may be negative: in the past)."""
    now = timezone.now()
    BudgetRound.objects.filter(pk=budget_round.pk).update(
        **{field: now + timedelta(days=value) for field, value in days.items()}
    )


@pytest.mark.browser
def test_budget_round_from_projects_to_results(browser_page, live_server, region_tree):
    page, url = browser_page, live_server.url
    f.resident("alice", region_tree["a1"])
    f.resident("bob", region_tree["a1"])
    f.resident("dave", region_tree["a2"])
    staff = f.staff("staff_a", region_tree["street_a"])
    budget_round = f.budget_round(staff, region_tree["street_a"], total="100000")  # 2 votes each
    services.round_advance(round_id=budget_round.pk, actor=staff)
    round_url = f"/deliberation/budgets/{budget_round.pk}/"
    page.set_viewport_size(PHONE)

    # Residents of the street submit projects.
    for username, title, cost in (
        ("alice", "口袋公园", "60000"),
        ("bob", "健身器材", "30000"),
        ("dave", "路面修补", "50000"),
    ):
        switch(page, url, username)
        page.goto(round_url)
        page.fill("#id_title", title)
        page.fill("#id_description", f"{title}的说明")
        page.fill("#id_estimated_cost", cost)
        fits(page)
        page.click("#project-submit")
        expect(page.locator(".budget-project", has_text=title)).to_be_visible()

    # Collection closes; the staff review (one cost corrected) and open the vote.
    _move_dates(
        budget_round,
        collect_opens_at=-10,
        collect_closes_at=-1,
        review_closes_at=1,
        vote_opens_at=1,
        vote_closes_at=5,
    )
    switch(page, url, "staff_a")
    page.goto(round_url)
    page.click("#advance-button")
    expect(page.locator("#round")).to_have_attribute("data-phase", "review")
    for title, cost in (("口袋公园", ""), ("健身器材", "25000"), ("路面修补", "")):
        form = page.locator(".budget-project", has_text=title).locator(".review-form")
        if cost:
            form.locator("input[name=corrected_cost]").fill(cost)
            form.locator("input[name=reason]").fill("按市场价核减")
        form.locator("button").click()
        expect(page.locator(".budget-project", has_text=title)).to_have_attribute(
            "data-state", "feasible"
        )
    _move_dates(
        budget_round,
        collect_opens_at=-10,
        collect_closes_at=-3,
        review_closes_at=-1,
        vote_opens_at=-1,
        vote_closes_at=5,
    )
    page.click("#advance-button")
    expect(page.locator("#round")).to_have_attribute("data-phase", "vote")

    # Three residents vote (Alice changes her mind once).
    ballots = {
        "alice": ["路面修补", "健身器材"],
        "bob": ["口袋公园", "健身器材"],
        "dave": ["路面修补"],
    }
    for username, titles in ballots.items():
        switch(page, url, username)
        page.goto(round_url)
        for title in titles:
            page.locator("#ballot-form label", has_text=title).locator("input").check()
        page.click("#ballot-submit")
        expect(page.locator("#ballot")).to_contain_text("您已投票")
    switch(page, url, "alice")
    page.goto(round_url)
    page.locator("#ballot-form label", has_text="健身器材").locator("input").uncheck()
    page.locator("#ballot-form label", has_text="口袋公园").locator("input").check()
    page.click("#ballot-submit")
    expect(page.locator("#ballot-form input[checked]")).to_have_count(2)

    # Voting closes; the results are computed and published with the counts.
    _move_dates(
        budget_round,
        collect_opens_at=-10,
        collect_closes_at=-8,
        review_closes_at=-6,
        vote_opens_at=-6,
        vote_closes_at=-1,
    )
    switch(page, url, "staff_a")
    page.goto(round_url)
    page.click("#advance-button")
    expect(page.locator("#round")).to_have_attribute("data-phase", "results")
    page.click("#logout-button")
    page.goto(round_url)
    rows = page.locator("#results .result-row")
    expect(rows).to_have_count(3)
    # votes: 路面修补 2 (50000), 口袋公园 2 (60000), 健身器材 1 (25000): the tie goes to the
    # cheaper; 口袋公园 no longer fits (50000 left); 健身器材 does.
    expect(rows.nth(0)).to_contain_text("路面修补")
    expect(rows.nth(0).locator(".votes")).to_have_text("2")
    expect(rows.nth(0).locator(".result")).to_have_text("入选")
    expect(rows.nth(1)).to_contain_text("口袋公园")
    expect(rows.nth(1).locator(".result")).to_have_text("未入选")
    expect(rows.nth(2)).to_contain_text("健身器材")
    expect(rows.nth(2).locator(".result")).to_have_text("入选")
    fits(page)
