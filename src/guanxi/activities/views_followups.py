"""Follow-up rules page: the rules that make tasks after purchases, wins and before vehicle services."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.activities import selectors_tasks as selectors
from guanxi.activities import services_followups as services
from guanxi.activities.forms_tasks import FollowUpRuleForm
from guanxi.activities.models import FollowUpRule
from guanxi.core.errors import DomainError, ValidationFailed
from guanxi.core.http import AuthedRequest
from guanxi.core.web import apply_errors, requires

FORM = "activities/tasks/followup_form.html"


@requires("followup.manage")
@require_GET
def followup_list(request: AuthedRequest) -> HttpResponse:
    rules = list(selectors.followup_rule_list(actor=request.user))
    counts = selectors.followup_task_counts(actor=request.user)
    for rule in rules:
        rule.task_count = counts.get(rule.pk, 0)  # type: ignore[attr-defined]
    context = {"nav": "followups", "rules": rules, "placeholders": services.PLACEHOLDERS}
    return render(request, "activities/tasks/followup_list.html", context)


def _form_page(
    request: AuthedRequest, form: FollowUpRuleForm, rule: FollowUpRule | None, status: int = 200
) -> HttpResponse:
    return render(request, FORM, {"nav": "followups", "form": form, "rule": rule}, status=status)


@requires("followup.manage")
@require_http_methods(["GET", "POST"])
def followup_create(request: AuthedRequest) -> HttpResponse:
    users = list(selectors.assignable_users(actor=request.user))
    if request.method != "POST":
        return _form_page(request, FollowUpRuleForm(users=users), None)
    form = FollowUpRuleForm(request.POST, users=users)
    if form.is_valid():
        try:
            rule = services.followup_rule_create(actor=request.user, **form.service_kwargs())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Follow-up rule “%(name)s” created.") % {"name": rule.name})
            return redirect("followup-list")
    return _form_page(request, form, None, status=422)


@requires("followup.manage")
@require_http_methods(["GET", "POST"])
def followup_edit(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = selectors.followup_rule_get(actor=request.user, rule_id=rule_id)
    users = list(selectors.assignable_users(actor=request.user))
    if rule.fallback_assignee is not None and rule.fallback_assignee not in users:
        users.append(rule.fallback_assignee)
    if request.method != "POST":
        return _form_page(
            request, FollowUpRuleForm(initial=FollowUpRuleForm.initial_for(rule), users=users), rule
        )
    form = FollowUpRuleForm(request.POST, users=users)
    if form.is_valid():
        try:
            services.followup_rule_update(actor=request.user, rule=rule, **form.service_kwargs())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Follow-up rule saved."))
            return redirect("followup-list")
    return _form_page(request, form, rule, status=422)


@requires("followup.manage")
@require_POST
def followup_delete(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = selectors.followup_rule_get(actor=request.user, rule_id=rule_id)
    services.followup_rule_delete(actor=request.user, rule=rule)
    messages.success(
        request, _("Follow-up rule “%(name)s” deleted; the tasks it made stay.") % {"name": rule.name}
    )
    return redirect("followup-list")
