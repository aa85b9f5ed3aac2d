"""The quote API: list, get with lines and totals, create (also from an opportunity), change, lines,
versions, send, accept (idempotent), reject, PDF, and the scope of every endpoint."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from conftest import bearer
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from guanxi.catalog.models import Product
from guanxi.channels.testing import LocalSMTPServer
from guanxi.customers.models import Contact, Customer
from guanxi.opportunities import services as opportunity_services
from guanxi.quotes import services
from guanxi.quotes.models import Quote
from guanxi.sales.models import Order
from guanxi.users.models import User

JSON = "application/json"


def post(client: Client, url: str, body: Any = None, **extra: Any) -> Any:
    return client.post(url, json.dumps(body or {}), content_type=JSON, **extra)


def patch(client: Client, url: str, body: Any) -> Any:
    return client.patch(url, json.dumps(body), content_type=JSON)


def test_create_get_and_list(
    seller: User, buyer: Customer, contact: Contact, tile: Product, paint: Product
) -> None:
    api = bearer(seller)
    response = post(
        api,
        "/api/v1/quotes",
        {
            "customer_id": buyer.pk,
            "contact_id": contact.pk,
            "title": "样板房",
            "lines": [
                {"product_id": tile.pk, "quantity": "120", "discount_percent": "5"},
                {"product_id": paint.pk, "quantity": "6", "unit_price": "498.00"},
            ],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and body["version"] == 1 and body["reference"] == body["number"]
    assert body["contact"] == {"id": contact.pk, "name": "王建国"}
    assert (
        body["subtotal"],
        body["discount_total"],
        body["grand_total"],
        body["tax_total"],
        body["net_total"],
    ) == (
        "8484.00",
        "274.80",
        "8209.20",
        "944.42",
        "7264.78",
    )
    assert body["prices_include_tax"] is True
    line = body["lines"][0]
    assert (line["name"], line["amount"], line["discount_amount"], line["total"], line["tax_amount"]) == (
        "抛釉瓷砖 800×800",
        "5496.00",
        "274.80",
        "5221.20",
        "600.67",
    )
    got = api.get(f"/api/v1/quotes/{body['id']}").json()
    assert got == body
    page = api.get("/api/v1/quotes", {"q": "鹏程"}).json()
    assert [item["id"] for item in page["items"]] == [body["id"]] and page["next_offset"] is None
    assert api.get("/api/v1/quotes", {"status": "sent"}).json()["items"] == []


def test_create_refuses_bad_input_with_field_details(seller: User, buyer: Customer, tile: Product) -> None:
    api = bearer(seller)
    response = post(
        api, "/api/v1/quotes", {"customer_id": buyer.pk, "lines": [{"product_id": tile.pk, "quantity": "-1"}]}
    )
    assert response.status_code == 422
    assert response.json()["details"] == {"lines.0.quantity": ["Enter a number of 0 or more."]}
    assert post(api, "/api/v1/quotes", {}).json()["details"] == {"customer_id": ["Choose a customer."]}
    assert Quote.objects.count() == 0


def test_create_from_an_opportunity(seller: User, buyer: Customer, tile: Product) -> None:
    opportunity = opportunity_services.opportunity_create(
        actor=seller, customer=buyer, name="别墅翻新", lines=[{"product_id": tile.pk, "quantity": "10"}]
    )
    body = post(bearer(seller), "/api/v1/quotes", {"opportunity_id": opportunity.pk}).json()
    assert body["customer"]["id"] == buyer.pk and body["opportunity_id"] == opportunity.pk
    assert body["grand_total"] == "458.00" and body["title"] == "别墅翻新"


def test_change_a_draft_and_its_lines(seller: User, draft: Quote, tile: Product) -> None:
    api = bearer(seller)
    url = f"/api/v1/quotes/{draft.pk}"
    body = patch(api, url, {"title": "新主题", "valid_until": "2099-06-30", "contact_id": None}).json()
    assert (body["title"], body["valid_until"], body["contact"]) == ("新主题", "2099-06-30", None)
    added = post(api, f"{url}/lines", {"product_id": tile.pk, "quantity": "3", "discount_percent": "15"})
    assert added.status_code == 201 and added.json()["grand_total"] == "8325.99"
    line_id = added.json()["lines"][-1]["id"]
    changed = patch(api, f"{url}/lines/{line_id}", {"unit_price": "33.33"}).json()
    assert changed["lines"][-1]["total"] == "84.99" and changed["grand_total"] == "8294.19"
    removed = api.delete(f"{url}/lines/{line_id}").json()
    assert len(removed["lines"]) == 2 and removed["grand_total"] == "8209.20"
    assert api.delete(f"{url}/lines/999999").status_code == 404


def test_versions_send_accept_reject(
    seller: User,
    draft: Quote,
    buyer: Customer,
    smtp_server: LocalSMTPServer,
    django_capture_on_commit_callbacks: Any,
) -> None:
    api = bearer(seller)
    url = f"/api/v1/quotes/{draft.pk}"
    second = post(api, f"{url}/versions")
    assert second.status_code == 201 and second.json()["version"] == 2
    v2 = second.json()["id"]
    versions = api.get(f"/api/v1/quotes/{v2}/versions").json()
    assert [(v["version"], v["status"]) for v in versions] == [(2, "draft"), (1, "superseded")]
    assert patch(api, url, {"title": "x"}).json()["code"] == "quote_not_current"

    with django_capture_on_commit_callbacks(execute=True):
        sent = post(
            api, f"/api/v1/quotes/{v2}/send", {"to": ["wang@pengcheng.example"]}, HTTP_IDEMPOTENCY_KEY="a1"
        )
        post(api, f"/api/v1/quotes/{v2}/send", {"to": ["wang@pengcheng.example"]}, HTTP_IDEMPOTENCY_KEY="a1")
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    assert len(smtp_server.messages) == 1
    [(_name, content, _kind)] = smtp_server.attachments(smtp_server.messages[0])
    assert "深圳市鹏程装饰工程有限公司" in PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert patch(api, f"/api/v1/quotes/{v2}", {"title": "x"}).json()["code"] == "quote_not_editable"

    accepted = post(api, f"/api/v1/quotes/{v2}/accept")
    assert accepted.status_code == 200 and "Idempotent-Replayed" not in accepted
    order = Order.objects.get()
    assert accepted.json()["order_id"] == order.pk and str(order.total) == accepted.json()["grand_total"]
    again = post(api, f"/api/v1/quotes/{v2}/accept")
    assert again["Idempotent-Replayed"] == "true" and again.json()["order_id"] == order.pk
    assert Order.objects.count() == 1
    assert post(api, f"/api/v1/quotes/{v2}/reject").json()["code"] == "quote_closed"

    other = services.quote_create(actor=seller, customer=buyer)
    rejected = post(api, f"/api/v1/quotes/{other.pk}/reject", {"reason": "预算不足"}).json()
    assert (rejected["status"], rejected["reject_reason"]) == ("rejected", "预算不足")


def test_the_pdf_endpoint(seller: User, draft: Quote) -> None:
    response = bearer(seller).get(f"/api/v1/quotes/{draft.pk}/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{draft.number}-v1.pdf"'
    assert "¥8,209.20" in PdfReader(io.BytesIO(response.content)).pages[0].extract_text()


def test_list_and_get_cost_constant_queries(seller: User, buyer: Customer, tile: Product) -> None:
    api = bearer(seller)
    first = services.quote_create(actor=seller, customer=buyer, lines=[{"product_id": tile.pk}])
    api.get("/api/v1/me")  # the token's first use is recorded once: not part of what is measured
    with CaptureQueriesContext(connection) as one:
        api.get("/api/v1/quotes")
    with CaptureQueriesContext(connection) as get_small:
        api.get(f"/api/v1/quotes/{first.pk}")
    big = services.quote_create(actor=seller, customer=buyer, lines=[{"product_id": tile.pk}] * 30)
    for _ in range(10):
        services.quote_create(actor=seller, customer=buyer)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("/api/v1/quotes").json()["items"]) == 12
    with CaptureQueriesContext(connection) as get_big:
        assert len(api.get(f"/api/v1/quotes/{big.pk}").json()["lines"]) == 30
    assert len(many) == len(one) <= 4
    assert len(get_big) == len(get_small) <= 8


ENDPOINTS: list[tuple[str, str, Any]] = [
    ("get", "/api/v1/quotes/{id}", None),
    ("get", "/api/v1/quotes/{id}/pdf", None),
    ("get", "/api/v1/quotes/{id}/versions", None),
    ("patch", "/api/v1/quotes/{id}", {"title": "x"}),
    ("post", "/api/v1/quotes/{id}/lines", {"product_id": "tile"}),
    ("patch", "/api/v1/quotes/{id}/lines/{line}", {"quantity": "2"}),
    ("delete", "/api/v1/quotes/{id}/lines/{line}", None),
    ("post", "/api/v1/quotes/{id}/versions", {}),
    ("post", "/api/v1/quotes/{id}/send", {"to": ["a@example.com"]}),
    ("post", "/api/v1/quotes/{id}/accept", {}),
    ("post", "/api/v1/quotes/{id}/reject", {}),
]


@pytest.mark.parametrize("method,path,body", ENDPOINTS, ids=[f"{m} {p}" for m, p, _b in ENDPOINTS])
def test_every_endpoint_keeps_to_the_scope(
    method: str,
    path: str,
    body: Any,
    draft: Quote,
    tile: Product,
    make_user: Callable[..., User],
    team_b: Any,
) -> None:
    url = path.format(id=draft.pk, line=draft.lines.all()[0].pk)
    if body and body.get("product_id") == "tile":
        body = {"product_id": tile.pk}
    reads = method == "get"
    for role, team, expected in [
        ("sales", "default", 404),
        ("manager", team_b, 404),
        ("viewer", team_b, 404 if reads else 403),
        ("viewer", "default", 200 if reads else 403),
        ("service", "default", 403),
        ("marketing", "default", 403),
    ]:
        client = bearer(make_user(role, team=team))
        if method == "get" or method == "delete":
            response = getattr(client, method)(url)
        else:
            response = getattr(client, method)(url, json.dumps(body), content_type=JSON)
        assert response.status_code == expected, f"{role} {method} {path}: {response.status_code}"
    draft.refresh_from_db()
    assert (draft.status, draft.title, draft.lines.count()) == ("draft", "南山样板房装修材料", 2)
    # the owner may
    response = getattr(bearer(draft.owner), method)(  # type: ignore[arg-type]
        url,
        *(() if method in ("get", "delete") else (json.dumps(body),)),
        **({} if method in ("get", "delete") else {"content_type": JSON}),
    )
    assert response.status_code in (200, 201), (
        f"owner {method} {path}: {response.status_code} {response.content[:200]!r}"
    )


def test_the_list_is_scoped(draft: Quote, make_user: Callable[..., User]) -> None:
    assert bearer(make_user("sales")).get("/api/v1/quotes").json()["items"] == []
    assert [q["id"] for q in bearer(make_user("viewer")).get("/api/v1/quotes").json()["items"]] == [draft.pk]
    assert bearer(make_user("service")).get("/api/v1/quotes").status_code == 403
    assert (
        post(bearer(make_user("viewer")), "/api/v1/quotes", {"customer_id": draft.customer_id}).status_code
        == 403
    )
    assert (
        post(bearer(make_user("sales")), "/api/v1/quotes", {"customer_id": draft.customer_id}).status_code
        == 404
    )
