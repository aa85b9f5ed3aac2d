"""Quote pages: the list, a new quote, a quote (the editor while a draft: header, catalogue search, lines
edited inline), its PDF, and what happens to it (send, accept, reject, new version)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.catalog import selectors as catalog_selectors
from guanxi.core.errors import DomainError, NotFound, ValidationFailed
from guanxi.core.http import AuthedRequest
from guanxi.core.permissions import can
from guanxi.core.web import apply_errors, paginate, requires
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import Customer
from guanxi.opportunities.models import Opportunity
from guanxi.quotes import pdf, selectors, services
from guanxi.quotes.forms import LineForm, QuoteFilterForm, QuoteHeaderForm, RejectForm, SendForm
from guanxi.quotes.models import TAX_RATES, Quote

SUGGESTIONS = 8
PRODUCTS = 10
TEMPLATE = "quotes/quote_detail.html"


def is_htmx(request: AuthedRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def header_form(quote: Quote, data: Any = None) -> QuoteHeaderForm:
    contacts = list(quote.customer.contacts.all())
    initial = {
        "title": quote.title,
        "contact": str(quote.contact_id or ""),
        "valid_until": quote.valid_until,
        "notes": quote.notes,
        "terms": quote.terms,
    }
    return QuoteHeaderForm(data, initial=initial, contacts=contacts)


def detail_context(request: AuthedRequest, quote: Quote, **extra: Any) -> dict[str, Any]:
    may_change = can(request.user, "quote.create")
    lines = list(quote.lines.all())
    current = quote.status not in (Quote.Status.ACCEPTED, Quote.Status.SUPERSEDED)
    live = may_change and quote.status in Quote.OPEN_STATUSES
    context: dict[str, Any] = {
        "nav": "quotes",
        "quote": quote,
        "lines": lines,
        "editing": may_change and quote.status == Quote.Status.DRAFT,
        "may_send": live and not quote.is_expired and bool(lines),
        "may_reject": live,
        "may_version": may_change and current,
        "versions": list(selectors.quote_versions(actor=request.user, quote=quote)),
        "reject_form": RejectForm(),
        "tax_rates": TAX_RATES,
    }
    if context["editing"] and "header_form" not in extra:
        context["header_form"] = header_form(quote)
    context.update(extra)
    return context


@requires("quote.view")
@require_GET
def quote_list(request: AuthedRequest) -> HttpResponse:
    form = QuoteFilterForm(request.GET, owners=selectors.quote_owners(actor=request.user))
    values = form.values()
    customer = None
    if values.get("customer_id"):
        customer = customer_selectors.customer_get(actor=request.user, customer_id=values["customer_id"])
    quotes = selectors.quote_list(actor=request.user, **values)
    context = {
        "nav": "quotes",
        "form": form,
        "customer": customer,
        "page": paginate(request, quotes, settings.GUANXI_PAGE_SIZE),
    }
    return render(request, "quotes/quote_list.html", context)


def _chosen_customer(request: AuthedRequest, value: Any) -> Customer | None:
    try:
        return customer_selectors.customer_get(actor=request.user, customer_id=int(value))
    except (NotFound, TypeError, ValueError):
        return None


def _chosen_opportunity(request: AuthedRequest, value: Any) -> Opportunity | None:
    if not str(value or "").isdigit() or not can(request.user, "opportunity.view"):
        return None
    return selectors.opportunity_for_quote(actor=request.user, opportunity_id=int(value))


@requires("quote.create")
@require_http_methods(["GET", "POST"])
def quote_create(request: AuthedRequest) -> HttpResponse:
    """GET: choose the customer (`?customer=`), or come from an opportunity (`?opportunity=`: its
    customer and products). POST: make the draft and open it in the editor."""
    source = request.POST if request.method == "POST" else request.GET
    opportunity = _chosen_opportunity(request, source.get("opportunity"))
    customer = opportunity.customer if opportunity else None
    if customer is None and source.get("customer"):
        customer = _chosen_customer(request, source.get("customer"))
    form = QuoteHeaderForm(
        request.POST if request.method == "POST" else None,
        initial={
            "valid_until": services.default_valid_until(),
            "title": opportunity.name if opportunity else "",
        },
        contacts=list(customer.contacts.all()) if customer else [],
    )
    status = 200
    if request.method == "POST":
        if customer is None:
            form.add_error(None, _("Find the customer and choose them first."))
        elif form.is_valid():
            try:
                quote = services.quote_create(
                    actor=request.user, customer=customer, opportunity=opportunity, **form.service_values()
                )
            except ValidationFailed as exc:
                apply_errors(form, exc)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("quote-detail", quote_id=quote.pk)
        status = 422
    context = {"nav": "quotes", "form": form, "customer": customer, "opportunity": opportunity}
    return render(request, "quotes/quote_create.html", context, status=status)


@requires("quote.create")
@require_GET
def quote_customers(request: AuthedRequest) -> HttpResponse:
    """Customers matching the new-quote page's search: the customer search of the customer list."""
    q = request.GET.get("q", "").strip()
    customers = []
    if q:
        found = customer_selectors.customer_list(actor=request.user, q=q, window=SUGGESTIONS)
        customers = list(found[:SUGGESTIONS])
    return render(request, "quotes/quote_create.html#customer-results", {"q": q, "customers": customers})


@requires("quote.view")
@require_GET
def quote_detail(request: AuthedRequest, quote_id: int) -> HttpResponse:
    quote = selectors.quote_get(actor=request.user, quote_id=quote_id)
    return render(request, "quotes/quote_detail.html", detail_context(request, quote))


@requires("quote.view")
@require_GET
@xframe_options_sameorigin  # the quote page previews it in a frame
def quote_pdf(request: AuthedRequest, quote_id: int) -> HttpResponse:
    """The PDF, shown in the browser; `?download=1` saves it as a file."""
    quote = selectors.quote_get(actor=request.user, quote_id=quote_id)
    response = HttpResponse(pdf.quote_pdf(quote), content_type="application/pdf")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{pdf.filename(quote)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@requires("quote.create")
@require_http_methods(["GET", "POST"])
def quote_send(request: AuthedRequest, quote_id: int) -> HttpResponse:
    """GET: the send form, the address taken from the contact or the customer. POST: send, back to the
    quote."""
    quote = selectors.quote_get(actor=request.user, quote_id=quote_id)
    if request.method != "POST":
        form = SendForm(initial=services.send_defaults(actor=request.user, quote=quote))
        template = "quotes/quote_send.html#send-form" if is_htmx(request) else "quotes/quote_send.html"
        response = render(request, template, {"nav": "quotes", "quote": quote, "form": form})
        patch_vary_headers(response, ("HX-Request",))
        return response
    form = SendForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.quote_send(
                actor=request.user,
                quote=quote,
                to=SendForm.addresses(data["to"]),
                cc=SendForm.addresses(data["cc"]),
                subject=data["subject"],
                body=data["body"],
                idempotency_key=data["idempotency_key"] or None,
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Quote %(reference)s is on its way.") % {"reference": quote.reference}
            )
            return redirect("quote-detail", quote_id=quote.pk)
    return render(
        request, "quotes/quote_send.html", {"nav": "quotes", "quote": quote, "form": form}, status=422
    )


def _act(request: AuthedRequest, quote: Quote, action: Any, done: str, **kwargs: Any) -> HttpResponse:
    try:
        result = action(actor=request.user, quote=quote, **kwargs)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("quote-detail", quote_id=quote.pk)
    messages.success(request, done)
    return redirect("quote-detail", quote_id=result.pk)


@requires("quote.create")
@require_POST
def quote_accept(request: AuthedRequest, quote_id: int) -> HttpResponse:
    quote = selectors.quote_get(actor=request.user, quote_id=quote_id)
    return _act(request, quote, services.quote_accept, _("Accepted: the order is booked."))


@requires("quote.create")
@require_POST
def quote_reject(request: AuthedRequest, quote_id: int) -> HttpResponse:
    quote = selectors.quote_get(actor=request.user, quote_id=quote_id)
    form = RejectForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _act(request, quote, services.quote_reject, _("Marked as rejected."), reason=reason)


@requires("quote.create")
@require_POST
def quote_new_version(request: AuthedRequest, quote_id: int) -> HttpResponse:
    quote = selectors.quote_get(actor=request.user, quote_id=quote_id)
    return _act(request, quote, services.quote_new_version, _("A new version is ready to edit."))


# ---------------------------------------------------------------------------------------------------
# The draft editor: with htmx each action answers with the part of the page it changed (lines and
# totals recomputed by the services, never in the browser); without, it goes back to the quote.


def _lines(
    request: AuthedRequest, quote_id: int, *, errors: dict[int, list[str]] | None = None, status: int = 200
) -> HttpResponse:
    quote = selectors.quote_get(actor=request.user, quote_id=quote_id)
    context = detail_context(request, quote, line_errors=errors or {}, header_form=None)
    return _parts(request, context, "quote-lines", status=status)


def _parts(request: AuthedRequest, context: dict[str, Any], main: str, *, status: int = 200) -> HttpResponse:
    """The changed part, and the actions, details, versions and preview swapped out of band (sending
    needs a line; totals, dates and the PDF follow the change)."""
    html = render_to_string(f"{TEMPLATE}#{main}", context, request)
    for part in ("quote-actions", "quote-side", "quote-preview"):
        html += render_to_string(f"{TEMPLATE}#{part}", {**context, "oob": True}, request)
    response = HttpResponse(html, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _done(request: AuthedRequest, quote_id: int, error: str | None = None) -> HttpResponse:
    if error:
        messages.error(request, error)
    return redirect("quote-detail", quote_id=quote_id)


@requires("quote.create")
@require_POST
def quote_update(request: AuthedRequest, quote_id: int) -> HttpResponse:
    """Save the draft's subject, contact, validity date, notes and terms."""
    quote = selectors.quote_get(actor=request.user, quote_id=quote_id)
    form = header_form(quote, request.POST)
    if form.is_valid():
        try:
            quote = services.quote_update(actor=request.user, quote=quote, **form.service_values())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            if is_htmx(request):
                quote = selectors.quote_get(actor=request.user, quote_id=quote_id)
                context = detail_context(request, quote, header_form=header_form(quote), saved=True)
                return _parts(request, context, "quote-header")
            messages.success(request, _("Saved."))
            return redirect("quote-detail", quote_id=quote_id)
    context = detail_context(request, quote, header_form=form)
    if is_htmx(request):
        return render(request, f"{TEMPLATE}#quote-header", context)
    return render(request, TEMPLATE, context, status=422)


@requires("quote.create")
@require_GET
def quote_products(request: AuthedRequest, quote_id: int) -> HttpResponse:
    """Products for sale matching the editor's search box (SKU, name or category)."""
    quote = selectors.quote_get(actor=request.user, quote_id=quote_id)
    q = request.GET.get("q", "").strip()
    products = []
    if q:
        products = list(catalog_selectors.product_list(actor=request.user, q=q, active=True)[:PRODUCTS])
    return render(request, f"{TEMPLATE}#product-results", {"quote": quote, "q": q, "products": products})


def _line_action(request: AuthedRequest, quote_id: int, action: Any, **kwargs: Any) -> HttpResponse:
    quote: Quote = selectors.quote_get(actor=request.user, quote_id=quote_id)
    line_id = kwargs.get("line")
    try:
        action(actor=request.user, quote=quote, **kwargs)
    except ValidationFailed as exc:
        found = [str(m) for messages_ in exc.details.values() for m in messages_] or [exc.message]
        if not is_htmx(request):
            return _done(request, quote_id, " ".join(found))
        return _lines(request, quote_id, errors={int(line_id or 0): found})
    except DomainError as exc:
        if not is_htmx(request):
            return _done(request, quote_id, exc.message)
        return _lines(request, quote_id, errors={int(line_id or 0): [exc.message]})
    if not is_htmx(request):
        return _done(request, quote_id)
    return _lines(request, quote_id)


@requires("quote.create")
@require_POST
def quote_line_add(request: AuthedRequest, quote_id: int) -> HttpResponse:
    """Add the product chosen in the search (`product`), one of it at its catalogue price."""
    product = request.POST.get("product", "")
    return _line_action(
        request, quote_id, services.quote_line_add, product=product if product.isdigit() else 0
    )


@requires("quote.create")
@require_POST
def quote_line_update(request: AuthedRequest, quote_id: int) -> HttpResponse:
    """Save one line's quantity, unit price, discount or VAT rate (the row's inputs, sent on change)."""
    selectors.quote_get(actor=request.user, quote_id=quote_id)  # NotFound outside the scope, first
    form = LineForm(request.POST)
    if not form.is_valid():
        return _done(request, quote_id, _("This line is not on the quote."))
    changes = form.changes()
    return _line_action(
        request, quote_id, services.quote_line_update, line=form.cleaned_data["line"], **changes
    )


@requires("quote.create")
@require_POST
def quote_line_remove(request: AuthedRequest, quote_id: int) -> HttpResponse:
    line = request.POST.get("line", "")
    return _line_action(
        request, quote_id, services.quote_line_remove, line=int(line) if line.isdigit() else 0
    )
