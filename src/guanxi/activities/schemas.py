"""API shapes of activities."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema

from guanxi.core.masking import mask_email
from guanxi.core.permissions import sees_pii
from guanxi.customers.schemas import BodyIn

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Kind = Literal["call", "visit", "meeting", "sms", "email", "wechat", "note"]
Direction = Literal["", "out", "in"]
Outcome = Literal[
    "", "reached", "no_answer", "left_message", "interested", "not_interested", "call_back", "done"
]
Minutes = Annotated[int, Field(ge=0, le=24 * 60)]


class ActivityIn(BodyIn):
    customer_id: Id | None = Field(
        None, description="The customer; may be left out when the opportunity (or a matched lead) names it."
    )
    lead_id: Id | None = None
    opportunity_id: Id | None = None
    kind: Kind
    direction: Direction = Field("", description="For calls, SMS, emails and WeChat messages.")
    outcome: Outcome = Field("", description="For calls, visits, meetings and WeChat messages.")
    subject: str = Field("", max_length=200)
    body: str = Field("", max_length=10_000, description="What was said; required for a note.")
    occurred_at: datetime | None = Field(
        None, description="When it happened; now when left out. Without an offset: Asia/Shanghai."
    )
    duration_minutes: Minutes | None = None
    send_email: bool = Field(
        False,
        description="For an email: send it now through the outbox. Refused with 422 `email_opted_out` when "
        "the customer withdrew marketing consent for email.",
    )
    email_to: str | None = Field(
        None,
        description="One of the customer's, its contacts' or the lead's addresses; the first when left out.",
    )


class ActivityPatch(BodyIn):
    kind: Kind | None = None
    direction: Direction | None = None
    outcome: Outcome | None = None
    subject: str | None = Field(None, max_length=200)
    body: str | None = Field(None, max_length=10_000)
    occurred_at: datetime | None = None
    duration_minutes: Minutes | None = None


class Ref(Schema):
    id: int
    name: str


class EmailStateOut(Schema):
    id: int
    status: Literal["queued", "sending", "sent", "failed", "given_up"]
    to: list[str]
    sent_at: datetime | None
    attempts: int
    last_error: str

    @staticmethod
    def resolve_to(obj: Any, context: Any) -> list[str]:
        request = context.get("request") if context else None
        if request is not None and sees_pii(request.auth):
            return list(obj.to)
        return [mask_email(address) for address in obj.to]


class ActivityOut(Schema):
    id: int
    kind: Kind
    direction: Direction
    outcome: Outcome
    subject: str
    body: str
    occurred_at: datetime
    duration_minutes: int | None
    customer: Ref | None
    lead: Ref | None
    opportunity: Ref | None
    owner: str | None = Field(..., description="The username of who logged it.")
    email: EmailStateOut | None = Field(..., description="For an email sent from Guanxi: its delivery.")
    created_at: datetime

    @staticmethod
    def resolve_owner(obj: Any) -> str | None:
        return obj.owner.username if obj.owner_id else None


class ActivityPage(Schema):
    items: list[ActivityOut]
    limit: int
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` to fetch the next page (older activities); null on the last."
    )
