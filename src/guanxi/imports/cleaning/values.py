"""Value cleaners: one cell in, its clean value out, or BadValue with the reason for the user."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.core.errors import ValidationFailed
from guanxi.core.phone import phone_normalize
from guanxi.core.search import normalize_plate
from guanxi.imports.readers.base import Cell

ValueCleaner = Callable[[Cell], Any]

# Written in a cell to say "nothing": treated as an empty cell by every field.
EMPTY_WORDS = frozenset(
    {"无", "暂无", "没有", "空", "-", "--", "—", "/", "n/a", "N/A", "null", "NULL", "None", "#N/A"}
)
EMAIL_MAX_LENGTH = 254  # as the customer services: the longest address SMTP delivers to


class BadValue(Exception):
    """Raised by a value cleaner: `reason` says what is wrong, for the user, translated."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CellError:
    """One rejected value: where it is (row number and column header as the user sees them), what it
    was, and why it cannot be imported."""

    row: int
    column: str
    value: str
    reason: str


class FieldDefinition(Protocol):
    """What cleaning needs of a custom field definition (customers.models.CustomFieldDefinition)."""

    key: str
    label: str
    type: str
    choices: Any
    required: bool


def cell_text(value: Cell) -> str:
    """A cell as the text a user would see in it."""
    if value.__class__ is str:
        return value
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _fold(text: str) -> str:
    """For lookups: full-width to half-width, case folded, without spaces and punctuation."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return _FOLD_DROP.sub("", text.casefold())


_FOLD_DROP = re.compile(r"[\s\-_.·/\\'\"]+")


# --- text ---------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u2060\ufeff]")
_SPACES = re.compile(r"\s+")
_LINE_BREAKS = re.compile(r"[ \t]*(?:\n[ \t]*)+")  # blank lines go too


def _too_long(limit: int, length: int) -> BadValue:
    return BadValue(
        _("Enter at most %(limit)d characters; this has %(length)d.") % {"limit": limit, "length": length}
    )


def text_cleaner(limit: int, *, multiline: bool = False) -> ValueCleaner:
    """Trimmed text without NUL, control or zero-width characters; runs of white space become one space
    (in `multiline` text, line breaks stay). Longer than `limit` is an error, never cut silently."""

    def clean(value: Cell) -> str:
        text = value if value.__class__ is str else cell_text(value)
        if not text.isprintable():  # the fast path: a C scan that almost every value passes
            text = _CONTROL.sub("", text)
            if multiline:
                text = _LINE_BREAKS.sub("\n", text.replace("\r\n", "\n").replace("\r", "\n"))
                text = "\n".join(_SPACES.sub(" ", line) for line in text.split("\n"))
            else:
                text = _SPACES.sub(" ", text)
        text = text.strip()
        if len(text) > limit:
            raise _too_long(limit, len(text))
        return text

    return clean


_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$")


def _lost_digits(text: str) -> BadValue:
    return BadValue(
        _(
            "“%(value)s” has lost digits: a spreadsheet saved the number in scientific notation. "
            "Format the column as text in the original file, type the full number and export again."
        )
        % {"value": text}
    )


def code_cleaner(limit: int) -> ValueCleaner:
    """A code (member number, an old system's customer number): text, but 1.23457E+11 is refused."""
    text = text_cleaner(limit)

    def clean(value: Cell) -> str:
        code = text(value)
        if _SCIENTIFIC.match(code):
            raise _lost_digits(code)
        return code

    return clean


# --- phones and emails --------------------------------------------------------------------------------

# Several numbers in one cell: 138…/139…, "138…，139…", "138…、139…"; spaces are handled per part.
_PHONE_SPLIT = re.compile(r"[/,，;；、|\n]+")
_PHONE_JUNK = re.compile(r"[\s\-–—.()（）\u00a0]+")
_PHONE_LABEL = re.compile(r"^[^\d+]*[:：]")  # 手机：138…, Tel: 138…


def phone_cleaner(region: str | None = None) -> ValueCleaner:
    """A cell of one or more phone numbers → their E.164 forms, in order, without repeats.

    The common case (a CN mobile, with or without 86/+86/0086) is matched against libphonenumber's own
    mobile pattern, so it agrees with `core.phone.phone_normalize`, which handles everything else.
    """
    region = region or settings.GUANXI_PHONE_REGION
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    pattern = metadata.mobile.national_number_pattern if metadata and metadata.mobile else None
    mobile = re.compile(pattern) if region == "CN" and pattern else None

    def one(part: str) -> str:
        digits = _PHONE_JUNK.sub("", part)
        if mobile is not None:
            national = digits
            if national.startswith("+86"):
                national = national[3:]
            elif national.startswith("0086"):
                national = national[4:]
            elif len(national) == 13 and national.startswith("86"):
                national = national[2:]
            if len(national) == 11 and mobile.fullmatch(national):
                return "+86" + national
        try:
            return phone_normalize(part, region=region)
        except ValidationFailed:
            if digits.isdigit() and digits.startswith("86"):  # 86 written without + or 00
                try:
                    return phone_normalize("+" + digits, region=region)
                except ValidationFailed:
                    pass
        raise BadValue(_("“%(value)s” is not a valid phone number.") % {"value": part})

    def clean(value: Cell) -> list[str]:
        text = value if value.__class__ is str else cell_text(value)
        if mobile is not None and len(text) == 11 and text.isdigit() and mobile.fullmatch(text):
            return ["+86" + text]
        if not text.isascii():
            text = unicodedata.normalize("NFKC", text)
        text = text.strip()
        if _SCIENTIFIC.match(text):
            raise _lost_digits(text)
        numbers: list[str] = []
        for part in _PHONE_SPLIT.split(text):
            part = _PHONE_LABEL.sub("", part).strip()
            if not part:
                continue
            try:
                found = [one(part)]
            except BadValue:
                words = part.split()  # 13800138000 13900139000: numbers apart by spaces
                if len(words) < 2:
                    raise
                try:
                    found = [one(word) for word in words]
                except BadValue:
                    raise BadValue(_("“%(value)s” is not a valid phone number.") % {"value": part}) from None
            for number in found:
                if number not in numbers:
                    numbers.append(number)
        return numbers

    return clean


def first_phone_cleaner() -> ValueCleaner:
    """A cell of phone numbers → the first one, as E.164 (+86 139 0013 9000, 139-0013-9000 →
    +8613900139000): a person's one mobile, as a lead or an order's customer has."""
    phones = phone_cleaner()

    def clean(value: Cell) -> str:
        numbers = phones(value)
        if not numbers:
            raise BadValue(_("“%(value)s” is not a valid phone number.") % {"value": cell_text(value)})
        return numbers[0]

    return clean


_EMAIL_SPLIT = re.compile(r"[\s,，;；、/|]+")


def clean_emails(value: Cell) -> list[str]:
    """A cell of one or more email addresses, the domain lower-cased, without repeats."""
    text = cell_text(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    addresses: list[str] = []
    for item in _EMAIL_SPLIT.split(text):
        if not item:
            continue
        if item[:7].lower() == "mailto:":
            item = item[7:]
        local, _sep, domain = item.rpartition("@")
        address = f"{local}@{domain.lower()}" if local else item
        if len(address) > EMAIL_MAX_LENGTH:
            raise _too_long(EMAIL_MAX_LENGTH, len(address))
        try:
            validate_email(address)
        except DjangoValidationError:
            raise BadValue(_("“%(value)s” is not a valid email address.") % {"value": item}) from None
        if address not in addresses:
            addresses.append(address)
    return addresses


# --- dates --------------------------------------------------------------------------------------------

_DATE_YMD = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DATE_SERIAL = re.compile(r"^(\d{5})(?:\.\d+)?$")  # Excel's day count: 10000 = 1927-05-18 … 99999 = 2173
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 past Excel's phantom 1900-02-29

_NOT_A_DATE, _NO_SUCH_DATE = "not a date", "no such date"


@lru_cache(maxsize=65536)
def _parse_date(text: str) -> date | str:
    """The date `text` means, or why it means none (the cache holds both: birthdays repeat)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.strip()
    match = _DATE_YMD.match(text) or _DATE_COMPACT.match(text)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return _NO_SUCH_DATE
    if serial := _DATE_SERIAL.match(text):
        return _EXCEL_EPOCH + timedelta(days=int(serial[1]))
    return _NOT_A_DATE


def date_cleaner(*, birthday: bool = False, today: date | None = None) -> Callable[[Cell], date]:
    """A date as people write it. A `birthday` is not in the future and not before 1900."""
    today = today or timezone.localdate()  # the shop's today, not the server's

    def clean(value: Cell) -> date:
        if isinstance(value, datetime):
            found: date | str = value.date()
        elif isinstance(value, date):
            found = value
        else:
            found = _parse_date(value)
        if found is _NOT_A_DATE:
            raise BadValue(
                _("“%(value)s” is not a date: write the year first, for example 1990-01-02.")
                % {"value": cell_text(value)}
            )
        if found is _NO_SUCH_DATE:
            raise BadValue(_("There is no such date as “%(value)s”.") % {"value": cell_text(value)})
        assert isinstance(found, date)
        if birthday and found > today:
            raise BadValue(_("A birthday cannot be in the future."))
        if birthday and found.year < 1900:
            raise BadValue(_("A birthday before 1900 cannot be right."))
        return found

    return clean


# --- choices ------------------------------------------------------------------------------------------

GENDER_WORDS = {
    "male": ("男", "男性", "男士", "先生", "m", "male", "man", "boy"),
    "female": ("女", "女性", "女士", "小姐", "太太", "f", "female", "woman", "girl"),
    "": ("未知", "保密", "不详", "不明", "u", "unknown", "other", "其他"),
}
_GENDERS = {_fold(word): code for code, words in GENDER_WORDS.items() for word in words}


def clean_gender(value: Cell) -> str:
    code = _GENDERS.get(_fold(cell_text(value)))
    if code is None:
        raise BadValue(
            _("“%(value)s” is not a gender: write 男 or 女 (male or female).") % {"value": cell_text(value)}
        )
    return code


def choice_cleaner(
    choices: Iterable[tuple[str, Any]], synonyms: Mapping[str, Sequence[str]] | None = None
) -> ValueCleaner:
    """One of `choices` ((code, label) pairs), found by its code, its label in any language the site
    offers, or one of its `synonyms` (code → words), whatever the case, width and spacing."""
    pairs = list(choices)
    lookup: dict[str, str] = {}
    for code, label in pairs:
        lookup[_fold(str(code))] = str(code)
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                lookup.setdefault(_fold(str(label)), str(code))
    for code, words in (synonyms or {}).items():
        for word in words:
            lookup.setdefault(_fold(word), code)

    def clean(value: Cell) -> str:
        found = lookup.get(_fold(cell_text(value)))
        if found is None:
            raise BadValue(
                _("Choose one of: %(choices)s.") % {"choices": ", ".join(str(p[1]) for p in pairs)}
            )
        return found

    return clean


# --- tags, vehicles -----------------------------------------------------------------------------------

_TAG_SPLIT = re.compile(r"[,，;；、|\n]+")


def tags_cleaner(limit: int = 50) -> ValueCleaner:
    def clean(value: Cell) -> list[str]:
        text = cell_text(value)
        if not text.isascii():
            text = unicodedata.normalize("NFKC", text)  # ＶＩＰ and VIP are one tag
        tags: list[str] = []
        for part in _TAG_SPLIT.split(text):
            tag = _SPACES.sub(" ", _CONTROL.sub("", part)).strip()
            if not tag or tag in tags:
                continue
            if len(tag) > limit:
                raise BadValue(
                    _("A tag has at most %(limit)d characters: “%(tag)s”.") % {"limit": limit, "tag": tag}
                )
            tags.append(tag)
        return tags

    return clean


_PLATE = re.compile(r"^[\u4e00-\u9fffA-Z0-9]{3,16}$")


def clean_plate(value: Cell) -> str:
    """粤b·12345 → 粤B12345 (core.search.normalize_plate), then a plausible plate or an error."""
    plate = normalize_plate(cell_text(value))
    if not _PLATE.match(plate):
        raise BadValue(_("“%(value)s” is not a licence plate.") % {"value": cell_text(value)})
    return plate


_VIN = re.compile(r"^[A-Z0-9]{1,17}$")


def clean_vin(value: Cell) -> str:
    text = cell_text(value)
    vin = _FOLD_DROP.sub("", unicodedata.normalize("NFKC", text)).upper()
    if not _VIN.match(vin):
        raise BadValue(_("“%(value)s” is not a VIN: at most 17 letters and digits.") % {"value": text})
    return vin


_MILEAGE_UNITS = re.compile(r"(km|公里|千米|kms)$", re.IGNORECASE)
MILEAGE_MAX = 2_147_483_647  # the column's limit (PositiveIntegerField)


def clean_mileage(value: Cell) -> int:
    """12345, 12,345 km, 1.2万公里 → kilometres as a whole number."""
    text = cell_text(value)
    plain = _MILEAGE_UNITS.sub("", unicodedata.normalize("NFKC", text).replace(",", "").replace(" ", ""))
    factor = 1
    if plain.endswith("万"):
        plain, factor = plain[:-1], 10_000
    try:
        number = float(plain) * factor
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0 or number > MILEAGE_MAX:
        raise BadValue(
            _("“%(value)s” is not a mileage: write the kilometres as a number, for example 12345.")
            % {"value": text}
        )
    return round(number)


# --- custom fields ------------------------------------------------------------------------------------

TRUE_WORDS = frozenset(map(_fold, ("1", "true", "yes", "y", "on", "是", "对", "有", "√", "✓", "✔")))
FALSE_WORDS = frozenset(
    map(_fold, ("0", "false", "no", "n", "off", "否", "不", "不是", "没有", "×", "✗", "✘"))
)


def custom_field_cleaner(definition: FieldDefinition) -> ValueCleaner:
    """A custom field's value by its definition's type, JSON-safe as the customer services store it."""
    kind = str(definition.type)
    if kind == "number":

        def number(value: Cell) -> int | float:
            text = unicodedata.normalize("NFKC", cell_text(value)).replace(",", "").strip()
            try:
                found = float(text)
            except ValueError:
                found = math.nan
            if not math.isfinite(found):
                raise BadValue(_("Enter a number."))
            return int(found) if found.is_integer() else found

        return number
    if kind == "date":
        read_date = date_cleaner()
        return lambda value: read_date(value).isoformat()
    if kind == "boolean":

        def boolean(value: Cell) -> bool:
            word = _fold(cell_text(value))
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise BadValue(_("Enter yes or no."))

        return boolean
    if kind == "choice":
        return choice_cleaner([(str(c), str(c)) for c in definition.choices or []])
    return text_cleaner(500)
