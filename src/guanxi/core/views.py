from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth.views import LoginView, LogoutView
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from guanxi.core.permissions import can
from guanxi.core.web import public, requires
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import Customer

if TYPE_CHECKING:
    from guanxi.users.models import User

RECENT = 8


@public
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the app and its database answer; 503 when the database does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means "not healthy"
        return JsonResponse({"status": "error", "database": str(exc.__class__.__name__)}, status=503)
    return JsonResponse({"status": "ok", "database": connection.vendor})


@requires(None)
def home(request: HttpRequest) -> HttpResponse:
    """Greeting, a few figures about the customers in the reader's scope, the latest changed, quick links."""
    actor = cast("User", request.user)
    context: dict[str, Any] = {"nav": "home", "greeting": _greeting(actor)}
    if can(actor, "customer.view"):
        counts = customer_selectors.customer_stage_counts(actor=actor)
        month_start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        labels = dict(Customer.Stage.choices)
        context.update(
            total=sum(counts.values()),
            new_this_month=customer_selectors.customer_new_count(actor=actor, since=month_start),
            stages=[{"stage": stage, "label": labels[stage], "count": counts[stage]} for stage in labels],
            at_risk=counts.get(Customer.Stage.AT_RISK, 0),
            recent=list(customer_selectors.customer_list(actor=actor, sort="updated")[:RECENT]),
        )
    return render(request, "core/home.html", context)


def _greeting(actor: User) -> str:
    hour = timezone.localtime().hour
    if hour < 5 or hour >= 18:
        text = _("Good evening, %(name)s")
    elif hour < 12:
        text = _("Good morning, %(name)s")
    else:
        text = _("Good afternoon, %(name)s")
    return text % {"name": actor.display_name}


class _LoginView(LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True


login = public(cast(Callable[..., HttpResponse], _LoginView.as_view()))
logout = public(cast(Callable[..., HttpResponse], LogoutView.as_view()))
