"""Helpers shared by the opportunity and pipeline services: cleaning input, scope checks, positions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Min
from django.utils.translation import gettext as _

from guanxi.catalog.models import Product
from guanxi.catalog.money import (
    MAX_MONEY,
    MAX_QUANTITY,
    QUANTITY_PLACES,
    NotANumber,
    places,
    round_money,
    to_decimal,
)
from guanxi.core.errors import Errors, NotFound
from guanxi.core.permissions import ALL, TEAM, scope_of, scope_q
from guanxi.customers.models import Customer
from guanxi.opportunities.models import ZERO, Opportunity, OpportunityLine, Stage
from guanxi.users.models import User

# Cards sit `GAP` apart in a column, so a drop between two of them usually writes one row only.
GAP = 1024
MAX_LINES = 100
LINE_FIELDS = {"product_id", "quantity", "unit_price"}
TEXT_LIMITS = {"name": 200, "next_step": 200, "competitors": 200, "description": 5000}


def actor_or_none(actor: User) -> User | None:
    return actor if getattr(actor, "is_authenticated", False) else None


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_text(field: str, value: Any, errors: Errors, *, required: bool = False) -> str:
    text = str(value or "").strip()
    limit = TEXT_LIMITS.get(field, 500)
    if required and not text:
        errors.add(field, _("This field is required."))
    elif len(text) > limit:
        errors.add(field, _("Enter at most %(limit)d characters.") % {"limit": limit})
    return text


def clean_number(
    value: Any, field: str, errors: Errors, *, max_places: int, maximum: Decimal
) -> Decimal | None:
    try:
        number = to_decimal(value)
    except NotANumber:
        errors.add(field, _("Enter a number such as 12.50."))
        return None
    if number < 0:
        errors.add(field, _("Enter a number of 0 or more."))
    elif number > maximum:
        errors.add(field, _("Enter a number of at most %(max)s.") % {"max": f"{maximum:,}"})
    elif places(number) > max_places:
        errors.add(field, _("Enter at most %(places)d decimal places.") % {"places": max_places})
    else:
        return number
    return None


def clean_money(value: Any, field: str, errors: Errors) -> Decimal | None:
    number = clean_number(value, field, errors, max_places=2, maximum=MAX_MONEY)
    return None if number is None else number.quantize(Decimal("0.01"))


def clean_probability(value: Any, errors: Errors, field: str = "probability") -> int | None:
    try:
        number = to_decimal(value)
    except NotANumber:
        errors.add(field, _("Enter a whole number from 0 to 100."))
        return None
    if number != number.to_integral_value() or not 0 <= number <= 100:
        errors.add(field, _("Enter a whole number from 0 to 100."))
        return None
    return int(number)


def clean_date(value: Any, field: str, errors: Errors) -> date | None:
    if blank(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors.add(field, _("Enter a date such as 2026-12-31."))
        return None


def _product_id(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 19:
        return int(value)
    return None


def clean_lines(raw: Sequence[Any], errors: Errors) -> list[OpportunityLine]:
    """Lines as unsaved rows: `product_id`, `quantity` (default 1), `unit_price` (default the product's)."""
    if len(raw) > MAX_LINES:
        errors.add("lines", _("Send at most %(limit)d lines.") % {"limit": MAX_LINES})
        return []
    wanted = [_product_id(line.get("product_id")) for line in raw if isinstance(line, Mapping)]
    products = Product.objects.in_bulk([pid for pid in wanted if pid is not None])
    cleaned = []
    for index, line in enumerate(raw):
        prefix = f"lines.{index}"
        if not isinstance(line, Mapping):
            errors.add(prefix, _("Send each line as an object."))
            continue
        for key in sorted(set(line) - LINE_FIELDS):
            errors.add(f"{prefix}.{key}", _("Unknown field."))
        pid = _product_id(line.get("product_id"))
        product = products.get(pid) if pid is not None else None
        if blank(line.get("product_id")):
            errors.add(f"{prefix}.product_id", _("Choose a product."))
        elif product is None:
            errors.add(f"{prefix}.product_id", _("There is no such product."))
        elif not product.active:
            errors.add(
                f"{prefix}.product_id", _("“%(name)s” is not for sale any more.") % {"name": product.name}
            )
        quantity: Decimal | None = Decimal("1")
        if not blank(line.get("quantity")):
            quantity = clean_number(
                line["quantity"],
                f"{prefix}.quantity",
                errors,
                max_places=QUANTITY_PLACES,
                maximum=MAX_QUANTITY,
            )
            if quantity is not None and quantity == 0:
                errors.add(f"{prefix}.quantity", _("Enter a quantity greater than 0."))
                quantity = None
        unit_price = (
            clean_money(line["unit_price"], f"{prefix}.unit_price", errors)
            if not blank(line.get("unit_price"))
            else (product.price if product is not None else None)
        )
        if product is None or not product.active or quantity is None or unit_price is None:
            continue
        cleaned.append(
            OpportunityLine(product=product, quantity=quantity, unit_price=unit_price, position=index)
        )
    return cleaned


def lines_total(lines: Sequence[OpportunityLine]) -> Decimal:
    return sum((round_money(line.quantity * line.unit_price) for line in lines), ZERO)


def visible_customer(actor: User, customer: Customer) -> Customer:
    try:
        return Customer.objects.filter(scope_q(actor)).get(pk=customer.pk)
    except Customer.DoesNotExist as exc:
        raise NotFound(_("Customer not found.")) from exc


def lock_opportunity(actor: User, opportunity: Opportunity) -> Opportunity:
    """The opportunity locked for change, or NotFound when it is outside the actor's scope."""
    try:
        return (
            Opportunity.objects.select_for_update(of=("self",))
            .select_related("stage", "pipeline", "customer")
            .filter(scope_q(actor))
            .get(pk=opportunity.pk)
        )
    except Opportunity.DoesNotExist as exc:
        raise NotFound(_("Opportunity not found.")) from exc


def check_owner(actor: User, owner: User | None, errors: Errors) -> None:
    """A sales rep (own records) can own only what they create; a manager gives to their team; an
    administrator to anyone active. Otherwise the new owner's record would leave the actor's sight."""
    if owner is None:
        return
    if not owner.is_active:
        errors.add("owner", _("“%(name)s” is inactive.") % {"name": owner.display_name})
        return
    scope = scope_of(actor)
    if scope == ALL or owner.pk == actor.pk:
        return
    if scope == TEAM and owner.team_id is not None and owner.team_id == getattr(actor, "team_id", None):
        return
    errors.add("owner", _("You cannot give an opportunity to “%(name)s”.") % {"name": owner.display_name})


def top_position(stage: Stage) -> int:
    lowest = Opportunity.objects.filter(stage=stage).aggregate(low=Min("position"))["low"]
    return 0 if lowest is None else lowest - GAP
