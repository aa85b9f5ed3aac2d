"""One opportunity: its page, the create and edit forms, closing it won or lost, reopening it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.catalog import selectors as catalog_selectors
from guanxi.catalog.models import Product
from guanxi.core.errors import DomainError, NotFound
from guanxi.core.http import AuthedRequest
from guanxi.core.permissions import can
from guanxi.core.web import apply_errors, requires
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import Customer
from guanxi.opportunities import selectors, services
from guanxi.opportunities.forms import OpportunityForm
from guanxi.opportunities.models import Opportunity, Stage

SUGGESTIONS = 8
EMPTY_LINE_ROWS = 3


def _apply(form: OpportunityForm, exc: DomainError) -> None:
    """The service's errors on their fields; those about product lines (`lines.N.field`) on the form."""
    apply_errors(form, exc)
    details = exc.details if isinstance(exc.details, dict) else {}
    for key, problems in details.items():
        if key.startswith("lines") and isinstance(problems, list):
            row = key.split(".")[1] if key.count(".") >= 1 else ""
            prefix = _("Product row %(row)s: ") % {"row": int(row) + 1} if row.isdigit() else ""
            for problem in problems:
                form.add_error(None, f"{prefix}{problem}")


def _detail_url(opportunity: Opportunity) -> str:
    return reverse("opportunity-detail", args=[opportunity.pk])


@requires("opportunity.view")
@require_GET
def opportunity_detail(request: AuthedRequest, opportunity_id: int) -> HttpResponse:
    opportunity = selectors.opportunity_get(actor=request.user, opportunity_id=opportunity_id)
    history = list(opportunity.stage_changes.all())
    rows = []
    for index, change in enumerate(history):
        until = history[index + 1].changed_at if index + 1 < len(history) else None
        # Days spent in each stage; a closed opportunity's last row is its close, with no duration.
        end = until or (timezone.now() if opportunity.status == Opportunity.Status.OPEN else None)
        rows.append(
            {
                "change": change,
                "days": (end - change.changed_at).days if end else None,
                "current": until is None,
            }
        )
    context = {
        "nav": "opportunities",
        "opportunity": opportunity,
        "history": rows,
        "stages": selectors.stage_list(actor=request.user, pipeline_id=opportunity.pipeline_id),
        "may_change": can(request.user, "opportunity.change"),
        "today": timezone.localdate(),
    }
    return render(request, "opportunities/detail.html", context)


def _customer(request: AuthedRequest, value: Any) -> Customer | None:
    try:
        return customer_selectors.customer_get(actor=request.user, customer_id=int(value))
    except (NotFound, TypeError, ValueError):
        return None


def _line_rows(request: AuthedRequest, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [*rows, *({"product_id": "", "quantity": "", "unit_price": ""} for _ in range(EMPTY_LINE_ROWS))]


def _form_page(
    request: AuthedRequest,
    form: OpportunityForm,
    *,
    opportunity: Opportunity | None = None,
    customer: Customer | None = None,
    rows: list[dict[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    products: list[Product] = list(catalog_selectors.product_list(actor=request.user, active=True))
    context = {
        "nav": "opportunities",
        "form": form,
        "opportunity": opportunity,
        "customer": customer,
        "products": products,
        "rows": _line_rows(request, rows or []),
    }
    return render(request, "opportunities/form.html", context, status=status)


def _open_stages(request: AuthedRequest) -> list[Stage]:
    return [
        stage
        for pipeline in selectors.pipeline_list_with_stages(actor=request.user)
        for stage in pipeline.stages.all()
        if stage.kind == Stage.Kind.OPEN
    ]


def _create_form(
    request: AuthedRequest, stages: list[Stage], data: Any = None, **initial: Any
) -> OpportunityForm:
    return OpportunityForm(
        data,
        stages=stages,
        users=selectors.owner_choices(actor=request.user),
        initial={"owner": str(request.user.pk), **initial},
    )


def _owner(request: AuthedRequest, value: Any) -> Any:
    users = {str(user.pk): user for user in selectors.owner_choices(actor=request.user)}
    return users.get(str(value or ""))


@requires("opportunity.create")
@require_http_methods(["GET", "POST"])
def opportunity_create(request: AuthedRequest) -> HttpResponse:
    """GET: the form (`?customer=` chosen already). POST: create, then go to the new opportunity."""
    if not selectors.pipeline_list(actor=request.user):
        services.pipeline_default(actor=request.user)
    if request.method != "POST":
        customer = _customer(request, request.GET.get("customer")) if request.GET.get("customer") else None
        form = _create_form(request, _open_stages(request), customer=customer.pk if customer else None)
        return _form_page(request, form, customer=customer)
    stages = _open_stages(request)
    form = _create_form(request, stages, request.POST)
    rows = OpportunityForm.posted_lines(request.POST)
    customer = _customer(request, request.POST.get("customer"))
    if not form.is_valid():
        return _form_page(request, form, customer=customer, rows=rows, status=422)
    if customer is None:
        form.add_error(None, _("Find the customer and choose them first."))
        return _form_page(request, form, rows=rows, status=422)
    data = form.cleaned_data
    stage = next((s for s in stages if str(s.pk) == data["stage"]), None)
    try:
        opportunity = services.opportunity_create(
            actor=request.user,
            customer=customer,
            name=data["name"],
            stage=stage,
            amount=data["amount"],
            probability=data["probability"],
            expected_close=data["expected_close"],
            owner=_owner(request, data["owner"]) or request.user,
            next_step=data["next_step"],
            competitors=data["competitors"],
            description=data["description"],
            lines=rows,
        )
    except DomainError as exc:
        _apply(form, exc)
        return _form_page(request, form, customer=customer, rows=rows, status=exc.status)
    messages.success(request, _("Opportunity “%(name)s” created.") % {"name": opportunity.name})
    return redirect(_detail_url(opportunity))


@requires("opportunity.view")
@require_GET
def opportunity_create_customers(request: AuthedRequest) -> HttpResponse:
    """Customers matching the create form's search box, as links that choose one."""
    q = request.GET.get("q", "").strip()
    if not q or not can(request.user, "customer.view"):
        return HttpResponse("")
    customers = list(
        customer_selectors.customer_list(actor=request.user, q=q, window=SUGGESTIONS)[:SUGGESTIONS]
    )
    return render(request, "opportunities/form.html#customer-results", {"q": q, "customers": customers})


@requires("opportunity.change")
@require_http_methods(["GET", "POST"])
def opportunity_edit(request: AuthedRequest, opportunity_id: int) -> HttpResponse:
    opportunity = selectors.opportunity_get(actor=request.user, opportunity_id=opportunity_id)
    users = selectors.owner_choices(actor=request.user)
    if opportunity.owner and opportunity.owner not in users:
        users.append(opportunity.owner)
    if request.method != "POST":
        initial = {
            "name": opportunity.name,
            "amount": opportunity.amount,
            "probability": opportunity.probability if opportunity.probability_manual else "",
            "expected_close": opportunity.expected_close,
            "owner": str(opportunity.owner_id or ""),
            "next_step": opportunity.next_step,
            "competitors": opportunity.competitors,
            "description": opportunity.description,
        }
        rows = [
            {
                "product_id": str(line.product_id),
                "quantity": f"{line.quantity.normalize():f}",
                "unit_price": str(line.unit_price),
            }
            for line in opportunity.lines.all()
        ]
        form = OpportunityForm(initial=initial, stages=None, users=users)
        return _form_page(request, form, opportunity=opportunity, customer=opportunity.customer, rows=rows)
    form = OpportunityForm(request.POST, stages=None, users=users)
    rows = OpportunityForm.posted_lines(request.POST)
    if not form.is_valid():
        return _form_page(
            request, form, opportunity=opportunity, customer=opportunity.customer, rows=rows, status=422
        )
    data = form.cleaned_data
    owner = next((u for u in users if str(u.pk) == data["owner"]), None)
    try:
        services.opportunity_update(
            actor=request.user,
            opportunity=opportunity,
            name=data["name"],
            amount=data["amount"],
            probability=data["probability"] or None,
            expected_close=data["expected_close"],
            next_step=data["next_step"],
            competitors=data["competitors"],
            description=data["description"],
            owner=owner,
            lines=rows,
        )
    except DomainError as exc:
        _apply(form, exc)
        return _form_page(
            request,
            form,
            opportunity=opportunity,
            customer=opportunity.customer,
            rows=rows,
            status=exc.status,
        )
    messages.success(request, _("Saved."))
    return redirect(_detail_url(opportunity))


@requires("opportunity.change")
@require_POST
def opportunity_reopen(request: AuthedRequest, opportunity_id: int) -> HttpResponse:
    opportunity = selectors.opportunity_get(actor=request.user, opportunity_id=opportunity_id)
    try:
        services.opportunity_reopen(actor=request.user, opportunity=opportunity)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("“%(name)s” is open again.") % {"name": opportunity.name})
    return redirect(_detail_url(opportunity))


@requires("opportunity.change")
@require_POST
def opportunity_stage(request: AuthedRequest, opportunity_id: int) -> HttpResponse:
    """The detail page's "move to stage": won and lost go through their dialogs."""
    opportunity = selectors.opportunity_get(actor=request.user, opportunity_id=opportunity_id)
    stage_id = request.POST.get("stage", "")
    stages = selectors.stage_list(actor=request.user, pipeline_id=opportunity.pipeline_id)
    target = next((stage for stage in stages if str(stage.pk) == stage_id), None)
    if target is None:
        messages.error(request, _("Choose a stage of this opportunity's pipeline."))
        return redirect(_detail_url(opportunity))
    if target.kind != Stage.Kind.OPEN:
        name = "opportunity-close-won" if target.kind == Stage.Kind.WON else "opportunity-close-lost"
        return redirect(reverse(name, args=[opportunity.pk]))
    try:
        services.opportunity_move(actor=request.user, opportunity=opportunity, stage=target)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(_detail_url(opportunity))
