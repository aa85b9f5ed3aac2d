"""A customer's orders outlive them: a merge takes the orders along, a delete is refused with a reason."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from guanxi.audit.models import AuditEvent
from guanxi.core.errors import Conflict
from guanxi.customers.models import Customer
from guanxi.customers.services import customer_delete
from guanxi.customers.services.merge import customer_merge
from guanxi.sales.models import Order
from guanxi.sales.selectors import customer_purchase_summary
from guanxi.sales.services import order_create
from guanxi.users.models import User


@pytest.fixture
def manager(make_user: Callable[..., User]) -> User:
    return make_user("manager")


def test_a_merge_moves_the_merged_customers_orders_to_the_survivor(
    manager: User, make_customer: Callable[..., Any]
) -> None:
    survivor = make_customer(manager, name="张伟", phones=["13800138000"])
    other = make_customer(manager, name="张伟", phones=["13900139000"])
    order_create(actor=manager, customer=survivor, amount="100.00")
    moved = order_create(actor=manager, customer=other, amount="250.00")

    customer_merge(actor=manager, survivor=survivor, other=other)

    assert not Customer.objects.filter(pk=other.pk).exists()
    assert Order.objects.get(pk=moved.pk).customer_id == survivor.pk
    assert customer_purchase_summary(actor=manager, customer=survivor).net == Decimal("350.00")
    event = AuditEvent.objects.get(action="customer.merge")
    assert event.data["moved"]["sales.order"] == 1


def test_a_customer_with_orders_is_not_deleted_and_nothing_changes(
    manager: User, make_customer: Callable[..., Any]
) -> None:
    customer = make_customer(manager, name="李娜")
    order_create(actor=manager, customer=customer, amount="80.00")
    events = AuditEvent.objects.count()

    with pytest.raises(Conflict, match="has orders"):
        customer_delete(actor=manager, customer=customer)

    assert Customer.objects.filter(pk=customer.pk).exists()
    assert Order.objects.filter(customer=customer).count() == 1
    assert AuditEvent.objects.count() == events
