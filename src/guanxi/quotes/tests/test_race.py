"""Reps working at the same moment, on real connections in two or more threads: numbers never repeat,
a quote is accepted into one order, a family has one current version."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

from guanxi.customers.models import Customer
from guanxi.quotes import services
from guanxi.quotes.models import Quote
from guanxi.sales.models import Order
from guanxi.users.models import User

# SQLite under pytest is one in-memory database shared between connections, which answers a second
# writer "table is locked" at once instead of waiting: these run in the PostgreSQL pass.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


def _together(count: int, work: Callable[[], Any]) -> list[Any]:
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


def test_quotes_made_at_once_get_distinct_numbers(seller: User, buyer: Customer) -> None:
    results = _together(6, lambda: services.quote_create(actor=seller, customer=buyer))
    assert all(isinstance(result, Quote) for result in results), results
    numbers = sorted(result.number for result in results)
    assert len(set(numbers)) == 6 and [int(n[-6:]) for n in numbers] == [1, 2, 3, 4, 5, 6]


def test_accepting_at_once_books_one_order(seller: User, draft: Quote) -> None:
    results = _together(4, lambda: services.quote_accept(actor=seller, quote=draft))
    assert all(isinstance(result, Quote) for result in results), results
    assert sum(1 for result in results if not result.replayed) == 1
    assert Order.objects.count() == 1 and {result.order_id for result in results} == {Order.objects.get().pk}


def test_two_new_versions_at_once_make_one(seller: User, draft: Quote) -> None:
    results = _together(3, lambda: services.quote_new_version(actor=seller, quote=draft))
    made = [result for result in results if isinstance(result, Quote)]
    assert len(made) == 1, results
    assert all(isinstance(result, services.QuoteNotCurrent) for result in results if result not in made)
    assert Quote.objects.filter(number=draft.number).exclude(status="superseded").count() == 1
