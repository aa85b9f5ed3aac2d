"""Booking and refunding orders through the services: rules, Decimal math, idempotency, permission, scope."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.db import IntegrityError
from django.utils import timezone

from guanxi.audit.models import AuditEvent
from guanxi.catalog import services as catalog_services
from guanxi.catalog.models import Product, Store
from guanxi.core.errors import NotFound, PermissionDenied, ValidationFailed
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.sales import selectors, services
from guanxi.sales.models import Order, OrderLine, Refund
from guanxi.users.models import User

D = Decimal


def _details(exc: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, list[str]]:
    return exc.value.details


# ---------------------------------------------------------------------------------------------------
# Booking


def test_an_amount_only_order_is_booked_with_audit_and_timeline(
    seller: User, buyer: Customer, store: Store
) -> None:
    # when
    order = services.order_create(
        actor=seller, customer=buyer, amount="300", store=store, payment_method="wechat_pay"
    )

    # then
    order.refresh_from_db()
    assert order.total == D("300.00")
    assert order.refunded_total == D("0.00")
    assert order.status == Order.Status.COMPLETED
    assert order.created_by == seller
    assert order.store == store
    assert order.lines.count() == 0
    event = AuditEvent.objects.get(action="order.create")
    assert event.target_id == str(order.pk)
    assert event.data["total"] == "300.00"
    entry = TimelineEntry.objects.get(customer=buyer, kind="order.created")
    assert entry.data["order_id"] == order.pk
    assert entry.data["total"] == "300.00"
    assert entry.data["store"] == "南山加油站"
    assert entry.occurred_at == order.ordered_at


def test_lines_make_the_total_with_rounding_half_up_and_discounts(
    seller: User, buyer: Customer, fuel: Product, wash: Product
) -> None:
    # 35.27 L × 7.89 = 278.2803 → 278.28; 2 washes × 35.00 − 5.00 = 65.00; 0.125 × 0.1 = 0.0125 → 0.01
    order = services.order_create(
        actor=seller,
        customer=buyer,
        lines=[
            {"product_id": fuel.pk, "quantity": "35.27"},
            {"product_id": wash.pk, "quantity": 2, "discount": "5"},
            {"product_id": fuel.pk, "quantity": "0.125", "unit_price": "0.10"},
        ],
    )
    lines = list(order.lines.order_by("position"))
    assert [line.total for line in lines] == [D("278.28"), D("65.00"), D("0.01")]
    assert [line.unit_price for line in lines] == [D("7.89"), D("35.00"), D("0.10")]
    assert lines[0].name == "92号汽油" and lines[0].unit == "升" and lines[0].sku == "92#"
    order.refresh_from_db()
    assert order.total == D("343.29")
    assert isinstance(order.total, Decimal)


def test_an_amount_sent_with_lines_must_equal_their_sum(seller: User, buyer: Customer, fuel: Product) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.order_create(
            actor=seller,
            customer=buyer,
            amount="278.29",
            lines=[{"product_id": fuel.pk, "quantity": "35.27"}],
        )
    assert list(_details(exc)) == ["amount"]
    assert Order.objects.count() == 0

    order = services.order_create(
        actor=seller, customer=buyer, amount="278.28", lines=[{"product_id": fuel.pk, "quantity": "35.27"}]
    )
    assert order.total == D("278.28")


@pytest.mark.parametrize(
    "fields,errors",
    [
        ({}, ["amount"]),
        ({"amount": "0"}, ["amount"]),
        ({"amount": "-5"}, ["amount"]),
        ({"amount": "12.345"}, ["amount"]),
        ({"amount": "abc"}, ["amount"]),
        ({"amount": "NaN"}, ["amount"]),
        ({"amount": "10000000000"}, ["amount"]),
        ({"amount": "10", "payment_method": "bitcoin"}, ["payment_method"]),
        ({"amount": "10", "channel": "fax"}, ["channel"]),
        ({"amount": "10", "note": "x" * 501}, ["note"]),
        ({"amount": "10", "external_ref": "x" * 65}, ["external_ref"]),
        ({"amount": "10", "idempotency_key": "k" * 101}, ["idempotency_key"]),
        ({"amount": "10", "ordered_at": "future"}, ["ordered_at"]),
        ({"amount": "10", "ordered_at": datetime(1989, 12, 31, 12, 0)}, ["ordered_at"]),
    ],
)
def test_invalid_orders_are_refused_and_nothing_is_written(
    seller: User, buyer: Customer, fields: dict[str, Any], errors: list[str]
) -> None:
    if fields.get("ordered_at") == "future":
        fields["ordered_at"] = timezone.now() + timedelta(hours=1)
    with pytest.raises(ValidationFailed) as exc:
        services.order_create(actor=seller, customer=buyer, **fields)
    assert sorted(_details(exc)) == errors
    assert Order.objects.count() == 0
    assert not AuditEvent.objects.filter(action="order.create").exists()
    assert not TimelineEntry.objects.filter(kind="order.created").exists()


def test_line_errors_name_the_line_and_field(
    seller: User, buyer: Customer, fuel: Product, wash: Product, admin: User
) -> None:
    catalog_services.product_update(actor=admin, product=wash, active=False)
    with pytest.raises(ValidationFailed) as exc:
        services.order_create(
            actor=seller,
            customer=buyer,
            lines=[
                {"product_id": fuel.pk, "quantity": "0"},
                {"product_id": wash.pk, "quantity": "1"},
                {"product_id": 999999, "quantity": "1"},
                {"product_id": fuel.pk, "quantity": "1.2345"},
                {"product_id": fuel.pk, "quantity": "1", "discount": "8"},
                {"quantity": "1", "colour": "red"},
            ],
        )
    assert sorted(_details(exc)) == [
        "lines.0.quantity",
        "lines.1.product_id",
        "lines.2.product_id",
        "lines.3.quantity",
        "lines.4.discount",
        "lines.5.colour",
        "lines.5.product_id",
    ]
    assert OrderLine.objects.count() == 0


def test_a_naive_time_is_read_in_shanghai(seller: User, buyer: Customer) -> None:
    order = services.order_create(
        actor=seller, customer=buyer, amount="10", ordered_at=datetime(2026, 3, 1, 8, 30)
    )
    assert order.ordered_at == datetime(2026, 3, 1, 0, 30, tzinfo=UTC)


def test_an_inactive_store_takes_no_orders(seller: User, buyer: Customer, store: Store, admin: User) -> None:
    closed = catalog_services.store_update(actor=admin, store=store, active=False)
    with pytest.raises(ValidationFailed) as exc:
        services.order_create(actor=seller, customer=buyer, amount="10", store=closed)
    assert list(_details(exc)) == ["store"]


# ---------------------------------------------------------------------------------------------------
# Permission and scope


@pytest.mark.parametrize("role", ["service", "marketing", "viewer"])
def test_roles_without_order_create_cannot_book(
    role: str, make_user: Callable[..., User], admin: User, make_customer: Callable[..., Customer]
) -> None:
    user = make_user(role)
    customer = make_customer(admin, name="王芳", owner=user, team=user.team)
    with pytest.raises(PermissionDenied):
        services.order_create(actor=user, customer=customer, amount="10")
    assert Order.objects.count() == 0


def test_a_sales_user_cannot_book_on_a_customer_outside_their_scope(
    seller: User, make_user: Callable[..., User], make_customer: Callable[..., Customer]
) -> None:
    colleague = make_user("sales")  # same team; sales users see only their own customers
    theirs = make_customer(colleague, name="赵敏")
    with pytest.raises(NotFound):
        services.order_create(actor=seller, customer=theirs, amount="10")
    assert Order.objects.count() == 0
    assert not TimelineEntry.objects.filter(kind="order.created").exists()


@pytest.mark.parametrize("role", ["sales", "service", "marketing", "viewer"])
def test_roles_without_order_refund_cannot_refund(
    role: str, make_user: Callable[..., User], admin: User, make_customer: Callable[..., Customer]
) -> None:
    user = make_user(role)
    customer = make_customer(admin, name="王芳", owner=user, team=user.team)
    order = services.order_create(actor=admin, customer=customer, amount="10")
    with pytest.raises(PermissionDenied):
        services.order_refund(actor=user, order=order, reason="test")
    order.refresh_from_db()
    assert order.refunded_total == D("0") and Refund.objects.count() == 0


def test_a_manager_cannot_refund_another_teams_order(
    manager: User,
    admin: User,
    make_user: Callable[..., User],
    team_b: Any,
    make_customer: Callable[..., Customer],
) -> None:
    stranger = make_user("sales", team=team_b)
    customer = make_customer(admin, name="外组客户", owner=stranger, team=team_b)
    order = services.order_create(actor=admin, customer=customer, amount="10")
    with pytest.raises(NotFound):
        services.order_refund(actor=manager, order=order, reason="test")
    assert Refund.objects.count() == 0


# ---------------------------------------------------------------------------------------------------
# Idempotency


def test_the_same_key_twice_books_once_and_returns_the_first_order(seller: User, buyer: Customer) -> None:
    first = services.order_create(actor=seller, customer=buyer, amount="88.50", idempotency_key="pos-7-0001")
    second = services.order_create(actor=seller, customer=buyer, amount="88.50", idempotency_key="pos-7-0001")
    assert second.pk == first.pk
    assert (first.replayed, second.replayed) == (False, True)
    assert Order.objects.count() == 1
    assert AuditEvent.objects.filter(action="order.create").count() == 1
    assert TimelineEntry.objects.filter(kind="order.created").count() == 1


def test_the_same_key_from_another_user_books_again(seller: User, buyer: Customer, manager: User) -> None:
    services.order_create(actor=seller, customer=buyer, amount="10", idempotency_key="k1")
    services.order_create(actor=manager, customer=buyer, amount="10", idempotency_key="k1")
    assert Order.objects.count() == 2


def test_a_key_reused_for_another_sale_is_refused(
    seller: User, buyer: Customer, make_customer: Callable[..., Customer]
) -> None:
    first = services.order_create(actor=seller, customer=buyer, amount="10", idempotency_key="k1")
    other = make_customer(seller, name="李雷")
    for fields in ({"customer": buyer, "amount": "11"}, {"customer": other, "amount": "10"}):
        with pytest.raises(services.IdempotencyKeyReused) as exc:
            services.order_create(actor=seller, idempotency_key="k1", **fields)
        assert exc.value.status == 409 and exc.value.details == {"order_id": first.pk}
    assert Order.objects.count() == 1


def test_a_lost_race_on_the_key_returns_the_winners_order(seller: User, buyer: Customer) -> None:
    """Two requests with one key pass the look-up together; the unique constraint lets one insert, and
    the other, caught in its savepoint, answers with the winner's order."""
    winner = services.order_create(actor=seller, customer=buyer, amount="10", idempotency_key="race")
    real_lookup = services._replayed_order
    calls = {"n": 0}

    def late_lookup(*args: Any, **kwargs: Any) -> Order | None:
        calls["n"] += 1
        return None if calls["n"] == 1 else real_lookup(*args, **kwargs)  # the first look-up ran too early

    with mock.patch.object(services, "_replayed_order", late_lookup):
        loser = services.order_create(actor=seller, customer=buyer, amount="10", idempotency_key="race")
    assert calls["n"] == 2
    assert loser.pk == winner.pk and loser.replayed
    assert Order.objects.count() == 1
    assert TimelineEntry.objects.filter(kind="order.created").count() == 1


def test_an_integrity_error_without_a_key_is_not_swallowed(seller: User, buyer: Customer) -> None:
    with mock.patch.object(Order, "save", side_effect=IntegrityError("boom")), pytest.raises(IntegrityError):
        services.order_create(actor=seller, customer=buyer, amount="10")


# ---------------------------------------------------------------------------------------------------
# Refunds


def test_partial_then_full_refund_reduce_net_spend_and_keep_history(
    manager: User, seller: User, buyer: Customer, fuel: Product
) -> None:
    # given two orders worth 278.28 + 100.00
    big = services.order_create(
        actor=seller, customer=buyer, lines=[{"product_id": fuel.pk, "quantity": "35.27"}]
    )
    services.order_create(actor=seller, customer=buyer, amount="100")
    # (the manager's team sees the seller's customer)
    assert selectors.customer_purchase_summary(actor=manager, customer=buyer).net == D("378.28")

    # when part of the big order is refunded
    refund = services.order_refund(actor=manager, order=big, amount="78.28", reason="油品投诉")

    # then the order keeps its total and lines, its refunds grow, and the customer is worth less
    big.refresh_from_db()
    assert (big.total, big.refunded_total, big.status) == (D("278.28"), D("78.28"), "partially_refunded")
    assert big.lines.count() == 1
    assert refund.amount == D("78.28") and refund.created_by == manager
    summary = selectors.customer_purchase_summary(actor=manager, customer=buyer)
    assert (summary.net, summary.orders, summary.refunded) == (D("300.00"), 2, D("78.28"))

    # when the rest is refunded (no amount: all that is left)
    rest = services.order_refund(actor=manager, order=big, reason="全额退款")
    big.refresh_from_db()
    assert rest.amount == D("200.00")
    assert (big.refunded_total, big.status) == (D("278.28"), "refunded")
    summary = selectors.customer_purchase_summary(actor=manager, customer=buyer)
    assert (summary.net, summary.orders, summary.average) == (D("100.00"), 1, D("100.00"))
    assert Refund.objects.filter(order=big).count() == 2
    assert AuditEvent.objects.filter(action="order.refund").count() == 2
    kinds = list(
        TimelineEntry.objects.filter(customer=buyer, kind="order.refunded").values_list("data", flat=True)
    )
    assert sorted((entry["amount"], entry["full"]) for entry in kinds) == [("200.00", True), ("78.28", False)]

    # and a fully refunded order takes no more refunds
    with pytest.raises(services.OrderFullyRefunded):
        services.order_refund(actor=manager, order=big, amount="1", reason="again")


@pytest.mark.parametrize(
    "fields,error",
    [
        ({"amount": "100.01", "reason": "too much"}, "amount"),
        ({"amount": "0", "reason": "nothing"}, "amount"),
        ({"amount": "1.001", "reason": "fractions"}, "amount"),
        ({"amount": "10", "reason": "  "}, "reason"),
        ({"amount": "10", "reason": "x" * 301}, "reason"),
    ],
)
def test_invalid_refunds_change_nothing(
    manager: User, seller: User, buyer: Customer, fields: dict[str, Any], error: str
) -> None:
    order = services.order_create(actor=seller, customer=buyer, amount="100")
    with pytest.raises(ValidationFailed) as exc:
        services.order_refund(actor=manager, order=order, **fields)
    assert list(_details(exc)) == [error]
    order.refresh_from_db()
    assert (order.refunded_total, order.status) == (D("0.00"), "completed")
    assert Refund.objects.count() == 0


def test_a_refund_key_twice_refunds_once(manager: User, seller: User, buyer: Customer) -> None:
    order = services.order_create(actor=seller, customer=buyer, amount="100")
    first = services.order_refund(actor=manager, order=order, amount="30", reason="r", idempotency_key="rf-1")
    again = services.order_refund(actor=manager, order=order, amount="30", reason="r", idempotency_key="rf-1")
    assert again.pk == first.pk and again.replayed
    order.refresh_from_db()
    assert order.refunded_total == D("30.00")
    with pytest.raises(services.IdempotencyKeyReused):
        services.order_refund(actor=manager, order=order, amount="31", reason="r", idempotency_key="rf-1")


def test_the_conditional_update_refuses_to_pass_the_total(
    manager: User, seller: User, buyer: Customer
) -> None:
    """Even if the order read were stale, the UPDATE's guard keeps refunds within the total."""
    order = services.order_create(actor=seller, customer=buyer, amount="100")
    Order.objects.filter(pk=order.pk).update(refunded_total=D("90"))  # as if refunded meanwhile
    stale = Order.objects.get(pk=order.pk)
    stale.refunded_total = D("0")
    with mock.patch.object(services, "_lock_order", return_value=stale), pytest.raises(services.Conflict):
        services.order_refund(actor=manager, order=order, amount="50", reason="stale")
    order.refresh_from_db()
    assert order.refunded_total == D("90.00") and Refund.objects.count() == 0


def test_customers_and_stores_with_orders_cannot_be_deleted(
    admin: User, seller: User, buyer: Customer, store: Store, fuel: Product
) -> None:
    services.order_create(
        actor=seller, customer=buyer, store=store, lines=[{"product_id": fuel.pk, "quantity": "1"}]
    )
    with pytest.raises(catalog_services.StoreInUse):
        catalog_services.store_delete(actor=admin, store=store)
    with pytest.raises(catalog_services.ProductInUse):
        catalog_services.product_delete(actor=admin, product=fuel)
    assert Store.objects.filter(pk=store.pk).exists() and Product.objects.filter(pk=fuel.pk).exists()
    assert not AuditEvent.objects.filter(action__in=["store.delete", "product.delete"]).exists()
