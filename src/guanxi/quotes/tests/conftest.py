"""Shared fixtures of the quote tests: a sales rep and their company customer with a contact, products
from a building-material store's catalogue, and a draft quote with two lines."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from guanxi.catalog import services as catalog_services
from guanxi.catalog.models import Product
from guanxi.customers import services as customer_services
from guanxi.customers.models import Contact, Customer
from guanxi.quotes import services
from guanxi.quotes.models import Quote
from guanxi.users.models import User


@pytest.fixture
def seller(make_user: Callable[..., User]) -> User:
    """A sales user: prepares quotes, sees only their own customers and quotes."""
    user = make_user("sales", username="li.na")
    user.full_name = "李娜"
    user.email = "li.na@example.com"
    user.save(update_fields=["full_name", "email"])
    return user


@pytest.fixture
def tile(admin: User) -> Product:
    return catalog_services.product_create(
        actor=admin, sku="TILE-800", name="抛釉瓷砖 800×800", category="瓷砖", unit="片", price="45.80"
    )


@pytest.fixture
def paint(admin: User) -> Product:
    return catalog_services.product_create(
        actor=admin, sku="PAINT-18L", name="立邦净味乳胶漆 18L", category="涂料", unit="桶", price="520.00"
    )


@pytest.fixture
def buyer(seller: User, make_customer: Callable[..., Any]) -> Customer:
    return make_customer(
        seller,
        name="深圳市鹏程装饰工程有限公司",
        kind="company",
        phones=["13800138000"],
        emails=["caigou@pengcheng.example"],
        province="广东省",
        city="深圳市",
        district="南山区",
        street="科技园路1号",
    )


@pytest.fixture
def contact(seller: User, buyer: Customer) -> Contact:
    return customer_services.contact_create(
        actor=seller,
        customer=buyer,
        name="王建国",
        title="采购经理",
        phone="13912345678",
        email="wang@pengcheng.example",
    )


@pytest.fixture
def draft(seller: User, buyer: Customer, contact: Contact, tile: Product, paint: Product) -> Quote:
    return services.quote_create(
        actor=seller,
        customer=buyer,
        contact=contact,
        title="南山样板房装修材料",
        lines=[
            {"product_id": tile.pk, "quantity": "120", "discount_percent": "5"},
            {"product_id": paint.pk, "quantity": "6", "unit_price": "498.00"},
        ],
        terms="付款方式：合同签订后预付30%，到货验收后付清余款。",
    )


# 120 × 45.80 = 5496.00, 5 % off = 274.80 → 5221.20, VAT 13 % included = 600.67
# 6 × 498.00 = 2988.00 → 2988.00, VAT included = 343.75
DRAFT_TOTALS = {
    "subtotal": Decimal("8484.00"),
    "discount_total": Decimal("274.80"),
    "grand_total": Decimal("8209.20"),
    "tax_total": Decimal("944.42"),
}
