"""Duplicate and merge endpoints: thin shells over customers.duplicates and customers.services."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from guanxi.core.errors import Conflict, NotFound
from guanxi.core.http import ApiRequest
from guanxi.core.permissions import ensure_can
from guanxi.customers import duplicates, selectors, services
from guanxi.customers.models import Customer
from guanxi.customers.schemas import BodyIn, CustomerOut, Id

router = Router(tags=["duplicates"])
MAX_OFFSET = 1_000_000_000


class DuplicateFilters(Schema):
    limit: int = 25
    offset: int = 0


class DuplicatePairOut(Schema):
    a: CustomerOut = Field(..., description="The older customer of the pair.")
    b: CustomerOut
    score: int = Field(..., description="0–100: 95–100 the same person, lower likely the same.")
    same: bool = Field(..., description="True when a mobile number, email or WeChat ID matches.")
    reasons: list[Literal["phone", "email", "wechat", "name_phone", "name_address"]]


class DuplicatePageOut(Schema):
    items: list[DuplicatePairOut]
    limit: int
    offset: int
    next_offset: int | None = Field(
        None, description="Pass as `offset` to fetch the next page; null on the last."
    )
    computed_at: datetime | None = Field(
        None,
        description=(
            "When the pairs were found: a background job looks for them every night (and on request "
            "in the web UI); merged or deleted customers drop out at once. Null before the first run."
        ),
    )


class MergeIn(BodyIn):
    other_id: Id = Field(..., description="The customer merged into this one, then deleted.")
    choose: dict[str, Literal["survivor", "other"]] = Field(
        default_factory=dict,
        description=(
            "Whose value each field keeps: name, kind, gender, birthday, wechat_id, member_no, province, "
            "city, district, street, source, stage, notes, owner, team, or custom_fields.<key>. A field "
            "not named keeps this customer's value, or takes the other's when this one has none."
        ),
        examples=[{"stage": "other", "custom_fields.fleet": "other"}],
    )


@router.get(
    "/customers/duplicates",
    response=DuplicatePageOut,
    summary="Likely duplicate customers, best first (managers and administrators)",
)
def duplicate_list(request: ApiRequest, filters: Query[DuplicateFilters]) -> dict[str, Any]:
    limit = max(1, min(filters.limit, settings.GUANXI_API_MAX_LIMIT))
    offset = max(0, min(filters.offset, MAX_OFFSET))
    page = duplicates.duplicate_pairs(actor=request.auth, limit=limit, offset=offset)
    return {
        "items": [
            {"a": p.a, "b": p.b, "score": p.score, "same": p.same, "reasons": p.reasons} for p in page.items
        ],
        "limit": page.limit,
        "offset": page.offset,
        "next_offset": page.next_offset,
        "computed_at": page.computed_at,
    }


def _other(request: ApiRequest, other_id: int) -> Customer:
    """The customer to merge in; one merged already answers 409, so a repeated request is told so."""
    try:
        return selectors.customer_get(actor=request.auth, customer_id=other_id)
    except NotFound:
        merge = duplicates.customer_merged_into(actor=request.auth, customer_id=other_id)
        if merge is None:
            raise
        raise Conflict(
            _("Customer #%(id)s was merged into customer #%(survivor)s already.")
            % {"id": other_id, "survivor": merge.survivor_id},
            details={"other_id": other_id, "survivor_id": merge.survivor_id},
        ) from None


@router.post(
    "/customers/{customer_id}/merge",
    response=CustomerOut,
    summary="Merge another customer into this one (managers and administrators)",
)
def customer_merge(request: ApiRequest, customer_id: int, payload: MergeIn) -> Any:
    """Phones, emails and tags are unioned; contacts, assets, consent records and the timeline move to
    this customer; the other is deleted (its id stays traceable). Answers this customer as it is now."""
    ensure_can(request.auth, "customer.merge")  # refused before the ids say whether the customers exist
    survivor = selectors.customer_get(actor=request.auth, customer_id=customer_id)
    other = _other(request, payload.other_id)
    services.customer_merge(actor=request.auth, survivor=survivor, other=other, choose=payload.choose)
    return selectors.customer_get(actor=request.auth, customer_id=customer_id)
