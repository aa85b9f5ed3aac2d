"""Reading the purchase history for the analytics: every purchase order streamed once into numpy.

The database only scans and filters: one row an order (id, customer, local calendar day, net spend in
fen) comes packed by the server on PostgreSQL, a batch at a time on SQLite (streams.int_chunks), and each
chunk is folded into per-customer sums indexed by customer id (a few arrays of the highest customer id's
length). Grouping ten million orders by customer and day in the database costs several times more: a
hash aggregate of numeric sums spills to disk with the default work_mem, and sorting is no cheaper.
Memory holds the per-customer arrays, the distinct (customer, day) keys (for purchase days), and on
request the customer of each order id (for the recommendations' read of order lines).

What counts: orders that are completed or partially refunded (an order refunded in full is no purchase),
worth their total less what was refunded, on or before the last day of the observation window. A
purchase day is a calendar day in the configured time zone (Asia/Shanghai by default) with at least one
such order: BG/NBD counts repeat purchase days, so two fill-ups on one day are one purchase.
"""

from __future__ import annotations

import threading
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection
from numpy.typing import NDArray

from guanxi.analytics.streams import Sent, int_chunks
from guanxi.customers.models import Customer
from guanxi.customers.services.rows import highest_id
from guanxi.sales.models import Order

EPOCH = date(1970, 1, 1)
# A (customer, day) key is customer × DAY_SPAN + day + DAY_SHIFT: days within ±2^20 of 1970 (±2,870 years).
DAY_SHIFT = 1 << 20
DAY_SPAN = 1 << 21
NO_DAY = np.iinfo(np.int64).max
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
    # The customer id of each purchase order, by order id (-1: not a purchase); read on request.
    order_customer: NDArray[np.int64] | None = None

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


def _day_sql(until: date) -> tuple[str, list[Any], int | None]:
    """How to read an order's local calendar day: SQL, its parameters, and None when the SQL gives the
    day number (days since 1970-01-01) — or, on PostgreSQL in a zone of one fixed offset, the time as the
    server stores it (microseconds since 2000-01-01 UTC, no work a row) and the zone's offset in
    microseconds, for _local_days."""
    zone_name = settings.TIME_ZONE
    offset = _fixed_offset_seconds(zoneinfo.ZoneInfo(zone_name), until)
    if connection.vendor == "postgresql":
        if offset is not None:
            return Sent("timestamptz_send(ordered_at)"), [], offset * 1_000_000
        return "CAST((ordered_at AT TIME ZONE %s)::date - DATE '1970-01-01' AS BIGINT)", [zone_name], None
    if offset is not None:
        # Django keeps SQLite datetimes as UTC text, which julianday reads; the offset makes it local.
        return "CAST(julianday(ordered_at, %s) - 2440587.5 AS INTEGER)", [f"{offset:+d} seconds"], None
    # A zone with daylight saving time: Django's own SQLite function converts each value.
    return (
        "CAST(julianday(django_datetime_cast_date(ordered_at, %s, 'UTC')) - 2440587.5 AS INTEGER)",
        [zone_name],
        None,
    )


MICROSECONDS_A_DAY = 86_400_000_000
DAYS_1970_TO_2000 = 10_957


def _local_days(microseconds: NDArray[np.int64], offset: int) -> NDArray[np.int64]:
    """Local day numbers (since 1970-01-01) of PostgreSQL times (microseconds since 2000-01-01 UTC) in a
    zone `offset` microseconds from UTC."""
    return (microseconds + offset) // MICROSECONDS_A_DAY + DAYS_1970_TO_2000


def window_end(until: date) -> datetime:
    """The first moment after the observation window: local midnight after `until`."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return datetime.combine(until + timedelta(days=1), time(0), tzinfo=zone)


def orders_read(until: date) -> tuple[str, list[str], str, list[Any]]:
    """The purchase orders up to `until` for streams.int_chunks: the table, the expressions (id, customer
    id, local day — see _day_sql —, net spend in fen), the condition and the parameters."""
    day, day_params, _offset = _day_sql(until)
    expressions = ["id", "customer_id", day, "CAST(ROUND((total - refunded_total) * 100) AS BIGINT)"]
    end = connection.ops.adapt_datetimefield_value(window_end(until))
    return (
        Order._meta.db_table,
        expressions,
        "status IN (%s, %s) AND ordered_at < %s",
        [
            *day_params,
            *PURCHASE_STATUSES,
            end,
        ],
    )


def distinct_sorted(values: NDArray[np.int64]) -> NDArray[np.int64]:
    """The distinct values, sorted; sorts `values` in place (numpy 2.4's np.unique hashes large integer
    arrays: 100× slower than a sort)."""
    values.sort()
    keep = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


class _Folder:
    """Per-customer sums folded in a chunk of orders at a time, indexed by customer id."""

    def __init__(self, top_customer: int, top_order: int | None, window_first_day: int) -> None:
        size = top_customer + 1
        self.window_first_day = window_first_day
        self.orders = np.zeros(size, dtype=np.int64)
        self.cents = np.zeros(size, dtype=np.int64)
        self.window_orders = np.zeros(size, dtype=np.int64)
        self.window_cents = np.zeros(size, dtype=np.int64)
        self.first = np.full(size, NO_DAY, dtype=np.int64)
        self.last = np.full(size, -NO_DAY, dtype=np.int64)
        self.first_cents = np.zeros(size, dtype=np.int64)
        self.day_keys: list[NDArray[np.int64]] = []
        # Scratch for one chunk's first days, put back to NO_DAY / 0 after each chunk.
        self._first = np.full(size, NO_DAY, dtype=np.int64)
        self._first_cents = np.zeros(size, dtype=np.int64)
        self.order_customer = None if top_order is None else np.full(top_order + 1, -1, dtype=np.int64)

    def fold(self, chunk: NDArray[np.int64]) -> None:
        ids, customer, day, cents = (np.ascontiguousarray(chunk[:, i]) for i in range(4))
        np.add.at(self.orders, customer, 1)
        np.add.at(self.cents, customer, cents)
        recent = day >= self.window_first_day
        np.add.at(self.window_orders, customer[recent], 1)
        np.add.at(self.window_cents, customer[recent], cents[recent])
        np.maximum.at(self.last, customer, day)
        # The first day's spend: this chunk's first day and its spend, then merged with the earlier chunks'.
        np.minimum.at(self._first, customer, day)
        chunk_first = self._first[customer]
        on_first = day == chunk_first
        np.add.at(self._first_cents, customer[on_first], cents[on_first])
        before, spent = self.first[customer], self.first_cents[customer]
        chunk_spent = self._first_cents[customer]
        self.first_cents[customer] = np.where(
            chunk_first < before, chunk_spent, np.where(chunk_first == before, spent + chunk_spent, spent)
        )
        self.first[customer] = np.minimum(before, chunk_first)
        self._first[customer] = NO_DAY
        self._first_cents[customer] = 0
        self.day_keys.append(distinct_sorted(customer * DAY_SPAN + (day + DAY_SHIFT)))
        if self.order_customer is not None:
            self.order_customer[ids] = customer

    def purchase_days(self) -> NDArray[np.int64]:
        keys = np.concatenate(self.day_keys) if self.day_keys else np.zeros(0, np.int64)
        self.day_keys = []
        keys = distinct_sorted(keys)
        return np.bincount(keys // DAY_SPAN, minlength=len(self.orders)).astype(np.int64)


class BaseReader:
    """Reads the purchase orders into a Base: `read(part)` for each part (streams.int_chunks), possibly
    from several threads at once, then `base()`."""

    def __init__(self, *, until: date, window_days: int, with_orders: bool = False) -> None:
        self.until, self.window_days = until, window_days
        self.top_customer = highest_id(Customer._meta.db_table)
        self.top_order = highest_id(Order._meta.db_table)
        window_first_day = day_number(until) - window_days + 1
        self.day_offset = _day_sql(until)[2]
        self.folder = _Folder(self.top_customer, self.top_order if with_orders else None, window_first_day)
        self.lock = threading.Lock()

    def read(self, part: tuple[int, int] = (0, 1)) -> None:
        for chunk in int_chunks(*orders_read(self.until), part=part):
            # An order booked since the highest ids were read waits for the next run.
            chunk = chunk[(chunk[:, 0] <= self.top_order) & (chunk[:, 1] <= self.top_customer)]
            if self.day_offset is not None:
                chunk[:, 2] = _local_days(chunk[:, 2], self.day_offset)
            with self.lock:
                self.folder.fold(chunk)

    def base(self) -> Base:
        folder = self.folder
        days = folder.purchase_days()
        has = np.flatnonzero(folder.orders)
        return Base(
            customer_id=has.astype(np.int64),
            purchase_days=days[has],
            first_day=folder.first[has],
            last_day=folder.last[has],
            orders=folder.orders[has],
            cents=folder.cents[has],
            window_orders=folder.window_orders[has],
            window_cents=folder.window_cents[has],
            first_day_cents=folder.first_cents[has],
            until=self.until,
            window_start=self.until - timedelta(days=self.window_days - 1),
            order_customer=folder.order_customer,
        )


def base_read(*, until: date, window_days: int) -> Base:
    """Every customer's purchase summary up to `until` (inclusive), RFM window of `window_days` days."""
    reader = BaseReader(until=until, window_days=window_days)
    reader.read()
    return reader.base()
