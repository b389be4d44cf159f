"""Smaller pieces of the services and the Open311 representation."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from integrations import geocoding, open311
from integrations.services import _reporter_name, open311_status

pytestmark = pytest.mark.django_db


def test_gazetteer_finds_the_most_specific_place(region_tree):
    from grids.locator import locate

    point = geocoding.point_for_address("芗城区西桥社区西桥2网格旁")
    assert locate(*point).cell_code == "350602001001002"  # the cell, not just the community
    point = geocoding.point_for_address("金品社区")
    assert locate(*point).community_code == "350602001002"
    assert geocoding.point_for_address("北京") is None
    assert geocoding.point_for_address("") is None
    assert locate(*geocoding.point_for_address_id("350602002001001")).cell_code == "350602002001001"
    assert geocoding.point_for_address_id("nope") is None


def test_names_in_chinese_and_western_order():
    assert _reporter_name("小明", "李") == "李小明"
    assert _reporter_name("john", "smith") == "john smith"
    assert _reporter_name("", "") == ""


def test_scrub_masks_numbers_in_free_text():
    text = "电话13912345678或+86 13800138000，身份证35060219900101123X，座机0596-2345678，门牌12号"
    scrubbed = open311.scrub(text)
    for secret in ("13912345678", "13800138000", "35060219900101123X", "2345678"):
        assert secret not in scrubbed
    assert scrubbed == (
        "电话[phone number hidden]或[phone number hidden]，身份证[ID number hidden]，"
        "座机[phone number hidden]，门牌12号"
    )


def test_xml_follows_the_spark_convention():
    body = open311.to_xml(
        "service_definition",
        {"service_code": "1", "attributes": [{"variable": True, "values": [{"key": 1}]}]},
    )
    root = ElementTree.fromstring(body)  # noqa: S314 - our own output
    assert root.find("attributes/attribute/variable").text == "true"
    assert root.find("attributes/attribute/values/value/key").text == "1"


def test_status_mapping():
    assert open311_status("closed") == "closed"
    assert open311_status("invalid") == "closed"
    assert open311_status("feedback_sent") == "open"


def test_limit_text():
    assert open311.limit_text("20wd") == "20 working days"
    assert open311.limit_text("1wd") == "1 working day"
    assert open311.limit_text("30m") == "30 minutes"
