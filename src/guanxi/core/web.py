"""What every page view shares: access rules the permission-matrix test can read, and error mapping."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from guanxi.core.errors import DomainError, NotFound
from guanxi.core.permissions import can

V = TypeVar("V", bound=Callable[..., HttpResponse])


def requires(permission: str | None) -> Callable[[V], V]:
    """Sign-in required, and `permission` when given (None: any signed-in user).

    The rule is kept on the view as `guanxi_access`, which the permission-matrix test reads for every URL.
    Domain errors raised below become the matching error page (403, 404, …).
    """

    def decorate(view: V) -> V:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if permission and not can(request.user, permission):
                return error_page(request, 403, _("You are not allowed to do this."))
            try:
                return view(request, *args, **kwargs)
            except DomainError as exc:
                return error_page(request, exc.status, exc.message)

        wrapper.guanxi_access = permission or "signed-in"  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def public(view: V) -> V:
    """A page anyone may open (login, health check)."""
    view.guanxi_access = "public"  # type: ignore[attr-defined]
    return view


def error_page(request: HttpRequest, status: int, message: str) -> HttpResponse:
    titles = {403: _("Not allowed"), 404: _("Not found"), 409: _("Conflict")}
    return render(
        request,
        "error.html",
        {"status": status, "title": titles.get(status, _("Something went wrong")), "message": message},
        status=status,
    )


def apply_errors(form: Form, exc: DomainError) -> None:
    """Show a service's validation errors on the form fields they name; the rest on the form."""
    details = exc.details if isinstance(exc.details, dict) else {}
    placed = False
    for field, messages in details.items():
        name = field if field in form.fields else field.replace("custom_fields.", "cf_")
        if not isinstance(messages, list):  # a Conflict names the clashing value, not a message
            messages = [exc.message]
        for message in messages:
            if name in form.fields:
                form.add_error(name, str(message))
                placed = True
    if not placed:
        form.add_error(None, exc.message)


@dataclass
class PageSlice:
    """One page of a list, not counting it all: at a million rows a count costs more than the page."""

    items: list[Any]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def page_number(request: HttpRequest) -> int:
    """The page a list request asks for (`?page=`), 1 when it names none or nonsense."""
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def paginate(request: HttpRequest, items: Any, per_page: int) -> PageSlice:
    number = page_number(request)
    start = (number - 1) * per_page
    rows = list(items[start : start + per_page + 1])
    return PageSlice(items=rows[:per_page], number=number, has_next=len(rows) > per_page)


def not_found() -> NotFound:
    return NotFound(_("Not found."))
