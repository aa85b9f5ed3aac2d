"""The product and store API: CRUD for catalog managers, reads for every signed-in user."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from conftest import bearer
from django.test import Client

from guanxi.catalog.models import Product, Store
from guanxi.users.models import User

API = "/api/v1"


def send(client: Client, method: str, path: str, body: Any = None) -> Any:
    return client.generic(method, API + path, json.dumps(body or {}), content_type="application/json")


def test_product_crud(admin: User) -> None:
    client = bearer(admin)
    created = send(
        client, "POST", "/products", {"sku": "92#", "name": "92号汽油", "unit": "升", "price": "7.89"}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["price"], body["cost"], body["active"]) == ("7.89", None, True)
    pid = body["id"]
    assert client.get(f"{API}/products/{pid}").json()["name"] == "92号汽油"
    patched = send(client, "PATCH", f"/products/{pid}", {"price": "7.95", "cost": "7.10"})
    assert (patched.json()["price"], patched.json()["cost"]) == ("7.95", "7.10")
    assert send(client, "PATCH", f"/products/{pid}", {"price": "-1"}).json()["details"] == {
        "price": ["Enter an amount of 0 or more."]
    }
    assert send(client, "POST", "/products", {"sku": "92#", "name": "x", "price": "1"}).status_code == 409
    listed = client.get(f"{API}/products", {"q": "汽油", "limit": 1}).json()
    assert [p["sku"] for p in listed["items"]] == ["92#"] and listed["next_offset"] is None
    assert send(client, "DELETE", f"/products/{pid}").status_code == 204
    assert client.get(f"{API}/products/{pid}").status_code == 404
    assert Product.objects.count() == 0


def test_store_crud_and_a_store_with_orders_stays(admin: User, make_customer: Callable[..., Any]) -> None:
    from guanxi.sales import services as sales_services

    client = bearer(admin)
    sid = send(client, "POST", "/stores", {"code": "NS01", "name": "南山加油站", "city": "深圳"}).json()["id"]
    assert send(client, "PATCH", f"/stores/{sid}", {"active": False}).json()["active"] is False
    assert [s["code"] for s in client.get(f"{API}/stores", {"active": False}).json()["items"]] == ["NS01"]
    send(client, "PATCH", f"/stores/{sid}", {"active": True})
    sales_services.order_create(
        actor=admin, customer=make_customer(admin), amount="10", store=Store.objects.get(pk=sid)
    )
    refused = send(client, "DELETE", f"/stores/{sid}")
    assert refused.status_code == 409 and refused.json()["code"] == "store_in_use"
    assert Store.objects.filter(pk=sid).exists()


def test_every_signed_in_user_reads_and_only_managers_write(
    admin: User, make_user: Callable[..., User]
) -> None:
    pid = send(bearer(admin), "POST", "/products", {"sku": "P", "name": "p", "price": "1"}).json()["id"]
    for role in ("sales", "service", "marketing", "viewer"):
        client = bearer(make_user(role))
        assert client.get(f"{API}/products").status_code == 200
        assert client.get(f"{API}/products/{pid}").status_code == 200
        assert client.get(f"{API}/stores").status_code == 200
        denied = send(client, "POST", "/products", {"sku": "Q", "name": "q", "price": "1"})
        assert denied.status_code == 403 and denied.json()["code"] == "permission_denied"
        assert send(client, "PATCH", f"/products/{pid}", {"price": "2"}).status_code == 403
        assert send(client, "DELETE", f"/products/{pid}").status_code == 403
        assert send(client, "POST", "/stores", {"code": "S", "name": "s"}).status_code == 403
    manager = bearer(make_user("manager"))
    assert send(manager, "POST", "/stores", {"code": "S", "name": "s"}).status_code == 201
    assert Product.objects.get().price == 1
