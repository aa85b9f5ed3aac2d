"""Every write to products and stores. Only `catalog.manage` may change the catalog."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model, ProtectedError
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record, changes_between
from guanxi.catalog.models import Product, Store
from guanxi.catalog.money import MAX_MONEY, NotANumber, places, to_decimal
from guanxi.core.errors import Conflict, Errors
from guanxi.core.permissions import ensure_can
from guanxi.users.models import User

PRODUCT_TEXT = {"sku": 64, "name": 200, "category": 100, "unit": 20}
STORE_TEXT = {"code": 20, "name": 100, "city": 30, "address": 200}


class ProductInUse(Conflict):
    code = "product_in_use"
    default_message = "Orders refer to this product; deactivate it instead."


class StoreInUse(Conflict):
    code = "store_in_use"
    default_message = "Orders refer to this store; deactivate it instead."


def clean_money(value: Any, field: str, errors: Errors, *, required: bool) -> Decimal | None:
    """A price or cost: 0 or more, at most 2 decimal places; None when empty and not required."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.add(field, _("This field is required."))
        return None
    try:
        number = to_decimal(value)
    except NotANumber:
        errors.add(field, _("Enter an amount such as 12.50."))
        return None
    if number < 0:
        errors.add(field, _("Enter an amount of 0 or more."))
    elif number > MAX_MONEY:
        errors.add(field, _("Enter an amount of at most %(max)s.") % {"max": f"{MAX_MONEY:,}"})
    elif places(number) > 2:
        errors.add(field, _("Enter at most 2 decimal places."))
    else:
        return number.quantize(Decimal("0.01"))
    return None


def _texts(fields: dict[str, Any], limits: dict[str, int], errors: Errors) -> dict[str, str]:
    cleaned = {}
    for key, limit in limits.items():
        if key in fields:
            value = " ".join(str(fields[key] or "").split())
            if len(value) > limit:
                errors.add(key, _("Enter at most %(limit)d characters.") % {"limit": limit})
            cleaned[key] = value
    return cleaned


def _unknown(fields: dict[str, Any], allowed: set[str], errors: Errors) -> None:
    for key in sorted(set(fields) - allowed):
        errors.add(key, _("Unknown field."))


def _clean_product(fields: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    errors = Errors()
    _unknown(fields, {*PRODUCT_TEXT, "price", "cost", "active"}, errors)
    cleaned: dict[str, Any] = _texts(fields, PRODUCT_TEXT, errors)
    for key in ("sku", "name"):
        if (creating or key in fields) and not cleaned.get(key):
            errors.add(key, _("This field is required."))
    if creating or "price" in fields:
        cleaned["price"] = clean_money(fields.get("price"), "price", errors, required=True)
    if "cost" in fields:
        cleaned["cost"] = clean_money(fields["cost"], "cost", errors, required=False)
    if "active" in fields:
        cleaned["active"] = bool(fields["active"])
    errors.raise_if_any()
    return cleaned


def _clean_store(fields: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    errors = Errors()
    _unknown(fields, {*STORE_TEXT, "active"}, errors)
    cleaned: dict[str, Any] = _texts(fields, STORE_TEXT, errors)
    for key in ("code", "name"):
        if (creating or key in fields) and not cleaned.get(key):
            errors.add(key, _("This field is required."))
    if "active" in fields:
        cleaned["active"] = bool(fields["active"])
    errors.raise_if_any()
    return cleaned


def _snapshot(instance: Model, keys: list[str]) -> dict[str, Any]:
    return {key: getattr(instance, key) for key in keys}


def _save_unique(instance: Model, field: str, value: str) -> None:
    """Save, turning a clash on the unique `field` (two users at once, or a check that raced) into a 409."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise Conflict(_("“%(value)s” is already taken.") % {"value": value}, details={field: value}) from exc


def _taken(model: type[Product] | type[Store], field: str, value: str, exclude: int | None) -> None:
    others = model.objects.filter(**{field: value})
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if others.exists():
        raise Conflict(_("“%(value)s” is already taken.") % {"value": value}, details={field: value})


@transaction.atomic
def product_create(*, actor: User, **fields: Any) -> Product:
    """Add a product. The SKU is unique; the price is required (0 allowed), the cost optional."""
    ensure_can(actor, "catalog.manage")
    cleaned = _clean_product(fields, creating=True)
    _taken(Product, "sku", cleaned["sku"], None)
    product = Product(**cleaned)
    _save_unique(product, "sku", cleaned["sku"])
    audit_record(actor=actor, action="product.create", target=product, changes=changes_between({}, cleaned))
    return product


@transaction.atomic
def product_update(*, actor: User, product: Product, **fields: Any) -> Product:
    ensure_can(actor, "catalog.manage")
    product = Product.objects.select_for_update().get(pk=product.pk)
    cleaned = _clean_product(fields, creating=False)
    if "sku" in cleaned:
        _taken(Product, "sku", cleaned["sku"], product.pk)
    before = _snapshot(product, list(cleaned))
    for key, value in cleaned.items():
        setattr(product, key, value)
    changes = changes_between(before, cleaned)
    if changes:
        _save_unique(product, "sku", product.sku)
        audit_record(actor=actor, action="product.update", target=product, changes=changes)
    return product


@transaction.atomic
def product_delete(*, actor: User, product: Product) -> None:
    """Delete a product no order refers to; one that was sold can only be deactivated."""
    ensure_can(actor, "catalog.manage")
    snapshot = _snapshot(product, [*PRODUCT_TEXT, "price", "cost", "active"])
    # Written first, while the product still has its id; a refused delete rolls it back with the rest.
    audit_record(
        actor=actor,
        action="product.delete",
        target=product,
        changes=changes_between(snapshot, dict.fromkeys(snapshot)),
    )
    try:
        product.delete()
    except ProtectedError as exc:
        raise ProductInUse(_("Orders refer to this product; deactivate it instead.")) from exc


@transaction.atomic
def store_create(*, actor: User, **fields: Any) -> Store:
    """Add a store. The code is unique (a short label such as NS01)."""
    ensure_can(actor, "catalog.manage")
    cleaned = _clean_store(fields, creating=True)
    _taken(Store, "code", cleaned["code"], None)
    store = Store(**cleaned)
    _save_unique(store, "code", cleaned["code"])
    audit_record(actor=actor, action="store.create", target=store, changes=changes_between({}, cleaned))
    return store


@transaction.atomic
def store_update(*, actor: User, store: Store, **fields: Any) -> Store:
    ensure_can(actor, "catalog.manage")
    store = Store.objects.select_for_update().get(pk=store.pk)
    cleaned = _clean_store(fields, creating=False)
    if "code" in cleaned:
        _taken(Store, "code", cleaned["code"], store.pk)
    before = _snapshot(store, list(cleaned))
    for key, value in cleaned.items():
        setattr(store, key, value)
    changes = changes_between(before, cleaned)
    if changes:
        _save_unique(store, "code", store.code)
        audit_record(actor=actor, action="store.update", target=store, changes=changes)
    return store


@transaction.atomic
def store_delete(*, actor: User, store: Store) -> None:
    """Delete a store no order refers to; one with orders can only be deactivated."""
    ensure_can(actor, "catalog.manage")
    snapshot = _snapshot(store, [*STORE_TEXT, "active"])
    audit_record(
        actor=actor,
        action="store.delete",
        target=store,
        changes=changes_between(snapshot, dict.fromkeys(snapshot)),
    )
    try:
        store.delete()
    except ProtectedError as exc:
        raise StoreInUse(_("Orders refer to this store; deactivate it instead.")) from exc
