"""The bell: a user's notifications (task reminders), its count in the top bar, marking them read."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from guanxi.activities import selectors_tasks as selectors
from guanxi.activities import services_tasks as services
from guanxi.core.http import AuthedRequest
from guanxi.core.web import paginate, requires

PAGE_SIZE = 30


def _bell(request: AuthedRequest) -> HttpResponse:
    latest = list(selectors.notification_list(actor=request.user)[: selectors.BELL_LIMIT])
    context = {"unread": selectors.notification_unread_count(actor=request.user), "latest": latest}
    return render(request, "activities/tasks/_bell_menu.html", context)


@requires(None)
@require_GET
def notification_bell(request: AuthedRequest) -> HttpResponse:
    """The bell with the unread count and the latest few (loaded by htmx into every page's top bar)."""
    return _bell(request)


@requires(None)
@require_GET
def notification_list(request: AuthedRequest) -> HttpResponse:
    notes = selectors.notification_list(actor=request.user, unread=request.GET.get("unread") == "1")
    context = {
        "nav": "notifications",
        "page": paginate(request, notes, PAGE_SIZE),
        "unread_only": request.GET.get("unread") == "1",
        "unread": selectors.notification_unread_count(actor=request.user),
    }
    return render(request, "activities/tasks/notifications.html", context)


@requires(None)
@require_POST
def notification_open(request: AuthedRequest, notification_id: int) -> HttpResponse:
    """Mark one notification read and go where it points."""
    note = selectors.notification_get(actor=request.user, notification_id=notification_id)
    services.notification_mark_read(actor=request.user, ids=[note.pk])
    target = note.link if note.link and url_has_allowed_host_and_scheme(note.link, allowed_hosts=None) else ""
    return redirect(target or reverse("notification-list"))


@requires(None)
@require_POST
def notification_read_all(request: AuthedRequest) -> HttpResponse:
    services.notification_mark_read(actor=request.user)
    if getattr(request, "htmx", False):
        return _bell(request)
    return redirect("notification-list")
