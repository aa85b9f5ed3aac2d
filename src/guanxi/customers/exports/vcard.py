"""Customers as vCard 3.0 (RFC 2426), for the address books of phones and mail clients."""

from __future__ import annotations

import re
from typing import Any

import phonenumbers

from guanxi.customers.models import Customer

LINE_OCTETS = 75  # RFC 2425 §5.8.1: fold lines longer than this

# Two-character surnames, so 欧阳娜娜 files as 欧阳 / 娜娜 in a phone's address book, not 欧 / 阳娜娜.
_COMPOUND = (
    "欧阳司马上官诸葛东方皇甫尉迟公孙慕容长孙宇文司徒夏侯令狐端木独孤"
    "南宫西门轩辕澹台呼延申屠太史濮阳钟离闻人赫连万俟百里东郭公羊即墨拓跋第五"
)
COMPOUND_SURNAMES = frozenset(_COMPOUND[i : i + 2] for i in range(0, len(_COMPOUND), 2))
_CJK = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff·]+$")


def vcard_escape(text: str) -> str:
    r"""A text value: backslash, comma, semicolon and line breaks escaped (RFC 2426 §4: \\ \, \; \n)."""
    text = text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    return text.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def vcard_fold(line: str) -> str:
    """Fold a content line at 75 octets, never inside a UTF-8 character; each continuation starts with a
    space."""
    parts: list[str] = []
    current: list[str] = []
    size, limit = 0, LINE_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, LINE_OCTETS - 1
        current.append(char)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def vcard_name(customer: Customer) -> tuple[str, str]:
    """(family name, given name) for N: 张伟 → 张 / 伟, 欧阳娜娜 → 欧阳 / 娜娜, Wei Zhang → Zhang / Wei."""
    name = customer.name.strip()
    if customer.is_company or not name:
        return "", ""
    if _CJK.match(name) and 2 <= len(name) <= 4:
        surname = name[:2] if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else name[:1]
        return surname, name[len(surname) :]
    words = name.split()
    if len(words) >= 2:
        return words[-1], " ".join(words[:-1])
    return "", name


def _phone_type(customer_phone: Any) -> str:
    if not customer_phone.clear:
        return "VOICE"
    try:
        number = phonenumbers.parse(customer_phone.number, None)
    except phonenumbers.NumberParseException:
        return "VOICE"
    mobile = phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
    return "CELL" if mobile else "VOICE"


def vcard(customer: Customer) -> str:
    """One customer as a vCard 3.0, personal data as its reader may see it (phones E.164 or masked)."""
    family, given = vcard_name(customer)
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"FN:{vcard_escape(customer.name)}",
        f"N:{vcard_escape(family)};{vcard_escape(given)};;;",
    ]
    if customer.is_company:
        lines.append(f"ORG:{vcard_escape(customer.name)}")
    for phone in customer.phones.all():
        lines.append(f"TEL;TYPE={_phone_type(phone)}:{vcard_escape(phone.value)}")
    for email in customer.emails.all():
        lines.append(f"EMAIL;TYPE=INTERNET:{vcard_escape(email.display)}")
    if customer.birthday and customer.clear:
        lines.append(f"BDAY:{customer.birthday.isoformat()}")
    if customer.province or customer.city or customer.district or customer.street:
        street = "".join(part for part in (customer.district, customer.display_street) if part)
        parts = ("", "", street, customer.city, customer.province, "", "")
        lines.append("ADR:" + ";".join(vcard_escape(part) for part in parts))
    tags = [tag.name for tag in customer.tags.all()]
    if tags:
        lines.append("CATEGORIES:" + ",".join(vcard_escape(tag) for tag in tags))
    if customer.notes:
        lines.append(f"NOTE:{vcard_escape(customer.notes)}")
    lines.append(f"UID:urn:guanxi:customer:{customer.pk}")
    lines.append("END:VCARD")
    return "".join(vcard_fold(line) + "\r\n" for line in lines)
