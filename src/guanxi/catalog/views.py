"""Catalog pages: products and stores, listed, created and edited by those with `catalog.manage`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from guanxi.catalog import selectors, services
from guanxi.catalog.forms import CatalogFilterForm, ProductForm, StoreForm
from guanxi.catalog.models import Product, Store
from guanxi.core.errors import DomainError
from guanxi.core.http import AuthedRequest
from guanxi.core.web import apply_errors, paginate, requires


def _save(form: Form, action: Any) -> Any:
    """Run the service with the parsed form; its errors land on the form (None when it failed)."""
    if not form.is_valid():
        return None
    try:
        return action()
    except DomainError as exc:
        apply_errors(form, exc)
        return None


@requires("catalog.manage")
@require_GET
def product_list(request: AuthedRequest) -> HttpResponse:
    categories = selectors.product_categories(actor=request.user)
    form = CatalogFilterForm(request.GET, categories=categories)
    products = selectors.product_list(actor=request.user, **form.values())
    context = {
        "nav": "products",
        "form": form,
        "page": paginate(request, products, settings.GUANXI_PAGE_SIZE),
        "filtered": any(request.GET.get(key) for key in ("q", "active", "category")),
    }
    return render(request, "catalog/product_list.html", context)


def _product_page(
    request: AuthedRequest, form: ProductForm, product: Product | None, status: int = 200
) -> HttpResponse:
    context = {
        "nav": "products",
        "form": form,
        "product": product,
        "categories": selectors.product_categories(actor=request.user),
        "units": selectors.product_units(actor=request.user),
    }
    return render(request, "catalog/product_form.html", context, status=status)


@requires("catalog.manage")
@require_http_methods(["GET", "POST"])
def product_create(request: AuthedRequest) -> HttpResponse:
    if request.method != "POST":
        return _product_page(request, ProductForm(), None)
    form = ProductForm(request.POST)
    product = _save(form, lambda: services.product_create(actor=request.user, **form.cleaned_data))
    if product is None:
        return _product_page(request, form, None, status=422)
    messages.success(request, _("Product “%(name)s” created.") % {"name": product.name})
    return redirect("product-list")


@requires("catalog.manage")
@require_http_methods(["GET", "POST"])
def product_edit(request: AuthedRequest, product_id: int) -> HttpResponse:
    product = selectors.product_get(actor=request.user, product_id=product_id)
    if request.method != "POST":
        initial = {name: getattr(product, name) for name in ProductForm.base_fields}
        return _product_page(request, ProductForm(initial=initial), product)
    form = ProductForm(request.POST)
    saved = _save(
        form, lambda: services.product_update(actor=request.user, product=product, **form.cleaned_data)
    )
    if saved is None:
        return _product_page(request, form, product, status=422)
    messages.success(request, _("Product “%(name)s” saved.") % {"name": saved.name})
    return redirect("product-list")


@requires("catalog.manage")
@require_GET
def store_list(request: AuthedRequest) -> HttpResponse:
    form = CatalogFilterForm(request.GET)
    stores = selectors.store_list(actor=request.user, **form.values())
    context = {
        "nav": "stores",
        "form": form,
        "page": paginate(request, stores, settings.GUANXI_PAGE_SIZE),
        "filtered": any(request.GET.get(key) for key in ("q", "active")),
    }
    return render(request, "catalog/store_list.html", context)


def _store_page(
    request: AuthedRequest, form: StoreForm, store: Store | None, status: int = 200
) -> HttpResponse:
    return render(
        request, "catalog/store_form.html", {"nav": "stores", "form": form, "store": store}, status=status
    )


@requires("catalog.manage")
@require_http_methods(["GET", "POST"])
def store_create(request: AuthedRequest) -> HttpResponse:
    if request.method != "POST":
        return _store_page(request, StoreForm(), None)
    form = StoreForm(request.POST)
    store = _save(form, lambda: services.store_create(actor=request.user, **form.cleaned_data))
    if store is None:
        return _store_page(request, form, None, status=422)
    messages.success(request, _("Store “%(name)s” created.") % {"name": store.name})
    return redirect("store-list")


@requires("catalog.manage")
@require_http_methods(["GET", "POST"])
def store_edit(request: AuthedRequest, store_id: int) -> HttpResponse:
    store = selectors.store_get(actor=request.user, store_id=store_id)
    if request.method != "POST":
        initial = {name: getattr(store, name) for name in StoreForm.base_fields}
        return _store_page(request, StoreForm(initial=initial), store)
    form = StoreForm(request.POST)
    saved = _save(form, lambda: services.store_update(actor=request.user, store=store, **form.cleaned_data))
    if saved is None:
        return _store_page(request, form, store, status=422)
    messages.success(request, _("Store “%(name)s” saved.") % {"name": saved.name})
    return redirect("store-list")
