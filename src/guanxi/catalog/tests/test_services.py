"""Products and stores: only `catalog.manage` changes them; SKUs and codes are unique; money is Decimal."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from guanxi.audit.models import AuditEvent
from guanxi.catalog import selectors, services
from guanxi.catalog.models import Product, Store
from guanxi.core.errors import Conflict, PermissionDenied, ValidationFailed
from guanxi.users.models import User


def test_a_product_is_created_with_decimal_money_and_an_audit_event(admin: User) -> None:
    product = services.product_create(
        actor=admin, sku=" 92# ", name="92号  汽油", category="燃油", unit="升", price="￥7.89", cost=None
    )
    product.refresh_from_db()
    assert (product.sku, product.name, product.price, product.cost, product.active) == (
        "92#",
        "92号 汽油",
        Decimal("7.89"),
        None,
        True,
    )
    event = AuditEvent.objects.get(action="product.create")
    assert event.target_id == str(product.pk) and event.changes["price"] == [None, "7.89"]


@pytest.mark.parametrize(
    "fields,errors",
    [
        ({"sku": "", "name": "x", "price": "1"}, ["sku"]),
        ({"sku": "A", "name": "", "price": "1"}, ["name"]),
        ({"sku": "A", "name": "x"}, ["price"]),
        ({"sku": "A", "name": "x", "price": "-1"}, ["price"]),
        ({"sku": "A", "name": "x", "price": "1.005"}, ["price"]),
        ({"sku": "A", "name": "x", "price": "1", "cost": "abc"}, ["cost"]),
        ({"sku": "A" * 65, "name": "x", "price": "1"}, ["sku"]),
        ({"sku": "A", "name": "x", "price": "1", "colour": "red"}, ["colour"]),
    ],
)
def test_invalid_products_are_refused(admin: User, fields: dict[str, object], errors: list[str]) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.product_create(actor=admin, **fields)
    assert sorted(exc.value.details) == errors
    assert Product.objects.count() == 0


def test_sku_and_store_code_are_unique(admin: User) -> None:
    services.product_create(actor=admin, sku="92#", name="92号汽油", price="7.89")
    other = services.product_create(actor=admin, sku="95#", name="95号汽油", price="8.41")
    with pytest.raises(Conflict):
        services.product_create(actor=admin, sku="92#", name="again", price="1")
    with pytest.raises(Conflict):
        services.product_update(actor=admin, product=other, sku="92#")
    services.store_create(actor=admin, code="NS01", name="南山站")
    with pytest.raises(Conflict):
        services.store_create(actor=admin, code="NS01", name="again")
    assert Product.objects.count() == 2 and Store.objects.count() == 1


def test_an_update_changes_only_what_is_sent_and_audits_the_difference(admin: User) -> None:
    product = services.product_create(actor=admin, sku="T1", name="瓷砖", unit="m²", price="59.00", cost="31")
    updated = services.product_update(actor=admin, product=product, price="62.50", active=False)
    assert (updated.price, updated.cost, updated.unit, updated.active) == (
        Decimal("62.50"),
        Decimal("31.00"),
        "m²",
        False,
    )
    event = AuditEvent.objects.get(action="product.update")
    assert event.changes == {"price": ["59.00", "62.50"], "active": [True, False]}
    services.product_update(actor=admin, product=updated, price="62.5")  # the same amount: no event
    assert AuditEvent.objects.filter(action="product.update").count() == 1


@pytest.mark.parametrize("role", ["sales", "service", "marketing", "viewer"])
def test_only_catalog_managers_change_the_catalog(
    role: str, admin: User, make_user: Callable[..., User]
) -> None:
    user = make_user(role)
    product = services.product_create(actor=admin, sku="P", name="p", price="1")
    store = services.store_create(actor=admin, code="S", name="s")
    for attempt in (
        lambda: services.product_create(actor=user, sku="Q", name="q", price="1"),
        lambda: services.product_update(actor=user, product=product, price="2"),
        lambda: services.product_delete(actor=user, product=product),
        lambda: services.store_create(actor=user, code="T", name="t"),
        lambda: services.store_update(actor=user, store=store, name="x"),
        lambda: services.store_delete(actor=user, store=store),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    product.refresh_from_db()
    store.refresh_from_db()
    assert (product.price, store.name, Product.objects.count(), Store.objects.count()) == (
        Decimal("1.00"),
        "s",
        1,
        1,
    )
    # and every signed-in user reads the catalog (the counter needs it)
    assert list(selectors.product_list(actor=user)) == [product]
    assert list(selectors.store_list(actor=user)) == [store]


def test_a_manager_manages_the_catalog_and_deletes_what_was_never_sold(
    make_user: Callable[..., User],
) -> None:
    manager = make_user("manager")
    product = services.product_create(actor=manager, sku="P", name="p", price="1")
    store = services.store_create(actor=manager, code="S", name="s", city="深圳")
    services.product_delete(actor=manager, product=product)
    services.store_delete(actor=manager, store=store)
    assert Product.objects.count() == 0 and Store.objects.count() == 0
    assert AuditEvent.objects.filter(action__in=["product.delete", "store.delete"]).count() == 2


def test_selectors_filter_and_suggest(admin: User) -> None:
    services.product_create(actor=admin, sku="92#", name="92号汽油", category="燃油", unit="升", price="7.89")
    services.product_create(
        actor=admin, sku="WASH", name="洗车", category="服务", unit="桶装", price="35", active=False
    )
    assert [p.sku for p in selectors.product_list(actor=admin, q="汽油")] == ["92#"]
    assert [p.sku for p in selectors.product_list(actor=admin, active=False)] == ["WASH"]
    assert [p.sku for p in selectors.product_list(actor=admin, category="服务")] == ["WASH"]
    assert selectors.product_categories(actor=admin) == ["服务", "燃油"]
    units = selectors.product_units(actor=admin)
    assert units[0] == "升" and units[-1] == "桶装" and units.count("升") == 1
