"""Product and store endpoints: thin shells over catalog.selectors and catalog.services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from ninja import Query, Router, Schema, Status

from guanxi.catalog import selectors, services
from guanxi.catalog.schemas import (
    ProductIn,
    ProductOut,
    ProductPage,
    ProductPatch,
    StoreIn,
    StoreOut,
    StorePage,
    StorePatch,
)
from guanxi.core.http import ApiRequest

router = Router(tags=["catalog"])
MAX_OFFSET = 1_000_000_000


class ProductFilters(Schema):
    q: str = ""
    category: str = ""
    active: bool | None = None
    limit: int = 50
    offset: int = 0


class StoreFilters(Schema):
    q: str = ""
    active: bool | None = None
    limit: int = 50
    offset: int = 0


def _page(rows: Any, limit: int, offset: int) -> dict[str, Any]:
    limit = max(1, min(limit, settings.GUANXI_API_MAX_LIMIT))
    offset = max(0, min(offset, MAX_OFFSET))
    items = list(rows[offset : offset + limit + 1])
    return {
        "items": items[:limit],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if len(items) > limit else None,
    }


@router.get("/products", response=ProductPage, summary="List products")
def product_list(request: ApiRequest, filters: Query[ProductFilters]) -> dict[str, Any]:
    """`q` matches the SKU, name or category; any signed-in user may read the catalog."""
    products = selectors.product_list(
        actor=request.auth, q=filters.q, category=filters.category, active=filters.active
    )
    return _page(products, filters.limit, filters.offset)


@router.post("/products", response={201: ProductOut}, summary="Create a product")
def product_create(request: ApiRequest, payload: ProductIn) -> Status[Any]:
    return Status(201, services.product_create(actor=request.auth, **payload.model_dump()))


@router.get("/products/{product_id}", response=ProductOut, summary="One product")
def product_get(request: ApiRequest, product_id: int) -> Any:
    return selectors.product_get(actor=request.auth, product_id=product_id)


@router.patch("/products/{product_id}", response=ProductOut, summary="Change a product")
def product_update(request: ApiRequest, product_id: int, payload: ProductPatch) -> Any:
    product = selectors.product_get(actor=request.auth, product_id=product_id)
    return services.product_update(
        actor=request.auth, product=product, **payload.model_dump(exclude_unset=True)
    )


@router.delete("/products/{product_id}", response={204: None}, summary="Delete a product never sold")
def product_delete(request: ApiRequest, product_id: int) -> Status[None]:
    """A product that orders refer to answers 409 `product_in_use`: deactivate it instead."""
    product = selectors.product_get(actor=request.auth, product_id=product_id)
    services.product_delete(actor=request.auth, product=product)
    return Status(204, None)


@router.get("/stores", response=StorePage, summary="List stores")
def store_list(request: ApiRequest, filters: Query[StoreFilters]) -> dict[str, Any]:
    stores = selectors.store_list(actor=request.auth, q=filters.q, active=filters.active)
    return _page(stores, filters.limit, filters.offset)


@router.post("/stores", response={201: StoreOut}, summary="Create a store")
def store_create(request: ApiRequest, payload: StoreIn) -> Status[Any]:
    return Status(201, services.store_create(actor=request.auth, **payload.model_dump()))


@router.get("/stores/{store_id}", response=StoreOut, summary="One store")
def store_get(request: ApiRequest, store_id: int) -> Any:
    return selectors.store_get(actor=request.auth, store_id=store_id)


@router.patch("/stores/{store_id}", response=StoreOut, summary="Change a store")
def store_update(request: ApiRequest, store_id: int, payload: StorePatch) -> Any:
    store = selectors.store_get(actor=request.auth, store_id=store_id)
    return services.store_update(actor=request.auth, store=store, **payload.model_dump(exclude_unset=True))


@router.delete("/stores/{store_id}", response={204: None}, summary="Delete a store without orders")
def store_delete(request: ApiRequest, store_id: int) -> Status[None]:
    """A store that orders refer to answers 409 `store_in_use`: deactivate it instead."""
    store = selectors.store_get(actor=request.auth, store_id=store_id)
    services.store_delete(actor=request.auth, store=store)
    return Status(204, None)
