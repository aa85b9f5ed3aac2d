"""Shared fixtures of the sales tests: a store, products, and customers owned by a sales user."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from guanxi.catalog import services as catalog_services
from guanxi.catalog.models import Product, Store
from guanxi.customers.models import Customer
from guanxi.users.models import User


@pytest.fixture
def seller(make_user: Callable[..., User]) -> User:
    """A sales user: books orders, sees only the customers they own."""
    return make_user("sales", username="li.na")


@pytest.fixture
def manager(make_user: Callable[..., User]) -> User:
    return make_user("manager", username="wang.jl")


@pytest.fixture
def store(admin: User) -> Store:
    return catalog_services.store_create(actor=admin, code="NS01", name="南山加油站", city="深圳")


@pytest.fixture
def fuel(admin: User) -> Product:
    return catalog_services.product_create(
        actor=admin, sku="92#", name="92号汽油", category="燃油", unit="升", price="7.89", cost="7.10"
    )


@pytest.fixture
def wash(admin: User) -> Product:
    return catalog_services.product_create(
        actor=admin, sku="WASH", name="精致洗车", category="服务", unit="次", price="35.00"
    )


@pytest.fixture
def buyer(seller: User, make_customer: Callable[..., Any]) -> Customer:
    """A customer of the sales user, with a phone and a car."""
    from guanxi.customers import services as customer_services

    customer = make_customer(seller, name="张伟", phones=["13800138000"])
    customer_services.asset_create(actor=seller, customer=customer, plate="粤B12345", model="比亚迪汉")
    return customer
