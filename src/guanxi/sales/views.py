"""Sales pages: the counter (book an order in seconds), the order list and an order with its refunds."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.catalog import selectors as catalog_selectors
from guanxi.catalog.models import Product, Store
from guanxi.core.errors import DomainError, NotFound, ValidationFailed
from guanxi.core.http import AuthedRequest
from guanxi.core.permissions import can
from guanxi.core.web import apply_errors, paginate, requires
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import Customer
from guanxi.sales import selectors, services
from guanxi.sales.forms import CounterForm, OrderFilterForm, RefundForm
from guanxi.sales.models import Order

COUNTER = "sales/counter.html"
SUGGESTIONS = 8
# The counter remembers the store and payment method of each user's last order in the session.
REMEMBER = "sales.counter"


def _is_htmx(request: AuthedRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _active_stores(request: AuthedRequest) -> list[Store]:
    return list(catalog_selectors.store_list(actor=request.user, active=True))


def _products(request: AuthedRequest) -> list[Product]:
    return list(catalog_selectors.product_list(actor=request.user, active=True))


def _counter_customer(request: AuthedRequest, customer_id: Any) -> Customer | None:
    """The customer for the counter's chip (phones, plates, purchase summary), or None."""
    try:
        customer = customer_selectors.customer_get(actor=request.user, customer_id=int(customer_id))
    except (NotFound, TypeError, ValueError):
        return None
    return customer


def _chip_context(request: AuthedRequest, customer: Customer | None) -> dict[str, Any]:
    if customer is None:
        return {"customer": None}
    return {
        "customer": customer,
        "summary": selectors.customer_purchase_summary(actor=request.user, customer=customer),
    }


def _counter_page(
    request: AuthedRequest,
    form: CounterForm,
    *,
    customer: Customer | None = None,
    rows: list[dict[str, str]] | None = None,
    row_errors: dict[int, list[str]] | None = None,
    saved: Order | None = None,
    status: int = 200,
) -> HttpResponse:
    errors = row_errors or {}
    rows = rows or []
    context = {
        "nav": "counter",
        "form": form,
        "products": _products(request),
        "rows": [{**row, "errors": errors.get(i, [])} for i, row in enumerate(rows)],
        "saved": saved,
        **_chip_context(request, customer),
    }
    # htmx swaps only 2xx answers: a form with errors goes back to it as 200, to a plain POST as 422.
    template, status = (f"{COUNTER}#counter", 200) if _is_htmx(request) else (COUNTER, status)
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _fresh_form(request: AuthedRequest, stores: list[Store], **initial: Any) -> CounterForm:
    remembered = request.session.get(REMEMBER, {})
    store_ids = {str(store.pk) for store in stores}
    defaults: dict[str, Any] = {"payment_method": remembered.get("payment_method", Order.PaymentMethod.CASH)}
    if str(remembered.get("store", "")) in store_ids:
        defaults["store"] = str(remembered["store"])
    elif len(stores) == 1:
        defaults["store"] = str(stores[0].pk)
    return CounterForm(initial={**defaults, **initial}, stores=stores)


def _line_errors(exc: ValidationFailed) -> tuple[dict[int, list[str]], list[str]]:
    """The service's `lines.N.field` messages by row, and those about the lines as a whole."""
    by_row: dict[int, list[str]] = {}
    general: list[str] = []
    details = exc.details if isinstance(exc.details, dict) else {}
    for key, messages_ in details.items():
        if key == "lines":
            general += [str(m) for m in messages_]
        elif key.startswith("lines."):
            index = key.split(".")[1]
            if index.isdigit():
                by_row.setdefault(int(index), []).extend(str(m) for m in messages_)
    return by_row, general


@requires("order.create")
@require_http_methods(["GET", "POST"])
def counter(request: AuthedRequest) -> HttpResponse:
    """GET: the counter, ready (with `?customer=` chosen already). POST: book, then show the
    confirmation and a fresh form; with htmx only the counter's card is swapped."""
    stores = _active_stores(request)
    if request.method != "POST":
        customer = (
            _counter_customer(request, request.GET.get("customer")) if request.GET.get("customer") else None
        )
        saved = None
        if request.GET.get("saved", "").isdigit():
            try:
                saved = selectors.order_get(actor=request.user, order_id=int(request.GET["saved"]))
                saved.replayed = request.GET.get("replayed") == "1"
            except NotFound:
                saved = None
        form = _fresh_form(request, stores, customer=customer.pk if customer else None)
        return _counter_page(request, form, customer=customer, saved=saved)

    form = CounterForm(request.POST, stores=stores)
    rows = CounterForm.posted_lines(request.POST)
    customer = (
        _counter_customer(request, request.POST.get("customer")) if request.POST.get("customer") else None
    )
    if not form.is_valid():
        return _counter_page(request, form, customer=customer, rows=rows, status=422)
    if customer is None:
        form.add_error("customer", _("Find the customer and choose them first."))
        return _counter_page(request, form, rows=rows, status=422)
    data = form.cleaned_data
    store = next((s for s in stores if str(s.pk) == data["store"]), None)
    try:
        order = services.order_create(
            actor=request.user,
            customer=customer,
            amount=None if rows else data["amount"],
            lines=rows,
            store=store,
            ordered_at=data["ordered_at"],
            channel=data["channel"],
            payment_method=data["payment_method"],
            note=data["note"],
            external_ref=data["external_ref"],
            idempotency_key=data["idempotency_key"] or None,
        )
    except ValidationFailed as exc:
        apply_errors(form, exc)
        by_row, general = _line_errors(exc)
        for message in general:
            form.add_error(None, message)
        return _counter_page(request, form, customer=customer, rows=rows, row_errors=by_row, status=422)
    except DomainError as exc:
        form.add_error(None, exc.message)
        return _counter_page(request, form, customer=customer, rows=rows, status=exc.status)
    request.session[REMEMBER] = {"store": store.pk if store else None, "payment_method": order.payment_method}
    if not _is_htmx(request):
        query = f"?saved={order.pk}" + ("&replayed=1" if order.replayed else "")
        return redirect(reverse("order-counter") + query)
    saved = selectors.order_get(actor=request.user, order_id=order.pk)
    saved.replayed = order.replayed
    return _counter_page(request, _fresh_form(request, stores), saved=saved)


@requires("order.create")
@require_GET
def counter_customers(request: AuthedRequest) -> HttpResponse:
    """Customers matching the counter's search box: the customer search (name, pinyin, initials, phone
    digits, plate) of the customer list, shown as choices with their phone and plates."""
    q = request.GET.get("q", "").strip()
    if not q:
        return HttpResponse("")
    customers = list(
        customer_selectors.customer_list(actor=request.user, q=q, window=SUGGESTIONS).prefetch_related(
            "assets"
        )[:SUGGESTIONS]
    )
    return render(request, "sales/counter.html#counter-results", {"q": q, "customers": customers})


@requires("order.create")
@require_GET
def counter_customer(request: AuthedRequest, customer_id: int) -> HttpResponse:
    """The chosen customer's chip: name, phone, plates, lifetime spend and last purchase."""
    customer = customer_selectors.customer_get(actor=request.user, customer_id=customer_id)
    return render(request, "sales/counter.html#counter-chip", _chip_context(request, customer))


@requires("order.view")
@require_GET
def order_list(request: AuthedRequest) -> HttpResponse:
    stores = list(catalog_selectors.store_list(actor=request.user))
    form = OrderFilterForm(request.GET, stores=stores)
    values = form.values()
    customer = None
    if values.get("customer_id"):
        customer = customer_selectors.customer_get(actor=request.user, customer_id=values["customer_id"])
    orders = selectors.order_list(actor=request.user, **values)
    # Totals for a date range or one customer: an aggregate over all orders would read them all.
    totals = selectors.order_totals(orders=orders) if form.dated or customer else None
    context = {
        "nav": "orders",
        "form": form,
        "page": paginate(request, orders, settings.GUANXI_PAGE_SIZE),
        "customer": customer,
        "totals": totals,
    }
    return render(request, "sales/order_list.html", context)


def _detail(
    request: AuthedRequest, order: Order, refund_form: RefundForm | None = None, status: int = 200
) -> HttpResponse:
    may_refund = can(request.user, "order.refund") and order.net_total > 0
    context = {
        "nav": "orders",
        "order": order,
        "refund_form": (refund_form or RefundForm()) if may_refund else None,
    }
    return render(request, "sales/order_detail.html", context, status=status)


@requires("order.view")
@require_GET
def order_detail(request: AuthedRequest, order_id: int) -> HttpResponse:
    return _detail(request, selectors.order_get(actor=request.user, order_id=order_id))


@requires("order.refund")
@require_POST
def order_refund(request: AuthedRequest, order_id: int) -> HttpResponse:
    order = selectors.order_get(actor=request.user, order_id=order_id)
    form = RefundForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            refund = services.order_refund(
                actor=request.user,
                order=order,
                amount=data["amount"],
                reason=data["reason"],
                idempotency_key=data["idempotency_key"] or None,
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Refunded %(amount)s of order #%(id)s.")
                % {"amount": f"¥{refund.amount:,.2f}", "id": order.pk},
            )
            return redirect("order-detail", order_id=order.pk)
    return _detail(request, order, form, status=422)
