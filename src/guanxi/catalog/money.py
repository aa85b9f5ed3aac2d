"""Amounts of money (CNY, 2 decimal places) and quantities, parsed from what people and machines send.

Money is Decimal throughout: a float never touches an amount. Text may carry a currency sign, thousands
separators and full-width digits ("￥1，234.50"); more decimal places than the column holds is an error,
never a silent rounding.
"""

from __future__ import annotations

import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
MAX_MONEY = Decimal("9999999999.99")  # fits DecimalField(max_digits=12, decimal_places=2)
QUANTITY_PLACES = 3
MAX_QUANTITY = Decimal("999999999.999")


class NotANumber(ValueError):
    """The value is not a number at all (as opposed to a number out of range)."""


def to_decimal(value: Any) -> Decimal:
    """A finite Decimal from a Decimal, an int, a float (by its shortest repr) or text; NotANumber else."""
    if isinstance(value, bool):
        raise NotANumber(value)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        text = text.replace(",", "").replace(" ", "").lstrip("¥").lstrip("￥")
        if text.endswith("元"):
            text = text[:-1]
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise NotANumber(value) from exc
    else:
        raise NotANumber(value)
    if not number.is_finite():
        raise NotANumber(value)
    return number


def places(number: Decimal) -> int:
    """How many decimal places `number` is written with, ignoring trailing zeros (1.50 → 1)."""
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def round_money(number: Decimal) -> Decimal:
    """Half up to the cent, as a till rounds."""
    return number.quantize(CENT, rounding=ROUND_HALF_UP)


def money_text(value: Decimal | None) -> str:
    """¥1,234.50; -¥50.00 for a negative amount; "" for None."""
    if value is None:
        return ""
    sign = "-" if value < 0 else ""
    return f"{sign}¥{abs(value):,.2f}"


def quantity_text(value: Decimal | None) -> str:
    """A quantity without trailing zeros: 35.270 → 35.27, 2.000 → 2."""
    if value is None:
        return ""
    return f"{value.normalize():f}"
