"""Order endpoints: thin shells over sales.selectors and sales.services.

A till that retries sends the same `Idempotency-Key` header: the first request books (201), every retry
answers 200 with the same order and `Idempotent-Replayed: true`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema, Status

from guanxi.catalog import selectors as catalog_selectors
from guanxi.catalog.models import Store
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.http import ApiRequest
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import Customer
from guanxi.sales import selectors, services
from guanxi.sales.models import Refund
from guanxi.sales.schemas import (
    Channel,
    Id,
    OrderIn,
    OrderOut,
    OrderPage,
    OrderStatus,
    PaymentMethod,
    PurchaseSummaryOut,
    RefundIn,
    RefundOut,
)

router = Router(tags=["orders"])
REPLAYED = "Idempotent-Replayed"
KEY_HEADER = Header(
    None,
    alias="Idempotency-Key",
    description="Any unique text up to 100 characters (a UUID); the same key from the same user books once.",
)


class OrderFilters(Schema):
    q: str = Field(
        "", description="The customer: name, pinyin, initials, phone digits, plate; or an external_ref."
    )
    customer_id: Id | None = None
    store_id: Id | None = None
    status: OrderStatus | None = None
    channel: Channel | None = None
    payment_method: PaymentMethod | None = None
    since: datetime | None = Field(None, description="Ordered at or after (inclusive).")
    until: datetime | None = Field(None, description="Ordered before (exclusive).")
    cursor: str = Field("", description="`next_cursor` of the page before.")
    limit: int = 50


def _store(actor: Any, store_id: int | None) -> Store | None:
    if store_id is None:
        return None
    try:
        return catalog_selectors.store_get(actor=actor, store_id=store_id)
    except NotFound as exc:
        raise ValidationFailed(details={"store_id": [_("There is no such store.")]}) from exc


def _customer(actor: Any, customer_id: int) -> Customer:
    """The customer in the actor's scope, read plainly (a till books many orders a minute)."""
    customer = customer_selectors.customer_scope(actor=actor).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("Customer not found."))
    return customer


def _order(actor: Any, order_id: int) -> Any:
    return selectors.order_get(actor=actor, order_id=order_id)


@router.get("/orders", response=OrderPage, summary="List orders, newest first")
def order_list(request: ApiRequest, filters: Query[OrderFilters]) -> dict[str, Any]:
    """Orders of the customers you may see. Page with `limit` and `cursor` (keyset: deep pages are as fast
    as the first)."""
    limit = max(1, min(filters.limit, settings.GUANXI_API_MAX_LIMIT))
    orders = selectors.order_list(
        actor=request.auth,
        q=filters.q,
        customer_id=filters.customer_id,
        store_id=filters.store_id,
        status=filters.status or "",
        channel=filters.channel or "",
        payment_method=filters.payment_method or "",
        since=filters.since,
        until=filters.until,
    ).prefetch_related("lines", "refunds__created_by")
    if filters.cursor:
        orders = selectors.orders_after(orders, filters.cursor)
    items = list(orders[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return {
        "items": items,
        "limit": limit,
        "next_cursor": selectors.cursor_encode(items[-1]) if more and items else None,
    }


@router.post("/orders", response={200: OrderOut, 201: OrderOut}, summary="Book an order")
def order_create(
    request: ApiRequest,
    payload: OrderIn,
    response: HttpResponse,
    idempotency_key: str | None = KEY_HEADER,
) -> Status[Any]:
    """Lines or just an amount. 201 when booked; 200 with `Idempotent-Replayed: true` when this
    `Idempotency-Key` booked it before; 409 `idempotency_key_reused` when the key booked another sale."""
    customer = _customer(request.auth, payload.customer_id)
    data = payload.model_dump(exclude={"customer_id", "store_id"})
    order = services.order_create(
        actor=request.auth,
        customer=customer,
        store=_store(request.auth, payload.store_id),
        idempotency_key=idempotency_key,
        **data,
    )
    if order.replayed:
        response[REPLAYED] = "true"
    return Status(200 if order.replayed else 201, _order(request.auth, order.pk))


@router.get("/orders/{order_id}", response=OrderOut, summary="One order with its lines and refunds")
def order_get(request: ApiRequest, order_id: int) -> Any:
    return _order(request.auth, order_id)


@router.post(
    "/orders/{order_id}/refunds", response={200: RefundOut, 201: RefundOut}, summary="Refund an order"
)
def order_refund(
    request: ApiRequest,
    order_id: int,
    payload: RefundIn,
    response: HttpResponse,
    idempotency_key: str | None = KEY_HEADER,
) -> Status[Refund]:
    """In full (no `amount`) or in part. 409 `order_fully_refunded` when nothing is left to refund."""
    order = _order(request.auth, order_id)
    refund = services.order_refund(
        actor=request.auth,
        order=order,
        amount=payload.amount,
        reason=payload.reason,
        idempotency_key=idempotency_key,
    )
    if refund.replayed:
        response[REPLAYED] = "true"
    return Status(200 if refund.replayed else 201, refund)


@router.get(
    "/customers/{customer_id}/purchase-summary",
    response=PurchaseSummaryOut,
    summary="A customer's lifetime spend, orders and favourite products",
    tags=["orders"],
)
def purchase_summary(request: ApiRequest, customer_id: int) -> dict[str, Any]:
    customer = _customer(request.auth, customer_id)
    summary = selectors.customer_purchase_summary(actor=request.auth, customer=customer)
    return {**vars(summary), "net": summary.net, "average": summary.average}
