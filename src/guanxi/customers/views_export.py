"""Downloads of customer lists: the filtered list as CSV or Excel, selected customers or one as vCard."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.permissions import ALL, OWN, scope_of
from guanxi.core.web import requires
from guanxi.customers import selectors
from guanxi.customers.exports import CSV, MAX_VCARD_IDS, VCARD, XLSX, CustomerExport, ExportTooLarge
from guanxi.customers.forms import CustomerFilterForm
from guanxi.users import selectors as user_selectors
from guanxi.users.models import User


def _download(export: CustomerExport) -> HttpResponse:
    # A streamed or file response, which requires() hands back untouched like any other.
    return cast(HttpResponse, export.response())


def _list_export(request: HttpRequest, format: str) -> HttpResponse:
    """The list page's query string read by the list page's own filter form, so both show the same rows."""
    actor = cast(User, request.user)
    scope = scope_of(actor)
    form = CustomerFilterForm(
        request.GET,
        tags=selectors.tag_list(actor=actor),
        users=None if scope == OWN else user_selectors.user_list(actor=actor),
        teams=user_selectors.team_list(actor=actor) if scope == ALL else None,
        definitions=selectors.custom_field_list(actor=actor),
    )
    export = CustomerExport(
        actor=actor, format=format, filters=form.values(), sort=request.GET.get("sort", "newest")
    )
    try:
        return _download(export)
    except ExportTooLarge as exc:  # an XLSX too large to build while the reader waits: back to the list
        messages.warning(request, exc.message)
        return redirect(reverse("customer-list") + "?" + request.GET.urlencode())


@requires("customer.export")
@require_GET
def customer_export_csv(request: HttpRequest) -> HttpResponse:
    return _list_export(request, CSV)


@requires("customer.export")
@require_GET
def customer_export_xlsx(request: HttpRequest) -> HttpResponse:
    """The list as an Excel file, up to XLSX_REQUEST_MAX_ROWS customers; a larger list goes back to the
    list page with a message suggesting CSV, filters or `guanxi export`."""
    return _list_export(request, XLSX)


@requires("customer.export")
@require_POST
def customer_export_vcards(request: HttpRequest) -> HttpResponse:
    """The customers ticked on the list page (`ids`), as one .vcf file."""
    ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()][:MAX_VCARD_IDS]
    if not ids:
        messages.warning(request, _("Select at least one customer first."))
        back = reverse("customer-list")
        query = QueryDict(request.POST.get("next", "")).urlencode()
        return redirect(back + "?" + query if query else back)
    return _download(CustomerExport(actor=cast(User, request.user), format=VCARD, ids=ids))


@requires("customer.export")
@require_GET
def customer_export_vcard(request: HttpRequest, pk: int) -> HttpResponse:
    """One customer (the 360 page's button) as a .vcf file; 404 outside the reader's scope."""
    actor = cast(User, request.user)
    customer = selectors.customer_get(actor=actor, customer_id=pk)
    return _download(CustomerExport(actor=actor, format=VCARD, ids=[customer.pk]))
