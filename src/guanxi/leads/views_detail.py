"""A lead's page: its details and score, who else has its phone or email, and its actions (edit, start
working, qualify, disqualify, assign, convert). Each action posts, then comes back to the page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from guanxi.catalog import selectors as catalog_selectors
from guanxi.core.errors import DomainError, NotFound, ValidationFailed
from guanxi.core.http import AuthedRequest
from guanxi.core.permissions import can
from guanxi.core.web import apply_errors, requires
from guanxi.customers import selectors as customer_selectors
from guanxi.leads import scoring, selectors, services
from guanxi.leads.forms import LeadDetailsForm
from guanxi.leads.forms_detail import AssignForm, ConvertForm, DisqualifyForm, QualifyForm
from guanxi.leads.models import Lead
from guanxi.opportunities import selectors as opportunity_selectors

TEMPLATE = "leads/lead_detail.html"
HISTORY_LABELS = {
    "lead.create": gettext_lazy("Entered"),
    "lead.capture_again": gettext_lazy("Captured again"),
    "lead.update": gettext_lazy("Changed"),
    "lead.assign": gettext_lazy("Assigned"),
    "lead.qualify": gettext_lazy("Qualified"),
    "lead.disqualify": gettext_lazy("Disqualified"),
    "lead.convert": gettext_lazy("Converted"),
}


def _convert_form(
    request: AuthedRequest, lead: Lead, matches: dict[str, Any], data: Any = None
) -> ConvertForm | None:
    if not lead.is_open or not can(request.user, "lead.change"):
        return None
    pipelines = (
        opportunity_selectors.pipeline_list(actor=request.user)
        if can(request.user, "opportunity.create")
        else []
    )
    return ConvertForm(
        data,
        lead=lead,
        suggestions=matches["customers"],
        pipelines=pipelines,
        may_create=can(request.user, "customer.create"),
    )


def _page(request: AuthedRequest, lead: Lead, status: int = 200, **forms: Any) -> HttpResponse:
    user = request.user
    matches = selectors.lead_matches(actor=user, lead=lead)
    may_change = can(user, "lead.change") and lead.status != Lead.Status.CONVERTED
    stores = list(catalog_selectors.store_list(actor=user, active=True)) if may_change else []
    context = {
        "nav": "leads",
        "lead": lead,
        "reasons": scoring.explain(lead.score_reasons),
        "matches": matches,
        "history": [
            (event, HISTORY_LABELS.get(event.action, event.action))
            for event in selectors.lead_history(actor=user, lead=lead)
        ],
        "may_change": may_change,
        "may_opportunity": can(user, "opportunity.create"),
        "edit_form": forms.get("edit_form")
        or (
            LeadDetailsForm(initial=LeadDetailsForm.initial_from(lead), stores=stores) if may_change else None
        ),
        "qualify_form": forms.get("qualify_form") or QualifyForm(),
        "disqualify_form": forms.get("disqualify_form") or DisqualifyForm(),
        "assign_form": forms.get("assign_form")
        or (
            AssignForm(
                initial={"owner": str(lead.owner_id or "")},
                users=list(selectors.lead_owner_choices(actor=user)),
            )
            if can(user, "lead.assign")
            else None
        ),
        "convert_form": forms.get("convert_form") or _convert_form(request, lead, matches),
        "open_panel": forms.get("open_panel", ""),
    }
    return render(request, TEMPLATE, context, status=status)


def _lead(request: AuthedRequest, lead_id: int) -> Lead:
    return selectors.lead_get(actor=request.user, lead_id=lead_id)


@requires("lead.view")
@require_GET
def lead_detail(request: AuthedRequest, lead_id: int) -> HttpResponse:
    return _page(request, _lead(request, lead_id))


@requires("lead.change")
@require_POST
def lead_edit(request: AuthedRequest, lead_id: int) -> HttpResponse:
    lead = _lead(request, lead_id)
    stores = list(catalog_selectors.store_list(actor=request.user, active=True))
    form = LeadDetailsForm(request.POST, stores=stores)
    if form.is_valid():
        try:
            services.lead_update(
                actor=request.user, lead=lead, store=form.chosen_store(), **form.fields_for_service()
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Lead saved."))
            return redirect("lead-detail", lead_id=lead.pk)
    return _page(request, lead, status=422, edit_form=form, open_panel="edit")


@requires("lead.change")
@require_POST
def lead_status(request: AuthedRequest, lead_id: int) -> HttpResponse:
    """Start working a new lead, or reopen a disqualified one (status → working)."""
    lead = _lead(request, lead_id)
    try:
        services.lead_update(actor=request.user, lead=lead, status=Lead.Status.WORKING)
    except DomainError as exc:
        messages.error(request, exc.message if not isinstance(exc, ValidationFailed) else _details(exc))
    return redirect("lead-detail", lead_id=lead.pk)


def _details(exc: ValidationFailed) -> str:
    details = exc.details if isinstance(exc.details, dict) else {}
    return " ".join(str(m) for messages_ in details.values() for m in messages_) or exc.message


@requires("lead.change")
@require_POST
def lead_qualify(request: AuthedRequest, lead_id: int) -> HttpResponse:
    lead = _lead(request, lead_id)
    form = QualifyForm(request.POST)
    if form.is_valid():
        try:
            services.lead_qualify(actor=request.user, lead=lead, note=form.cleaned_data["note"])
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("%(name)s is qualified.") % {"name": lead.name})
            return redirect("lead-detail", lead_id=lead.pk)
    return _page(request, lead, status=422, qualify_form=form, open_panel="qualify")


@requires("lead.change")
@require_POST
def lead_disqualify(request: AuthedRequest, lead_id: int) -> HttpResponse:
    lead = _lead(request, lead_id)
    form = DisqualifyForm(request.POST)
    if form.is_valid():
        try:
            services.lead_disqualify(actor=request.user, lead=lead, **form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("%(name)s is disqualified.") % {"name": lead.name})
            return redirect("lead-detail", lead_id=lead.pk)
    return _page(request, lead, status=422, disqualify_form=form, open_panel="disqualify")


@requires("lead.assign")
@require_POST
def lead_assign(request: AuthedRequest, lead_id: int) -> HttpResponse:
    lead = _lead(request, lead_id)
    form = AssignForm(request.POST, users=list(selectors.lead_owner_choices(actor=request.user)))
    if form.is_valid():
        try:
            services.lead_assign(actor=request.user, lead=lead, owner=form.chosen_owner())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Owner changed."))
            try:
                _lead(request, lead.pk)
            except NotFound:
                return redirect("lead-list")
            return redirect("lead-detail", lead_id=lead.pk)
    return _page(request, lead, status=422, assign_form=form, open_panel="assign")


@requires("lead.change")
@require_POST
def lead_convert(request: AuthedRequest, lead_id: int) -> HttpResponse:
    lead = _lead(request, lead_id)
    matches = selectors.lead_matches(actor=request.user, lead=lead)
    form = _convert_form(request, lead, matches, request.POST)
    if form is None:
        messages.error(request, _("This lead cannot be converted any more."))
        return redirect("lead-detail", lead_id=lead.pk)
    if form.is_valid():
        data = form.cleaned_data
        try:
            customer_id = form.customer_id_chosen()
            customer = (
                customer_selectors.customer_get(actor=request.user, customer_id=customer_id)
                if customer_id
                else None
            )
            services.lead_convert(
                actor=request.user,
                lead=lead,
                customer=customer,
                as_company=data["target"] == "company",
                opportunity=bool(data.get("opportunity")),
                opportunity_name=data.get("opportunity_name") or "",
                pipeline=form.chosen_pipeline(),
                amount=data.get("amount") or None,
                expected_close=data.get("expected_close"),
            )
        except NotFound:
            form.add_error("customer_id", _("There is no such customer, or it is not yours to see."))
        except ValidationFailed as exc:
            _convert_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            converted = _lead(request, lead.pk)
            messages.success(
                request,
                _("%(name)s is converted into customer %(customer)s.")
                % {"name": lead.name, "customer": converted.customer.name if converted.customer else ""},
            )
            return redirect("lead-detail", lead_id=lead.pk)
    return _page(request, lead, status=422, convert_form=form, open_panel="convert")


def _convert_errors(form: ConvertForm, exc: ValidationFailed) -> None:
    """The services' field names (opportunity_amount, customer_name, …) on the convert form's fields."""
    names = {
        "opportunity_name": "opportunity_name",
        "opportunity_amount": "amount",
        "opportunity_expected_close": "expected_close",
        "opportunity_pipeline": "pipeline",
    }
    details = exc.details if isinstance(exc.details, dict) else {}
    placed = False
    for key, problems in details.items():
        field = names.get(key)
        for message in problems if isinstance(problems, list) else [exc.message]:
            form.add_error(field if field in form.fields else None, str(message))
            placed = True
    if not placed:
        form.add_error(None, exc.message)
