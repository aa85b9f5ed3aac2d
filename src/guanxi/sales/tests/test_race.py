"""Two tills sending the same booking at the same moment, on real connections in two threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connections

from guanxi.core.errors import ValidationFailed
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.sales import services
from guanxi.sales.models import Order, Refund
from guanxi.users.models import User

# SQLite under pytest is one in-memory database shared between connections, which answers a second
# writer "table is locked" at once instead of waiting; test_services covers the lost race there.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


def _together(count: int, work: Callable[[], Any]) -> list[Any]:
    """Run `work` in `count` threads released at once; returns each result (or the exception raised)."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work()
        except Exception as exc:  # the test asserts on it
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_concurrent_requests_with_one_key_book_one_order(seller: User, buyer: Customer) -> None:
    results = _together(
        4,
        lambda: services.order_create(
            actor=seller, customer=buyer, amount="66.60", idempotency_key="till-3-000042"
        ),
    )
    assert all(isinstance(result, Order) for result in results), results
    assert len({result.pk for result in results}) == 1
    assert sum(1 for result in results if not result.replayed) == 1
    assert Order.objects.count() == 1
    assert TimelineEntry.objects.filter(customer=buyer, kind="order.created").count() == 1


def test_concurrent_refunds_never_pass_the_total(manager: User, seller: User, buyer: Customer) -> None:
    order = services.order_create(actor=seller, customer=buyer, amount="100")
    results = _together(
        3, lambda: services.order_refund(actor=manager, order=order, amount="60", reason="同时退款")
    )
    refunds = [result for result in results if isinstance(result, Refund)]
    assert len(refunds) == 1, results
    # the others waited for the first one's lock, then found only 40.00 left
    assert all(isinstance(result, ValidationFailed) for result in results if result not in refunds), results
    order.refresh_from_db()
    assert order.refunded_total == Decimal("60.00")
    assert Refund.objects.filter(order=order).count() == 1
