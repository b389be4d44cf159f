"""A petition online: a resident files it, a petition officer accepts it and replies with a
handling opinion, the resident reads the reply and rates it (Art. 21, 32)."""

import re

import pytest
from playwright.sync_api import expect

from petitions.models import Petition, PetitionCategory
from tests.builders import DEFAULT_PASSWORD, make_user
from tests.conftest import login


@pytest.mark.browser
def test_petition_journey(browser_page, live_server, region_tree):
    page = browser_page
    make_user("resident", roles=["resident"], phone="13800000001", display_name="张三")
    make_user(
        "petition",
        roles=["petition_officer"],
        region=region_tree["district"],
        phone="13800000009",
        display_name="信访干部小陈",
    )
    category = PetitionCategory.objects.get(code="07")

    # The resident files online from the petitions menu.
    login(page, live_server.url, "resident", DEFAULT_PASSWORD)
    page.click("[data-nav='petitions:home']")
    expect(page).to_have_url(re.compile(r"/petitions/mine/$"))
    page.click("#file-petition-link")
    expect(page.locator("h1")).to_have_text("网上信访")
    form = page.locator("#petition-file-form")
    form.locator("#id_name").fill("张三")
    form.locator("#id_id_number").fill("350602199001011235")
    form.locator("#id_address").fill("西桥社区新华西路12号")
    form.locator("#id_kind").select_option("request")
    form.locator("#id_category").select_option(str(category.pk))
    form.locator("#id_region").select_option(str(region_tree["a1"].pk))
    form.locator("#id_matter").fill("楼下餐馆油烟直排扰民")
    form.locator("#id_request").fill("请求责令餐馆安装油烟净化设备")
    form.locator("#id_facts_and_reasons").fill("排烟口正对居民窗户，已持续半年。")
    page.click("#petition-submit")
    expect(page.locator("#petition-state [data-state]")).to_have_attribute("data-state", "received")
    tracking_number = page.locator("#tracking-number").inner_text()
    assert re.fullmatch(r"XF\d{6}[A-Z0-9]{6}", tracking_number)
    # The petitioner sees their ID number masked.
    expect(page.locator("#petitioner-table .id-number")).to_have_text("3506**********1235")
    page.click("#logout-button")

    # The petition officer finds it in the list, accepts it and replies.
    login(page, live_server.url, "petition", DEFAULT_PASSWORD)
    page.click("[data-nav='petitions:home']")
    expect(page).to_have_url(re.compile(r"/petitions/list/$"))
    page.click(f"#petition-table tr[data-tracking-number='{tracking_number}'] a")
    expect(page.locator("#petitioner-table .id-number")).to_have_text("350602199001011235")
    page.click("#action-accept-submit")
    expect(page.locator(".message-success")).to_be_visible()
    expect(page.locator("#petition-state [data-state]")).to_have_attribute("data-state", "accepted")
    page.click("#action-reply-toggle")
    reply = page.locator("#action-reply-form")
    expect(reply.locator("#id_reply-request")).to_have_value("请求责令餐馆安装油烟净化设备")
    reply.locator("#id_reply-facts_and_reasons").fill("经现场核查，餐馆油烟直排属实。")
    reply.locator("#id_reply-decision").fill("责令餐馆十五日内安装油烟净化设备。")
    reply.locator("#id_reply-legal_basis").fill("《中华人民共和国大气污染防治法》第八十一条")
    reply.locator("#id_reply-outcome").select_option("support")
    page.click("#action-reply-submit")
    expect(page.locator("#petition-state [data-state]")).to_have_attribute("data-state", "replied")
    expect(page.locator("[data-testid='opinion-print-reply']")).to_be_visible()
    page.click("#logout-button")

    # The resident reads the handling opinion and rates the answer.
    login(page, live_server.url, "resident", DEFAULT_PASSWORD)
    page.goto(f"{live_server.url}/petitions/mine/")
    page.click(f"#my-petitions tr[data-tracking-number='{tracking_number}'] a")
    expect(page.locator("#opinions")).to_contain_text("予以支持")
    page.goto(page.locator("[data-testid='opinion-print-reply']").get_attribute("href"))
    expect(page.locator("#opinion-document h1")).to_have_text("信访事项处理意见书")
    expect(page.locator("#opinion-document")).to_contain_text("大气污染防治法")
    page.go_back()
    page.check("#action-rate-form input[name='rate-satisfaction'][value='satisfied']")
    page.click("#action-rate-submit")
    expect(page.locator("#petition-satisfaction")).to_have_text("满意")

    petition = Petition.objects.get(tracking_number=tracking_number)
    assert petition.state == "replied" and petition.satisfaction == "satisfied"
    assert list(petition.events.values_list("action", flat=True)) == [
        "received",
        "accepted",
        "replied",
        "rated",
    ]
