"""Customer pages: the list with filters and bulk actions, the create and edit forms, search suggestions."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.core.errors import DomainError, ValidationFailed
from guanxi.core.permissions import ALL, OWN, can, scope_of
from guanxi.core.web import apply_errors, error_page, page_number, paginate, requires
from guanxi.customers import selectors, services
from guanxi.customers.forms import SORT_CHOICES, CustomerFilterForm, CustomerForm
from guanxi.customers.models import Customer
from guanxi.users import selectors as user_selectors
from guanxi.users.models import User

SUGGESTIONS = 8


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _filter_form(request: HttpRequest, actor: User) -> CustomerFilterForm:
    scope = scope_of(actor)
    return CustomerFilterForm(
        request.GET,
        tags=selectors.tag_list(actor=actor),
        users=None if scope == OWN else user_selectors.user_list(actor=actor),
        teams=user_selectors.team_list(actor=actor) if scope == ALL else None,
        definitions=selectors.custom_field_list(actor=actor),
    )


@requires("customer.view")
@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    """Customers in scope, searched, filtered and sorted; an htmx request gets only the results."""
    actor = _actor(request)
    form = _filter_form(request, actor)
    sort = request.GET.get("sort", "newest")
    if sort not in selectors.SORTS:
        sort = "newest"
    window = page_number(request) * settings.GUANXI_PAGE_SIZE + 1
    customers = selectors.customer_list(actor=actor, sort=sort, window=window, **form.values())
    page = paginate(request, customers, settings.GUANXI_PAGE_SIZE)
    may_tag, may_assign = can(actor, "tag.apply"), can(actor, "customer.assign")
    context: dict[str, Any] = {
        "nav": "customers",
        "form": form,
        "page": page,
        "sort": sort,
        "sort_choices": SORT_CHOICES,
        "bulk": may_tag or may_assign,
        "bulk_tags": selectors.tag_list(actor=actor) if may_tag else [],
        "bulk_users": user_selectors.user_list(actor=actor) if may_assign else [],
    }
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        response = render(request, "customers/list.html#results", context)
    else:
        response = render(request, "customers/list.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@requires("customer.view")
@require_POST
def customer_bulk(request: HttpRequest) -> HttpResponse:
    """Tag, untag or assign the selected customers.

    The ids go through the reader's scope first, so a bulk action reaches exactly the customers a single
    one could; the services check the permission and write the audit events.
    """
    actor = _actor(request)
    back = reverse("customer-list")
    query = QueryDict(request.POST.get("next", "")).urlencode()
    if query:
        back += "?" + query
    ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
    action = request.POST.get("action", "")
    if not ids:
        messages.warning(request, _("Select at least one customer first."))
        return redirect(back)
    customers = selectors.customer_scope(actor=actor).filter(pk__in=ids)
    try:
        if action in {"tag", "untag"}:
            tag_id = request.POST.get("tag", "")
            if not tag_id.isdigit():
                messages.warning(request, _("Choose a tag first."))
                return redirect(back)
            tag = selectors.tag_get(actor=actor, tag_id=int(tag_id))
            count = services.customer_tag(actor=actor, customers=customers, tag=tag, add=action == "tag")
            if action == "tag":
                text = ngettext(
                    "%(count)d customer tagged “%(tag)s”.", "%(count)d customers tagged “%(tag)s”.", count
                )
            else:
                text = ngettext(
                    "“%(tag)s” removed from %(count)d customer.",
                    "“%(tag)s” removed from %(count)d customers.",
                    count,
                )
            messages.success(request, text % {"count": count, "tag": tag.name})
        elif action == "assign":
            owner_id = request.POST.get("owner", "")
            if not owner_id.isdigit():
                messages.warning(request, _("Choose an owner first."))
                return redirect(back)
            owner = user_selectors.user_get(actor=actor, user_id=int(owner_id))
            count = services.customer_assign(actor=actor, customers=customers, owner=owner, team=None)
            text = ngettext(
                "%(count)d customer assigned to %(owner)s.",
                "%(count)d customers assigned to %(owner)s.",
                count,
            )
            messages.success(request, text % {"count": count, "owner": owner.display_name})
        else:
            messages.warning(request, _("Choose what to do with the selected customers."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(back)


@requires("customer.view")
@require_GET
def city_options(request: HttpRequest) -> HttpResponse:
    """The cities in the reader's scope, for the city filter's suggestions.

    Loaded when the user opens "More filters", not with every list page: for a reader who sees part of a
    million customers, finding their cities reads all their rows.
    """
    cities = selectors.customer_cities(actor=_actor(request))
    return render(request, "customers/list.html#city-options", {"cities": cities})


@requires("customer.view")
@require_GET
def search_suggest(request: HttpRequest) -> HttpResponse:
    """A few matching customers under the top bar's search box."""
    q = request.GET.get("q", "").strip()
    if len(q) < 1:
        return HttpResponse("")
    customers = list(selectors.customer_list(actor=_actor(request), q=q, window=SUGGESTIONS)[:SUGGESTIONS])
    return render(request, "customers/search_suggest.html", {"q": q, "customers": customers})


def _customer_form(
    request: HttpRequest,
    actor: User,
    *,
    customer: Customer | None = None,
    initial: dict[str, Any] | None = None,
) -> CustomerForm:
    users = None
    if can(actor, "customer.assign"):
        users = user_selectors.user_list(actor=actor, include_inactive=True)
        users = users.filter(Q(is_active=True) | Q(pk=customer.owner_id if customer else None))
    return CustomerForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        tags=selectors.tag_list(actor=actor),
        users=users,
        definitions=selectors.custom_field_list(actor=actor),
        can_manage_tags=can(actor, "tag.manage"),
    )


def _show_error(form: CustomerForm, exc: DomainError) -> int:
    """Put a service's error on the form; returns the status to answer with."""
    if isinstance(exc, ValidationFailed):
        apply_errors(form, exc)
        return 422
    details = exc.details if isinstance(exc.details, dict) else {}
    field = next((name for name in details if name in form.fields), None)
    form.add_error(field, exc.message)
    return exc.status


def _render_form(
    request: HttpRequest, form: CustomerForm, customer: Customer | None, status: int = 200
) -> HttpResponse:
    context = {"nav": "customers", "form": form, "customer": customer}
    return render(request, "customers/form.html", context, status=status)


@requires("customer.create")
@require_http_methods(["GET", "POST"])
def customer_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = _customer_form(request, actor, initial={"owner": actor.pk})
    if request.method != "POST":
        return _render_form(request, form, None)
    if not form.is_valid():
        return _render_form(request, form, None, status=422)
    arguments = form.service_arguments()
    if "owner" in form.fields:
        arguments["owner"] = form.cleaned_data.get("owner")
    try:
        customer = services.customer_create(actor=actor, **arguments)
    except DomainError as exc:
        return _render_form(request, form, None, status=_show_error(form, exc))
    messages.success(request, _("Customer “%(name)s” created.") % {"name": customer.name})
    return redirect("customer-detail", pk=customer.pk)


@requires("customer.change")
@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    customer = selectors.customer_get(actor=actor, customer_id=pk)
    if not customer.clear:
        # An edit form filled with masked values would save the masks: only clear readers edit.
        return error_page(request, 403, _("You are not allowed to do this."))
    form = _customer_form(request, actor, customer=customer, initial=CustomerForm.initial_for(customer))
    if request.method != "POST":
        return _render_form(request, form, customer)
    if not form.is_valid():
        return _render_form(request, form, customer, status=422)
    arguments = form.service_arguments()
    new_owner = form.cleaned_data.get("owner") if "owner" in form.fields else customer.owner
    try:
        with transaction.atomic():
            services.customer_update(actor=actor, customer=customer, **arguments)
            if new_owner != customer.owner:
                services.customer_assign(
                    actor=actor,
                    customers=selectors.customer_scope(actor=actor).filter(pk=customer.pk),
                    owner=new_owner,
                    team=None,
                )
    except DomainError as exc:
        return _render_form(request, form, customer, status=_show_error(form, exc))
    messages.success(request, _("Customer “%(name)s” saved.") % {"name": arguments["name"]})
    return redirect("customer-detail", pk=customer.pk)
