"""Demo purchase history: whole orders, consistent refunds and timeline, bounded and repeatable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from guanxi.audit.models import AuditEvent
from guanxi.catalog.models import Product, Store
from guanxi.catalog.money import round_money
from guanxi.core.errors import PermissionDenied, ValidationFailed
from guanxi.customers.demo import demo_load
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.sales.demo import VERTICALS, demo_orders_load
from guanxi.sales.models import Order, OrderLine, Refund
from guanxi.users.models import User

UNTIL = datetime(2026, 11, 30, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def _orders() -> list[tuple[int, str, Decimal, Decimal, str]]:
    return list(
        Order.objects.order_by("id").values_list(
            "customer_id", "ordered_at", "total", "refunded_total", "status"
        )
    )


@pytest.mark.parametrize("vertical", sorted(VERTICALS))
def test_every_order_is_whole_and_its_refunds_add_up(vertical: str) -> None:
    demo_load(actor=None, vertical=vertical, customers=60, seed=3)
    stats = demo_orders_load(actor=None, vertical=vertical, seed=7, chunk=25, until=UNTIL)

    assert stats.customers == 60
    assert stats.orders == Order.objects.count() > 60
    assert stats.lines == OrderLine.objects.count()
    assert Store.objects.count() == len(VERTICALS[vertical].stores)
    assert Product.objects.count() == len(VERTICALS[vertical].products)
    line_sums = dict(OrderLine.objects.values_list("order").annotate(s=Sum("total")))
    refund_sums = dict(Refund.objects.values_list("order").annotate(s=Sum("amount")))
    for order in Order.objects.select_related("customer"):
        assert order.total == line_sums[order.pk] > 0
        assert order.refunded_total == refund_sums.get(order.pk, 0)
        expected = {Decimal(0): "completed", order.total: "refunded"}.get(
            order.refunded_total, "partially_refunded"
        )
        assert order.status == expected
        assert order.ordered_at <= UNTIL
        assert order.ordered_at >= order.customer.created_at
    for line in OrderLine.objects.all():
        assert line.total == round_money(line.quantity * line.unit_price)  # as order_create prices a line
    entries = TimelineEntry.objects.values("kind").annotate(n=Count("id"))
    counts = {e["kind"]: e["n"] for e in entries}
    assert counts["order.created"] == stats.orders
    assert counts.get("order.refunded", 0) == Refund.objects.count() == stats.refunds
    assert AuditEvent.objects.filter(action="demo.orders").count() == 1


def test_a_second_run_leaves_customers_with_orders_alone_and_the_same_seed_repeats() -> None:
    demo_load(actor=None, vertical="fuel", customers=40, seed=3)
    demo_orders_load(actor=None, vertical="fuel", seed=7, chunk=15, until=UNTIL)
    first = _orders()

    again = demo_orders_load(actor=None, vertical="fuel", seed=7, until=UNTIL)

    assert (again.customers, again.orders) == (0, 0)
    assert _orders() == first
    Refund.objects.all().delete()
    Order.objects.all().delete()
    demo_orders_load(actor=None, vertical="fuel", seed=7, chunk=15, until=UNTIL)
    assert [row[:3] for row in _orders()] == [row[:3] for row in first]


def test_buying_stops_for_some_and_goes_on_for_others() -> None:
    """The BG/NBD process: customers differ in how often they buy, and some stop for good."""
    demo_load(actor=None, vertical="fuel", customers=300, seed=3)
    demo_orders_load(actor=None, vertical="fuel", seed=7, until=UNTIL)
    per = Customer.objects.annotate(n=Count("orders")).values_list("n", flat=True)
    counts = sorted(per)
    assert counts[len(counts) // 10] <= 3 < 30 <= counts[-len(counts) // 10]
    recent = UNTIL - timedelta(days=60)
    silent = Customer.objects.filter(created_at__lt=recent - timedelta(days=300)).exclude(
        orders__ordered_at__gte=recent
    )
    assert silent.exists()


def test_only_an_installer_or_user_manager_loads_orders(make_user: Callable[..., User]) -> None:
    with pytest.raises(PermissionDenied):
        demo_orders_load(actor=make_user("sales"), vertical="fuel")
    with pytest.raises(ValidationFailed):
        demo_orders_load(actor=make_user("admin"), vertical="bakery")
    assert not Order.objects.exists()
