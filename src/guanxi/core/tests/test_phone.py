"""Phone numbers: any common writing in, E.164 stored, masked and displayed forms out."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from django.test import override_settings

from guanxi.core.errors import ValidationFailed
from guanxi.core.phone import phone_display, phone_mask, phone_national_digits, phone_normalize


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("138-0013-8000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("+86-138-0013-8000", "+8613800138000"),
        ("+8613800138000", "+8613800138000"),
        ("8613800138000", "+8613800138000"),
        ("0086 13800138000", "+8613800138000"),
        ("  138 0013 8000  ", "+8613800138000"),
        ("８６１３８００１３８０００", "+8613800138000"),  # full-width digits
        ("１３８－００１３－８０００", "+8613800138000"),  # full-width hyphens
        ("＋８６　１３８００１３８０００", "+8613800138000"),  # full-width plus and ideographic space
        ("(021) 6234 5678", "+862162345678"),
        ("021-62345678", "+862162345678"),
        ("（０２１）６２３４５６７８", "+862162345678"),  # full-width brackets
        ("0755-8888 6666", "+8675588886666"),
        ("+1 650 253 0000", "+16502530000"),
        ("001 650 253 0000", "+16502530000"),
        ("+852 2123 4567", "+85221234567"),
    ],
)
def test_phone_normalize_reads_common_writings_as_e164(raw: str, e164: str) -> None:
    # when
    result = phone_normalize(raw)

    # then
    assert result == e164


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "abc",
        "123",
        "1380013800",  # one digit short
        "138001380001",  # one digit too many
        "+86 000",
        "12345678901234567890",
        "电话",
        "138 0013 800x",
    ],
)
def test_phone_normalize_refuses_what_is_not_a_phone_number(raw: str) -> None:
    # when / then
    with pytest.raises(ValidationFailed) as caught:
        phone_normalize(raw)

    assert caught.value.details == {"phone": [raw]}
    assert caught.value.code == "validation_failed"
    assert caught.value.status == 422


def test_phone_normalize_refuses_none() -> None:
    with pytest.raises(ValidationFailed):
        phone_normalize(None)  # type: ignore[arg-type]


def test_phone_normalize_reads_numbers_without_country_code_in_the_configured_region() -> None:
    # given a Hong Kong installation
    with override_settings(GUANXI_PHONE_REGION="HK"):
        # when
        result = phone_normalize("2123 4567")

    # then
    assert result == "+85221234567"


def test_phone_normalize_takes_an_explicit_region_over_the_setting() -> None:
    assert phone_normalize("650 253 0000", region="US") == "+16502530000"


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+8613800138000", "138****8000"),
        ("+8613912345678", "139****5678"),
        ("+862162345678", "216***5678"),
        ("+16502530000", "650***0000"),
    ],
)
def test_phone_mask_keeps_the_first_three_and_last_four_national_digits(e164: str, masked: str) -> None:
    assert phone_mask(e164) == masked


def test_phone_mask_of_a_short_number_still_hides_digits() -> None:
    # given a short number (an emergency or service number) as stored text
    masked = phone_mask("+86110")

    # then not every digit is shown
    assert "*" in masked
    assert masked != "110"


@pytest.mark.parametrize(
    ("e164", "shown"),
    [
        ("+8613800138000", "138 0013 8000"),
        ("+862162345678", "021 6234 5678"),
        ("+16502530000", "+1 650-253-0000"),
        ("+85221234567", "+852 2123 4567"),
    ],
)
def test_phone_display_is_national_at_home_and_international_abroad(e164: str, shown: str) -> None:
    assert phone_display(e164) == shown


def test_phone_display_returns_unparseable_text_as_it_is() -> None:
    assert phone_display("not a number") == "not a number"


@pytest.mark.parametrize(
    ("e164", "digits"),
    [
        ("+8613800138000", "13800138000"),
        ("+862162345678", "2162345678"),
        ("+16502530000", "6502530000"),
        ("garbage-12", "12"),
    ],
)
def test_phone_national_digits(e164: str, digits: str) -> None:
    assert phone_national_digits(e164) == digits


def _slow_display(e164: str) -> str:
    number = phonenumbers.parse(e164, None)
    if phonenumbers.region_code_for_number(number) == "CN":
        national = str(number.national_number)
        if len(national) == 11 and national.startswith("1"):
            return f"{national[:3]} {national[3:7]} {national[7:]}"
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def test_the_fast_path_for_cn_mobiles_reads_as_parsing_does() -> None:
    # given every mobile prefix 130–199 with assorted subscriber numbers, and numbers the fast path leaves
    rng = random.Random(86)
    numbers = [
        f"+861{second}{third}{rng.randrange(10**8):08d}" for second in "3456789" for third in "0123456789"
    ]
    numbers += [f"+8613{n:09d}" for n in (0, 1, 999999999)] + [
        f"+861{d}0{rng.randrange(10**8):08d}" for d in "12"
    ]
    numbers += [
        "+862162345678",
        "+8675588886666",
        "+85261234567",
        "+14155550123",
        "+861380013800",
        "+86138001380001",
    ]

    for e164 in numbers:
        # then the display and the mask are those of the full parse
        assert phone_display(e164) == _slow_display(e164), e164
        digits = str(phonenumbers.parse(e164, None).national_number)
        assert phone_national_digits(e164) == digits, e164


@override_settings(GUANXI_PHONE_REGION="HK")
def test_the_fast_path_is_for_the_cn_region_only() -> None:
    assert phone_display("+8613800138000") == "+86 138 0013 8000"
    assert phone_mask("+8613800138000") == "138****8000"
