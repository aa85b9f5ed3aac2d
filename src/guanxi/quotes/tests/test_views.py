"""Quote pages, with and without htmx: list and filters, new quote (also from an opportunity), the editor's
inline lines with server-side totals, PDF, send, accept, reject, new version, and who may open what."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.catalog.models import Product
from guanxi.channels.testing import LocalSMTPServer
from guanxi.customers.models import Customer
from guanxi.opportunities import services as opportunity_services
from guanxi.quotes import services
from guanxi.quotes.models import Quote
from guanxi.sales.models import Order
from guanxi.users.models import User

HX = {"HTTP_HX_REQUEST": "true"}


def text(response: HttpResponse) -> str:
    return response.content.decode()


def test_the_list_shows_current_quotes_with_filters(
    client_for: Callable[[User], Client], seller: User, draft: Quote, buyer: Customer
) -> None:
    services.quote_new_version(actor=seller, quote=draft)
    client = client_for(seller)
    html = text(client.get(reverse("quote-list")))
    assert f"{draft.number} v2" in html and "深圳市鹏程装饰工程有限公司" in html and "¥8,209.20" in html
    assert f">{draft.number}<" not in html  # the superseded v1 is left out by default
    assert f">{draft.number}<" in text(client.get(reverse("quote-list"), {"status": "superseded"}))
    assert "No quotes match" in text(client.get(reverse("quote-list"), {"status": "accepted"}))
    assert f"{draft.number} v2" in text(client.get(reverse("quote-list"), {"q": "鹏程"}))
    assert f"{draft.number} v2" in text(client.get(reverse("quote-list"), {"q": draft.number}))
    assert f"{draft.number} v2" in text(client.get(reverse("quote-list"), {"customer": buyer.pk}))
    assert f"{draft.number} v2" in text(client.get(reverse("quote-list"), {"owner": seller.pk}))


def test_the_list_costs_the_same_queries_for_1_or_20_quotes(
    client_for: Callable[[User], Client], seller: User, buyer: Customer, tile: Product
) -> None:
    client = client_for(seller)
    services.quote_create(actor=seller, customer=buyer, lines=[{"product_id": tile.pk}])
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("quote-list"))
    for _ in range(19):
        services.quote_create(actor=seller, customer=buyer, lines=[{"product_id": tile.pk}])
    with CaptureQueriesContext(connection) as twenty:
        response = client.get(reverse("quote-list"))
    assert text(response).count("<code>Q-") == 20
    assert len(twenty) == len(one)


def test_a_new_quote_is_made_for_the_chosen_customer(
    client_for: Callable[[User], Client], seller: User, buyer: Customer, contact: Any
) -> None:
    client = client_for(seller)
    search = text(client.get(reverse("quote-create-customers"), {"q": "鹏程"}))
    assert f"?customer={buyer.pk}" in search
    page = text(client.get(reverse("quote-create"), {"customer": buyer.pk}))
    assert "深圳市鹏程装饰工程有限公司" in page and "王建国" in page
    response = client.post(
        reverse("quote-create"),
        {
            "customer": buyer.pk,
            "title": "样板房",
            "valid_until": "2099-12-31",
            "contact": contact.pk,
            "terms": "预付30%",
        },
    )
    quote = Quote.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("quote-detail", args=[quote.pk])
    assert (quote.customer, quote.contact, quote.title, quote.terms) == (buyer, contact, "样板房", "预付30%")
    # without a customer nothing is made
    assert client.post(reverse("quote-create"), {"valid_until": "2099-12-31"}).status_code == 422
    assert Quote.objects.count() == 1


def test_a_quote_starts_from_an_opportunity(
    client_for: Callable[[User], Client], seller: User, buyer: Customer, tile: Product
) -> None:
    opportunity = opportunity_services.opportunity_create(
        actor=seller, customer=buyer, name="别墅翻新", lines=[{"product_id": tile.pk, "quantity": "50"}]
    )
    client = client_for(seller)
    page = text(client.get(reverse("quote-create"), {"opportunity": opportunity.pk}))
    assert "别墅翻新" in page and "深圳市鹏程装饰工程有限公司" in page
    client.post(
        reverse("quote-create"),
        {"opportunity": opportunity.pk, "valid_until": "2099-12-31", "title": "别墅翻新"},
    )
    quote = Quote.objects.get()
    assert quote.opportunity == opportunity and quote.grand_total == Decimal("2290.00")


def test_the_editor_changes_a_line_and_answers_with_the_new_totals(
    client_for: Callable[[User], Client], draft: Quote
) -> None:
    client = client_for(draft.owner)  # type: ignore[arg-type]
    line = draft.lines.all()[1]
    url = reverse("quote-line-update", args=[draft.pk])
    response = client.post(url, {"line": line.pk, "quantity": "10", "unit_price": "498.00"}, **HX)
    html = text(response)
    assert response.status_code == 200 and 'id="quote-lines"' in html
    assert "¥4,980.00" in html and "¥10,201.20" in html  # 5221.20 + 4980.00, computed on the server
    assert 'id="quote-side" hx-swap-oob="true"' in html and 'id="quote-preview" hx-swap-oob="true"' in html
    draft.refresh_from_db()
    assert draft.grand_total == Decimal("10201.20")
    # a bad figure answers with the line's error and changes nothing
    bad = text(client.post(url, {"line": line.pk, "discount_percent": "150"}, **HX))
    assert "qt-line-errors" in bad and "100" in bad
    draft.refresh_from_db()
    assert draft.grand_total == Decimal("10201.20")
    # without htmx: back to the page
    plain = client.post(url, {"line": line.pk, "quantity": "1"})
    assert plain.status_code == 302 and plain["Location"] == reverse("quote-detail", args=[draft.pk])


def test_the_editor_finds_products_adds_and_removes_lines(
    client_for: Callable[[User], Client], draft: Quote, tile: Product, admin: User
) -> None:
    from guanxi.catalog import services as catalog_services

    glue = catalog_services.product_create(
        actor=admin, sku="GLUE", name="瓷砖胶 20kg", unit="袋", price="68.00"
    )
    client = client_for(draft.owner)  # type: ignore[arg-type]
    found = text(client.get(reverse("quote-products", args=[draft.pk]), {"q": "瓷砖"}))
    assert "瓷砖胶 20kg" in found and "抛釉瓷砖" in found
    html = text(client.post(reverse("quote-line-add", args=[draft.pk]), {"product": glue.pk}, **HX))
    assert "瓷砖胶 20kg" in html and "¥8,277.20" in html
    line = draft.lines.get(product=glue)
    html = text(client.post(reverse("quote-line-remove", args=[draft.pk]), {"line": line.pk}, **HX))
    assert "瓷砖胶 20kg" not in html and "¥8,209.20" in html


def test_the_header_saves_with_htmx(client_for: Callable[[User], Client], draft: Quote) -> None:
    client = client_for(draft.owner)  # type: ignore[arg-type]
    url = reverse("quote-update", args=[draft.pk])
    html = text(
        client.post(url, {"title": "改过的主题", "valid_until": "2099-01-31", "notes": "", "terms": ""}, **HX)
    )
    assert "Saved." in html and "2099-01-31" in html
    draft.refresh_from_db()
    assert (draft.title, str(draft.valid_until)) == ("改过的主题", "2099-01-31")
    html = text(client.post(url, {"title": "x", "valid_until": "2001-01-01"}, **HX))
    assert "cannot be in the past" in html


def test_the_detail_page_and_pdf(client_for: Callable[[User], Client], draft: Quote) -> None:
    client = client_for(draft.owner)  # type: ignore[arg-type]
    html = text(client.get(reverse("quote-detail", args=[draft.pk])))
    assert "抛釉瓷砖 800×800" in html and "¥8,209.20" in html and 'id="product-q"' in html
    pdf = client.get(reverse("quote-pdf", args=[draft.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert pdf["Content-Disposition"].startswith("inline") and pdf["X-Frame-Options"] == "SAMEORIGIN"
    download = client.get(reverse("quote-pdf", args=[draft.pk]), {"download": "1"})
    assert download["Content-Disposition"] == f'attachment; filename="{draft.number}-v1.pdf"'


def test_sending_from_the_page_prefills_the_contact_and_delivers(
    client_for: Callable[[User], Client],
    draft: Quote,
    smtp_server: LocalSMTPServer,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_for(draft.owner)  # type: ignore[arg-type]
    url = reverse("quote-send", args=[draft.pk])
    form = text(client.get(url))
    assert 'value="wang@pengcheng.example"' in form
    key = re.search(r'name="idempotency_key" value="(\w+)"', form)
    assert key
    data = {
        "to": "wang@pengcheng.example",
        "cc": "",
        "subject": "报价单",
        "body": "王经理您好",
        "idempotency_key": key[1],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
        client.post(url, data)  # a second click
    assert response.status_code == 302
    assert len(smtp_server.messages) == 1
    [(name, _content, _kind)] = smtp_server.attachments(smtp_server.messages[0])
    assert name == f"{draft.number}-v1.pdf"
    draft.refresh_from_db()
    assert draft.status == "sent"
    bad = client.post(url, {**data, "to": "nobody", "idempotency_key": "other"})
    assert bad.status_code == 422 and "not a valid email address" in text(bad)


def test_accept_reject_and_new_version_from_the_page(
    client_for: Callable[[User], Client], draft: Quote, seller: User, buyer: Customer
) -> None:
    client = client_for(seller)
    other = services.quote_create(actor=seller, customer=buyer)
    client.post(reverse("quote-reject", args=[other.pk]), {"reason": "太贵"})
    other.refresh_from_db()
    assert (other.status, other.reject_reason) == ("rejected", "太贵")
    response = client.post(reverse("quote-new-version", args=[draft.pk]))
    second = Quote.objects.get(number=draft.number, version=2)
    assert response["Location"] == reverse("quote-detail", args=[second.pk])
    response = client.post(reverse("quote-accept", args=[second.pk]))
    page = client.get(response["Location"])
    assert "Accepted: the order is booked." in text(page)
    order = Order.objects.get()
    assert f"Order #{order.pk}" in text(page) and order.total == Decimal("8209.20")
    client.post(reverse("quote-accept", args=[second.pk]))
    assert Order.objects.count() == 1
    # the old version refuses, and says why
    refused = client.get(client.post(reverse("quote-accept", args=[draft.pk]))["Location"])
    assert "A newer version of this quote exists" in text(refused)


@pytest.mark.parametrize(
    "name,method",
    [
        ("quote-detail", "get"),
        ("quote-pdf", "get"),
        ("quote-send", "get"),
        ("quote-products", "get"),
        ("quote-update", "post"),
        ("quote-line-add", "post"),
        ("quote-line-update", "post"),
        ("quote-line-remove", "post"),
        ("quote-accept", "post"),
        ("quote-reject", "post"),
        ("quote-new-version", "post"),
    ],
)
def test_every_quote_page_keeps_to_the_scope(
    name: str,
    method: str,
    draft: Quote,
    client_for: Callable[[User | None], Client],
    make_user: Callable[..., User],
    team_b: Any,
) -> None:
    url = reverse(name, args=[draft.pk])
    writes = method == "post" or name in ("quote-send", "quote-products")
    for role, team, expected in [
        ("sales", "default", 404),  # another rep of the same team
        ("manager", team_b, 404),  # another team's manager
        ("viewer", team_b, 403 if writes else 404),
        ("viewer", "default", 403 if writes else 200),  # the team's viewer reads
        ("manager", "default", 200),
        ("service", "default", 403),  # no quote permission at all
        ("marketing", "default", 403),
    ]:
        client = client_for(make_user(role, team=team))
        response = getattr(client, method)(url, {})
        status = response.status_code
        if expected == 200:
            assert status not in (403, 404) and status < 500, f"{role} {name}: {status}"
        else:
            assert status == expected, f"{role} {name}: {status}"
    anonymous = getattr(client_for(None), method)(url)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_list_and_create_pages_need_their_permissions(
    client_for: Callable[[User | None], Client], make_user: Callable[..., User]
) -> None:
    viewer = client_for(make_user("viewer"))
    assert viewer.get(reverse("quote-list")).status_code == 200
    assert viewer.get(reverse("quote-create")).status_code == 403
    assert viewer.get(reverse("quote-create-customers"), {"q": "a"}).status_code == 403
    service = client_for(make_user("service"))
    assert service.get(reverse("quote-list")).status_code == 403


def test_the_quote_page_costs_the_same_queries_for_2_or_40_lines_and_versions(
    client_for: Callable[[User], Client], draft: Quote, seller: User, tile: Product
) -> None:
    client = client_for(seller)
    client.get(reverse("quote-detail", args=[draft.pk]))  # the session's first read
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("quote-detail", args=[draft.pk]))
    quote = draft
    for _ in range(4):
        quote = services.quote_new_version(actor=seller, quote=quote)
    for index in range(38):
        services.quote_line_add(actor=seller, quote=quote, product=tile, quantity=str(index + 1))
    with CaptureQueriesContext(connection) as large:
        response = client.get(reverse("quote-detail", args=[quote.pk]))
    assert text(response).count('name="unit_price"') == 40 and text(response).count("qt-versions") == 1
    assert len(large) == len(small)
