"""API shapes of orders and refunds. Money is CNY and goes out as a string with 2 decimals ("278.28");
send it as a string too (a JSON number passes through a float first)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema

from guanxi.customers.schemas import BodyIn

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Channel = Literal["store", "phone", "online", "wechat", "other"]
PaymentMethod = Literal["cash", "card", "wechat_pay", "alipay", "member_card", "other"]
OrderStatus = Literal["completed", "partially_refunded", "refunded"]


class OrderLineIn(BodyIn):
    product_id: Id
    quantity: Decimal = Field(..., description="More than 0, at most 3 decimal places.", examples=["35.27"])
    unit_price: Decimal | None = Field(None, description="CNY; the product's price when left out.")
    discount: Decimal | None = Field(None, description="CNY off this line (an amount, not a rate).")


class OrderIn(BodyIn):
    customer_id: Id
    amount: Decimal | None = Field(
        None,
        description="CNY. Required without lines; with lines it may be left out, and must equal their sum.",
        examples=["278.28"],
    )
    lines: list[OrderLineIn] = Field(default_factory=list)
    store_id: Id | None = None
    ordered_at: datetime | None = Field(
        None, description="When the purchase happened; now when left out. Without an offset: Asia/Shanghai."
    )
    channel: Channel = "store"
    payment_method: PaymentMethod = "cash"
    note: str = Field("", max_length=500)
    external_ref: str = Field("", max_length=64, description="The order's number in the till or shop system.")


class RefundIn(BodyIn):
    amount: Decimal | None = Field(None, description="CNY; all that is left to refund when left out.")
    reason: str = Field(..., max_length=300, examples=["油品质量投诉, 退还部分款项"])


class Ref(Schema):
    id: int
    name: str


class StoreRef(Schema):
    id: int
    code: str
    name: str


class OrderLineOut(Schema):
    product_id: int
    sku: str
    name: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    total: Decimal


class RefundOut(Schema):
    id: int
    order_id: int
    amount: Decimal
    reason: str
    refunded_at: datetime
    created_by: str | None

    @staticmethod
    def resolve_created_by(obj: Any) -> str | None:
        return obj.created_by.username if obj.created_by_id else None


class OrderOut(Schema):
    id: int
    customer: Ref
    store: StoreRef | None
    ordered_at: datetime
    channel: str
    payment_method: str
    status: OrderStatus
    total: Decimal = Field(..., description="CNY, as booked; with lines the sum of their totals.")
    refunded_total: Decimal = Field(..., description="CNY given back so far.")
    net_total: Decimal = Field(..., description="total − refunded_total: what the order is worth now.")
    note: str
    external_ref: str
    created_by: str | None
    created_at: datetime
    lines: list[OrderLineOut]
    refunds: list[RefundOut]

    @staticmethod
    def resolve_created_by(obj: Any) -> str | None:
        return obj.created_by.username if obj.created_by_id else None

    @staticmethod
    def resolve_lines(obj: Any) -> Any:
        return list(obj.lines.all())

    @staticmethod
    def resolve_refunds(obj: Any) -> Any:
        return list(obj.refunds.all())


class OrderPage(Schema):
    items: list[OrderOut]
    limit: int
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` to fetch the next page (older orders); null on the last."
    )


class FavouriteOut(Schema):
    product_id: int
    name: str
    unit: str
    quantity: Decimal
    spend: Decimal
    orders: int


class PurchaseSummaryOut(Schema):
    orders: int = Field(..., description="Orders not refunded in full.")
    gross: Decimal = Field(..., description="CNY booked.")
    refunded: Decimal = Field(..., description="CNY given back.")
    net: Decimal = Field(..., description="Lifetime spend: gross − refunded.")
    average: Decimal | None = Field(..., description="net / orders; null without orders.")
    first_at: datetime | None
    last_at: datetime | None
    favourites: list[FavouriteOut] = Field(..., description="Top 3 products by spend.")
