"""The catalog pages: lists, create and edit forms with the service's errors, closed to other roles."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client

from guanxi.catalog import services
from guanxi.catalog.models import Product, Store
from guanxi.users.models import User


def test_a_product_is_created_and_edited_through_the_pages(
    client_for: Callable[[User], Client], admin: User
) -> None:
    client = client_for(admin)
    assert "No products yet" in client.get("/catalog/products/").content.decode()
    form = client.get("/catalog/products/new").content.decode()
    assert '<datalist id="units">' in form and '<option value="m²">' in form

    response = client.post(
        "/catalog/products/new",
        {
            "sku": "92#",
            "name": "92号汽油",
            "category": "燃油",
            "unit": "升",
            "price": "7.89",
            "cost": "",
            "active": "on",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/catalog/products/"
    product = Product.objects.get()
    assert (product.price, product.cost, product.active) == (Decimal("7.89"), None, True)
    listed = client.get("/catalog/products/").content.decode()
    assert "92号汽油" in listed and "¥7.89" in listed and "/ 升" in listed

    page = client.get(f"/catalog/products/{product.pk}/edit").content.decode()
    assert 'value="7.89"' in page
    response = client.post(
        f"/catalog/products/{product.pk}/edit",
        {"sku": "92#", "name": "92号汽油", "category": "燃油", "unit": "升", "price": "7.95"},
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.price, product.active) == (Decimal("7.95"), False)  # the box left unticked


def test_service_errors_show_on_the_form(client_for: Callable[[User], Client], admin: User) -> None:
    services.product_create(actor=admin, sku="92#", name="92号汽油", price="7.89")
    client = client_for(admin)
    bad = client.post("/catalog/products/new", {"sku": "92#", "name": "again", "price": "1.999"})
    html = bad.content.decode()
    assert bad.status_code == 422
    assert "Enter at most 2 decimal places." in html
    taken = client.post("/catalog/products/new", {"sku": "92#", "name": "again", "price": "1"})
    assert taken.status_code == 422 and "“92#” is already taken." in taken.content.decode()
    assert Product.objects.count() == 1


def test_stores_through_the_pages(
    client_for: Callable[[User], Client], make_user: Callable[..., User]
) -> None:
    client = client_for(make_user("manager"))
    response = client.post(
        "/catalog/stores/new", {"code": "NS01", "name": "南山加油站", "city": "深圳", "active": "on"}
    )
    assert response.status_code == 302
    store = Store.objects.get()
    assert "南山加油站" in client.get("/catalog/stores/").content.decode()
    client.post(f"/catalog/stores/{store.pk}/edit", {"code": "NS01", "name": "南山站", "city": "深圳"})
    store.refresh_from_db()
    assert (store.name, store.active) == ("南山站", False)
    filtered = client.get("/catalog/stores/", {"active": "1"}).content.decode()
    assert "No stores match" in filtered


@pytest.mark.parametrize("role", ["sales", "service", "marketing", "viewer"])
def test_other_roles_may_not_open_the_catalog_pages(
    role: str, client_for: Callable[[User], Client], make_user: Callable[..., User], admin: User
) -> None:
    product = services.product_create(actor=admin, sku="P", name="p", price="1")
    client = client_for(make_user(role))
    for url in (
        "/catalog/products/",
        "/catalog/products/new",
        f"/catalog/products/{product.pk}/edit",
        "/catalog/stores/",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post("/catalog/products/new", {"sku": "Q", "name": "q", "price": "1"}).status_code == 403
    assert Product.objects.count() == 1
