"""Lead pages: the list, the new-lead page, and the public web form that other websites embed.

The public form (docs/adr/0008-public-lead-form.md) answers without sign-in, may be framed by any site,
and is protected without cookies: a honeypot field, a signed timestamp (not faster than MIN_SECONDS, not
older than MAX_AGE), a per-address rate limit in Django's cache and length limits. A site's own HTML form
may post without the token when its origin is listed on the web form.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from guanxi.catalog import selectors as catalog_selectors
from guanxi.core.errors import DomainError, NotFound, ValidationFailed
from guanxi.core.http import AuthedRequest
from guanxi.core.permissions import can
from guanxi.core.web import apply_errors, paginate, public, requires
from guanxi.leads import selectors, services
from guanxi.leads.forms import RULES, LeadCreateForm, LeadFilterForm, PublicLeadForm
from guanxi.leads.models import LeadForm

log = logging.getLogger(__name__)

TOKEN_SALT = "guanxi.leads.public-form"
MIN_SECONDS = 3.0  # a person needs longer than this to fill in a form
MAX_AGE = 24 * 3600  # a form page left open longer than a day is sent again with a fresh token
MAX_BODY = 16 * 1024
RATE_LIMIT = 5  # posts per address per window (setting GUANXI_LEAD_FORM_RATE_LIMIT)
RATE_WINDOW = 600  # seconds (setting GUANXI_LEAD_FORM_RATE_WINDOW)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


@requires("lead.view")
@require_http_methods(["GET"])
def lead_list(request: AuthedRequest) -> HttpResponse:
    users = list(selectors.lead_owner_choices(actor=request.user))
    form = LeadFilterForm(request.GET, users=users)
    values = form.values()
    leads = selectors.lead_list(actor=request.user, **values)
    context = {
        "nav": "leads",
        "form": form,
        "page": paginate(request, leads, settings.GUANXI_PAGE_SIZE),
        "counts": selectors.lead_status_counts(actor=request.user),
        "status": values.get("status", ""),
        "mine": values.get("mine", False),
    }
    template = "leads/lead_list.html#results" if _is_htmx(request) else "leads/lead_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@requires("lead.create")
@require_http_methods(["GET", "POST"])
def lead_create(request: AuthedRequest) -> HttpResponse:
    """A lead entered by hand. An assigner chooses the owner or lets the rules decide; a rep owns it."""
    stores = list(catalog_selectors.store_list(actor=request.user, active=True))
    users = (
        list(selectors.lead_owner_choices(actor=request.user)) if can(request.user, "lead.assign") else None
    )
    if request.method != "POST":
        initial = {"owner": RULES} if users is not None else {}
        form = LeadCreateForm(initial=initial, stores=stores, users=users)
        return render(request, "leads/lead_form.html", {"nav": "leads", "form": form})
    form = LeadCreateForm(request.POST, stores=stores, users=users)
    if form.is_valid():
        owner_key = form.cleaned_data.get("owner") or RULES
        owner = next((u for u in users or [] if str(u.pk) == owner_key), None)
        try:
            lead = services.lead_create(
                actor=request.user, store=form.chosen_store(), owner=owner, **form.fields_for_service()
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            try:
                selectors.lead_get(actor=request.user, lead_id=lead.pk)
            except NotFound:
                messages.info(
                    request,
                    _("%(name)s is already a colleague's lead (#%(id)s); what you entered was added to it.")
                    % {"name": lead.name, "id": lead.pk},
                )
                return redirect("lead-list")
            if lead.merged:
                messages.info(
                    request,
                    _("%(name)s was a lead already; what you entered was added to it.") % {"name": lead.name},
                )
            else:
                messages.success(request, _("Lead %(name)s saved.") % {"name": lead.name})
            return redirect("lead-detail", lead_id=lead.pk)
    return render(request, "leads/lead_form.html", {"nav": "leads", "form": form}, status=422)


# ---------------------------------------------------------------------------------------------------
# The public web form


def _token(web_form: LeadForm) -> str:
    return signing.dumps({"f": web_form.pk, "t": time.time()}, salt=TOKEN_SALT, compress=False)


def _token_problem(token: str, web_form: LeadForm) -> str | None:
    """Why this token may not post to this form, or None when it may."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=MAX_AGE)
    except signing.SignatureExpired:
        return _("This page was open for a long time. Please send the form again.")
    except signing.BadSignature:
        return _("This form could not be checked. Please send it again.")
    if not isinstance(data, dict) or data.get("f") != web_form.pk:
        return _("This form could not be checked. Please send it again.")
    age = time.time() - float(data.get("t", 0))
    if age > MAX_AGE:
        return _("This page was open for a long time. Please send the form again.")
    if age < MIN_SECONDS:
        return _("That was quick! Please check your details and send the form again.")
    return None


def _origin(request: HttpRequest) -> str:
    raw = request.headers.get("Origin") or request.headers.get("Referer") or ""
    parts = urlsplit(raw)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def _outside_page(request: HttpRequest, url: str) -> str:
    """`url` when it is a web page of another site (where the form was embedded or linked from)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc == request.get_host():
        return ""
    return url[:500]


def _client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _rate_limited(request: HttpRequest) -> bool:
    """True once this address sent more than RATE_LIMIT posts in RATE_WINDOW seconds (any form)."""
    limit = int(getattr(settings, "GUANXI_LEAD_FORM_RATE_LIMIT", RATE_LIMIT))
    window = int(getattr(settings, "GUANXI_LEAD_FORM_RATE_WINDOW", RATE_WINDOW))
    key = f"guanxi:leads:form-posts:{_client_address(request)}"
    cache.add(key, 0, window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        count = 1
    return count > limit


def _public_page(
    request: HttpRequest,
    web_form: LeadForm,
    form: PublicLeadForm | None,
    *,
    status: int = 200,
    problem: str = "",
) -> HttpResponse:
    context = {"web_form": web_form, "form": form, "token": _token(web_form), "problem": problem}
    return render(request, "leads/public_form.html", context, status=status)


def _thanks(request: HttpRequest, web_form: LeadForm) -> HttpResponse:
    target = str(request.POST.get("next") or "")
    parts = urlsplit(target)
    if parts.scheme in ("http", "https") and f"{parts.scheme}://{parts.netloc}".lower() in web_form.origins:
        return HttpResponseRedirect(target, status=303)
    return render(request, "leads/public_form.html", {"web_form": web_form, "done": True})


@public
@csrf_exempt  # no cookies in a third-party iframe: the signed timestamp and the checks below stand in
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def lead_public_form(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: the form. POST: checks, then a lead (or a merge into the open lead of the same person)."""
    try:
        web_form = selectors.form_public(slug=slug)
    except NotFound:
        return render(request, "leads/public_form.html", {"missing": True}, status=404)
    if request.method != "POST":
        embedder = _outside_page(request, request.headers.get("Referer") or "")
        return _public_page(request, web_form, PublicLeadForm(initial={"page": embedder}, web_form=web_form))
    if len(request.body) > MAX_BODY:
        return _public_page(request, web_form, None, status=413, problem=_("This is too long to send."))
    if _rate_limited(request):
        log.info("lead form %s: rate limit for %s", web_form.slug, _client_address(request))
        return _public_page(
            request,
            web_form,
            None,
            status=429,
            problem=_("Too many forms were sent from here. Please try again later."),
        )
    form = PublicLeadForm(request.POST, web_form=web_form)
    if request.POST.get("website"):
        log.info("lead form %s: honeypot filled from %s", web_form.slug, _client_address(request))
        return _thanks(request, web_form)  # a bot learns nothing
    token = str(request.POST.get("token") or "")
    if token:
        problem = _token_problem(token, web_form)
    elif _origin(request) and _origin(request) in web_form.origins:
        problem = None  # the site's own HTML form, from a listed origin
    else:
        problem = _("This form could not be checked. Please send it again.")
    if problem:
        return _public_page(request, web_form, form, status=400, problem=problem)
    if not form.is_valid():
        return _public_page(request, web_form, form, status=422)
    page = form.cleaned_data.get("page") or _outside_page(request, request.headers.get("Referer") or "")
    try:
        services.lead_capture_web(
            form=web_form, fields=form.cleaned_data, extra={"page": page} if page else {}
        )
    except ValidationFailed as exc:
        for field, problems in (exc.details or {}).items():
            for message in problems if isinstance(problems, list) else [exc.message]:
                form.add_error(field if field in form.fields else None, str(message))
        return _public_page(request, web_form, form, status=422)
    except NotFound:
        return render(request, "leads/public_form.html", {"missing": True}, status=404)
    return _thanks(request, web_form)
