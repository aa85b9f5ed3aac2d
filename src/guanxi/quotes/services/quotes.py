"""Preparing quotes: create (from scratch or from an opportunity), change a draft, make a new version.

Rules enforced here and nowhere else:
- `quote.create` for every write; a quote is read and changed only inside the actor's scope (its owner
  and team), and made only for a customer in it (else NotFound, as if it did not exist).
- Only a draft changes (header and lines); a sent, expired or rejected quote changes by a new version,
  which copies the current one and supersedes it. An accepted or superseded quote gets no new version.
- The validity date is today or later when set; a new version of a quote past its date is valid for
  `GUANXI_QUOTE_VALID_DAYS` (30) days from today again.
- Totals are the sums of the lines' rounded figures (see guanxi.quotes.models), rewritten on every change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record, changes_between
from guanxi.catalog.models import Product
from guanxi.core.errors import Errors, NotFound
from guanxi.core.permissions import ensure_can, scope_q
from guanxi.customers.models import Contact, Customer
from guanxi.opportunities.models import Opportunity
from guanxi.quotes.models import Quote, QuoteLine, local_today
from guanxi.quotes.services._common import (
    MAX_LINES,
    QuoteClosed,
    QuoteNotCurrent,
    actor_or_none,
    apply_figures,
    check_owner,
    clean_line_values,
    clean_product,
    clean_text,
    clean_valid_until,
    ensure_draft,
    lock_quote,
    new_line,
    next_number,
    product_id_of,
    set_totals,
    timeline,
    visible_customer,
)
from guanxi.users.models import User

UNSET: Any = object()
HEADER_FIELDS = ("title", "valid_until", "notes", "terms", "contact")


def default_valid_until() -> date:
    return local_today() + timedelta(days=int(getattr(settings, "GUANXI_QUOTE_VALID_DAYS", 30)))


def _visible_opportunity(actor: User, opportunity: Opportunity) -> Opportunity:
    ensure_can(actor, "opportunity.view")
    try:
        return (
            Opportunity.objects.filter(scope_q(actor))
            .prefetch_related("lines__product")
            .get(pk=opportunity.pk)
        )
    except Opportunity.DoesNotExist as exc:
        raise NotFound(_("Opportunity not found.")) from exc


def _clean_contact(contact: Contact | None, customer: Customer, errors: Errors) -> Contact | None:
    if contact is not None and contact.customer_id != customer.pk:
        errors.add("contact", _("Choose a contact of this customer."))
        return None
    return contact


def _clean_lines(raw: Sequence[Any], errors: Errors) -> list[QuoteLine]:
    if len(raw) > MAX_LINES:
        errors.add("lines", _("Send at most %(limit)d lines.") % {"limit": MAX_LINES})
        return []
    ids = [
        i for i in (product_id_of(line.get("product_id")) for line in raw if isinstance(line, Mapping)) if i
    ]
    products = Product.objects.in_bulk(ids)
    lines = []
    for index, line in enumerate(raw):
        prefix = f"lines.{index}"
        if not isinstance(line, Mapping):
            errors.add(prefix, _("Send each line as an object."))
            continue
        product = clean_product(prefix, line.get("product_id"), products, errors)
        if product is None:
            continue
        values = clean_line_values(prefix, line, product, errors)
        if values is not None:
            lines.append(new_line(product, values, index))
    return lines


def _snapshot(quote: Quote) -> dict[str, Any]:
    return {
        "title": quote.title,
        "valid_until": quote.valid_until.isoformat() if quote.valid_until else None,
        "notes": quote.notes,
        "terms": quote.terms,
        "contact": quote.contact_id,
    }


@transaction.atomic
def quote_create(
    *,
    actor: User,
    customer: Customer | None = None,
    opportunity: Opportunity | None = None,
    lines: Sequence[Mapping[str, Any]] | None = None,
    valid_until: date | None = None,
    title: str = "",
    contact: Contact | None = None,
    notes: str = "",
    terms: str = "",
    owner: User | None = None,
) -> Quote:
    """A draft quote for `customer`, or for the customer of `opportunity` with the opportunity's products
    as its lines (quantity and price as discussed) unless `lines` are given. Lines: `product_id`,
    `quantity` (1), `unit_price` (the product's price), `discount_percent` (0), `tax_rate` (13).
    The owner is the actor unless given (see `check_owner`); the team is the owner's."""
    ensure_can(actor, "quote.create")
    errors = Errors()
    if opportunity is not None:
        opportunity = _visible_opportunity(actor, opportunity)
        if customer is not None and customer.pk != opportunity.customer_id:
            errors.add("customer", _("The opportunity is with another customer."))
        customer = opportunity.customer
        if lines is None:
            lines = [
                {"product_id": line.product_id, "quantity": line.quantity, "unit_price": line.unit_price}
                for line in opportunity.lines.all()
                if line.product.active
            ]
            if not title:
                title = opportunity.name[:200]
    if customer is None:
        errors.add("customer", _("Choose a customer."))
        errors.raise_if_any()
    assert customer is not None
    customer = visible_customer(actor, customer)
    texts = clean_text({"title": title, "notes": notes, "terms": terms}, errors)
    until = clean_valid_until(valid_until or default_valid_until(), errors)
    contact = _clean_contact(contact, customer, errors)
    quote_lines = _clean_lines(list(lines or ()), errors)
    owner = owner or actor_or_none(actor)
    if owner is not None:
        check_owner(actor, owner, errors)
    errors.raise_if_any()
    assert until is not None

    now = timezone.now()
    quote = Quote.objects.create(
        number=next_number(timezone.localtime(now).year),
        customer=customer,
        contact=contact,
        opportunity=opportunity,
        valid_until=until,
        owner=owner,
        team_id=getattr(owner, "team_id", None),
        created_by=actor_or_none(actor),
        **texts,
    )
    for line in quote_lines:
        line.quote = quote
    QuoteLine.objects.bulk_create(quote_lines)
    set_totals(quote)
    audit_record(
        actor=actor,
        action="quote.create",
        target=quote,
        changes=changes_between({}, _snapshot(quote)),
        data={
            "customer": customer.pk,
            "opportunity": opportunity.pk if opportunity else None,
            "lines": len(quote_lines),
            "total": str(quote.grand_total),
        },
    )
    timeline(quote, "quote.created", actor, now, lines=len(quote_lines))
    return quote


@transaction.atomic
def quote_update(
    *,
    actor: User,
    quote: Quote,
    title: str = UNSET,
    valid_until: date = UNSET,
    notes: str = UNSET,
    terms: str = UNSET,
    contact: Contact | None = UNSET,
) -> Quote:
    """Change a draft's subject, validity date, notes, terms or contact (only the fields passed)."""
    ensure_can(actor, "quote.create")
    quote = lock_quote(actor, quote)
    ensure_draft(quote)
    before = _snapshot(quote)
    errors = Errors()
    texts = {k: v for k, v in {"title": title, "notes": notes, "terms": terms}.items() if v is not UNSET}
    for key, value in clean_text(texts, errors).items():
        setattr(quote, key, value)
    if valid_until is not UNSET:
        quote.valid_until = clean_valid_until(valid_until, errors) or quote.valid_until
    if contact is not UNSET:
        quote.contact = _clean_contact(contact, quote.customer, errors)
    errors.raise_if_any()
    quote.save()
    changes = changes_between(before, _snapshot(quote))
    if changes:
        audit_record(actor=actor, action="quote.update", target=quote, changes=changes)
    return quote


@transaction.atomic
def quote_new_version(*, actor: User, quote: Quote) -> Quote:
    """A draft copy of the current version, numbered one up; the copied version becomes superseded.

    Refused for an accepted quote (it is an order already) and for a superseded one (copy the current).
    """
    ensure_can(actor, "quote.create")
    quote = lock_quote(actor, quote)
    if quote.status == Quote.Status.SUPERSEDED:
        raise QuoteNotCurrent(_("A newer version of this quote exists."))
    if quote.status == Quote.Status.ACCEPTED:
        raise QuoteClosed(_("This quote is accepted already: it became an order."))
    lines = list(quote.lines.all())
    previous_status = quote.status
    # Superseded first: the constraint allows one current version per number.
    Quote.objects.filter(pk=quote.pk).update(status=Quote.Status.SUPERSEDED, updated_at=timezone.now())
    quote.status = Quote.Status.SUPERSEDED
    now = timezone.now()
    copy = Quote.objects.create(
        number=quote.number,
        version=quote.version + 1,
        title=quote.title,
        customer=quote.customer,
        contact=quote.contact,
        opportunity_id=quote.opportunity_id,
        valid_until=quote.valid_until if quote.valid_until >= local_today() else default_valid_until(),
        notes=quote.notes,
        terms=quote.terms,
        owner=quote.owner,
        team_id=quote.team_id,
        created_by=actor_or_none(actor),
    )
    copies = []
    for line in lines:
        line.pk = None
        line.quote = copy
        copies.append(apply_figures(line))
    QuoteLine.objects.bulk_create(copies)
    set_totals(copy)
    audit_record(
        actor=actor,
        action="quote.version",
        target=copy,
        data={"from": quote.pk, "from_status": previous_status, "version": copy.version},
    )
    timeline(copy, "quote.created", actor, now, lines=len(copies), version=copy.version)
    return copy
