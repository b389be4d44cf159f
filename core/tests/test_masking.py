import pytest

from core.masking import mask_id_number, mask_name, mask_phone


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812341234", "138****1234"),
        ("19900000000", "199****0000"),
        ("1234567", "123****4567"),
        ("123456", "******"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("id_number", "masked"),
    [
        ("350602199001011234", "3506**********1234"),
        ("35060219900101123X", "3506**********123X"),
        ("12345678", "********"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id_number(id_number, masked):
    assert mask_id_number(id_number) == masked


def test_mask_name():
    assert mask_name("张三丰") == "张**"
    assert mask_name("李") == "李"
    assert mask_name("") == "" and mask_name(None) == ""
