"""API shapes of pipelines and opportunities. Money is CNY as a string with 2 decimals ("209800.00");
send it as a string too (a JSON number passes through a float first)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema

from guanxi.customers.schemas import BodyIn

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
OpportunityStatus = Literal["open", "won", "lost"]
StageKind = Literal["open", "won", "lost"]
LostReason = Literal["price", "competitor", "no_budget", "no_decision", "timing", "product_fit", "other"]


class Ref(Schema):
    id: int
    name: str


class UserRef(Schema):
    id: int
    username: str
    name: str = Field(..., alias="display_name")


class StageOut(Schema):
    id: int
    name: str
    position: int
    probability: int = Field(..., description="Default probability (%) of the opportunities in it.")
    kind: StageKind


class PipelineOut(Schema):
    id: int
    name: str
    active: bool
    stages: list[StageOut]


class LineIn(BodyIn):
    product_id: Id
    quantity: Decimal | None = Field(
        None, description="More than 0, at most 3 decimal places; 1 when left out."
    )
    unit_price: Decimal | None = Field(None, description="CNY; the product's price when left out.")


class LineOut(Schema):
    product: Ref
    quantity: Decimal
    unit_price: Decimal
    line_total: Decimal


class OpportunityOut(Schema):
    id: int
    name: str
    customer: Ref
    pipeline: Ref
    stage: StageOut
    status: OpportunityStatus
    amount: Decimal
    probability: int
    probability_manual: bool = Field(..., description="Set by hand: it then stays when the stage changes.")
    weighted_amount: Decimal
    expected_close: date | None
    next_step: str
    competitors: str
    description: str
    lost_reason: str = Field(..., description="Reason code of a lost opportunity, else empty.")
    close_note: str
    closed_at: datetime | None
    order_id: int | None = Field(None, description="The order booked when it was won, if any.")
    owner: UserRef | None
    team: Ref | None
    stage_changed_at: datetime
    created_at: datetime
    updated_at: datetime


class OpportunityDetailOut(OpportunityOut):
    lines: list[LineOut]


class OpportunityPage(Schema):
    items: list[OpportunityOut]
    limit: int
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` to fetch the next page; null on the last."
    )


class OpportunityIn(BodyIn):
    customer_id: Id
    name: str = Field(..., max_length=200)
    pipeline_id: Id | None = Field(None, description="The default pipeline when left out.")
    stage_id: Id | None = Field(
        None, description="An open stage; the pipeline's first open stage when left out."
    )
    amount: Decimal | None = Field(None, description="CNY; with lines and no amount, their total.")
    probability: int | None = Field(
        None, ge=0, le=100, description="Set by hand; the stage's default when left out."
    )
    expected_close: date | None = None
    owner_id: Id | None = Field(None, description="You when left out.")
    next_step: str = ""
    competitors: str = ""
    description: str = ""
    lines: list[LineIn] = Field(default_factory=list)


class OpportunityPatch(BodyIn):
    """Only the fields sent change. `probability: null` gives the probability back to the stage."""

    name: str | None = None
    amount: Decimal | None = None
    probability: int | None = Field(None, ge=0, le=100)
    expected_close: date | None = None
    owner_id: Id | None = None
    next_step: str | None = None
    competitors: str | None = None
    description: str | None = None
    lines: list[LineIn] | None = Field(None, description="Replaces every line when sent.")


class MoveIn(BodyIn):
    stage_id: Id | None = Field(None, description="The stage to move to; the same stage when left out.")
    after_id: Id | None = Field(None, description="Place right after this card of the target stage.")
    before_id: Id | None = Field(None, description="Place right before this card (when no after_id).")
    lost_reason: LostReason | None = Field(None, description="Needed to move into the lost stage.")
    note: str = ""


class CloseWonIn(BodyIn):
    note: str = ""
    create_order: bool = Field(
        False, description="Book an order from the lines, or the amount without lines."
    )
    store_id: Id | None = None
    payment_method: Literal["cash", "card", "wechat_pay", "alipay", "member_card", "other"] = "other"


class CloseLostIn(BodyIn):
    reason: LostReason
    note: str = ""


class StageChangeOut(Schema):
    id: int
    from_stage: Ref | None
    to_stage: Ref
    changed_by: UserRef | None
    changed_at: datetime
