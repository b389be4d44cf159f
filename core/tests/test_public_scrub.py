"""core.masking.scrub_public_text (security review M3): phone and ID numbers typed into text
that the public sees are replaced whole, in every format people type them."""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from core.masking import scrub_public_text

PHONE = "[phone number hidden]"
ID = "[ID number hidden]"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("联系13812345678", f"联系{PHONE}"),
        ("联系 138 1234 5678。", f"联系 {PHONE}。"),
        ("138-1234-5678", PHONE),
        ("138.1234.5678", PHONE),
        ("138 - 1234 - 5678", PHONE),
        ("(+86)138 1234 5678", PHONE),
        ("+86 13812345678", PHONE),
        ("+86-138-1234-5678", PHONE),
        ("0086 138 1234 5678", PHONE),
        ("８６１３８１２３４５６７８", PHONE),
        ("１３８１２３４５６７８", PHONE),
        ("１３８－１２３４－５６７８", PHONE),
        ("＋８６ １３８ １２３４ ５６７８", PHONE),
        ("座机 0596-2345678", f"座机 {PHONE}"),
        ("(0596) 2345678", PHONE),
        ("（0596）2345678", PHONE),
        ("010-12345678", PHONE),
        ("0596 234 5678", PHONE),
        ("电话(13812345678)", f"电话({PHONE})"),
        ("400-800-1234", PHONE),
        ("身份证 350602199001011234", f"身份证 {ID}"),
        ("35060219900101123X", ID),
        ("350602 19900101 123x", ID),
        ("３５０６０２１９９００１０１１２３Ｘ", ID),
        # what is not a phone stays
        ("2026-03-12 13812345678", f"2026-03-12 {PHONE}"),
        ("2026-03-12 9:30 处理", "2026-03-12 9:30 处理"),
        ("金额 500 元，门牌12号", "金额 500 元，门牌12号"),
        ("楼号 12-3-401", "楼号 12-3-401"),
        ("GG7K3MQ9XP", "GG7K3MQ9XP"),
        ("", ""),
    ],
)
def test_formats_are_replaced_whole(text, expected):
    assert scrub_public_text(text) == expected


def test_chinese_by_default():
    with translation.override("zh-hans"):
        assert scrub_public_text("联系138 1234 5678，身份证35060219900101123X") == (
            "联系[电话已隐藏]，身份证[证件号已隐藏]"
        )


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
separators = st.sampled_from(["", " ", "-", ".", "  ", " - ", "\u3000", "－", "—"])


@st.composite
def typed_phone(draw) -> str:
    """A mainland mobile or landline as somebody might type it."""
    if draw(st.booleans()):
        digits = (
            "1"
            + draw(st.sampled_from("3456789"))
            + draw(st.text("0123456789", min_size=9, max_size=9))
        )
        groups = [digits[:3], digits[3:7], digits[7:]]
        prefix = draw(st.sampled_from(["", "+86", "+86 ", "(+86)", "0086 ", "86-"]))
    else:
        area = draw(st.sampled_from(["010", "021", "0596", "0591", "0755"]))
        local = draw(st.sampled_from("23456789")) + draw(
            st.text("0123456789", min_size=6, max_size=7)
        )
        groups = [area, local[:4], local[4:]] if draw(st.booleans()) else [area, local]
        prefix = ""
        if draw(st.booleans()):
            groups[0] = draw(st.sampled_from(["({})", "（{}）"])).format(groups[0])
    text = (
        prefix + draw(separators).join(groups) if draw(st.booleans()) else prefix + "".join(groups)
    )
    if draw(st.booleans()):
        text = text.translate(FULLWIDTH)
    return text


@settings(max_examples=300, deadline=None)
@given(
    phone=typed_phone(),
    before=st.sampled_from(["", "联系", "电话：", "请拨 ", "（", "业主"]),
    after=st.sampled_from(["", "。", " 谢谢", "）", "，王先生"]),
)
def test_any_typed_phone_leaves_no_digit(phone, before, after):
    scrubbed = scrub_public_text(before + phone + after)
    assert not re.search(r"\d", scrubbed), scrubbed
    assert PHONE in scrubbed
