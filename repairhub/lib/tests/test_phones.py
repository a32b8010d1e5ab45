"""Phone numbers as people type them: normalised to digits, refused with a message saying what
to type instead, and masked in lists."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from repairhub.lib.phones import mask_phone, normalize_phone

INVALID = "电话号码格式不正确：请填写 11 位手机号、带区号的座机号或 4–8 位校内分机号。"


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("13800001111", "13800001111"),
        ("+86 138 0000 1111", "13800001111"),
        ("+8613800001111", "13800001111"),
        ("0086-138-0000-1111", "13800001111"),
        (" 138-0000-1111 ", "13800001111"),
        ("(027) 8765 4321", "02787654321"),
        ("（027）87654321", "02787654321"),
        ("0755-12345678", "075512345678"),
        ("6688", "6688"),
        ("12345678", "12345678"),
        # Full-width input from a Chinese IME means the same number.
        ("１３８００００１１１１", "13800001111"),
        ("＋８６ １３８ ００００ １１１１", "13800001111"),
        ("（０２７）８７６５－４３２１", "02787654321"),
    ],
)
def test_normalize_phone_keeps_the_digits_a_person_meant(typed, digits):
    assert normalize_phone(typed) == digits


@pytest.mark.parametrize(
    "typed",
    [
        "1380000abcd",  # letters
        "电话13800001111",
        "123",  # too short for an extension
        "138000011112",  # a mobile with 12 digits
        "1380000111",  # a mobile with 10 digits
        "12345678901",  # 11 digits, but no mainland mobile starts with 12
        "123456789",  # 9 digits: neither extension nor a number with area code
        "86 13800001111",  # country code without + or 00
        "+1 415 555 0100",
        "٦٦٨٨",  # Arabic-Indic digits are not what the SMS gateway can dial
        "138 0000 1111 转 23",
    ],
)
def test_normalize_phone_refuses_what_is_not_a_phone_number(typed):
    with pytest.raises(ValidationError) as exc:
        normalize_phone(typed)
    assert exc.value.code == "phone_invalid"
    assert exc.value.messages == [INVALID]


@pytest.mark.parametrize("typed", ["", "   ", None, " - ( ) "])
def test_normalize_phone_asks_for_a_missing_number(typed):
    with pytest.raises(ValidationError) as exc:
        normalize_phone(typed)
    assert exc.value.code == "phone_required"
    assert exc.value.messages == ["请填写联系电话。"]


@pytest.mark.parametrize(
    ("digits", "masked"),
    [
        ("13800001234", "138****1234"),
        ("075512345678", "********5678"),
        ("87654321", "****4321"),
        ("6688", "****"),
        ("", ""),
    ],
)
def test_mask_phone_shows_only_what_identifies_the_line(digits, masked):
    assert mask_phone(digits) == masked
