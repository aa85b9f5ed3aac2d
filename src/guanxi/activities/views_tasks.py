"""Task pages: "my day", a task and its form, the calendar and its feed, the bell, follow-up rules."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.activities import calendar as cal
from guanxi.activities import selectors_tasks as selectors
from guanxi.activities import services_tasks as services
from guanxi.activities.forms_tasks import KEEP, AssigneeFilterForm, CompleteForm, TaskForm
from guanxi.activities.models import Task
from guanxi.core.errors import DomainError, NotFound, ValidationFailed
from guanxi.core.http import AuthedRequest
from guanxi.core.permissions import can
from guanxi.core.web import apply_errors, public, requires
from guanxi.customers import selectors as customer_selectors
from guanxi.users.models import User

PAGE = "activities/tasks/my_day.html"
CALENDAR = "activities/tasks/calendar.html"
FEED_TOKEN_SESSION = "activities.feed_token"


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _vary(response: HttpResponse) -> HttpResponse:
    patch_vary_headers(response, ("HX-Request",))
    return response


def _users(request: AuthedRequest) -> list[User]:
    return list(selectors.assignable_users(actor=request.user))


def _assignee(request: AuthedRequest, users: list[User]) -> tuple[AssigneeFilterForm, User | None]:
    """The assignee chosen in `?assignee=` (one the reader may look at), or None for the reader."""
    form = AssigneeFilterForm(request.GET, users=users)
    if form.is_valid() and form.cleaned_data["assignee"]:
        chosen = next((u for u in users if u.pk == form.cleaned_data["assignee"]), None)
        if chosen is not None and chosen.pk != request.user.pk:
            return form, chosen
    return AssigneeFilterForm(users=users), None


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


# ---------------------------------------------------------------------------------------------------
# My day


@requires("activity.view")
@require_GET
def task_my_day(request: AuthedRequest) -> HttpResponse:
    """Overdue, today, the next 7 days and done today, for the reader or (a manager) a team member."""
    users = _users(request)
    form, assignee = _assignee(request, users)
    day = selectors.my_day(actor=request.user, assignee_id=assignee.pk if assignee else None)
    context = {
        "nav": "tasks",
        "day": day,
        "form": form,
        "assignee": assignee,
        "show_filter": len(users) > 1,
        "may_write": can(request.user, "activity.create"),
        "sections": [
            ("overdue", _("Overdue"), day.overdue),
            ("today", _("Today"), day.today),
            ("upcoming", _("Next 7 days"), day.upcoming),
            ("done", _("Done today"), day.done_today),
        ],
    }
    template = f"{PAGE}#my-day" if _is_htmx(request) else PAGE
    return _vary(render(request, template, context))


# ---------------------------------------------------------------------------------------------------
# A task: create, show, edit, complete, reopen, cancel


def _links(request: AuthedRequest, form: TaskForm) -> dict[str, Any]:
    """The customer, opportunity and lead the form names, each in the reader's scope (else left out)."""
    found: dict[str, Any] = {}
    source = form.cleaned_data if hasattr(form, "cleaned_data") else {}
    for kind in ("customer", "opportunity", "lead"):
        value = source.get(kind) if source else (form.data.get(kind) or form.initial.get(kind))
        if value:
            try:
                found[kind] = selectors.link_get(actor=request.user, kind=kind, pk=value)
            except NotFound:
                form.add_error(None, _("The linked record was not found."))
    return found


def _form_page(request: AuthedRequest, form: TaskForm, task: Task | None, status: int = 200) -> HttpResponse:
    links: dict[str, Any] = {}
    for kind in ("customer", "opportunity", "lead"):
        value = form.data.get(kind) if form.is_bound else form.initial.get(kind)
        if value:
            with contextlib.suppress(NotFound):
                links[kind] = selectors.link_get(actor=request.user, kind=kind, pk=value)
    context = {"nav": "tasks", "form": form, "task": task, "links": links}
    return render(request, "activities/tasks/task_form.html", context, status=status)


def _save(request: AuthedRequest, form: TaskForm, task: Task | None) -> Task | None:
    """Create or change the task from a valid form; None (and errors on the form) when refused."""
    data = form.cleaned_data
    links = _links(request, form)
    if form.errors:
        return None
    users = {user.pk: user for user in _users(request)}
    fields: dict[str, Any] = {
        "title": data["title"],
        "description": data["description"],
        "due_at": data["due_at"],
        "duration_minutes": data["duration_minutes"],
        "priority": data["priority"],
        "assignee": users.get(data["assignee"]),
        "customer": links.get("customer"),
        "opportunity": links.get("opportunity"),
        "lead": links.get("lead"),
    }
    remind_at = form.remind_at()
    if remind_at != KEEP:
        fields["remind_at"] = remind_at
    try:
        if task is None:
            return services.task_create(actor=request.user, **fields)
        return services.task_update(actor=request.user, task=task, **fields)
    except ValidationFailed as exc:
        apply_errors(form, exc)
    except DomainError as exc:
        form.add_error(None, exc.message)
    return None


@requires("activity.create")
@require_http_methods(["GET", "POST"])
def task_create(request: AuthedRequest) -> HttpResponse:
    """GET: the form (`?customer=`, `?opportunity=`, `?lead=` link it already). POST: create."""
    users = _users(request)
    if request.method != "POST":
        now = timezone.localtime()
        due = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        initial: dict[str, Any] = {"assignee": request.user.pk, "due_at": due, "remind": "0"}
        for kind in ("customer", "opportunity", "lead"):
            if request.GET.get(kind, "").isdigit():
                initial[kind] = int(request.GET[kind])
        return _form_page(request, TaskForm(initial=initial, users=users), None)
    form = TaskForm(request.POST, users=users)
    if form.is_valid():
        task = _save(request, form, None)
        if task is not None:
            messages.success(request, _("Task “%(title)s” created.") % {"title": task.title})
            return redirect(_next(request, reverse("task-detail", args=[task.pk])))
    return _form_page(request, form, None, status=422)


@requires("activity.view")
@require_GET
def task_detail(request: AuthedRequest, task_id: int) -> HttpResponse:
    task = selectors.task_get(actor=request.user, task_id=task_id)
    context = {
        "nav": "tasks",
        "task": task,
        "may_write": can(request.user, "activity.create"),
        "complete_form": CompleteForm(),
    }
    return render(request, "activities/tasks/task_detail.html", context)


@requires("activity.create")
@require_http_methods(["GET", "POST"])
def task_edit(request: AuthedRequest, task_id: int) -> HttpResponse:
    task = selectors.task_get(actor=request.user, task_id=task_id)
    users = _users(request)
    if task.assignee not in users:
        users.append(task.assignee)  # an administrator's task seen by its assignee's manager
    if request.method != "POST":
        return _form_page(request, TaskForm(initial=TaskForm.initial_for(task), users=users, task=task), task)
    form = TaskForm(request.POST, users=users, task=task)
    if form.is_valid():
        saved = _save(request, form, task)
        if saved is not None:
            messages.success(request, _("Task saved."))
            return redirect("task-detail", task_id=saved.pk)
    return _form_page(request, form, task, status=422)


def _after_change(request: AuthedRequest, task: Task, message: str) -> HttpResponse:
    """htmx: the task's row again (on "my day" it then shows done); otherwise back where it came from."""
    if _is_htmx(request):
        context = {"task": task, "may_write": True, "now": timezone.now()}
        return _vary(render(request, "activities/tasks/_task_row.html", context))
    messages.success(request, message)
    return redirect(_next(request, reverse("task-detail", args=[task.pk])))


def _refused(request: AuthedRequest, task: Task, exc: DomainError) -> HttpResponse:
    if _is_htmx(request):
        # htmx swaps 2xx only: show the row as it is now, with the reason.
        fresh = selectors.task_get(actor=request.user, task_id=task.pk)
        context = {"task": fresh, "may_write": True, "now": timezone.now(), "error": exc.message}
        return _vary(render(request, "activities/tasks/_task_row.html", context))
    messages.error(request, exc.message)
    return redirect(_next(request, reverse("task-detail", args=[task.pk])))


@requires("activity.create")
@require_POST
def task_complete(request: AuthedRequest, task_id: int) -> HttpResponse:
    task = selectors.task_get(actor=request.user, task_id=task_id)
    form = CompleteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        task = services.task_complete(actor=request.user, task=task, note=note)
    except DomainError as exc:
        return _refused(request, task, exc)
    task = selectors.task_get(actor=request.user, task_id=task.pk)
    return _after_change(request, task, _("Task done."))


@requires("activity.create")
@require_POST
def task_reopen(request: AuthedRequest, task_id: int) -> HttpResponse:
    task = selectors.task_get(actor=request.user, task_id=task_id)
    try:
        task = services.task_reopen(actor=request.user, task=task)
    except DomainError as exc:
        return _refused(request, task, exc)
    task = selectors.task_get(actor=request.user, task_id=task.pk)
    return _after_change(request, task, _("Task opened again."))


@requires("activity.create")
@require_POST
def task_cancel(request: AuthedRequest, task_id: int) -> HttpResponse:
    task = selectors.task_get(actor=request.user, task_id=task_id)
    try:
        task = services.task_cancel(actor=request.user, task=task)
    except DomainError as exc:
        return _refused(request, task, exc)
    task = selectors.task_get(actor=request.user, task_id=task.pk)
    return _after_change(request, task, _("Task cancelled."))


@requires("activity.view")
@require_GET
def task_customer_card(request: AuthedRequest, customer_id: int) -> HttpResponse:
    """The customer's open tasks, as a card for the 360 page (loaded there with htmx)."""
    customer = customer_selectors.customer_scope(actor=request.user).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("Customer not found."))
    context = {
        "customer": customer,
        "tasks": selectors.customer_open_tasks(actor=request.user, customer=customer),
        "may_write": can(request.user, "activity.create"),
        "now": timezone.now(),
    }
    return render(request, "activities/tasks/_customer_tasks.html", context)


@requires("activity.create")
@require_GET
def task_links(request: AuthedRequest) -> HttpResponse:
    """The task form's link search: customers, opportunities and leads matching `q`."""
    q = request.GET.get("q", "").strip()
    found = selectors.link_search(actor=request.user, q=q)
    return render(request, "activities/tasks/task_form.html#link-results", {"q": q, **found})


# ---------------------------------------------------------------------------------------------------
# Calendar


def _parse_day(text: str, default: date) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return default


@requires("activity.view")
@require_GET
def calendar(request: AuthedRequest) -> HttpResponse:
    """The month (or `?view=week`) around `?date=`, with the tasks due in it; htmx moves between them."""
    users = _users(request)
    form, assignee = _assignee(request, users)
    today = timezone.localdate()
    shown = _parse_day(request.GET.get("date", ""), today)
    view = "week" if request.GET.get("view") == "week" else "month"
    if view == "week":
        start = cal.week_start(shown)
        end = start + timedelta(days=7)
        previous, following = start - timedelta(days=7), start + timedelta(days=7)
        month = None
    else:
        first = cal.month_start(shown)
        start, end = cal.month_range(first)
        previous, following = cal.add_months(first, -1), cal.add_months(first, 1)
        month = first.month
    tasks = selectors.calendar_tasks(
        actor=request.user,
        start=cal.local_midnight(start),
        end=cal.local_midnight(end),
        assignee_id=assignee.pk if assignee else None,
    )
    feed = selectors.calendar_feed_get(actor=request.user)
    token = request.session.pop(FEED_TOKEN_SESSION, None)
    context = {
        "nav": "calendar",
        "view": view,
        "shown": shown,
        "first": cal.month_start(shown),
        "week_start": start,
        "week_end": end - timedelta(days=1),
        "previous": previous,
        "following": following,
        "today": today,
        "now": timezone.now(),
        "weeks": cal.grid(start, end, tasks, month=month, today=today),
        "form": form,
        "assignee": assignee,
        "show_filter": len(users) > 1,
        "feed": feed,
        "feed_url": request.build_absolute_uri(reverse("calendar-feed", args=[token])) if token else "",
    }
    template = f"{CALENDAR}#calendar" if _is_htmx(request) else CALENDAR
    return _vary(render(request, template, context))


@requires("activity.view")
@require_POST
def calendar_feed_reset(request: AuthedRequest) -> HttpResponse:
    """A new secret address for the reader's feed; the old one stops working. Shown once."""
    request.session[FEED_TOKEN_SESSION] = services.calendar_feed_reset(actor=request.user)
    return redirect(reverse("calendar") + "#feed")


@requires("activity.view")
@require_POST
def calendar_feed_delete(request: AuthedRequest) -> HttpResponse:
    services.calendar_feed_delete(actor=request.user)
    messages.success(request, _("The calendar feed is off; its address no longer works."))
    return redirect(reverse("calendar") + "#feed")


@public
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCalendar feed of the user whose secret token is in the address (no sign-in: calendars
    cannot sign in). An unknown or reset token answers 404."""
    feed = selectors.calendar_feed_by_token(token=token)
    if feed is None:
        return HttpResponse(status=404, content_type="text/plain; charset=utf-8")
    services.calendar_feed_touch(feed=feed)
    user = feed.user
    tasks = selectors.feed_tasks(user=user)
    body = cal.feed_calendar(
        tasks,
        name=_("Guanxi tasks: %(name)s") % {"name": user.display_name},
        uid_domain=request.get_host().split(":")[0] or "guanxi",
        url_for=lambda task: request.build_absolute_uri(reverse("task-detail", args=[task.pk])),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="guanxi-tasks.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response
