"""API shapes of products and stores. Money goes out as a string with 2 decimals ("7.89")."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ninja import Field, Schema

from guanxi.customers.schemas import BodyIn

Money = Decimal


class ProductIn(BodyIn):
    sku: str = Field(..., max_length=64, examples=["92#"])
    name: str = Field(..., max_length=200, examples=["92号汽油"])
    category: str = Field("", max_length=100, examples=["燃油"])
    unit: str = Field("", max_length=20, examples=["升"])
    price: Money = Field(..., description="CNY, at most 2 decimal places.", examples=["7.89"])
    cost: Money | None = Field(None, description="CNY; null when unknown.")
    active: bool = True


class ProductPatch(BodyIn):
    sku: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=200)
    category: str | None = Field(None, max_length=100)
    unit: str | None = Field(None, max_length=20)
    price: Money | None = None
    cost: Money | None = None
    active: bool | None = None


class ProductOut(Schema):
    id: int
    sku: str
    name: str
    category: str
    unit: str
    price: Decimal
    cost: Decimal | None
    active: bool
    created_at: datetime
    updated_at: datetime


class ProductPage(Schema):
    items: list[ProductOut]
    limit: int
    offset: int
    next_offset: int | None = Field(
        None, description="Pass as `offset` to fetch the next page; null on the last."
    )


class StoreIn(BodyIn):
    code: str = Field(..., max_length=20, examples=["NS01"])
    name: str = Field(..., max_length=100, examples=["南山加油站"])
    city: str = Field("", max_length=30, examples=["深圳"])
    address: str = Field("", max_length=200)
    active: bool = True


class StorePatch(BodyIn):
    code: str | None = Field(None, max_length=20)
    name: str | None = Field(None, max_length=100)
    city: str | None = Field(None, max_length=30)
    address: str | None = Field(None, max_length=200)
    active: bool | None = None


class StoreOut(Schema):
    id: int
    code: str
    name: str
    city: str
    address: str
    active: bool
    created_at: datetime
    updated_at: datetime


class StorePage(Schema):
    items: list[StoreOut]
    limit: int
    offset: int
    next_offset: int | None = Field(
        None, description="Pass as `offset` to fetch the next page; null on the last."
    )
