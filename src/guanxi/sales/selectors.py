"""Reads of orders. An order is visible to whoever may see its customer (customers' scope rules)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Max, Min, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from guanxi.catalog.money import CENT, round_money
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.permissions import ensure_can, scope_q
from guanxi.core.search import search_filter
from guanxi.customers.models import Customer
from guanxi.sales.models import ZERO, Order, OrderLine, Refund
from guanxi.users.models import User

FAVOURITES = 3
MILLI = Decimal("0.001")
MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=14, decimal_places=2)


def order_scope(*, actor: User) -> QuerySet[Order]:
    """The orders `actor` may see: those of the customers in their scope."""
    ensure_can(actor, "order.view")
    return Order.objects.filter(scope_q(actor, owner="customer__owner", team="customer__team"))


def order_list(
    *,
    actor: User,
    q: str = "",
    customer_id: int | None = None,
    store_id: int | None = None,
    status: str = "",
    channel: str = "",
    payment_method: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Order]:
    """Orders in scope, newest first, with customer, store and booker joined.

    `q` finds the customer (name, pinyin, initials, phone digits, plate: the customer search) or an
    order by its external reference; `since` is inclusive, `until` exclusive.
    """
    orders = order_scope(actor=actor)
    if customer_id:
        orders = orders.filter(customer_id=customer_id)
    if store_id:
        orders = orders.filter(store_id=store_id)
    if status:
        orders = orders.filter(status=status)
    if channel:
        orders = orders.filter(channel=channel)
    if payment_method:
        orders = orders.filter(payment_method=payment_method)
    if since:
        orders = orders.filter(ordered_at__gte=since)
    if until:
        orders = orders.filter(ordered_at__lt=until)
    if q.strip():
        customers = search_filter(
            Customer.objects.filter(scope_q(actor)), q, fts_prefix="customers_search"
        ).values("pk")
        orders = orders.filter(Q(customer__in=customers) | Q(external_ref=q.strip()))
    return orders.select_related("customer", "store", "created_by").order_by("-ordered_at", "-id")


def order_totals(*, orders: QuerySet[Order]) -> dict[str, Any]:
    """Count, gross, refunded and net of a list of orders, in one aggregate query."""
    row = orders.order_by().aggregate(
        count=Count("id"),
        gross=Coalesce(Sum("total"), Value(ZERO), output_field=MONEY),
        refunded=Coalesce(Sum("refunded_total"), Value(ZERO), output_field=MONEY),
    )
    row["gross"], row["refunded"] = _cents(row["gross"]), _cents(row["refunded"])
    row["net"] = row["gross"] - row["refunded"]
    return row


def _cents(value: Decimal) -> Decimal:
    """An aggregate as money: SQLite returns sums with whatever exponent its arithmetic left."""
    return Decimal(value).quantize(CENT)


def order_get(*, actor: User, order_id: int) -> Order:
    """One order with its lines (and their products) and refunds (and who made them)."""
    orders = order_scope(actor=actor).select_related("customer", "store", "created_by")
    orders = orders.prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("product")),
        Prefetch("refunds", queryset=Refund.objects.select_related("created_by")),
    )
    try:
        return orders.get(pk=order_id)
    except (Order.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound(_("Order not found.")) from exc


# ---------------------------------------------------------------------------------------------------
# Keyset pages for the API: newest first, by (ordered_at, id), so deep pages cost what the first does.


def cursor_encode(order: Order) -> str:
    raw = f"{order.ordered_at.isoformat()}|{order.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when_text, _sep, id_text = raw.rpartition("|")
        when = parse_datetime(when_text)
        order_id = int(id_text)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed(details={"cursor": [_("This cursor is not valid.")]}) from exc
    if when is None or when.tzinfo is None:
        raise ValidationFailed(details={"cursor": [_("This cursor is not valid.")]})
    return when, order_id


def orders_after(orders: QuerySet[Order], cursor: str) -> QuerySet[Order]:
    """The orders that come after `cursor` in newest-first order."""
    when, order_id = cursor_decode(cursor)
    return orders.filter(Q(ordered_at__lt=when) | Q(ordered_at=when, id__lt=order_id))


# ---------------------------------------------------------------------------------------------------
# The customer 360 page


@dataclass
class FavouriteProduct:
    product_id: int
    name: str
    unit: str
    quantity: Decimal
    spend: Decimal
    orders: int


@dataclass
class PurchaseSummary:
    """What a customer has bought: spend net of refunds, over the orders not refunded in full."""

    orders: int = 0
    gross: Decimal = ZERO
    refunded: Decimal = ZERO
    first_at: datetime | None = None
    last_at: datetime | None = None
    favourites: list[FavouriteProduct] = field(default_factory=list)

    @property
    def net(self) -> Decimal:
        return self.gross - self.refunded

    @property
    def average(self) -> Decimal | None:
        if not self.orders:
            return None
        return round_money(self.net / self.orders)


def customer_purchase_summary(*, actor: User, customer: Customer) -> PurchaseSummary:
    """Lifetime spend (net of refunds), order count, average order value, first and last purchase, and
    the top products by spend: one aggregate query, and one more when the customer has bought.

    An order refunded in full counts neither as an order nor as a purchase date; a partial refund lowers
    the spend and keeps the order. Favourites sum the lines of orders not refunded in full.
    """
    kept = ~Q(status=Order.Status.REFUNDED)
    row = (
        order_scope(actor=actor)
        .filter(customer=customer)
        .order_by()
        .aggregate(
            orders=Count("id", filter=kept),
            gross=Coalesce(Sum("total"), Value(ZERO), output_field=MONEY),
            refunded=Coalesce(Sum("refunded_total"), Value(ZERO), output_field=MONEY),
            first_at=Min("ordered_at", filter=kept),
            last_at=Max("ordered_at", filter=kept),
        )
    )
    row["gross"], row["refunded"] = _cents(row["gross"]), _cents(row["refunded"])
    summary = PurchaseSummary(**row)
    if summary.orders:
        lines = (
            OrderLine.objects.filter(order__customer=customer)
            .exclude(order__status=Order.Status.REFUNDED)
            .values("product_id")
            .annotate(
                name=Max("name"),
                unit=Max("unit"),
                quantity=Sum("quantity"),
                spend=Sum("total"),
                orders=Count("order_id", distinct=True),
            )
            .order_by("-spend", "-quantity", "product_id")[:FAVOURITES]
        )
        summary.favourites = [
            FavouriteProduct(
                **{
                    **line,
                    "quantity": Decimal(line["quantity"]).quantize(MILLI),
                    "spend": _cents(line["spend"]),
                }
            )
            for line in lines
        ]
    return summary
