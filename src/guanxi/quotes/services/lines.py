"""A draft's lines: add one from the catalogue, change its quantity, price, discount or VAT rate, remove it.

Every change rewrites the quote's totals from the lines' rounded figures, in the same transaction, with
the quote row locked, so two reps editing the same draft never leave totals that do not add up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record
from guanxi.catalog.models import Product
from guanxi.core.errors import Errors, NotFound, ValidationFailed
from guanxi.core.permissions import ensure_can
from guanxi.quotes.models import Quote, QuoteLine
from guanxi.quotes.services._common import (
    MAX_LINES,
    apply_figures,
    clean_line_values,
    clean_product,
    ensure_draft,
    lock_quote,
    new_line,
    set_totals,
)
from guanxi.users.models import User


def _line_data(line: QuoteLine) -> dict[str, Any]:
    return {
        "line": line.pk,
        "product": line.product_id,
        "name": line.name,
        "quantity": str(line.quantity),
        "unit_price": str(line.unit_price),
        "discount_percent": str(line.discount_percent),
        "tax_rate": str(line.tax_rate),
        "total": str(line.total),
    }


def _line_of(quote: Quote, line: QuoteLine | int) -> QuoteLine:
    line_id = line.pk if isinstance(line, QuoteLine) else line
    try:
        return quote.lines.get(pk=line_id)
    except (QuoteLine.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("This line is not on the quote.")) from exc


def _clean(
    fields: Mapping[str, Any], product: Product | None, current: QuoteLine | None = None
) -> dict[str, Any]:
    errors = Errors()
    values = clean_line_values("line", fields, product, errors, current=current)
    errors.raise_if_any()
    assert values is not None
    return values


def _flat(exc: ValidationFailed) -> ValidationFailed:
    """Field names without the `line.` prefix: one line's form names its fields plainly."""
    details = {key.removeprefix("line."): value for key, value in exc.details.items()}
    return ValidationFailed(exc.message, details=details)


@transaction.atomic
def quote_line_add(*, actor: User, quote: Quote, product: Product | int, **fields: Any) -> QuoteLine:
    """Add `product` to a draft at the end, with its name, SKU and unit copied; `quantity` (1),
    `unit_price` (the product's price now), `discount_percent` (0) and `tax_rate` (13) as given."""
    ensure_can(actor, "quote.create")
    quote = lock_quote(actor, quote)
    ensure_draft(quote)
    errors = Errors()
    products = Product.objects.in_bulk([product.pk if isinstance(product, Product) else product])
    found = clean_product("line", product.pk if isinstance(product, Product) else product, products, errors)
    errors.raise_if_any()
    assert found is not None
    count = quote.lines.count()
    if count >= MAX_LINES:
        raise ValidationFailed(
            details={"lines": [_("A quote takes at most %(limit)d lines.") % {"limit": MAX_LINES}]}
        )
    try:
        values = _clean(fields, found)
    except ValidationFailed as exc:
        raise _flat(exc) from exc
    position = (quote.lines.aggregate(last=Max("position"))["last"] or 0) + 1 if count else 0
    line = new_line(found, values, position)
    line.quote = quote
    line.save()
    set_totals(quote)
    audit_record(actor=actor, action="quote.line_add", target=quote, data=_line_data(line))
    return line


@transaction.atomic
def quote_line_update(*, actor: User, quote: Quote, line: QuoteLine | int, **fields: Any) -> QuoteLine:
    """Change a draft line's `quantity`, `unit_price`, `discount_percent` or `tax_rate` (those passed)."""
    ensure_can(actor, "quote.create")
    quote = lock_quote(actor, quote)
    ensure_draft(quote)
    current = _line_of(quote, line)
    before = _line_data(current)
    try:
        values = _clean(fields, current.product, current)
    except ValidationFailed as exc:
        raise _flat(exc) from exc
    for key, value in values.items():
        setattr(current, key, value)
    apply_figures(current).save()
    set_totals(quote)
    after = _line_data(current)
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changes:
        audit_record(
            actor=actor, action="quote.line_update", target=quote, changes=changes, data={"line": current.pk}
        )
    return current


@transaction.atomic
def quote_line_remove(*, actor: User, quote: Quote, line: QuoteLine | int) -> Quote:
    """Take a line off a draft; returns the quote with its new totals."""
    ensure_can(actor, "quote.create")
    quote = lock_quote(actor, quote)
    ensure_draft(quote)
    current = _line_of(quote, line)
    data = _line_data(current)
    current.delete()
    set_totals(quote)
    audit_record(actor=actor, action="quote.line_remove", target=quote, data=data)
    return quote
