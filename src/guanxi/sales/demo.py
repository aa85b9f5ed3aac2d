"""Demo purchase history: stores, products and years of orders for the customers already stored.

A bulk loader like `customers.demo` (batches of rows written at once, one transaction per batch, one audit
event "demo.orders" that says what it loaded), not a per-record service. The orders follow the processes
the analytics assume, so the fitted models have something true to find (issue 4):

- each customer buys, from a first purchase shortly after they were added, at a rate λ ~ Gamma(r, α) a day
  (Poisson), and after each purchase stops for good with probability p ~ Beta(a, b): the BG/NBD process;
- what they spend a visit is Gamma(p, ν) with ν ~ Gamma(q, γ) per customer: the Gamma-Gamma model;
- a purchase is one product line (fuel by the litre, tiles by the m², a service at its price), sometimes
  with a second product bought with it (a car wash with the fuel, grout with tiles), from the customer's
  usual store mostly; about 1.5% of orders are refunded in full and 1% in part.

Customers of the demo's vertical are read in id order in chunks (keyset), so memory stays bounded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record
from guanxi.catalog.models import Product, Store
from guanxi.core.errors import ValidationFailed
from guanxi.core.permissions import ensure_can
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.customers.services.rows import reserve_ids, write_rows
from guanxi.sales.models import Order, OrderLine, Refund
from guanxi.users.models import User

DAY = 86_400.0
Progress = Callable[[int, int, int], None]  # (customers done, customers in all, orders written)


@dataclass(frozen=True)
class DemoProduct:
    sku: str
    name: str
    category: str
    unit: str
    price: str
    cost: str
    weight: float  # how often it is the order's main line
    divisible: bool  # sold by the litre or m²: the quantity follows what the customer spends
    with_sku: str = ""  # a product often bought with it
    with_share: float = 0.0


@dataclass(frozen=True)
class Purchases:
    """The buying habits of a vertical's customers (BG/NBD and Gamma-Gamma parameters, days and CNY)."""

    r: float
    alpha: float
    a: float
    b: float
    spend_p: float
    spend_q: float
    mean_spend: float
    stores: tuple[tuple[str, str, str], ...]  # code, name, city
    products: tuple[DemoProduct, ...] = field(default=())


VERTICALS: dict[str, Purchases] = {
    "fuel": Purchases(
        r=1.1,
        alpha=11.0,  # mean λ 0.1 a day: a fill-up every ten days
        a=0.9,
        b=8.0,
        spend_p=6.0,
        spend_q=4.0,
        mean_spend=320.0,
        stores=(
            ("S01", "城东加油站", "深圳"),
            ("S02", "滨江加油站", "深圳"),
            ("S03", "高速服务区站", "东莞"),
            ("S04", "开发区加油站", "惠州"),
        ),
        products=(
            DemoProduct("F92", "92#汽油", "燃油", "升", "7.45", "6.90", 6.0, True, "W01", 0.08),
            DemoProduct("F95", "95#汽油", "燃油", "升", "7.95", "7.32", 3.0, True, "W01", 0.10),
            DemoProduct("F98", "98#汽油", "燃油", "升", "8.85", "8.10", 0.6, True, "W02", 0.15),
            DemoProduct("D00", "0#柴油", "燃油", "升", "7.20", "6.70", 2.0, True, "A01", 0.05),
            DemoProduct("W01", "普通洗车", "洗车", "次", "30.00", "12.00", 0.3, False),
            DemoProduct("W02", "精洗打蜡", "洗车", "次", "128.00", "55.00", 0.1, False),
            DemoProduct("A01", "车用尿素", "便利店", "桶", "45.00", "28.00", 0.1, False),
            DemoProduct("A02", "玻璃水", "便利店", "桶", "25.00", "11.00", 0.2, False, "W01", 0.2),
            DemoProduct("A03", "全合成机油 4L", "便利店", "桶", "268.00", "190.00", 0.1, False),
        ),
    ),
    "building": Purchases(
        r=0.6,
        alpha=40.0,  # a visit every two months while a renovation lasts
        a=1.2,
        b=3.0,
        spend_p=3.0,
        spend_q=3.0,
        mean_spend=2600.0,
        stores=(("B01", "建材城旗舰店", "佛山"), ("B02", "城北展厅", "广州"), ("B03", "装饰材料仓", "佛山")),
        products=(
            DemoProduct("T800", "瓷砖 800×800", "瓷砖", "m²", "89.00", "52.00", 3.0, True, "G01", 0.35),
            DemoProduct("T600", "仿古砖 600×600", "瓷砖", "m²", "72.00", "40.00", 1.5, True, "G01", 0.3),
            DemoProduct("W18", "实木复合地板", "地板", "m²", "168.00", "98.00", 1.5, True, "P02", 0.2),
            DemoProduct("P01", "乳胶漆 18L", "涂料", "桶", "459.00", "280.00", 1.2, False, "P02", 0.25),
            DemoProduct("P02", "防水涂料 20kg", "涂料", "桶", "320.00", "190.00", 0.8, False),
            DemoProduct("G01", "瓷砖胶 20kg", "辅料", "袋", "48.00", "25.00", 0.5, False),
            DemoProduct("C01", "整体橱柜", "定制", "米", "1980.00", "1200.00", 0.4, True),
            DemoProduct("S01", "卫浴套装", "卫浴", "套", "3280.00", "2100.00", 0.4, False, "G01", 0.1),
        ),
    ),
    "auto": Purchases(
        r=0.9,
        alpha=110.0,  # a service every four months
        a=0.8,
        b=6.0,
        spend_p=4.0,
        spend_q=3.5,
        mean_spend=1100.0,
        stores=(("A01", "城南4S店", "成都"), ("A02", "高新区4S店", "成都")),
        products=(
            DemoProduct("M01", "小保养", "保养", "次", "480.00", "260.00", 4.0, False, "M05", 0.2),
            DemoProduct("M02", "大保养", "保养", "次", "1280.00", "700.00", 1.5, False, "M06", 0.15),
            DemoProduct("M03", "更换轮胎", "维修", "条", "650.00", "420.00", 0.8, False),
            DemoProduct("M04", "钣金喷漆", "维修", "面", "900.00", "380.00", 0.8, False),
            DemoProduct("M05", "精洗美容", "美容", "次", "80.00", "30.00", 1.2, False),
            DemoProduct("M06", "空调清洗", "保养", "次", "198.00", "60.00", 0.5, False),
            DemoProduct("M07", "延保服务", "服务", "年", "2980.00", "900.00", 0.15, False),
        ),
    ),
}
CHANNELS = (("store", 0.85), ("wechat", 0.07), ("phone", 0.05), ("online", 0.03))
PAYMENTS = (
    ("wechat_pay", 0.45),
    ("alipay", 0.25),
    ("card", 0.12),
    ("member_card", 0.10),
    ("cash", 0.08),
)
MAX_ORDERS = 500  # per customer: a bound for the simulation, far above what anyone buys


@dataclass
class OrderStats:
    vertical: str
    seed: int
    customers: int = 0
    buyers: int = 0
    orders: int = 0
    lines: int = 0
    refunds: int = 0
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {k: round(v, 1) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def _catalog(plan: Purchases) -> tuple[list[Store], list[Product]]:
    """The vertical's stores and products, creating those missing (by code and SKU)."""
    with transaction.atomic():
        stores = {s.code: s for s in Store.objects.filter(code__in=[code for code, _n, _c in plan.stores])}
        for code, name, city in plan.stores:
            if code not in stores:
                stores[code] = Store.objects.create(code=code, name=name, city=city)
        products = {p.sku: p for p in Product.objects.filter(sku__in=[p.sku for p in plan.products])}
        for p in plan.products:
            if p.sku not in products:
                products[p.sku] = Product.objects.create(
                    sku=p.sku,
                    name=p.name,
                    category=p.category,
                    unit=p.unit,
                    price=Decimal(p.price),
                    cost=Decimal(p.cost),
                )
    return [stores[code] for code, _n, _c in plan.stores], [products[p.sku] for p in plan.products]


def _times(seconds: np.ndarray) -> list[str]:
    """Epoch seconds as the database's datetime text (UTC)."""
    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    if connection.vendor == "postgresql":
        return [t + "+00" for t in text.tolist()]
    return [t.replace("T", " ") for t in text.tolist()]


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _simulate(
    rng: np.random.Generator, plan: Purchases, born: np.ndarray, now: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Purchase times of customers added at `born` (epoch seconds), until `now`.

    Returns (customer index, time, spend in CNY) per purchase, in customer then time order.
    """
    n = len(born)
    lam = rng.gamma(plan.r, 1.0 / plan.alpha, n)  # purchases a day
    drop = rng.beta(plan.a, plan.b, n)
    # Gamma-Gamma: ν ~ Gamma(q, rate γ), a visit's spend ~ Gamma(p, rate ν); E[spend] = p γ / (q − 1).
    gamma = plan.mean_spend * (plan.spend_q - 1) / plan.spend_p
    nu = rng.gamma(plan.spend_q, 1.0 / gamma, n)
    t = born + rng.exponential(3 * DAY, n)
    who: list[np.ndarray] = []
    when: list[np.ndarray] = []
    active = np.flatnonzero(t < now)
    for _round in range(MAX_ORDERS):
        if not len(active):
            break
        who.append(active)
        when.append(t[active])
        alive = rng.random(len(active)) >= drop[active]
        active = active[alive]
        t[active] += rng.exponential(1.0, len(active)) / lam[active] * DAY
        active = active[t[active] < now]
    if not who:
        empty = np.empty(0)
        return empty.astype(np.int64), empty, empty
    index = np.concatenate(who)
    moments = np.concatenate(when)
    order = np.lexsort((moments, index))
    index, moments = index[order], moments[order]
    spend = rng.gamma(plan.spend_p, 1.0, len(index)) / nu[index]
    return index, moments, spend


def demo_orders_load(
    *,
    actor: User | None,
    vertical: str,
    seed: int = 20240601,
    chunk: int = 1000,
    until: datetime | None = None,
    progress: Progress | None = None,
) -> OrderStats:
    """Give every customer without orders a purchase history of the vertical's kind, up to `until` (now).

    `actor` None is the installer (the CLI); a user must be allowed to manage users. The same seed on the
    same customers gives the same orders.
    """
    if actor is not None:
        ensure_can(actor, "user.manage")
    if vertical not in VERTICALS:
        raise ValidationFailed(details={"vertical": [_("Choose one of: %s.") % ", ".join(VERTICALS)]})
    began = time.monotonic()
    plan = VERTICALS[vertical]
    stores, products = _catalog(plan)
    now = (until or datetime.now(UTC)).timestamp()
    weights = np.array([p.weight for p in plan.products])
    weights /= weights.sum()
    by_sku = {p.sku: i for i, p in enumerate(plan.products)}
    price_cents = [int(Decimal(p.price) * 100) for p in plan.products]
    channels, channel_p = [c for c, _p in CHANNELS], [p for _c, p in CHANNELS]
    payments, payment_p = [c for c, _p in PAYMENTS], [p for _c, p in PAYMENTS]
    stats = OrderStats(vertical=vertical, seed=seed)
    customers = Customer.objects.filter(orders__isnull=True).order_by("pk")
    total = customers.count()
    last = 0
    rng = np.random.default_rng(seed)
    while True:
        rows = list(customers.filter(pk__gt=last).values_list("pk", "created_at")[:chunk])
        if not rows:
            break
        last = rows[-1][0]
        ids = np.array([pk for pk, _c in rows])
        born = np.array([created.timestamp() for _pk, created in rows])
        index, moments, spend = _simulate(rng, plan, born, now)
        home = rng.integers(0, len(stores), len(ids))
        n = len(index)
        store_of = np.where(rng.random(n) < 0.8, home[index], rng.integers(0, len(stores), n))
        product_of = rng.choice(len(products), n, p=weights)
        channel_of = rng.choice(len(channels), n, p=channel_p)
        payment_of = rng.choice(len(payments), n, p=payment_p)
        extra = rng.random(n)
        refund = rng.random(n)
        refund_share = rng.uniform(0.1, 0.5, n)
        with transaction.atomic():
            written = _write(
                plan=plan,
                stores=stores,
                products=products,
                by_sku=by_sku,
                price_cents=price_cents,
                customer_ids=ids[index],
                times=_times(moments),
                refund_times=_times(np.minimum(moments + DAY, now)),
                spend=spend,
                store_of=store_of,
                product_of=product_of,
                channels=[channels[i] for i in channel_of],
                payments=[payments[i] for i in payment_of],
                extra=extra,
                refund=refund,
                refund_share=refund_share,
            )
        stats.customers += len(ids)
        stats.buyers += len(np.unique(index))
        stats.orders += n
        stats.lines += written[0]
        stats.refunds += written[1]
        if progress:
            progress(stats.customers, total, stats.orders)
    stats.seconds = time.monotonic() - began
    if stats.orders:
        with connection.cursor() as cursor:
            for model in (Order, OrderLine, Refund, TimelineEntry):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    with transaction.atomic():
        audit_record(actor=actor, action="demo.orders", data=stats.summary())
    return stats


_ORDER_COLUMNS = (
    "id",
    "customer_id",
    "store_id",
    "ordered_at",
    "channel",
    "payment_method",
    "status",
    "total",
    "refunded_total",
    "note",
    "external_ref",
    "created_at",
)
_LINE_COLUMNS = (
    *("order_id", "position", "product_id", "sku", "name", "unit"),
    *("quantity", "unit_price", "discount", "total"),
)
_REFUND_COLUMNS = ("order_id", "amount", "reason", "refunded_at")
_ENTRY_COLUMNS = ("customer_id", "occurred_at", "kind", "data")


def _write(
    *,
    plan: Purchases,
    stores: list[Store],
    products: list[Product],
    by_sku: dict[str, int],
    price_cents: list[int],
    customer_ids: np.ndarray,
    times: list[str],
    refund_times: list[str],
    spend: np.ndarray,
    store_of: np.ndarray,
    product_of: np.ndarray,
    channels: list[str],
    payments: list[str],
    extra: np.ndarray,
    refund: np.ndarray,
    refund_share: np.ndarray,
) -> tuple[int, int]:
    """Write one chunk's orders, lines, refunds and timeline entries; returns (lines, refunds)."""
    order_ids = reserve_ids(Order._meta.db_table, len(customer_ids))
    orders, lines, refunds, entries = [], [], [], []
    full_reason, part_reason = _("Returned in full"), _("Part returned")
    for i, order_id in enumerate(order_ids):
        main = plan.products[product_of[i]]
        picked = [(product_of[i], spend[i])]
        if main.with_sku and extra[i] < main.with_share:
            picked.append((by_sku[main.with_sku], 0.0))
        items, total = [], 0
        for position, (k, amount) in enumerate(picked):
            demo, product, price = plan.products[k], products[k], price_cents[k]
            if demo.divisible:
                milli = max(1000, int(amount * 100 / price * 1000))  # the quantity, in thousandths
            else:
                milli = 1000 * max(1, min(20, round(amount * 100 / price))) if amount else 1000
            cents = (price * milli + 500) // 1000  # rounded half up, as the order services do
            total += cents
            quantity = f"{milli // 1000}.{milli % 1000:03d}"
            lines.append(
                (
                    order_id,
                    position,
                    product.pk,
                    product.sku,
                    product.name,
                    product.unit,
                    quantity,
                    _money(price),
                    "0.00",
                    _money(cents),
                )
            )
            items.append(
                {"name": product.name, "quantity": quantity.rstrip("0").rstrip("."), "unit": demo.unit}
            )
        status, refunded = Order.Status.COMPLETED.value, 0
        if refund[i] < 0.015:
            status, refunded = Order.Status.REFUNDED.value, total
        elif refund[i] < 0.025:
            status, refunded = Order.Status.PARTIALLY_REFUNDED.value, max(1, int(total * refund_share[i]))
        customer_id = int(customer_ids[i])
        store = stores[store_of[i]]
        orders.append(
            (
                order_id,
                customer_id,
                store.pk,
                times[i],
                channels[i],
                payments[i],
                status,
                _money(total),
                _money(refunded),
                "",
                "",
                times[i],
            )
        )
        entries.append(
            (
                customer_id,
                times[i],
                "order.created",
                json.dumps(
                    {
                        "order_id": order_id,
                        "total": _money(total),
                        "store": store.name,
                        "payment_method": payments[i],
                        "channel": channels[i],
                        "items": items,
                        "lines": len(items),
                    },
                    ensure_ascii=False,
                ),
            )
        )
        if refunded:
            full = refunded == total
            reason = full_reason if full else part_reason
            refunds.append((order_id, _money(refunded), reason, refund_times[i]))
            entries.append(
                (
                    customer_id,
                    refund_times[i],
                    "order.refunded",
                    json.dumps(
                        {"order_id": order_id, "amount": _money(refunded), "reason": reason, "full": full},
                        ensure_ascii=False,
                    ),
                )
            )
    write_rows(Order._meta.db_table, _ORDER_COLUMNS, orders)
    write_rows(OrderLine._meta.db_table, _LINE_COLUMNS, lines)
    write_rows(Refund._meta.db_table, _REFUND_COLUMNS, refunds)
    write_rows(TimelineEntry._meta.db_table, _ENTRY_COLUMNS, entries)
    return len(lines), len(refunds)
