"""Activity endpoints: thin shells over activities.selectors and activities.services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from guanxi.activities import selectors, services
from guanxi.activities.models import Activity
from guanxi.activities.schemas import ActivityIn, ActivityOut, ActivityPage, ActivityPatch, Id, Kind
from guanxi.core.errors import NotFound
from guanxi.core.http import ApiRequest
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import Customer
from guanxi.leads.models import Lead
from guanxi.opportunities.models import Opportunity

router = Router(tags=["activities"])


class ActivityFilters(Schema):
    customer_id: Id | None = None
    lead_id: Id | None = None
    opportunity_id: Id | None = None
    kind: Kind | None = None
    owner_id: Id | None = Field(None, description="Who logged them (a user id).")
    since: datetime | None = Field(None, description="At or after (inclusive).")
    until: datetime | None = Field(None, description="Before (exclusive).")
    cursor: str = Field("", description="`next_cursor` of the page before.")
    limit: int = 50


def _customer(actor: Any, customer_id: int | None) -> Customer | None:
    if customer_id is None:
        return None
    customer = customer_selectors.customer_scope(actor=actor).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("Customer not found."))
    return customer


def _activity(actor: Any, activity_id: int) -> Activity:
    return selectors.activity_get(actor=actor, activity_id=activity_id)


@router.get("/activities", response=ActivityPage, summary="List activities, newest first")
def activity_list(request: ApiRequest, filters: Query[ActivityFilters]) -> dict[str, Any]:
    """The activities you logged and those with the customers (or leads) you may see. Page with `limit`
    and `cursor` (keyset: deep pages are as fast as the first)."""
    limit = max(1, min(filters.limit, settings.GUANXI_API_MAX_LIMIT))
    activities = selectors.activity_list(
        actor=request.auth,
        customer_id=filters.customer_id,
        lead_id=filters.lead_id,
        opportunity_id=filters.opportunity_id,
        kind=filters.kind or "",
        owner_id=filters.owner_id,
        since=filters.since,
        until=filters.until,
    )
    if filters.cursor:
        activities = selectors.activities_after(activities, filters.cursor)
    items = list(activities[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return {
        "items": items,
        "limit": limit,
        "next_cursor": selectors.cursor_encode(items[-1]) if more and items else None,
    }


@router.post("/activities", response={201: ActivityOut}, summary="Log an activity (and send an email)")
def activity_log(request: ApiRequest, payload: ActivityIn) -> Status[Activity]:
    """A call, visit, meeting, SMS, email, WeChat message or note with a customer, a lead or both, and
    optionally an opportunity. With `send_email`, an email activity is sent through the outbox; its
    delivery shows in `email.status`."""
    data = payload.model_dump(exclude={"customer_id", "lead_id", "opportunity_id"})
    # The lead and opportunity are read again, in the actor's scope, by the service.
    activity = services.activity_log(
        actor=request.auth,
        customer=_customer(request.auth, payload.customer_id),
        lead=Lead(pk=payload.lead_id) if payload.lead_id else None,
        opportunity=Opportunity(pk=payload.opportunity_id) if payload.opportunity_id else None,
        **data,
    )
    return Status(201, _activity(request.auth, activity.pk))


@router.get("/activities/{activity_id}", response=ActivityOut, summary="One activity")
def activity_get(request: ApiRequest, activity_id: Id) -> Activity:
    return _activity(request.auth, activity_id)


@router.patch("/activities/{activity_id}", response=ActivityOut, summary="Change an activity")
def activity_update(request: ApiRequest, activity_id: Id, payload: ActivityPatch) -> Activity:
    """The fields sent change; the others stay. Only who logged it, or a manager, may change it; an email
    that was sent keeps its type, subject and text (409 `email_already_sent`)."""
    activity = _activity(request.auth, activity_id)
    changes = payload.model_dump(exclude_unset=True)
    services.activity_update(actor=request.auth, activity=activity, **changes)
    return _activity(request.auth, activity_id)


@router.delete("/activities/{activity_id}", response={204: None}, summary="Delete an activity")
def activity_delete(request: ApiRequest, activity_id: Id) -> Status[None]:
    """It leaves the customer's timeline too; the audit log keeps what it said."""
    services.activity_delete(actor=request.auth, activity=_activity(request.auth, activity_id))
    return Status(204, None)
