"""Reads of products and stores. The catalog holds no personal data: every signed-in user may read it
(the counter needs the products and stores); changing it takes `catalog.manage`."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from guanxi.catalog.models import UNIT_SUGGESTIONS, Product, Store
from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.users.models import User


def _ensure_reader(actor: User) -> None:
    if not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        raise PermissionDenied()


def product_list(
    *, actor: User, q: str = "", category: str = "", active: bool | None = None
) -> QuerySet[Product]:
    """Products by category and name; `q` matches the SKU, name or category, ignoring case."""
    _ensure_reader(actor)
    products = Product.objects.all()
    if q.strip():
        term = q.strip()
        products = products.filter(
            Q(sku__icontains=term) | Q(name__icontains=term) | Q(category__icontains=term)
        )
    if category:
        products = products.filter(category=category)
    if active is not None:
        products = products.filter(active=active)
    return products.order_by("category", "name", "id")


def product_get(*, actor: User, product_id: int) -> Product:
    _ensure_reader(actor)
    try:
        return Product.objects.get(pk=product_id)
    except (Product.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound(_("Product not found.")) from exc


def product_categories(*, actor: User) -> list[str]:
    _ensure_reader(actor)
    rows = Product.objects.exclude(category="").order_by("category").values_list("category", flat=True)
    return list(rows.distinct())


def product_units(*, actor: User) -> list[str]:
    """The usual units first, then any other unit a product uses."""
    _ensure_reader(actor)
    used = Product.objects.exclude(unit="").order_by("unit").values_list("unit", flat=True).distinct()
    return [*UNIT_SUGGESTIONS, *(unit for unit in used if unit not in UNIT_SUGGESTIONS)]


def store_list(*, actor: User, q: str = "", active: bool | None = None) -> QuerySet[Store]:
    _ensure_reader(actor)
    stores = Store.objects.all()
    if q.strip():
        term = q.strip()
        stores = stores.filter(Q(code__icontains=term) | Q(name__icontains=term) | Q(city__icontains=term))
    if active is not None:
        stores = stores.filter(active=active)
    return stores.order_by("code", "id")


def store_get(*, actor: User, store_id: int) -> Store:
    _ensure_reader(actor)
    try:
        return Store.objects.get(pk=store_id)
    except (Store.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound(_("Store not found.")) from exc
