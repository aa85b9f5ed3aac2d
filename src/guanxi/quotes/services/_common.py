"""What the quote services share: errors, cleaning a line, locking a quote, the totals, the number."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.catalog.models import Product
from guanxi.catalog.money import MAX_MONEY, MAX_QUANTITY, QUANTITY_PLACES, NotANumber, places, to_decimal
from guanxi.core.errors import Conflict, Errors, NotFound
from guanxi.core.permissions import ALL, TEAM, scope_of, scope_q
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.quotes.models import (
    DEFAULT_TAX_RATE,
    HUNDRED,
    ZERO,
    Quote,
    QuoteCounter,
    QuoteLine,
    line_figures,
    local_today,
)
from guanxi.users.models import User

MAX_LINES = 200  # as many as an order takes: an accepted quote books all its lines as one order
TEXT_LIMITS = {"title": 200, "notes": 4000, "terms": 4000}
LINE_FIELDS = {"product_id", "quantity", "unit_price", "discount_percent", "tax_rate"}


class QuoteNotEditable(Conflict):
    code = "quote_not_editable"
    default_message = "Only a draft quote can be changed; make a new version instead."


class QuoteNotCurrent(Conflict):
    code = "quote_not_current"
    default_message = "A newer version of this quote exists."


class QuoteExpired(Conflict):
    code = "quote_expired"
    default_message = "This quote has expired."


class QuoteClosed(Conflict):
    code = "quote_closed"
    default_message = "This quote is accepted or rejected already."


class QuoteEmpty(Conflict):
    code = "quote_empty"
    default_message = "Add at least one line first."


def actor_or_none(actor: User) -> User | None:
    return actor if getattr(actor, "is_authenticated", False) else None


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def number(
    value: Any,
    field: str,
    errors: Errors,
    *,
    max_places: int,
    maximum: Decimal,
    default: Decimal | None = None,
) -> Decimal | None:
    """A number from 0 to `maximum` with at most `max_places` decimals; `default` when left blank."""
    if blank(value):
        if default is None:
            errors.add(field, _("This field is required."))
        return default
    try:
        parsed = to_decimal(value)
    except NotANumber:
        errors.add(field, _("Enter a number such as 12.50."))
        return None
    if parsed < 0:
        errors.add(field, _("Enter a number of 0 or more."))
    elif parsed > maximum:
        errors.add(field, _("Enter a number of at most %(max)s.") % {"max": f"{maximum:,}"})
    elif places(parsed) > max_places:
        errors.add(field, _("Enter at most %(places)d decimal places.") % {"places": max_places})
    else:
        return parsed
    return None


def clean_text(fields: Mapping[str, Any], errors: Errors) -> dict[str, str]:
    cleaned = {}
    for key, value in fields.items():
        text = str(value or "").strip()
        if len(text) > TEXT_LIMITS[key]:
            errors.add(key, _("Enter at most %(limit)d characters.") % {"limit": TEXT_LIMITS[key]})
        cleaned[key] = text
    return cleaned


def clean_valid_until(value: Any, errors: Errors) -> date | None:
    if not isinstance(value, date):
        errors.add("valid_until", _("Enter a date."))
        return None
    if value < local_today():
        errors.add("valid_until", _("The validity date cannot be in the past."))
        return None
    return value


def product_id_of(value: Any) -> int | None:
    if isinstance(value, Product):
        return value.pk
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 19:
        return int(value)
    return None


def clean_line_values(
    prefix: str,
    fields: Mapping[str, Any],
    product: Product | None,
    errors: Errors,
    *,
    current: QuoteLine | None = None,
) -> dict[str, Decimal] | None:
    """Quantity, unit price, discount % and VAT rate of a line, from `fields` over `current` (or the
    product's price and the default rate for a new line). None, with errors, when any is wrong."""
    for key in sorted(set(fields) - LINE_FIELDS):
        errors.add(f"{prefix}.{key}", _("Unknown field."))

    def pick(key: str, fallback: Decimal | None) -> Any:
        return fields[key] if key in fields and not blank(fields[key]) else fallback

    price_default = current.unit_price if current else (product.price if product else None)
    quantity = number(
        pick("quantity", current.quantity if current else Decimal(1)),
        f"{prefix}.quantity",
        errors,
        max_places=QUANTITY_PLACES,
        maximum=MAX_QUANTITY,
    )
    if quantity is not None and quantity == 0:
        errors.add(f"{prefix}.quantity", _("Enter a quantity greater than 0."))
        quantity = None
    unit_price = number(
        pick("unit_price", price_default), f"{prefix}.unit_price", errors, max_places=2, maximum=MAX_MONEY
    )
    discount = number(
        pick("discount_percent", current.discount_percent if current else ZERO),
        f"{prefix}.discount_percent",
        errors,
        max_places=2,
        maximum=HUNDRED,
    )
    tax_rate = number(
        pick("tax_rate", current.tax_rate if current else DEFAULT_TAX_RATE),
        f"{prefix}.tax_rate",
        errors,
        max_places=2,
        maximum=HUNDRED,
    )
    if quantity is None or unit_price is None or discount is None or tax_rate is None:
        return None
    figures = line_figures(
        quantity=quantity, unit_price=unit_price, discount_percent=discount, tax_rate=tax_rate
    )
    if figures.amount > MAX_MONEY:
        errors.add(
            f"{prefix}.quantity", _("The line comes to more than %(max)s.") % {"max": f"{MAX_MONEY:,}"}
        )
        return None
    return {
        "quantity": quantity,
        "unit_price": unit_price,
        "discount_percent": discount,
        "tax_rate": tax_rate,
    }


def apply_figures(line: QuoteLine) -> QuoteLine:
    figures = line.figures()
    line.amount, line.discount_amount = figures.amount, figures.discount
    line.total, line.tax_amount = figures.total, figures.tax
    return line


def new_line(product: Product, values: Mapping[str, Decimal], position: int) -> QuoteLine:
    """A line with the product's name, SKU and unit copied, as it is offered now."""
    line = QuoteLine(
        position=position, product=product, sku=product.sku, name=product.name, unit=product.unit, **values
    )
    return apply_figures(line)


def clean_product(prefix: str, value: Any, products: Mapping[int, Product], errors: Errors) -> Product | None:
    if blank(value):
        errors.add(f"{prefix}.product_id", _("Choose a product."))
        return None
    product_id = product_id_of(value)
    product = products.get(product_id) if product_id else None
    if product is None:
        errors.add(f"{prefix}.product_id", _("There is no such product."))
    elif not product.active:
        errors.add(f"{prefix}.product_id", _("“%(name)s” is not for sale any more.") % {"name": product.name})
        return None
    return product


def set_totals(quote: Quote) -> Quote:
    """Sum the lines' rounded figures into the quote's cached totals (in Decimal: SQLite would sum the
    columns in floating point), and write them."""
    rows = list(quote.lines.values_list("amount", "discount_amount", "total", "tax_amount"))
    quote.subtotal = sum((row[0] for row in rows), ZERO)
    quote.discount_total = sum((row[1] for row in rows), ZERO)
    quote.grand_total = sum((row[2] for row in rows), ZERO)
    quote.tax_total = sum((row[3] for row in rows), ZERO)
    Quote.objects.filter(pk=quote.pk).update(
        subtotal=quote.subtotal,
        discount_total=quote.discount_total,
        grand_total=quote.grand_total,
        tax_total=quote.tax_total,
        updated_at=timezone.now(),
    )
    return quote


def lock_quote(actor: User, quote: Quote | int) -> Quote:
    """The quote locked for this transaction, or NotFound when it is outside the actor's scope."""
    quote_id = quote.pk if isinstance(quote, Quote) else quote
    try:
        return (
            Quote.objects.select_for_update(of=("self",))
            .select_related("customer", "contact", "owner")
            .filter(scope_q(actor))
            .get(pk=quote_id)
        )
    except (Quote.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("Quote not found.")) from exc


def visible_customer(actor: User, customer: Customer) -> Customer:
    try:
        return Customer.objects.filter(scope_q(actor)).get(pk=customer.pk)
    except Customer.DoesNotExist as exc:
        raise NotFound(_("Customer not found.")) from exc


def check_owner(actor: User, owner: User, errors: Errors) -> None:
    """A sales rep (own records) owns only what they make; a manager gives to their team; an
    administrator to anyone active. Otherwise the new quote would leave the actor's sight."""
    if not owner.is_active:
        errors.add("owner", _("“%(name)s” is inactive.") % {"name": owner.display_name})
        return
    scope = scope_of(actor)
    if scope == ALL or owner.pk == actor.pk:
        return
    if scope == TEAM and owner.team_id is not None and owner.team_id == getattr(actor, "team_id", None):
        return
    errors.add("owner", _("You cannot give a quote to “%(name)s”.") % {"name": owner.display_name})


def ensure_draft(quote: Quote) -> None:
    if quote.status == Quote.Status.SUPERSEDED:
        raise QuoteNotCurrent(_("A newer version of this quote exists."))
    if quote.status != Quote.Status.DRAFT:
        raise QuoteNotEditable(_("Only a draft quote can be changed; make a new version instead."))


def next_number(year: int) -> str:
    """Q-<year>-<000123>: the year's counter moved on by one UPDATE, which holds the row until commit,
    so two quotes never get the same number (on SQLite writers take turns anyway)."""
    for _attempt in range(2):
        if QuoteCounter.objects.filter(year=year).update(last=F("last") + 1):
            break
        try:
            with transaction.atomic():  # a savepoint: losing the race to create the row is harmless
                QuoteCounter.objects.create(year=year, last=1)
            break
        except IntegrityError:
            continue
    last = QuoteCounter.objects.values_list("last", flat=True).get(year=year)
    return f"Q-{year}-{last:06d}"


def timeline(quote: Quote, kind: str, actor: User, when: Any, **data: Any) -> None:
    TimelineEntry.objects.create(
        customer_id=quote.customer_id,
        occurred_at=when,
        kind=kind,
        actor=actor_or_none(actor),
        data={
            "quote_id": quote.pk,
            "reference": quote.reference,
            "total": str(quote.grand_total),
            **data,
        },
    )
