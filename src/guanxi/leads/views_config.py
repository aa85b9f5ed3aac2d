"""Setting up how leads arrive (`lead.assign`): the assignment rules and the public web forms with their
embed snippets."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guanxi.catalog import selectors as catalog_selectors
from guanxi.core.errors import DomainError, ValidationFailed
from guanxi.core.http import AuthedRequest
from guanxi.core.web import apply_errors, requires
from guanxi.leads import selectors, services
from guanxi.leads.forms_config import RuleForm, WebFormForm
from guanxi.leads.models import LeadAssignmentRule, LeadForm
from guanxi.users import selectors as user_selectors


def _rule_form(request: AuthedRequest, data: Any = None, **kwargs: Any) -> RuleForm:
    return RuleForm(
        data,
        stores=list(catalog_selectors.store_list(actor=request.user, active=True)),
        teams=list(user_selectors.team_list(actor=request.user)),
        users=list(selectors.lead_owner_choices(actor=request.user)),
        **kwargs,
    )


def _rules_page(
    request: AuthedRequest, form: RuleForm, *, editing: LeadAssignmentRule | None = None, status: int = 200
) -> HttpResponse:
    rules = list(selectors.rule_list(actor=request.user))
    sizes = selectors.rule_team_sizes(actor=request.user, team_ids=[r.team_id for r in rules if r.team_id])
    context = {"nav": "lead-rules", "rules": rules, "sizes": sizes, "form": form, "editing": editing}
    return render(request, "leads/rules.html", context, status=status)


def _save_rule(request: AuthedRequest, form: RuleForm, rule: LeadAssignmentRule | None) -> bool:
    if not form.is_valid():
        return False
    try:
        if rule is None:
            services.rule_create(actor=request.user, **form.values())
        else:
            services.rule_update(actor=request.user, rule=rule, **form.values())
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return False
    except DomainError as exc:
        form.add_error(None, exc.message)
        return False
    return True


@requires("lead.assign")
@require_http_methods(["GET", "POST"])
def rule_list(request: AuthedRequest) -> HttpResponse:
    """The rules in order, and a form for a new one."""
    if request.method != "POST":
        return _rules_page(request, _rule_form(request))
    form = _rule_form(request, request.POST)
    if _save_rule(request, form, None):
        messages.success(request, _("Rule added."))
        return redirect("lead-rules")
    return _rules_page(request, form, status=422)


@requires("lead.assign")
@require_http_methods(["GET", "POST"])
def rule_edit(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = selectors.rule_get(actor=request.user, rule_id=rule_id)
    if request.method != "POST":
        return _rules_page(request, _rule_form(request, initial=RuleForm.initial_from(rule)), editing=rule)
    form = _rule_form(request, request.POST)
    if _save_rule(request, form, rule):
        messages.success(request, _("Rule saved."))
        return redirect("lead-rules")
    return _rules_page(request, form, editing=rule, status=422)


@requires("lead.assign")
@require_POST
def rule_move(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = selectors.rule_get(actor=request.user, rule_id=rule_id)
    services.rule_move(actor=request.user, rule=rule, up=request.POST.get("direction") != "down")
    return redirect("lead-rules")


@requires("lead.assign")
@require_POST
def rule_delete(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = selectors.rule_get(actor=request.user, rule_id=rule_id)
    services.rule_delete(actor=request.user, rule=rule)
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": rule.name})
    return redirect("lead-rules")


# ---------------------------------------------------------------------------------------------------
# Web forms


def _web_form_form(request: AuthedRequest, data: Any = None, **kwargs: Any) -> WebFormForm:
    return WebFormForm(
        data,
        stores=list(catalog_selectors.store_list(actor=request.user, active=True)),
        teams=list(user_selectors.team_list(actor=request.user)),
        **kwargs,
    )


def _public_url(request: AuthedRequest, web_form: LeadForm) -> str:
    return request.build_absolute_uri(reverse("lead-public-form", args=[web_form.slug]))


def _forms_page(
    request: AuthedRequest, form: WebFormForm, *, editing: LeadForm | None = None, status: int = 200
) -> HttpResponse:
    web_forms = list(selectors.form_list(actor=request.user))
    for web_form in web_forms:
        web_form.public_url = _public_url(request, web_form)  # type: ignore[attr-defined]
    context = {"nav": "lead-forms", "web_forms": web_forms, "form": form, "editing": editing}
    if editing is not None:
        context["public_url"] = _public_url(request, editing)
    return render(request, "leads/web_forms.html", context, status=status)


def _save_web_form(request: AuthedRequest, form: WebFormForm, web_form: LeadForm | None) -> LeadForm | None:
    if not form.is_valid():
        return None
    try:
        if web_form is None:
            return services.form_create(actor=request.user, **form.values())
        return services.form_update(actor=request.user, form=web_form, **form.values())
    except ValidationFailed as exc:
        if "fields" in exc.details:
            exc.details["shown_fields"] = exc.details.pop("fields")
        apply_errors(form, exc)
    except DomainError as exc:
        if "slug" in (exc.details or {}):
            form.add_error("slug", exc.message)
        else:
            form.add_error(None, exc.message)
    return None


@requires("lead.assign")
@require_http_methods(["GET", "POST"])
def form_list(request: AuthedRequest) -> HttpResponse:
    """The web forms with their addresses and lead counts, and a form for a new one."""
    if request.method != "POST":
        return _forms_page(request, _web_form_form(request))
    form = _web_form_form(request, request.POST)
    saved = _save_web_form(request, form, None)
    if saved is not None:
        messages.success(
            request, _("Form “%(title)s” created; embed it with the snippet below.") % {"title": saved.title}
        )
        return redirect("lead-form-edit", form_id=saved.pk)
    return _forms_page(request, form, status=422)


@requires("lead.assign")
@require_http_methods(["GET", "POST"])
def form_edit(request: AuthedRequest, form_id: int) -> HttpResponse:
    """One web form: its settings and the snippets to embed it."""
    web_form = selectors.form_get(actor=request.user, form_id=form_id)
    if request.method != "POST":
        return _forms_page(
            request, _web_form_form(request, initial=WebFormForm.initial_from(web_form)), editing=web_form
        )
    form = _web_form_form(request, request.POST)
    if _save_web_form(request, form, web_form) is not None:
        messages.success(request, _("Form saved."))
        return redirect("lead-form-edit", form_id=web_form.pk)
    return _forms_page(request, form, editing=web_form, status=422)
