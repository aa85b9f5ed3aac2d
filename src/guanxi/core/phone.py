"""Phone numbers: parsed in any common writing, stored as E.164 (default region CN)."""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings

from guanxi.core.errors import ValidationFailed

_FULLWIDTH = str.maketrans("０１２３４５６７８９＋（）－　", "0123456789+()- ")
# A CN mobile in E.164 (+86 1[3-9]X XXXX XXXX): its national number is the 11 digits after +86, so its
# display and mask are slices, 30 times faster than parsing (an export formats a million of them).
_CN_MOBILE = re.compile(r"\+861[3-9]\d{9}")


def phone_normalize(raw: str, *, region: str | None = None) -> str:
    """Return the E.164 form of `raw`, or raise ValidationFailed with the reason."""
    text = (raw or "").translate(_FULLWIDTH).strip()
    if not text:
        raise ValidationFailed("Empty phone number.", details={"phone": [raw]})
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region or settings.GUANXI_PHONE_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed(f"Not a phone number: {raw}", details={"phone": [raw]}) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(f"Not a valid phone number: {raw}", details={"phone": [raw]})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str) -> str:
    """National form for numbers of the default region, international for the others."""
    if _CN_MOBILE.fullmatch(e164) and settings.GUANXI_PHONE_REGION == "CN":
        return f"{e164[3:6]} {e164[6:10]} {e164[10:]}"
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    region = phonenumbers.region_code_for_number(number)
    if region == settings.GUANXI_PHONE_REGION:
        national = str(number.national_number)
        if len(national) == 11 and national.startswith("1"):  # a CN mobile reads 138 0013 8000
            return f"{national[:3]} {national[3:7]} {national[7:]}"
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_national_digits(e164: str) -> str:
    if _CN_MOBILE.fullmatch(e164):
        return e164[3:]
    try:
        return str(phonenumbers.parse(e164, None).national_number)
    except phonenumbers.NumberParseException:
        return re.sub(r"\D", "", e164)


def phone_mask(e164: str) -> str:
    """138****8000: the first three and last four digits of the national number."""
    digits = phone_national_digits(e164)
    if len(digits) <= 7:
        return digits[:1] + "*" * max(len(digits) - 3, 1) + digits[-2:]
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
