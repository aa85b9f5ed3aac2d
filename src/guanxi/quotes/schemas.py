"""API shapes of quotes. Money is CNY, tax-inclusive, and goes out as a string with 2 decimals
("8209.20"); send it as a string too (a JSON number passes through a float first)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema

from guanxi.customers.schemas import BodyIn

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
QuoteStatus = Literal["draft", "sent", "accepted", "rejected", "expired", "superseded"]


class QuoteLineIn(BodyIn):
    product_id: Id
    quantity: Decimal | None = Field(None, description="More than 0, at most 3 decimals; 1 when left out.")
    unit_price: Decimal | None = Field(
        None, description="CNY, VAT included; the product's price when left out.", examples=["45.80"]
    )
    discount_percent: Decimal | None = Field(
        None, description="Percent off the line, 0 to 100 (10 = 10 % off); 0 when left out.", examples=["5"]
    )
    tax_rate: Decimal | None = Field(
        None, description="VAT rate in percent; 13 when left out.", examples=["13"]
    )


class QuoteLinePatch(BodyIn):
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    discount_percent: Decimal | None = None
    tax_rate: Decimal | None = None


class QuoteIn(BodyIn):
    customer_id: Id | None = Field(None, description="Required unless opportunity_id is given.")
    opportunity_id: Id | None = Field(
        None,
        description="Quote this opportunity: its customer, and its products as lines unless lines are sent.",
    )
    contact_id: Id | None = Field(None, description="A contact of the customer, printed on the quote.")
    owner_id: Id | None = Field(
        None,
        description="You when left out; a manager may give it to their team, an administrator to anyone.",
    )
    title: str = Field("", max_length=200)
    valid_until: date | None = Field(None, description="Today or later; 30 days from today when left out.")
    notes: str = Field("", max_length=4000)
    terms: str = Field("", max_length=4000)
    lines: list[QuoteLineIn] | None = None


class QuotePatch(BodyIn):
    contact_id: Id | None = None
    title: str | None = Field(None, max_length=200)
    valid_until: date | None = None
    notes: str | None = Field(None, max_length=4000)
    terms: str | None = Field(None, max_length=4000)


class SendIn(BodyIn):
    to: list[str] = Field(..., min_length=1, examples=[["王建国 <wang@example.cn>"]])
    cc: list[str] = Field(default_factory=list)
    subject: str = Field("", max_length=300, description="A subject naming the quote when left empty.")
    body: str = Field("", max_length=20000, description="A short covering letter when left empty.")


class RejectIn(BodyIn):
    reason: str = Field("", max_length=300)


class Ref(Schema):
    id: int
    name: str


class QuoteLineOut(Schema):
    id: int
    product_id: int
    sku: str
    name: str
    unit: str
    quantity: Decimal
    unit_price: Decimal = Field(..., description="CNY, VAT included.")
    discount_percent: Decimal
    tax_rate: Decimal
    amount: Decimal = Field(..., description="quantity × unit price, rounded half up to the cent.")
    discount_amount: Decimal = Field(..., description="amount × discount %, rounded half up to the cent.")
    total: Decimal = Field(..., description="amount − discount_amount, VAT included.")
    tax_amount: Decimal = Field(
        ..., description="The VAT included in total: total × rate / (100 + rate), rounded."
    )


def _status(obj: Any) -> str:
    return str(getattr(obj, "shown", None) or obj.shown_status)


class QuoteSummaryOut(Schema):
    id: int
    number: str
    version: int
    reference: str = Field(..., description="Q-2026-000123, or Q-2026-000123 v2 from the second version on.")
    status: QuoteStatus = Field(..., description="expired: a draft or sent quote past its valid_until date.")
    title: str
    customer: Ref
    valid_until: date
    currency: str
    grand_total: Decimal = Field(..., description="CNY, VAT included: what the customer pays.")
    owner: str | None
    created_at: datetime

    @staticmethod
    def resolve_status(obj: Any) -> str:
        return _status(obj)

    @staticmethod
    def resolve_owner(obj: Any) -> str | None:
        return obj.owner.username if obj.owner_id else None


class QuoteOut(QuoteSummaryOut):
    contact: Ref | None
    opportunity_id: int | None
    notes: str
    terms: str
    prices_include_tax: bool = Field(True, description="Always true: unit prices and totals include VAT.")
    subtotal: Decimal = Field(..., description="Sum of the lines' amounts, before discounts.")
    discount_total: Decimal = Field(..., description="Sum of the lines' discount amounts.")
    tax_total: Decimal = Field(..., description="Sum of the lines' VAT: included in grand_total, not added.")
    net_total: Decimal = Field(..., description="grand_total − tax_total.")
    lines: list[QuoteLineOut]
    sent_at: datetime | None
    sent_to: str
    accepted_at: datetime | None
    rejected_at: datetime | None
    reject_reason: str
    order_id: int | None = Field(..., description="The order an accepted quote became.")
    updated_at: datetime

    @staticmethod
    def resolve_lines(obj: Any) -> Any:
        return list(obj.lines.all())


class QuotePage(Schema):
    items: list[QuoteSummaryOut]
    limit: int
    offset: int
    next_offset: int | None = Field(None, description="Pass as `offset` for the next page; null on the last.")
