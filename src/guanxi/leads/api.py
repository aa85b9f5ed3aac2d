"""Lead endpoints: thin shells over leads.selectors and leads.services.

Creating a lead de-duplicates: 201 with a new lead, or 200 with the open lead (same phone or email) the
capture was merged into (`merged: true`). When that lead belongs to someone the caller may not see, the
details are still added to it and the answer is 409 `lead_exists` naming its id.
"""

from __future__ import annotations

from typing import Any, Literal

from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from guanxi.catalog import selectors as catalog_selectors
from guanxi.catalog.models import Store
from guanxi.core.errors import Conflict, NotFound, ValidationFailed
from guanxi.core.http import ApiRequest
from guanxi.customers import selectors as customer_selectors
from guanxi.leads import selectors, services
from guanxi.leads.models import Lead
from guanxi.leads.schemas import (
    AssignIn,
    ConvertIn,
    DisqualifyIn,
    LeadIn,
    LeadOut,
    LeadPage,
    LeadPatch,
    QualifyIn,
    Source,
)
from guanxi.opportunities import selectors as opportunity_selectors
from guanxi.users import selectors as user_selectors

router = Router(tags=["leads"])


class LeadExists(Conflict):
    code = "lead_exists"


class LeadFilters(Schema):
    q: str = Field("", description="Name, company, email, or 4+ digits of the phone.")
    status: Literal["open", "new", "working", "qualified", "disqualified", "converted"] | None = Field(
        None, description="`open`: new, working or qualified."
    )
    owner: str = Field("", description="A user id, or `none` for unassigned leads.")
    source: Source = ""
    mine: bool = Field(False, description="Only the leads you own.")
    cursor: str = Field("", description="`next_cursor` of the page before.")
    limit: int = 50


def _lead(actor: Any, lead_id: int) -> Lead:
    return selectors.lead_get(actor=actor, lead_id=lead_id)


def _store(actor: Any, store_id: int | None) -> Store | None:
    if store_id is None:
        return None
    try:
        return catalog_selectors.store_get(actor=actor, store_id=store_id)
    except NotFound as exc:
        raise ValidationFailed(details={"store_id": [_("There is no such store.")]}) from exc


def _user(actor: Any, user_id: int | None, field: str) -> Any:
    if user_id is None:
        return None
    try:
        return user_selectors.user_get(actor=actor, user_id=user_id)
    except NotFound as exc:
        raise ValidationFailed(details={field: [_("There is no such user.")]}) from exc


def _team(actor: Any, team_id: int | None) -> Any:
    if team_id is None:
        return None
    try:
        return user_selectors.team_get(actor=actor, team_id=team_id)
    except NotFound as exc:
        raise ValidationFailed(details={"team_id": [_("There is no such team.")]}) from exc


@router.get("/leads", response=LeadPage, summary="List and search leads, newest first")
def lead_list(request: ApiRequest, filters: Query[LeadFilters]) -> dict[str, Any]:
    """The leads you may see (a sales rep: their own). Page with `limit` and `cursor`."""
    limit = max(1, min(filters.limit, settings.GUANXI_API_MAX_LIMIT))
    owner = filters.owner.strip()
    if owner and owner != selectors.UNASSIGNED and not (owner.isdigit() and len(owner) < 19):
        raise ValidationFailed(details={"owner": [_("Send a user id or “none”.")]})
    leads = selectors.lead_list(
        actor=request.auth,
        q=filters.q,
        status=filters.status or "",
        owner=owner or None,
        source=filters.source,
        mine=filters.mine,
    )
    if filters.cursor:
        leads = selectors.leads_after(leads, filters.cursor)
    items = list(leads[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "limit": limit, "next_cursor": str(items[-1].pk) if more and items else None}


@router.post("/leads", response={200: LeadOut, 201: LeadOut}, summary="Capture a lead (de-duplicated)")
def lead_create(request: ApiRequest, payload: LeadIn) -> Status[Any]:
    """201: a new lead. 200: merged into the open lead with the same phone or email (`merged: true`).
    409 `lead_exists`: merged into an open lead you may not see."""
    data = payload.model_dump(exclude={"store_id", "owner_id", "team_id"})
    lead = services.lead_create(
        actor=request.auth,
        store=_store(request.auth, payload.store_id),
        owner=_user(request.auth, payload.owner_id, "owner_id"),
        team=_team(request.auth, payload.team_id),
        **data,
    )
    try:
        shown = _lead(request.auth, lead.pk)
    except NotFound as exc:
        raise LeadExists(
            _("This person is already lead #%(id)s of a colleague; what you sent was added to it.")
            % {"id": lead.pk},
            details={"lead_id": lead.pk},
        ) from exc
    shown.merged = lead.merged
    return Status(200 if lead.merged else 201, shown)


@router.get("/leads/{lead_id}", response=LeadOut, summary="One lead")
def lead_get(request: ApiRequest, lead_id: int) -> Lead:
    return _lead(request.auth, lead_id)


@router.patch("/leads/{lead_id}", response=LeadOut, summary="Change a lead")
def lead_update(request: ApiRequest, lead_id: int, payload: LeadPatch) -> Lead:
    lead = _lead(request.auth, lead_id)
    data = payload.model_dump(exclude_unset=True)
    if "store_id" in data:
        data["store"] = _store(request.auth, data.pop("store_id"))
    services.lead_update(actor=request.auth, lead=lead, **data)
    return _lead(request.auth, lead_id)


@router.post("/leads/{lead_id}/assign", response=LeadOut, summary="Give a lead to someone")
def lead_assign(request: ApiRequest, lead_id: int, payload: AssignIn) -> Lead:
    lead = _lead(request.auth, lead_id)
    services.lead_assign(
        actor=request.auth,
        lead=lead,
        owner=_user(request.auth, payload.owner_id, "owner_id"),
        team=_team(request.auth, payload.team_id),
    )
    return _lead(request.auth, lead_id)


@router.post("/leads/{lead_id}/qualify", response=LeadOut, summary="Qualify a lead")
def lead_qualify(request: ApiRequest, lead_id: int, payload: QualifyIn) -> Lead:
    services.lead_qualify(actor=request.auth, lead=_lead(request.auth, lead_id), note=payload.note)
    return _lead(request.auth, lead_id)


@router.post("/leads/{lead_id}/disqualify", response=LeadOut, summary="Disqualify a lead, with a reason")
def lead_disqualify(request: ApiRequest, lead_id: int, payload: DisqualifyIn) -> Lead:
    services.lead_disqualify(
        actor=request.auth, lead=_lead(request.auth, lead_id), reason=payload.reason, note=payload.note
    )
    return _lead(request.auth, lead_id)


@router.post(
    "/leads/{lead_id}/convert", response=LeadOut, summary="Convert a lead to a customer (and an opportunity)"
)
def lead_convert(request: ApiRequest, lead_id: int, payload: ConvertIn) -> Lead:
    """In one step: a new customer (or `customer_id`, an existing one) plus, with `opportunity`, an open
    opportunity. 409 `lead_converted` when it was converted already."""
    lead = _lead(request.auth, lead_id)
    customer = None
    if payload.customer_id is not None:
        try:
            customer = customer_selectors.customer_get(actor=request.auth, customer_id=payload.customer_id)
        except NotFound as exc:
            raise ValidationFailed(details={"customer_id": [_("There is no such customer.")]}) from exc
    opportunity = payload.opportunity
    pipeline = None
    if opportunity is not None and opportunity.pipeline_id is not None:
        try:
            pipeline = opportunity_selectors.pipeline_get(
                actor=request.auth, pipeline_id=opportunity.pipeline_id
            )
        except NotFound as exc:
            raise ValidationFailed(
                details={"opportunity.pipeline_id": [_("There is no such pipeline.")]}
            ) from exc
    services.lead_convert(
        actor=request.auth,
        lead=lead,
        customer=customer,
        as_company=payload.as_company,
        opportunity=opportunity is not None,
        opportunity_name=opportunity.name if opportunity else "",
        pipeline=pipeline,
        amount=opportunity.amount if opportunity else None,
        expected_close=opportunity.expected_close if opportunity else None,
    )
    return _lead(request.auth, lead_id)
