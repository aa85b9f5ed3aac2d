"""How the refresh reads and stores: the integer row stream, the table replaced under its own index and
constraint names, and calendar days in a time zone with daylight saving time."""

from __future__ import annotations

import threading
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.db import connection, transaction

from guanxi.analytics import streams
from guanxi.analytics.models import CustomerMetrics, ProductPair
from guanxi.analytics.purchases import base_read, day_number
from guanxi.analytics.services import analytics_refresh
from guanxi.analytics.streams import in_parallel, int_rows
from guanxi.analytics.tests.orders import UNTIL, customers, order, product, synthetic_base
from guanxi.sales.models import Order
from guanxi.users.models import User


def _numbers_table(count: int, factor: int) -> str:
    """A temporary table of `count` rows (id n, n × factor, −n), ids from 1."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE stream_numbers (id BIGINT PRIMARY KEY, big BIGINT, negative BIGINT)"
        )
        if connection.vendor == "postgresql":
            cursor.execute(
                "INSERT INTO stream_numbers SELECT n, n * %s, -n "
                "FROM generate_series(CAST(1 AS BIGINT), %s) AS n",
                [factor, count],
            )
        else:
            cursor.execute(
                "INSERT INTO stream_numbers WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s "
                "WHERE n < %s) SELECT n, n * %s, -n FROM s",
                [count, factor],
            )
    return "stream_numbers"


def test_int_rows_reads_every_row_across_ranges_and_batches(db: Any) -> None:
    # given 150,000 rows of three bigints (several packed ranges and fetchmany batches), some past 2³²
    count, factor = 150_000, 10**9
    table = _numbers_table(count, factor)

    # when: every row, then the rows a condition keeps, with an expression and parameters
    everything = int_rows(table, ["id", "big", "negative"])
    odd = int_rows(table, ["id", "big + %s"], "id %% 2 = %s", [7, 1])

    # then (rows come in no particular order)
    everything = everything[np.argsort(everything[:, 0])]
    n = np.arange(1, count + 1, dtype=np.int64)
    assert everything.shape == (count, 3)
    assert np.array_equal(everything[:, 0], n)
    assert np.array_equal(everything[:, 1], n * factor)
    assert np.array_equal(everything[:, 2], -n)
    odd = odd[np.argsort(odd[:, 0])]
    assert np.array_equal(odd[:, 0], n[::2])
    assert np.array_equal(odd[:, 1], n[::2] * factor + 7)


def test_int_rows_refuses_a_null(db: Any) -> None:
    table = _numbers_table(10, 1)
    with pytest.raises(RuntimeError, match="NULL"):
        int_rows(table, ["id", "CASE WHEN id = 5 THEN NULL ELSE big END"])


def test_int_chunks_parts_share_the_rows_out(db: Any, monkeypatch: Any) -> None:
    # given 1,000 rows and ranges of 64 ids
    monkeypatch.setattr(streams, "STEP", 64)
    table = _numbers_table(1000, 1)

    # when read in three parts
    parts = [int_rows_part(table, (k, 3)) for k in range(3)]

    # then every row once, each part holding some
    assert all(len(part) for part in parts)
    assert sorted(np.concatenate(parts).tolist()) == list(range(1, 1001))


def int_rows_part(table: str, part: tuple[int, int]) -> Any:
    return np.concatenate(list(streams.int_chunks(table, ["id"], part=part)))[:, 0]


def _figures() -> list[tuple[Any, ...]]:
    metrics = CustomerMetrics.objects.order_by("customer_id").values_list(
        "customer_id", "orders_count", "net_spend", "frequency", "segment", "p_alive", "clv", "band"
    )
    pairs = ProductPair.objects.order_by("product_a_id", "product_b_id").values_list(
        "product_a_id", "product_b_id", "orders_together", "lift"
    )
    return [*metrics, *pairs]


@pytest.mark.django_db(transaction=True)
def test_a_refresh_outside_a_transaction_reads_on_two_connections_alike(
    admin: User, monkeypatch: Any
) -> None:
    # given a base with orders holding lines, read in ranges of 16 ids (several a part)
    monkeypatch.setattr(streams, "STEP", 16)
    synthetic_base(admin, 40)
    fuel, wash = product("F", "汽油"), product("W", "洗车")
    for who in customers(admin, ["甲", "乙", "丙"]):
        order(who, "2025-06-01", "230.00", lines=[(fuel, "200.00"), (wash, "30.00")])
    threads: list[str] = []
    own = streams._on_own_connection

    def spy(function: Any) -> Any:
        threads.append(threading.current_thread().name)
        return own(function)

    monkeypatch.setattr(streams, "_on_own_connection", spy)

    # when refreshed inside a transaction (one connection), then outside it
    with transaction.atomic():
        analytics_refresh(actor=admin, until=UNTIL)
    inside = _figures()
    analytics_refresh(actor=admin, until=UNTIL)

    # then the same figures; on PostgreSQL the second read ran on two threads of their own
    assert _figures() == inside
    assert ProductPair.objects.filter(product_a=fuel, product_b=wash, orders_together=3).exists()
    if connection.vendor == "postgresql":
        assert len(threads) == 2 * streams.PARTS
        assert threading.current_thread().name not in threads
    else:
        assert threads == []


@pytest.mark.postgres_only  # SQLite runs the tasks one after the other and stops at the failure
@pytest.mark.django_db(transaction=True)
def test_in_parallel_raises_what_a_task_raised_after_all_ended(db: Any) -> None:
    ended: list[str] = []

    def fails() -> None:
        raise ValueError("broken")

    def works() -> None:
        ended.append("works")

    with pytest.raises(ValueError, match="broken"):
        in_parallel([fails, works])
    assert ended == ["works"]


def test_the_replaced_metrics_table_keeps_its_names(admin: User) -> None:
    # given two refreshes (the second replaces the first one's table)
    synthetic_base(admin, 30)
    analytics_refresh(actor=admin, until=UNTIL)
    before = _constraints()
    analytics_refresh(actor=admin, until=UNTIL)

    # then the table has the model's indexes and keys under their names, as migrations expect them
    after = _constraints()
    assert after == before
    declared = {index.name for index in CustomerMetrics._meta.indexes}
    assert declared <= set(after)
    primary = [name for name, c in after.items() if c["primary_key"]]
    assert len(primary) == 1 and after[primary[0]]["columns"] == ["customer_id"]
    assert CustomerMetrics.objects.count() == 30


def _constraints() -> dict[str, Any]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, CustomerMetrics._meta.db_table)
    return {
        name: {"columns": c["columns"], "primary_key": c["primary_key"], "unique": c["unique"]}
        for name, c in found.items()
        if c["index"] or c["primary_key"] or c["unique"]
    }


def test_days_in_a_zone_with_daylight_saving_time(admin: User, settings: Any) -> None:
    # given Berlin (UTC+2 in summer): 23:30 on July 1 is 21:30 UTC, 00:30 on July 2 is 22:30 UTC on July 1
    settings.TIME_ZONE = "Europe/Berlin"
    (hans,) = customers(admin, ["Hans"])
    berlin = ZoneInfo("Europe/Berlin")
    for when in (datetime(2025, 1, 10, 12, 0), datetime(2025, 7, 1, 23, 30), datetime(2025, 7, 2, 0, 30)):
        Order.objects.create(customer=hans, ordered_at=when.replace(tzinfo=berlin), total=Decimal("10.00"))

    # when
    base = base_read(until=date(2025, 7, 31), window_days=365)

    # then three local days: January 10, July 1 and July 2
    assert base.purchase_days.tolist() == [3]
    assert base.first_day.tolist() == [day_number(date(2025, 1, 10))]
    assert base.last_day.tolist() == [day_number(date(2025, 7, 2))]
