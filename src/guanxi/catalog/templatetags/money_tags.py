"""{{ amount|money }} → ¥1,234.50 and {{ quantity|quantity }} → 35.27, for every page that shows money."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from guanxi.catalog.money import NotANumber, money_text, quantity_text, to_decimal

register = template.Library()


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return to_decimal(value)
    except NotANumber:
        return None


@register.filter
def money(value: Any) -> str:
    number = _decimal(value)
    return money_text(number) if number is not None else ""


@register.filter
def quantity(value: Any) -> str:
    number = _decimal(value)
    return quantity_text(number) if number is not None else ""
