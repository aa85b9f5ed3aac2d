"""Building purchase histories for the analytics tests: orders on given local days, and bases drawn from
the BG/NBD and Gamma-Gamma processes with a fixed seed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from guanxi.catalog.models import Product
from guanxi.customers.models import Customer
from guanxi.customers.services import customer_create
from guanxi.sales.models import Order, OrderLine

SHANGHAI = ZoneInfo("Asia/Shanghai")
UNTIL = date(2025, 6, 30)


def at(day: date | str, hour: int = 12, minute: int = 0) -> datetime:
    """A moment on a local (Asia/Shanghai) calendar day."""
    when = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime.combine(when, time(hour, minute), tzinfo=SHANGHAI)


def order(
    customer: Customer,
    day: date | str,
    amount: str | Decimal,
    *,
    hour: int = 12,
    minute: int = 0,
    refunded: str = "0",
    lines: Sequence[tuple[Product, str]] = (),
) -> Order:
    """An order booked directly (test set-up): its status follows the refunded amount, as the services set
    it; `lines` are (product, line total) pairs."""
    total, back = Decimal(amount), Decimal(refunded)
    status = (
        Order.Status.COMPLETED
        if back == 0
        else Order.Status.REFUNDED
        if back == total
        else Order.Status.PARTIALLY_REFUNDED
    )
    booked = Order.objects.create(
        customer=customer,
        ordered_at=at(day, hour, minute),
        total=total,
        refunded_total=back,
        status=status,
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=booked,
            position=i,
            product=product,
            sku=product.sku,
            name=product.name,
            quantity=Decimal("1"),
            unit_price=Decimal(line_total),
            total=Decimal(line_total),
        )
        for i, (product, line_total) in enumerate(lines)
    )
    return booked


def product(sku: str, name: str, price: str = "10.00", *, active: bool = True) -> Product:
    return Product.objects.create(sku=sku, name=name, price=Decimal(price), active=active)


def customers(actor: Any, names: Sequence[str], **fields: Any) -> list[Customer]:
    return [customer_create(actor=actor, name=name, **fields) for name in names]


def synthetic_base(
    actor: Any,
    count: int = 60,
    *,
    seed: int = 7,
    until: date = UNTIL,
    r: float = 1.5,
    alpha: float = 20.0,
    a: float = 1.0,
    b: float = 3.0,
    **fields: Any,
) -> list[Customer]:
    """`count` customers whose orders follow BG/NBD (rate λ ~ Gamma(r, α) a day, dropout after each
    purchase with probability p ~ Beta(a, b)) from a first purchase in the 300 days before `until`, and
    spend Gamma-distributed around ¥80; at most one order a day."""
    rng = np.random.default_rng(seed)
    made = customers(actor, [f"样本客户{i:03d}" for i in range(count)], **fields)
    for customer in made:
        rate = rng.gamma(r, 1.0 / alpha)
        dropout = rng.beta(a, b)
        scale = rng.gamma(4.0, 5.0)
        day = until - timedelta(days=int(rng.integers(20, 300)))
        while day <= until:
            order(customer, day, f"{rng.gamma(4.0, scale):.2f}")
            if rng.random() < dropout:
                break
            day += timedelta(days=max(1, int(np.ceil(rng.exponential(1.0 / rate)))))
    return made
