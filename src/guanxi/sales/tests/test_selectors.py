"""Reads of orders: scope through the customer, filters, keyset pages, the 360 summary in two queries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from guanxi.catalog.models import Product, Store
from guanxi.core.errors import NotFound, PermissionDenied, ValidationFailed
from guanxi.customers.models import Customer
from guanxi.sales import selectors, services
from guanxi.sales.models import Order
from guanxi.users.models import Team, User

D = Decimal


def _at(days_ago: int, hour: int = 10) -> datetime:
    now = timezone.localtime()
    return (now - timedelta(days=days_ago)).replace(hour=hour, minute=0, second=0, microsecond=0)


@pytest.fixture
def world(
    admin: User,
    seller: User,
    make_user: Callable[..., User],
    make_customer: Callable[..., Customer],
    team_b: Team,
    buyer: Customer,
    store: Store,
) -> dict[str, Any]:
    mate = make_user("sales", username="mate")
    stranger = make_user("sales", team=team_b, username="stranger")
    mates = make_customer(mate, name="同组客户")
    strangers = make_customer(stranger, name="外组客户")
    orders = {
        "own": services.order_create(actor=seller, customer=buyer, amount="10", store=store),
        "team": services.order_create(actor=mate, customer=mates, amount="20"),
        "other": services.order_create(actor=stranger, customer=strangers, amount="30"),
    }
    return {"orders": orders, "stranger": stranger}


@pytest.mark.parametrize(
    "role,seen",
    [
        # "own" and "team" are customers of two sales users of team A (where `make_user` puts everyone)
        ("admin", {"own", "team", "other"}),
        ("manager", {"own", "team"}),
        ("sales", set()),  # owns no customer of its own here
        ("service", {"own", "team"}),
        ("marketing", {"own", "team", "other"}),
        ("viewer", {"own", "team"}),
    ],
)
def test_orders_are_seen_through_the_customers_scope(
    role: str, seen: set[str], world: dict[str, Any], make_user: Callable[..., User]
) -> None:
    user = make_user(role)
    ids = set(selectors.order_list(actor=user).values_list("pk", flat=True))
    assert ids == {world["orders"][where].pk for where in seen}
    for where in set(world["orders"]) - seen:
        with pytest.raises(NotFound):
            selectors.order_get(actor=user, order_id=world["orders"][where].pk)


def test_the_seller_sees_only_their_customers_orders(seller: User, world: dict[str, Any]) -> None:
    assert list(selectors.order_list(actor=seller)) == [world["orders"]["own"]]


def test_reading_orders_needs_order_view(make_user: Callable[..., User]) -> None:
    from guanxi.core import permissions

    nobody = make_user("viewer")
    original = permissions.ROLES["viewer"]["perms"]
    permissions.ROLES["viewer"]["perms"] = original - {"order.view"}
    try:
        with pytest.raises(PermissionDenied):
            selectors.order_list(actor=nobody)
    finally:
        permissions.ROLES["viewer"]["perms"] = original


def test_filters_by_date_store_status_and_customer_search(
    admin: User, seller: User, buyer: Customer, store: Store, make_customer: Callable[..., Customer]
) -> None:
    other = make_customer(seller, name="李雷", phones=["13900139000"])
    old = services.order_create(actor=seller, customer=buyer, amount="10", ordered_at=_at(10))
    new = services.order_create(actor=seller, customer=buyer, amount="20", ordered_at=_at(1), store=store)
    third = services.order_create(
        actor=seller, customer=other, amount="30", ordered_at=_at(2), external_ref="POS-778"
    )
    services.order_refund(actor=admin, order=third, reason="退货")

    def ids(**filters: Any) -> list[int]:
        return [o.pk for o in selectors.order_list(actor=seller, **filters)]

    assert ids() == [new.pk, third.pk, old.pk]
    assert ids(since=_at(5, 0)) == [new.pk, third.pk]
    assert ids(until=_at(2, 0)) == [old.pk]
    assert ids(store_id=store.pk) == [new.pk]
    assert ids(status="refunded") == [third.pk]
    assert ids(customer_id=buyer.pk) == [new.pk, old.pk]
    assert ids(q="13900139000") == [third.pk]
    assert ids(q="粤B12345") == [new.pk, old.pk]  # the plate of the buyer's car
    assert ids(q="POS-778") == [third.pk]
    totals = selectors.order_totals(orders=selectors.order_list(actor=seller))
    assert totals == {"count": 3, "gross": D("60.00"), "refunded": D("30.00"), "net": D("30.00")}


def test_keyset_cursor_walks_every_order_once(seller: User, buyer: Customer) -> None:
    same_time = _at(3)
    made = [
        services.order_create(actor=seller, customer=buyer, amount="1", ordered_at=same_time)
        for _ in range(3)
    ]
    made.append(services.order_create(actor=seller, customer=buyer, amount="1", ordered_at=_at(1)))
    seen: list[int] = []
    orders = selectors.order_list(actor=seller)
    page = list(orders[:2])
    while page:
        seen += [o.pk for o in page]
        page = list(selectors.orders_after(orders, selectors.cursor_encode(page[-1]))[:2])
    assert seen == [made[3].pk, made[2].pk, made[1].pk, made[0].pk]
    with pytest.raises(ValidationFailed):
        selectors.orders_after(orders, "not-a-cursor")


def test_purchase_summary_counts_net_spend_dates_and_favourites_in_two_queries(
    admin: User,
    seller: User,
    buyer: Customer,
    fuel: Product,
    wash: Product,
    django_assert_num_queries: Any,
) -> None:
    services.order_create(
        actor=seller,
        customer=buyer,
        ordered_at=_at(30),
        lines=[{"product_id": fuel.pk, "quantity": "40"}, {"product_id": wash.pk, "quantity": "1"}],
    )  # 315.60 + 35.00
    services.order_create(
        actor=seller, customer=buyer, ordered_at=_at(3), lines=[{"product_id": fuel.pk, "quantity": "30"}]
    )  # 236.70
    refunded = services.order_create(
        actor=seller, customer=buyer, ordered_at=_at(1), lines=[{"product_id": wash.pk, "quantity": "4"}]
    )  # 140.00, refunded in full below
    services.order_create(actor=seller, customer=buyer, amount="50", ordered_at=_at(2))
    services.order_refund(actor=admin, order=refunded, reason="重复下单")

    with django_assert_num_queries(2):
        summary = selectors.customer_purchase_summary(actor=seller, customer=buyer)

    assert summary.orders == 3
    assert summary.gross == D("777.30")
    assert summary.refunded == D("140.00")
    assert summary.net == D("637.30")
    assert summary.average == D("212.43")
    assert summary.first_at == _at(30)
    assert summary.last_at == _at(2)  # the refunded order of yesterday is no purchase
    assert [(f.name, f.quantity, f.spend, f.orders) for f in summary.favourites] == [
        ("92号汽油", D("70.000"), D("552.30"), 2),
        ("精致洗车", D("1.000"), D("35.00"), 1),
    ]


def test_a_customer_without_orders_costs_one_query(
    seller: User, buyer: Customer, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        summary = selectors.customer_purchase_summary(actor=seller, customer=buyer)
    assert (summary.orders, summary.net, summary.average, summary.first_at, summary.favourites) == (
        0,
        D("0"),
        None,
        None,
        [],
    )


def test_the_summary_of_a_customer_outside_the_scope_is_empty(seller: User, world: dict[str, Any]) -> None:
    other = world["orders"]["other"].customer
    assert selectors.customer_purchase_summary(actor=seller, customer=other).orders == 0
    assert Order.objects.filter(customer=other).count() == 1
