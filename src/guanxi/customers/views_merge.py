"""The duplicate finder and the merge screen.

The finder lists likely pairs (customers.duplicates.duplicate_pairs) with their score and reasons; the
merge screen shows two customers side by side, one radio per differing field, and what moves, then calls
customers.services.customer_merge. With htmx the finder pages in place and the merge form answers with
itself (errors) or an HX-Redirect to the survivor; without, plain pages and redirects.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.core.errors import DomainError, ValidationFailed
from guanxi.core.http import AuthedRequest
from guanxi.core.permissions import can
from guanxi.core.web import apply_errors, page_number, requires
from guanxi.customers import duplicates, selectors, services
from guanxi.customers.forms_merge import A, B, MergeForm, pick_name
from guanxi.customers.models import Customer
from guanxi.customers.services.merge import CUSTOM_PREFIX, merge_value_fields

PER_PAGE = 25
MOVED_LABELS = {
    "phones": gettext_lazy("Phones"),
    "emails": gettext_lazy("Emails"),
    "contacts": gettext_lazy("Contacts"),
    "assets": gettext_lazy("Assets"),
    "consents": gettext_lazy("Consent records"),
    "timeline": gettext_lazy("Timeline entries"),
    "tags": gettext_lazy("Tags"),
}


def _is_htmx(request: AuthedRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


@requires("customer.merge")
def duplicate_list(request: AuthedRequest) -> HttpResponse:
    number = page_number(request)
    page = duplicates.duplicate_pairs(actor=request.user, limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
    context = {
        "nav": "duplicates",
        "pairs": page.items,
        "page_number": number,
        "has_previous": number > 1,
        "has_next": page.next_offset is not None,
        # None: no run has looked yet (say so, rather than "no duplicates"); a time: the last run's.
        "searched_at": selectors.duplicates_searched_at(actor=request.user),
        "may_refresh": can(request.user, "customer.merge"),
    }
    if _is_htmx(request):
        return render(request, "customers/duplicates.html#duplicate-table", context)
    return render(request, "customers/duplicates.html", context)


@requires("customer.merge")
@require_POST
def duplicate_refresh(request: AuthedRequest) -> HttpResponse:
    """ "Find again": queue a background run; the pairs change when it is done."""
    duplicates.customer_duplicates_refresh_request(actor=request.user)
    messages.success(request, _("Looking for duplicates again. Reload this page in a minute."))
    return redirect("customer-duplicates")


def _display(customer: Customer, field: str) -> str:
    """A field's value as the merge screen shows it to this reader (personal data masked as elsewhere)."""
    if field.startswith(CUSTOM_PREFIX):
        key = field.removeprefix(CUSTOM_PREFIX)
        value = (customer.custom_fields or {}).get(key)
        return "" if value in (None, "") else str(value)
    if field == "owner":
        return customer.owner.display_name if customer.owner else ""
    if field == "team":
        return customer.team.name if customer.team else ""
    if field == "wechat_id":
        return customer.display_wechat_id
    if field == "street":
        return customer.display_street
    if field == "birthday":
        return customer.display_birthday
    if field in ("kind", "gender", "source", "stage"):
        return str(getattr(customer, f"get_{field}_display")())
    return str(getattr(customer, field) or "")


def _label(field: str, definitions: dict[str, Any]) -> str:
    if field.startswith(CUSTOM_PREFIX):
        definition = definitions.get(field.removeprefix(CUSTOM_PREFIX))
        return definition.label if definition else field.removeprefix(CUSTOM_PREFIX)
    return str(capfirst(getattr(Customer._meta.get_field(field), "verbose_name", field)))


def _rows(request: AuthedRequest, a: Customer, b: Customer, form: MergeForm | None) -> list[dict[str, Any]]:
    """One row per differing field: both values and the side picked (default: the non-empty, else newer)."""
    fields = selectors.custom_field_list(actor=request.user, include_inactive=True)
    definitions = {d.key: d for d in fields}
    newer = B if b.updated_at >= a.updated_at else A
    rows = []
    for field in merge_value_fields(a, b):
        value_a, value_b = _display(a, field), _display(b, field)
        default = newer if value_a and value_b else (A if value_a else B)
        side = form.data.get(pick_name(field), default) if form is not None and form.is_bound else default
        rows.append(
            {
                "field": field,
                "name": pick_name(field),
                "label": _label(field, definitions),
                "a": value_a,
                "b": value_b,
                "side": side,
            }
        )
    return rows


def _merge_context(
    request: AuthedRequest, a: Customer, b: Customer, form: MergeForm | None = None
) -> dict[str, Any]:
    counts = duplicates.customer_merge_counts(actor=request.user, customers=[a, b])
    survivor = form.data.get("survivor", A) if form is not None and form.is_bound else A
    return {
        "nav": "duplicates",
        "a": a,
        "b": b,
        "form": form,
        "survivor": survivor,
        "rows": _rows(request, a, b, form),
        "moves": [
            {"label": label, "a": counts[a.pk][key], "b": counts[b.pk][key]}
            for key, label in MOVED_LABELS.items()
        ],
    }


def _pick_page(request: AuthedRequest, message: str = "", status: int = 200) -> HttpResponse:
    """The merge screen without two customers: a form asking for their ids."""
    context = {
        "nav": "duplicates",
        "pick": True,
        "error": message,
        "a_id": request.GET.get("a", ""),
        "b_id": request.GET.get("b", ""),
    }
    return render(request, "customers/merge.html", context, status=status)


@requires("customer.merge")
def customer_merge(request: AuthedRequest) -> HttpResponse:
    """GET ?a=&b= shows both customers side by side; POST merges them."""
    params = request.POST if request.method == "POST" else request.GET
    a_id, b_id = _int(params.get("a")), _int(params.get("b"))
    if a_id is None or b_id is None:
        message = _("Choose two customers to merge.") if params.get("a") or params.get("b") else ""
        return _pick_page(request, message, status=400 if message else 200)
    if a_id == b_id:
        return _pick_page(request, _("A customer cannot be merged with itself."), status=400)
    a = selectors.customer_get(actor=request.user, customer_id=a_id)
    b = selectors.customer_get(actor=request.user, customer_id=b_id)
    fields = merge_value_fields(a, b)
    if request.method != "POST":
        return render(request, "customers/merge.html", _merge_context(request, a, b))
    form = MergeForm(request.POST, fields=fields)
    if form.is_valid():
        survivor, other, choose = form.choose(a, b)
        try:
            kept = services.customer_merge(actor=request.user, survivor=survivor, other=other, choose=choose)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except DomainError as exc:  # a conflict or a record gone meanwhile: say so on the form
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Merged “%(other)s” into “%(survivor)s”.") % {"other": other.name, "survivor": kept.name},
            )
            target = reverse("customer-detail", args=[kept.pk])
            if _is_htmx(request):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = target
                return response
            return redirect(target)
    context = _merge_context(request, a, b, form)
    template = "customers/merge.html#merge-form" if _is_htmx(request) else "customers/merge.html"
    return render(request, template, context, status=422)
