"""Reading the purchase history for the analytics: one SQL aggregate per customer, streamed into numpy.

The database does the scanning. The statement groups the orders by customer and local calendar day, then
by customer; its rows (one a customer) come as a binary COPY on PostgreSQL, a batch at a time on SQLite,
straight into numpy columns (streams.int_rows), so memory holds a few numbers a customer and no Python
object per customer.

What counts: orders that are completed or partially refunded (an order refunded in full is no purchase),
worth their total less what was refunded, on or before the last day of the observation window. A
purchase day is a calendar day in the configured time zone (Asia/Shanghai by default) with at least one
such order: BG/NBD counts repeat purchase days, so two fill-ups on one day are one purchase.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection
from numpy.typing import NDArray

from guanxi.analytics.streams import int_rows
from guanxi.sales.models import Order

EPOCH = date(1970, 1, 1)
BATCH = 20_000
# The first day's spend rides in the low digits of MIN(day × SPLIT + cents): (customer, day) is unique in
# the inner grouping, so the minimum is the first day's, and its cents stay below SPLIT (10¹² CNY a day).
SPLIT = 10**14
PURCHASE_STATUSES = (Order.Status.COMPLETED, Order.Status.PARTIALLY_REFUNDED)


def day_number(day: date) -> int:
    return (day - EPOCH).days


def day_date(number: int) -> date:
    return EPOCH + timedelta(days=int(number))


@dataclass
class Base:
    """The purchase summary of every customer with a purchase, one array element each, by customer id."""

    customer_id: NDArray[np.int64]
    purchase_days: NDArray[np.int64]
    first_day: NDArray[np.int64]  # days since 1970-01-01, local calendar
    last_day: NDArray[np.int64]
    orders: NDArray[np.int64]
    cents: NDArray[np.int64]  # net spend, in fen
    window_orders: NDArray[np.int64]
    window_cents: NDArray[np.int64]
    first_day_cents: NDArray[np.int64]
    until: date
    window_start: date

    def __len__(self) -> int:
        return len(self.customer_id)

    @property
    def frequency(self) -> NDArray[np.int64]:
        """x: repeat purchase days."""
        return self.purchase_days - 1

    @property
    def t_x(self) -> NDArray[np.int64]:
        return self.last_day - self.first_day

    @property
    def age(self) -> NDArray[np.int64]:
        """T: days from the first purchase day to the last day observed."""
        return day_number(self.until) - self.first_day

    @property
    def recency(self) -> NDArray[np.int64]:
        return day_number(self.until) - self.last_day

    @property
    def repeat_mean_cents(self) -> NDArray[np.float64]:
        """The average spend of a repeat purchase day (Gamma-Gamma's m̄); 0 for one-time buyers."""
        repeat = self.frequency
        return np.divide(
            (self.cents - self.first_day_cents).astype(np.float64),
            repeat,
            out=np.zeros(len(repeat), dtype=np.float64),
            where=repeat > 0,
        )


def _fixed_offset_seconds(zone: zoneinfo.ZoneInfo, until: date) -> int | None:
    """The zone's UTC offset when it has kept one offset for the last 30 years (Asia/Shanghai has since
    1992), else None."""
    offsets = {
        zone.utcoffset(datetime(year, month, 1))
        for year in range(until.year - 30, until.year + 1)
        for month in (1, 4, 7, 10)
    }
    if len(offsets) != 1:
        return None
    offset = offsets.pop()
    return int(offset.total_seconds()) if offset is not None else None


def _day_sql(until: date) -> tuple[str, list[Any]]:
    """SQL for an order's local calendar day as days since 1970-01-01, with its parameters."""
    zone_name = settings.TIME_ZONE
    offset = _fixed_offset_seconds(zoneinfo.ZoneInfo(zone_name), until)
    if connection.vendor == "postgresql":
        if offset is not None:  # plain arithmetic: about twice as fast as a time zone lookup a row
            return "CAST(FLOOR((date_part('epoch', ordered_at) + %s) / 86400) AS BIGINT)", [offset]
        return "CAST((ordered_at AT TIME ZONE %s)::date - DATE '1970-01-01' AS BIGINT)", [zone_name]
    if offset is not None:
        # Django keeps SQLite datetimes as UTC text, which julianday reads; the offset makes it local.
        return "CAST(julianday(ordered_at, %s) - 2440587.5 AS INTEGER)", [f"{offset:+d} seconds"]
    # A zone with daylight saving time: Django's own SQLite function converts each value.
    return (
        "CAST(julianday(django_datetime_cast_date(ordered_at, %s, 'UTC')) - 2440587.5 AS INTEGER)",
        [zone_name],
    )


def window_end(until: date) -> datetime:
    """The first moment after the observation window: local midnight after `until`."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return datetime.combine(until + timedelta(days=1), time(0), tzinfo=zone)


def base_sql(until: date, window_days: int) -> tuple[str, list[Any]]:
    day, day_params = _day_sql(until)
    table = Order._meta.db_table
    start = day_number(until) - window_days + 1
    sql = f"""
        SELECT customer_id, COUNT(*), MIN(day), MAX(day),
               CAST(SUM(orders) AS BIGINT), CAST(SUM(cents) AS BIGINT),
               CAST(SUM(CASE WHEN day >= %s THEN orders ELSE 0 END) AS BIGINT),
               CAST(SUM(CASE WHEN day >= %s THEN cents ELSE 0 END) AS BIGINT),
               MIN(day * CAST({SPLIT} AS BIGINT) + cents)
        FROM (
            SELECT customer_id, {day} AS day, COUNT(*) AS orders,
                   CAST(ROUND(SUM(total - refunded_total) * 100) AS BIGINT) AS cents
            FROM {table}
            WHERE status IN (%s, %s) AND ordered_at < %s
            GROUP BY 1, 2
        ) AS purchase_days
        GROUP BY customer_id
    """
    end = connection.ops.adapt_datetimefield_value(window_end(until))
    return sql, [start, start, *day_params, *PURCHASE_STATUSES, end]


def base_read(*, until: date, window_days: int) -> Base:
    """Every customer's purchase summary up to `until` (inclusive), RFM window of `window_days` days."""
    sql, params = base_sql(until, window_days)
    table = int_rows(sql, params, 9)
    table = table[np.argsort(table[:, 0], kind="stable")]
    columns = [np.ascontiguousarray(table[:, i]) for i in range(9)]
    first_key = columns[8]
    return Base(
        customer_id=columns[0],
        purchase_days=columns[1],
        first_day=columns[2],
        last_day=columns[3],
        orders=columns[4],
        cents=columns[5],
        window_orders=columns[6],
        window_cents=columns[7],
        first_day_cents=first_key - columns[2] * SPLIT,
        until=until,
        window_start=until - timedelta(days=window_days - 1),
    )
