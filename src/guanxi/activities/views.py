"""Activity pages: the list (mine or all I may see, by type, time and customer), and changing or deleting
one activity. Logging happens on the customer 360 page (customers.views_detail.activity_log) and through
the API."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from guanxi.activities import selectors, services
from guanxi.activities.forms import KIND_LABELS, ActivityEditForm, ActivityFilterForm
from guanxi.activities.models import Activity
from guanxi.core.errors import DomainError, PermissionDenied
from guanxi.core.http import AuthedRequest
from guanxi.core.permissions import ALL, OWN, TEAM, scope_of
from guanxi.core.web import apply_errors, paginate, requires
from guanxi.customers import selectors as customer_selectors


def _back(request: AuthedRequest, activity: Activity) -> str:
    """Where to go after a change: `next` when it is on this site, else the customer's timeline."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}):
        return wanted
    if activity.customer_id:
        return reverse("customer-detail", args=[activity.customer_id]) + "#timeline"
    return reverse("activity-list")


@requires("activity.view")
@require_GET
def activity_list(request: AuthedRequest) -> HttpResponse:
    labels = {OWN: _("Mine and my customers'"), TEAM: _("My team's"), ALL: _("Everyone's")}
    form = ActivityFilterForm(request.GET, all_label=labels[scope_of(request.user)])
    values = form.values(user_id=request.user.pk)
    customer = None
    if values.get("customer_id"):
        customer = customer_selectors.customer_get(actor=request.user, customer_id=values["customer_id"])
    activities = selectors.activity_list(actor=request.user, **values)
    page = paginate(request, activities, settings.GUANXI_PAGE_SIZE)
    for activity in page.items:
        activity.may_change = selectors.activity_may_change(actor=request.user, owner_id=activity.owner_id)
        activity.kind_label = KIND_LABELS.get(activity.kind, activity.kind)
    context = {"nav": "activities", "form": form, "page": page, "customer": customer}
    return render(request, "activities/list.html", context)


def _edit_page(
    request: AuthedRequest, activity: Activity, form: ActivityEditForm, status: int = 200
) -> HttpResponse:
    context = {"nav": "activities", "activity": activity, "form": form, "next": _back(request, activity)}
    return render(request, "activities/edit.html", context, status=status)


@requires("activity.create")
@require_http_methods(["GET", "POST"])
def activity_edit(request: AuthedRequest, activity_id: int) -> HttpResponse:
    """GET: the activity as a form. POST: save it (its timeline entry follows)."""
    activity = selectors.activity_get(actor=request.user, activity_id=activity_id)
    if not selectors.activity_may_change(actor=request.user, owner_id=activity.owner_id):
        raise PermissionDenied(_("Only the person who logged this activity, or a manager, may change it."))
    if request.method != "POST":
        return _edit_page(request, activity, ActivityEditForm.for_activity(activity))
    form = ActivityEditForm.for_activity(activity, request.POST)
    if form.is_valid():
        try:
            services.activity_update(actor=request.user, activity=activity, **form.service_kwargs(activity))
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Activity saved."))
            return redirect(_back(request, activity))
    return _edit_page(request, activity, form, status=422)


@requires("activity.create")
@require_http_methods(["GET", "POST"])
def activity_delete(request: AuthedRequest, activity_id: int) -> HttpResponse:
    """GET asks first; POST deletes the activity and its timeline entry."""
    activity = selectors.activity_get(actor=request.user, activity_id=activity_id)
    if not selectors.activity_may_change(actor=request.user, owner_id=activity.owner_id):
        raise PermissionDenied(_("Only the person who logged this activity, or a manager, may delete it."))
    back = _back(request, activity)
    if request.method != "POST":
        context: dict[str, Any] = {"nav": "activities", "activity": activity, "next": back}
        return render(request, "activities/delete.html", context)
    services.activity_delete(actor=request.user, activity=activity)
    messages.success(request, _("Activity deleted."))
    if back.startswith(reverse("activity-edit", args=[activity_id])):
        back = reverse("activity-list")
    return redirect(back)
