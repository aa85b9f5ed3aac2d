"""The outbox page: every email queued, its state, and "retry now" for those that failed."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.channels import selectors, services
from guanxi.channels.forms import OutboxFilterForm
from guanxi.core.errors import DomainError
from guanxi.core.http import AuthedRequest
from guanxi.core.web import paginate, requires


@requires("email.view")
@require_GET
def outbox(request: AuthedRequest) -> HttpResponse:
    form = OutboxFilterForm(request.GET)
    emails = selectors.email_list(actor=request.user, **form.values())
    context = {
        "nav": "outbox",
        "form": form,
        "page": paginate(request, emails, settings.GUANXI_PAGE_SIZE),
    }
    return render(request, "channels/outbox.html", context)


@requires("email.view")
@require_GET
def outbox_detail(request: AuthedRequest, message_id: int) -> HttpResponse:
    message = selectors.email_get(actor=request.user, message_id=message_id)
    context = {
        "nav": "outbox",
        "message": message,
        "attachments": selectors.email_attachments(message=message),
        "retryable": services.email_retryable(message),
        "max_attempts": services.MAX_ATTEMPTS,
    }
    return render(request, "channels/outbox_detail.html", context)


@requires("email.view")
@require_POST
def outbox_retry(request: AuthedRequest, message_id: int) -> HttpResponse:
    message = selectors.email_get(actor=request.user, message_id=message_id)
    try:
        services.email_retry(actor=request.user, message=message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The email is queued again and will be sent in a moment."))
    return redirect("outbox-detail", message_id=message.pk)
