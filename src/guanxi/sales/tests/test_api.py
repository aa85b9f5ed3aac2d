"""The order API: booking with an Idempotency-Key, filters and cursor pages, refunds, the purchase
summary, and the scope on every route."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from conftest import bearer
from django.test import Client

from guanxi.catalog.models import Product, Store
from guanxi.customers.models import Customer
from guanxi.sales import services
from guanxi.sales.models import Order, Refund
from guanxi.users.models import Team, User

API = "/api/v1"


def post(client: Client, path: str, body: Any, **headers: str) -> Any:
    return client.post(API + path, json.dumps(body), content_type="application/json", **headers)


def test_booking_with_lines_answers_201_and_the_order(
    seller: User, buyer: Customer, store: Store, fuel: Product
) -> None:
    response = post(
        bearer(seller),
        "/orders",
        {
            "customer_id": buyer.pk,
            "store_id": store.pk,
            "lines": [{"product_id": fuel.pk, "quantity": "35.27"}],
            "payment_method": "wechat_pay",
            "external_ref": "POS-1",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["total"] == "278.28" and body["net_total"] == "278.28" and body["refunded_total"] == "0.00"
    assert body["customer"] == {"id": buyer.pk, "name": "张伟"}
    assert body["store"] == {"id": store.pk, "code": "NS01", "name": "南山加油站"}
    assert body["status"] == "completed" and body["payment_method"] == "wechat_pay"
    assert body["lines"] == [
        {
            "product_id": fuel.pk,
            "sku": "92#",
            "name": "92号汽油",
            "unit": "升",
            "quantity": "35.270",
            "unit_price": "7.89",
            "discount": "0.00",
            "total": "278.28",
        }
    ]
    assert body["refunds"] == [] and body["created_by"] == "li.na"
    assert "Idempotent-Replayed" not in response


def test_the_same_idempotency_key_books_once_and_says_it_replayed(seller: User, buyer: Customer) -> None:
    client = bearer(seller)
    body = {"customer_id": buyer.pk, "amount": "88.00"}
    first = post(client, "/orders", body, HTTP_IDEMPOTENCY_KEY="0b6f-till-9")
    again = post(client, "/orders", body, HTTP_IDEMPOTENCY_KEY="0b6f-till-9")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1

    other = post(client, "/orders", {**body, "amount": "89.00"}, HTTP_IDEMPOTENCY_KEY="0b6f-till-9")
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert other.json()["details"] == {"order_id": first.json()["id"]}
    without = post(client, "/orders", body)
    assert without.status_code == 201 and Order.objects.count() == 2


@pytest.mark.parametrize(
    "body,field",
    [
        ({"amount": "12.345"}, "amount"),
        ({}, "amount"),
        ({"amount": "10", "payment_method": "bitcoin"}, "payment_method"),
        ({"amount": "10", "store_id": 999999}, "store_id"),
        ({"lines": [{"product_id": 999999, "quantity": "1"}]}, "lines.0.product_id"),
        ({"lines": [{"product_id": 1, "quantity": "x"}]}, "lines.0.quantity"),
    ],
)
def test_invalid_bookings_answer_422_with_the_field(
    seller: User, buyer: Customer, body: dict[str, Any], field: str
) -> None:
    response = post(bearer(seller), "/orders", {"customer_id": buyer.pk, **body})
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "validation_failed"
    assert field in response.json()["details"]
    assert Order.objects.count() == 0


def test_a_customer_outside_the_scope_is_not_found_and_a_viewer_may_not_book(
    seller: User, make_user: Callable[..., User], make_customer: Callable[..., Customer], buyer: Customer
) -> None:
    colleague = make_user("sales")
    theirs = make_customer(colleague, name="赵敏")
    response = post(bearer(seller), "/orders", {"customer_id": theirs.pk, "amount": "10"})
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    viewer = make_user("viewer")
    response = post(bearer(viewer), "/orders", {"customer_id": buyer.pk, "amount": "10"})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert Order.objects.count() == 0


@pytest.fixture
def orders(
    admin: User,
    seller: User,
    buyer: Customer,
    make_user: Callable[..., User],
    make_customer: Callable[..., Customer],
    team_b: Team,
    store: Store,
) -> dict[str, Order]:
    stranger = make_user("sales", team=team_b, username="stranger")
    strangers = make_customer(stranger, name="外组客户")
    made = {
        "a": services.order_create(actor=seller, customer=buyer, amount="10", store=store),
        "b": services.order_create(actor=seller, customer=buyer, amount="20", payment_method="alipay"),
        "c": services.order_create(actor=seller, customer=buyer, amount="30", store=store),
        "other": services.order_create(actor=stranger, customer=strangers, amount="40"),
    }
    services.order_refund(actor=admin, order=made["c"], reason="退货")
    return made


def test_the_list_filters_and_pages_with_a_cursor(
    seller: User, orders: dict[str, Order], store: Store
) -> None:
    client = bearer(seller)
    first = client.get(f"{API}/orders", {"limit": 2}).json()
    assert [o["id"] for o in first["items"]] == [orders["c"].pk, orders["b"].pk]
    assert first["limit"] == 2 and first["next_cursor"]
    second = client.get(f"{API}/orders", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [o["id"] for o in second["items"]] == [orders["a"].pk]
    assert second["next_cursor"] is None
    assert [o["id"] for o in client.get(f"{API}/orders", {"store_id": store.pk}).json()["items"]] == [
        orders["c"].pk,
        orders["a"].pk,
    ]
    refunded = client.get(f"{API}/orders", {"status": "refunded"}).json()["items"]
    assert [(o["id"], o["net_total"], o["refunds"][0]["amount"]) for o in refunded] == [
        (orders["c"].pk, "0.00", "30.00")
    ]
    assert [o["id"] for o in client.get(f"{API}/orders", {"payment_method": "alipay"}).json()["items"]] == [
        orders["b"].pk
    ]
    bad = client.get(f"{API}/orders", {"cursor": "%%%"})
    assert bad.status_code == 422 and "cursor" in bad.json()["details"]
    assert client.get(f"{API}/orders", {"status": "lost"}).status_code == 422


def test_the_list_reads_a_page_in_a_constant_number_of_queries(
    seller: User, orders: dict[str, Order], django_assert_max_num_queries: Any
) -> None:
    client = bearer(seller)
    client.get(f"{API}/orders")  # the token's first use writes last_used_at
    with django_assert_max_num_queries(5):  # token, orders (+customer, store, booker), lines, refunds (+by)
        assert len(client.get(f"{API}/orders").json()["items"]) == 3


@pytest.mark.parametrize(
    "role,visible",
    [("admin", True), ("manager", False), ("sales", False), ("marketing", True), ("viewer", False)],
)
def test_every_route_hides_another_teams_order(
    role: str, visible: bool, orders: dict[str, Order], make_user: Callable[..., User]
) -> None:
    """`other` belongs to a customer of team B; the roles below are in team A."""
    user = make_user(role)
    client = bearer(user)
    other = orders["other"]
    listed = {o["id"] for o in client.get(f"{API}/orders", {"limit": 200}).json()["items"]}
    assert (other.pk in listed) is visible
    assert client.get(f"{API}/orders/{other.pk}").status_code == (200 if visible else 404)
    summary = client.get(f"{API}/customers/{other.customer_id}/purchase-summary")
    assert summary.status_code == (200 if visible else 404)
    refund = post(client, f"/orders/{other.pk}/refunds", {"reason": "x"})
    may_refund = role in ("admin", "manager")
    assert refund.status_code == (201 if visible and may_refund else 403 if visible else 404)
    booked = post(client, "/orders", {"customer_id": other.customer_id, "amount": "1"})
    may_book = role in ("admin", "manager", "sales")
    assert booked.status_code == (201 if visible and may_book else 403 if visible else 404)


def test_refunds_through_the_api(manager: User, seller: User, buyer: Customer) -> None:
    order = services.order_create(actor=seller, customer=buyer, amount="100")
    client = bearer(manager)
    part = post(
        client,
        f"/orders/{order.pk}/refunds",
        {"amount": "40", "reason": "部分退货"},
        HTTP_IDEMPOTENCY_KEY="r1",
    )
    again = post(
        client,
        f"/orders/{order.pk}/refunds",
        {"amount": "40", "reason": "部分退货"},
        HTTP_IDEMPOTENCY_KEY="r1",
    )
    assert (part.status_code, again.status_code) == (201, 200)
    assert part.json()["amount"] == "40.00" and part.json()["created_by"] == "wang.jl"
    assert again.json()["id"] == part.json()["id"] and again["Idempotent-Replayed"] == "true"
    too_much = post(client, f"/orders/{order.pk}/refunds", {"amount": "60.01", "reason": "x"})
    assert too_much.status_code == 422 and list(too_much.json()["details"]) == ["amount"]
    rest = post(client, f"/orders/{order.pk}/refunds", {"reason": "余款退回"})
    assert rest.status_code == 201 and rest.json()["amount"] == "60.00"
    done = post(client, f"/orders/{order.pk}/refunds", {"reason": "again"})
    assert done.status_code == 409 and done.json()["code"] == "order_fully_refunded"
    detail = client.get(f"{API}/orders/{order.pk}").json()
    assert (detail["status"], detail["net_total"], len(detail["refunds"])) == ("refunded", "0.00", 2)
    assert Refund.objects.filter(order=order).count() == 2
    no_reason = post(client, f"/orders/{order.pk}/refunds", {"amount": "1"})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["details"]


def test_the_purchase_summary(seller: User, buyer: Customer, fuel: Product) -> None:
    services.order_create(actor=seller, customer=buyer, lines=[{"product_id": fuel.pk, "quantity": "10"}])
    services.order_create(actor=seller, customer=buyer, amount="21.10")
    body = bearer(seller).get(f"{API}/customers/{buyer.pk}/purchase-summary").json()
    assert (body["orders"], body["net"], body["gross"], body["refunded"], body["average"]) == (
        2,
        "100.00",
        "100.00",
        "0.00",
        "50.00",
    )
    assert body["favourites"] == [
        {
            "product_id": fuel.pk,
            "name": "92号汽油",
            "unit": "升",
            "quantity": "10.000",
            "spend": "78.90",
            "orders": 1,
        }
    ]
    assert Decimal(body["net"]) == Decimal("100.00")
