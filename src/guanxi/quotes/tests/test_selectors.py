"""Quote reads: scope by owner and team, the list's filters, the 360 page's selector and partial, the
timeline's sentences, and query counts that do not grow with the rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from guanxi.catalog.models import Product
from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.customers.templatetags.customer_tags import TIMELINE_KINDS, TimelineReader
from guanxi.quotes import selectors, services
from guanxi.quotes.models import Quote
from guanxi.users.models import User


def test_scope_follows_the_quotes_owner_and_team(
    draft: Quote, make_user: Callable[..., User], team_b: Any, seller: User
) -> None:
    assert list(selectors.quote_list(actor=seller)) == [draft]
    assert list(selectors.quote_list(actor=make_user("sales"))) == []  # a team-mate rep: own only
    assert list(selectors.quote_list(actor=make_user("manager"))) == [draft]  # the team's manager
    assert list(selectors.quote_list(actor=make_user("manager", team=team_b))) == []
    assert list(selectors.quote_list(actor=make_user("admin"))) == [draft]
    with pytest.raises(PermissionDenied):
        selectors.quote_list(actor=make_user("service"))
    with pytest.raises(NotFound):
        selectors.quote_get(actor=make_user("sales"), quote_id=draft.pk)


def test_a_reader_without_personal_data_sees_the_contact_masked(
    draft: Quote, make_user: Callable[..., User]
) -> None:
    viewer = make_user("viewer")
    quote = selectors.quote_get(actor=viewer, quote_id=draft.pk)
    assert quote.contact is not None and quote.contact.display_phone == "139****5678"
    assert quote.customer.phones.all()[0].display == "138****8000"
    mine = selectors.quote_get(actor=draft.owner, quote_id=draft.pk)  # type: ignore[arg-type]
    assert mine.contact is not None and mine.contact.display_phone == "139 1234 5678"


def test_quote_get_reads_everything_in_a_fixed_number_of_queries(
    draft: Quote, seller: User, tile: Product
) -> None:
    with CaptureQueriesContext(connection) as small:
        quote = selectors.quote_get(actor=seller, quote_id=draft.pk)
        _ = [line.name for line in quote.lines.all()], quote.customer.emails.all(), quote.owner, quote.contact
    for index in range(40):
        services.quote_line_add(actor=seller, quote=draft, product=tile, quantity=str(index + 1))
    with CaptureQueriesContext(connection) as large:
        quote = selectors.quote_get(actor=seller, quote_id=draft.pk)
        _ = [line.name for line in quote.lines.all()], quote.customer.emails.all(), quote.owner, quote.contact
    assert len(quote.lines.all()) == 42
    assert len(large) == len(small) == 4  # the quote with its joins, phones, emails, lines


def test_the_customers_quotes_for_the_360_page(
    seller: User, buyer: Customer, draft: Quote, tile: Product, make_customer: Callable[..., Customer]
) -> None:
    services.quote_new_version(actor=seller, quote=draft)
    for _ in range(12):
        services.quote_create(actor=seller, customer=buyer, lines=[{"product_id": tile.pk}])
    services.quote_create(actor=seller, customer=make_customer(seller, name="别的客户"))
    with CaptureQueriesContext(connection) as queries:
        quotes = selectors.quote_list_for_customer(actor=seller, customer=buyer)
        html = render_to_string(
            "quotes/_customer_quotes.html",
            {"customer": buyer, "customer_quotes": quotes, "perms_gx": {"quote_create": True}},
        )
    assert len(queries) == 1
    assert len(quotes) == 10 and all(q.customer_id == buyer.pk and q.status != "superseded" for q in quotes)
    assert quotes[0].pk > quotes[-1].pk
    assert html.count("<code>Q-") == 10 and f"/quotes/new?customer={buyer.pk}" in html
    assert "¥45.80" in html


def test_the_owner_filter_offers_the_owners_in_scope(
    draft: Quote, seller: User, make_user: Callable[..., User]
) -> None:
    assert selectors.quote_owners(actor=seller) == [seller]
    assert selectors.quote_owners(actor=make_user("sales")) == []


def test_the_timeline_tells_what_happened_to_a_quote(seller: User, draft: Quote, buyer: Customer) -> None:
    services.quote_reject(actor=seller, quote=draft, reason="太贵")
    second = services.quote_new_version(actor=seller, quote=draft)
    services.quote_accept(actor=seller, quote=second)
    reader = TimelineReader(clear=True)
    with translation.override("en"):
        titles = [
            str(TIMELINE_KINDS[entry.kind](entry, reader).title)
            for entry in TimelineEntry.objects.filter(customer=buyer, kind__startswith="quote.").order_by(
                "id"
            )
        ]
    link = f'<a href="/quotes/{draft.pk}/">{draft.number}</a>'
    assert titles[0] == f"Quote {link} drafted (<strong>¥8,209.20</strong>)"
    assert "rejected" in titles[1]
    assert "drafted as a new version" in titles[2] and f"{draft.number} v2" in titles[2]
    assert "accepted: order" in titles[3] and "¥8,209.20" in titles[3]
