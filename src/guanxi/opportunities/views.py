"""The kanban board, its moves and close dialogs, and the list of opportunities.

The board is one htmx region (#board): a drag and drop (SortableJS) or a card's keyboard controls post
to `opportunity_board_move`, which answers with the board drawn again (counts and sums included); a move
into the won or lost stage answers with the close dialog instead, retargeted to #dialog-slot.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.catalog import selectors as catalog_selectors
from guanxi.core.errors import DomainError, NotFound, ValidationFailed
from guanxi.core.http import AuthedRequest
from guanxi.core.permissions import can
from guanxi.core.web import apply_errors, paginate, requires
from guanxi.opportunities import selectors, services
from guanxi.opportunities.forms import BoardFilterForm, CloseLostForm, CloseWonForm, ListFilterForm
from guanxi.opportunities.models import Opportunity, Pipeline, Stage

BOARD = "opportunities/board.html"


def is_htmx(request: AuthedRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _filter_form(request: AuthedRequest, data: QueryDict, pipelines: list[Pipeline]) -> BoardFilterForm:
    return BoardFilterForm(
        data,
        actor=request.user,
        pipelines=pipelines,
        users=selectors.owner_choices(actor=request.user),
        teams=selectors.team_choices(actor=request.user),
    )


def _pipeline_id(data: QueryDict) -> int | None:
    return _int_or_none(data.get("pipeline", ""))


def board_context(request: AuthedRequest, data: QueryDict, **extra: Any) -> dict[str, Any]:
    """Everything the board template needs, in a constant number of queries."""
    pipelines = selectors.pipeline_list(actor=request.user)
    if not pipelines:
        services.pipeline_default(actor=request.user)
        pipelines = selectors.pipeline_list(actor=request.user)
    form = _filter_form(request, data, pipelines)
    board = selectors.board_get(
        actor=request.user, pipeline_id=_pipeline_id(data), pipelines=pipelines, **form.values()
    )
    may_change = can(request.user, "opportunity.change")
    return {
        "nav": "opportunities",
        "board": board,
        "card_stages": board.stages,
        "today": board.today,
        "form": form,
        "filters": form.values(),
        "may_change": may_change,
        "may_create": can(request.user, "opportunity.create"),
        "may_manage": can(request.user, "pipeline.manage"),
        "per_column": selectors.COLUMN_CARDS,
        **extra,
    }


def board_response(request: AuthedRequest, data: QueryDict, status: int = 200, **extra: Any) -> HttpResponse:
    """The board: the #board region alone for htmx, else the whole page."""
    context = board_context(request, data, **extra)
    template = f"{BOARD}#board" if is_htmx(request) and data.get("region") == "board" else BOARD
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


@requires("opportunity.view")
@require_GET
def opportunity_board(request: AuthedRequest) -> HttpResponse:
    """The kanban board of one pipeline: a column per open stage, won and lost at the end."""
    return board_response(request, request.GET)


@requires("opportunity.view")
@require_GET
def opportunity_board_more(request: AuthedRequest, stage_id: int) -> HttpResponse:
    """The next cards of a column ("show more"), for htmx to append."""
    stage = selectors.stage_get(actor=request.user, stage_id=stage_id)
    if stage.kind != Stage.Kind.OPEN:
        raise NotFound(_("Stage not found."))
    try:
        offset = min(max(0, int(request.GET.get("offset", "0"))), 1_000_000)
    except ValueError:
        offset = 0
    form = _filter_form(request, request.GET, [])
    cards, remaining = selectors.board_column_more(
        actor=request.user, stage=stage, offset=offset, **form.values()
    )
    stages = selectors.stage_list(actor=request.user, pipeline_id=stage.pipeline_id)
    prev_stage, next_stage = selectors.neighbours(stages, stage)
    context = {
        "cards": cards,
        "column": {"stage": stage, "more": remaining, "prev_stage": prev_stage, "next_stage": next_stage},
        "next_offset": offset + len(cards),
        "card_stages": stages,
        "may_change": can(request.user, "opportunity.change"),
        "today": timezone.localdate(),
        "filters": form.values(),
        "pipeline_id": stage.pipeline_id,
    }
    return render(request, f"{BOARD}#more-cards", context)


def _int_or_none(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 19 else None


@requires("opportunity.change")
@require_POST
def opportunity_board_move(request: AuthedRequest, opportunity_id: int) -> HttpResponse:
    """A drop or a keyboard move: `stage`, and `after` / `before` (neighbour card ids). Into a won or lost
    stage: the close dialog (the card returns to its column if the dialog is cancelled)."""
    opportunity = selectors.opportunity_brief(actor=request.user, opportunity_id=opportunity_id)
    data = request.POST
    stage_id = _int_or_none(data.get("stage"))
    stages = selectors.stage_list(actor=request.user, pipeline_id=opportunity.pipeline_id)
    target = next((stage for stage in stages if stage.pk == stage_id), None)
    if target is not None and target.kind in (Stage.Kind.WON, Stage.Kind.LOST):
        return close_dialog(request, opportunity, target.kind, origin="board")
    try:
        moved = services.opportunity_move(
            actor=request.user,
            opportunity=opportunity,
            stage=stage_id,
            after=_int_or_none(data.get("after")),
            before=_int_or_none(data.get("before")),
        )
    except DomainError as exc:
        return board_response(request, data, error=exc.message)
    announce = _("Moved “%(name)s” to %(stage)s.") % {"name": moved.name, "stage": moved.stage.name}
    return board_response(request, data, moved=moved.pk, announce=announce)


def close_dialog(
    request: AuthedRequest,
    opportunity: Opportunity,
    kind: str,
    *,
    origin: str,
    form: CloseWonForm | CloseLostForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The close won / close lost dialog: into #dialog-slot for htmx, else a page of its own."""
    if kind == Stage.Kind.WON:
        stores = list(catalog_selectors.store_list(actor=request.user, active=True))
        form = form or CloseWonForm(stores=stores)
    else:
        form = form or CloseLostForm()
    context = {
        "opportunity": opportunity,
        "kind": kind,
        "form": form,
        "origin": origin,
        "may_order": can(request.user, "order.create"),
        "nav": "opportunities",
    }
    if is_htmx(request):
        response = render(request, "opportunities/close.html#close-dialog", context, status=200)
        response["HX-Retarget"] = "#dialog-slot"
        response["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "opportunities/close.html", context, status=status)


@requires("opportunity.view")
@require_GET
def opportunity_list(request: AuthedRequest) -> HttpResponse:
    """Opportunities as a table, with the board's filters plus pipeline, stage, status and sorting."""
    stages = [s for p in selectors.pipeline_list_with_stages(actor=request.user) for s in p.stages.all()]
    pipelines = selectors.pipeline_list(actor=request.user)
    form = ListFilterForm(
        request.GET,
        actor=request.user,
        pipelines=pipelines,
        users=selectors.owner_choices(actor=request.user),
        teams=selectors.team_choices(actor=request.user),
        stages=stages,
    )
    opportunities = selectors.opportunity_list(actor=request.user, **form.values())
    context = {
        "nav": "opportunities",
        "form": form,
        "page": paginate(request, opportunities, settings.GUANXI_PAGE_SIZE),
        "today": timezone.localdate(),
        "may_create": can(request.user, "opportunity.create"),
    }
    return render(request, "opportunities/list.html", context)


def _after_close(request: AuthedRequest, opportunity: Opportunity, message: str) -> HttpResponse:
    if request.POST.get("origin") == "board" and is_htmx(request):
        response = board_response(request, request.POST, announce=message)
        response["HX-Retarget"] = "#board"
        response["HX-Reswap"] = "outerHTML"
        response["HX-Trigger"] = "guanxi:dialog-close"
        return response
    messages.success(request, message)
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("opportunity-detail", args=[opportunity.pk])
        return response
    return redirect(reverse("opportunity-detail", args=[opportunity.pk]))


@requires("opportunity.change")
@require_http_methods(["GET", "POST"])
def opportunity_close_won(request: AuthedRequest, opportunity_id: int) -> HttpResponse:
    opportunity = selectors.opportunity_get(actor=request.user, opportunity_id=opportunity_id)
    origin = request.POST.get("origin") or request.GET.get("origin") or "detail"
    if request.method != "POST":
        return close_dialog(request, opportunity, Stage.Kind.WON, origin=origin)
    stores = list(catalog_selectors.store_list(actor=request.user, active=True))
    form = CloseWonForm(request.POST, stores=stores)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.opportunity_close_won(
                actor=request.user,
                opportunity=opportunity,
                note=data["note"],
                create_order=data["create_order"],
                store=next((s for s in stores if str(s.pk) == data["store"]), None),
                payment_method=data["payment_method"],
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return _after_close(request, opportunity, _("“%(name)s” won.") % {"name": opportunity.name})
    return close_dialog(request, opportunity, Stage.Kind.WON, origin=origin, form=form, status=422)


@requires("opportunity.change")
@require_http_methods(["GET", "POST"])
def opportunity_close_lost(request: AuthedRequest, opportunity_id: int) -> HttpResponse:
    opportunity = selectors.opportunity_get(actor=request.user, opportunity_id=opportunity_id)
    origin = request.POST.get("origin") or request.GET.get("origin") or "detail"
    if request.method != "POST":
        return close_dialog(request, opportunity, Stage.Kind.LOST, origin=origin)
    form = CloseLostForm(request.POST)
    if form.is_valid():
        try:
            services.opportunity_close_lost(
                actor=request.user,
                opportunity=opportunity,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return _after_close(request, opportunity, _("“%(name)s” lost.") % {"name": opportunity.name})
    return close_dialog(request, opportunity, Stage.Kind.LOST, origin=origin, form=form, status=422)
