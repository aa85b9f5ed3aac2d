"""Opportunity and pipeline endpoints: thin shells over opportunities.selectors and services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from guanxi.catalog import selectors as catalog_selectors
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.http import ApiRequest
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import Customer
from guanxi.opportunities import selectors, services
from guanxi.opportunities.models import Opportunity, Pipeline, Stage
from guanxi.opportunities.schemas import (
    CloseLostIn,
    CloseWonIn,
    Id,
    MoveIn,
    OpportunityDetailOut,
    OpportunityIn,
    OpportunityOut,
    OpportunityPage,
    OpportunityPatch,
    OpportunityStatus,
    PipelineOut,
    StageChangeOut,
)
from guanxi.users.models import User

router = Router(tags=["opportunities"])


class OpportunityFilters(Schema):
    q: str = Field("", description="The opportunity's name, or its customer (name, pinyin, phone, plate…).")
    pipeline_id: Id | None = None
    stage_id: Id | None = None
    status: OpportunityStatus | None = None
    owner: str = Field("", description='"mine" or a user id.')
    customer_id: Id | None = None
    cursor: str = Field("", description="`next_cursor` of the page before.")
    limit: int = 50


def _get(actor: Any, opportunity_id: int) -> Opportunity:
    return selectors.opportunity_get(actor=actor, opportunity_id=opportunity_id)


def _customer(actor: Any, customer_id: int) -> Customer:
    customer = customer_selectors.customer_scope(actor=actor).filter(pk=customer_id).first()
    if customer is None:
        raise ValidationFailed(details={"customer_id": [_("There is no such customer.")]})
    return customer


def _owner(actor: Any, owner_id: int | None) -> User | None:
    if owner_id is None:
        return None
    owner = next((user for user in selectors.owner_choices(actor=actor) if user.pk == owner_id), None)
    if owner is None:
        raise ValidationFailed(details={"owner_id": [_("You cannot give an opportunity to this user.")]})
    return owner


def _pipeline_and_stage(
    actor: Any, pipeline_id: int | None, stage_id: int | None
) -> tuple[Pipeline | None, Stage | None]:
    pipeline = stage = None
    try:
        if pipeline_id is not None:
            pipeline = selectors.pipeline_get(actor=actor, pipeline_id=pipeline_id)
        if stage_id is not None:
            stage = selectors.stage_get(actor=actor, stage_id=stage_id)
    except NotFound as exc:
        field = "stage_id" if pipeline is not None or pipeline_id is None else "pipeline_id"
        raise ValidationFailed(details={field: [exc.message]}) from exc
    return pipeline, stage


def _lines(lines: list[Any] | None) -> list[dict[str, Any]] | None:
    if lines is None:
        return None
    return [line.model_dump(exclude_none=True) for line in lines]


@router.get("/pipelines", response=list[PipelineOut], summary="List pipelines with their stages")
def pipeline_list(request: ApiRequest) -> list[Pipeline]:
    """Active pipelines in order, each with its active stages in board order (open ones, won, lost)."""
    return selectors.pipeline_list_with_stages(actor=request.auth)


@router.get("/opportunities", response=OpportunityPage, summary="List opportunities, newest first")
def opportunity_list(request: ApiRequest, filters: Query[OpportunityFilters]) -> dict[str, Any]:
    """The opportunities you may see (your own, your team's or all, by role). Page with `limit` and
    `cursor` (keyset on the id: deep pages are as fast as the first)."""
    limit = max(1, min(filters.limit, settings.GUANXI_API_MAX_LIMIT))
    opportunities = selectors.opportunity_list(
        actor=request.auth,
        q=filters.q,
        pipeline_id=filters.pipeline_id,
        stage_id=filters.stage_id,
        status=filters.status or "",
        owner=filters.owner,
        customer_id=filters.customer_id,
    ).select_related("team")
    if filters.cursor:
        if not filters.cursor.isdigit() or len(filters.cursor) > 18:
            raise ValidationFailed(details={"cursor": [_("This cursor is not valid.")]})
        opportunities = opportunities.filter(pk__lt=int(filters.cursor))
    items = list(opportunities.order_by("-id")[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "limit": limit, "next_cursor": str(items[-1].pk) if more and items else None}


@router.post("/opportunities", response={201: OpportunityDetailOut}, summary="Create an opportunity")
def opportunity_create(request: ApiRequest, payload: OpportunityIn) -> Status[Opportunity]:
    """In the given stage, else the first open stage of the pipeline (the default one when left out)."""
    pipeline, stage = _pipeline_and_stage(request.auth, payload.pipeline_id, payload.stage_id)
    opportunity = services.opportunity_create(
        actor=request.auth,
        customer=_customer(request.auth, payload.customer_id),
        name=payload.name,
        pipeline=pipeline,
        stage=stage,
        amount=payload.amount,
        probability=payload.probability,
        expected_close=payload.expected_close,
        owner=_owner(request.auth, payload.owner_id),
        next_step=payload.next_step,
        competitors=payload.competitors,
        description=payload.description,
        lines=_lines(payload.lines) or [],
    )
    return Status(201, _get(request.auth, opportunity.pk))


@router.get("/opportunities/{opportunity_id}", response=OpportunityDetailOut, summary="Get an opportunity")
def opportunity_get(request: ApiRequest, opportunity_id: int) -> Opportunity:
    return _get(request.auth, opportunity_id)


@router.patch(
    "/opportunities/{opportunity_id}", response=OpportunityDetailOut, summary="Change an opportunity"
)
def opportunity_update(request: ApiRequest, opportunity_id: int, payload: OpportunityPatch) -> Opportunity:
    """Only the fields sent change; `lines` replaces them all. The stage changes through `move`."""
    opportunity = _get(request.auth, opportunity_id)
    fields = payload.model_dump(exclude_unset=True)
    lines = _lines(payload.lines) if "lines" in fields else None
    fields.pop("lines", None)
    if "owner_id" in fields:
        fields["owner"] = _owner(request.auth, fields.pop("owner_id"))
    services.opportunity_update(actor=request.auth, opportunity=opportunity, lines=lines, **fields)
    return _get(request.auth, opportunity_id)


@router.post("/opportunities/{opportunity_id}/move", response=OpportunityOut, summary="Move to a stage")
def opportunity_move(request: ApiRequest, opportunity_id: int, payload: MoveIn) -> Opportunity:
    """The kanban drop: to `stage_id` and after `after_id` (or before `before_id`) in its column. Into the
    won stage closes it won (no order: use close-won for that); into the lost stage needs `lost_reason`."""
    opportunity = _get(request.auth, opportunity_id)
    services.opportunity_move(
        actor=request.auth,
        opportunity=opportunity,
        stage=payload.stage_id,
        after=payload.after_id,
        before=payload.before_id,
        lost_reason=payload.lost_reason or "",
        note=payload.note,
    )
    return _get(request.auth, opportunity_id)


@router.post(
    "/opportunities/{opportunity_id}/close-won", response=OpportunityDetailOut, summary="Close as won"
)
def opportunity_close_won(request: ApiRequest, opportunity_id: int, payload: CloseWonIn) -> Opportunity:
    """With `create_order`, books the order in the same step (409 `opportunity_already_closed` when it is
    closed already: closing twice never books twice)."""
    opportunity = _get(request.auth, opportunity_id)
    store = None
    if payload.store_id is not None:
        try:
            store = catalog_selectors.store_get(actor=request.auth, store_id=payload.store_id)
        except NotFound as exc:
            raise ValidationFailed(details={"store_id": [_("There is no such store.")]}) from exc
    services.opportunity_close_won(
        actor=request.auth,
        opportunity=opportunity,
        note=payload.note,
        create_order=payload.create_order,
        store=store,
        payment_method=payload.payment_method,
    )
    return _get(request.auth, opportunity_id)


@router.post(
    "/opportunities/{opportunity_id}/close-lost", response=OpportunityDetailOut, summary="Close as lost"
)
def opportunity_close_lost(request: ApiRequest, opportunity_id: int, payload: CloseLostIn) -> Opportunity:
    opportunity = _get(request.auth, opportunity_id)
    services.opportunity_close_lost(
        actor=request.auth, opportunity=opportunity, reason=payload.reason, note=payload.note
    )
    return _get(request.auth, opportunity_id)


@router.post("/opportunities/{opportunity_id}/reopen", response=OpportunityDetailOut, summary="Reopen")
def opportunity_reopen(request: ApiRequest, opportunity_id: int) -> Opportunity:
    """Back into the last open stage it was in."""
    opportunity = _get(request.auth, opportunity_id)
    services.opportunity_reopen(actor=request.auth, opportunity=opportunity)
    return _get(request.auth, opportunity_id)


@router.get(
    "/opportunities/{opportunity_id}/stage-history",
    response=list[StageChangeOut],
    summary="Stage history of an opportunity",
)
def opportunity_stage_history(request: ApiRequest, opportunity_id: int) -> list[Any]:
    """Every move, oldest first: who, when, from which stage to which (the first has no `from_stage`)."""
    opportunity = _get(request.auth, opportunity_id)
    return selectors.stage_history(actor=request.auth, opportunity=opportunity)
