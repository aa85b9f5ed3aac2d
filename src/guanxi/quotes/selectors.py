"""Reads of quotes. A quote is visible by its own owner and team, under the reader's role scope (own,
team, all), like opportunities; `quote.view` is needed for any of them."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from guanxi.core.errors import NotFound
from guanxi.core.permissions import ensure_can, scope_q, sees_pii
from guanxi.core.search import search_filter
from guanxi.customers.models import Customer
from guanxi.opportunities.models import Opportunity
from guanxi.quotes.models import Quote, QuoteQuerySet
from guanxi.users.models import User

CUSTOMER_QUOTES = 10


def quote_scope(*, actor: User) -> QuoteQuerySet:
    """The quotes `actor` may see, unsorted: the base of every quote read."""
    ensure_can(actor, "quote.view")
    return Quote.objects.filter(scope_q(actor))


def quote_list(
    *,
    actor: User,
    q: str = "",
    status: str = "",
    customer_id: int | None = None,
    owner_id: int | None = None,
    all_versions: bool = False,
) -> QuerySet[Quote]:
    """Quotes in scope, newest first, each with `shown` (its status as read: expired once past its date),
    customer and owner joined. Only the current version of each quote unless `all_versions` or
    `status="superseded"`. `q`: the quote number, its subject, or the customer (the customer search:
    name, pinyin, initials, phone digits)."""
    quotes = quote_scope(actor=actor)
    if status:
        quotes = quotes.shown_as(status)
    elif not all_versions:
        quotes = quotes.exclude(status=Quote.Status.SUPERSEDED)
    if customer_id:
        quotes = quotes.filter(customer_id=customer_id)
    if owner_id:
        quotes = quotes.filter(owner_id=owner_id)
    term = q.strip()
    if term:
        customers = search_filter(
            Customer.objects.filter(scope_q(actor)), term, fts_prefix="customers_search"
        ).values("pk")
        quotes = quotes.filter(
            Q(number__icontains=term) | Q(title__icontains=term) | Q(customer__in=customers)
        )
    return quotes.with_status().select_related("customer", "owner").order_by("-id")


def quote_get(*, actor: User, quote_id: int) -> Quote:
    """One quote with all a page or the PDF shows (customer's phones and emails, contact, lines, owner,
    order), personal data masked unless the reader sees it; NotFound outside the actor's scope."""
    clear = sees_pii(actor)
    try:
        quote = quote_scope(actor=actor).for_document(clear=clear).with_status().get(pk=quote_id)
    except (Quote.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound(_("Quote not found.")) from exc
    return quote.mark_clear(clear)


def quote_versions(*, actor: User, quote: Quote) -> QuerySet[Quote]:
    """Every version of the quote's family that the actor may see, newest first."""
    return (
        quote_scope(actor=actor)
        .filter(number=quote.number)
        .with_status()
        .select_related("created_by")
        .order_by("-version")
    )


def quote_list_for_customer(*, actor: User, customer: Customer) -> list[Quote]:
    """The customer's current quotes (newest first, at most 10) for the 360 page: one query."""
    quotes = (
        quote_scope(actor=actor)
        .filter(customer=customer)
        .exclude(status=Quote.Status.SUPERSEDED)
        .with_status()
        .select_related("owner")
        .order_by("-id")
    )
    return list(quotes[:CUSTOMER_QUOTES])


def quote_owners(*, actor: User) -> list[User]:
    """The users who own a quote the actor may see, for the list's owner filter."""
    owner_ids = quote_scope(actor=actor).exclude(owner=None).values("owner_id").distinct()
    return list(User.objects.filter(pk__in=owner_ids).order_by("username"))


def opportunity_for_quote(*, actor: User, opportunity_id: int) -> Opportunity | None:
    """The opportunity (in the actor's scope) a new quote starts from, with its customer; None if unseen."""
    ensure_can(actor, "opportunity.view")
    opportunities = Opportunity.objects.filter(scope_q(actor)).select_related("customer")
    return opportunities.filter(pk=opportunity_id).first()
