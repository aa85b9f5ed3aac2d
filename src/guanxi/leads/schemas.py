"""API shapes of leads. Phones, emails and WeChat IDs go out masked where the reader may not see them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema

from guanxi.customers.schemas import BodyIn
from guanxi.leads import scoring

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Source = Literal[
    "", "walk_in", "referral", "phone", "web", "wechat", "campaign", "event", "partner", "import", "other"
]
LeadStatus = Literal["new", "working", "qualified", "disqualified", "converted"]
Reason = Literal["no_budget", "no_need", "unreachable", "duplicate", "spam", "competitor", "other"]


class LeadIn(BodyIn):
    name: str = Field(..., max_length=200, examples=["王芳"])
    phone: str = Field(
        "", max_length=40, description="Any common writing; stored as E.164.", examples=["139 0013 9000"]
    )
    email: str = Field("", max_length=254, description="Stored in lower case.")
    company: str = Field("", max_length=200)
    wechat_id: str = Field("", max_length=64)
    city: str = Field("", max_length=30)
    source: Source = ""
    interest: str = Field("", max_length=200, description="What they asked about.", examples=["汉EV 四驱版"])
    message: str = Field("", max_length=5000)
    store_id: Id | None = None
    owner_id: Id | None = Field(
        None, description="Left out: the assignment rules decide (a sales rep owns what they enter)."
    )
    team_id: Id | None = None
    extra: dict[str, str] = Field(
        default_factory=dict, description="More details: UTM parameters, the page, …"
    )


class LeadPatch(BodyIn):
    name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=254)
    company: str | None = Field(None, max_length=200)
    wechat_id: str | None = Field(None, max_length=64)
    city: str | None = Field(None, max_length=30)
    source: Source | None = None
    interest: str | None = Field(None, max_length=200)
    message: str | None = Field(None, max_length=5000)
    store_id: Id | None = None
    status: Literal["new", "working"] | None = Field(
        None, description="new or working; setting it on a disqualified lead reopens it."
    )


class AssignIn(BodyIn):
    owner_id: Id | None = Field(..., description="null: unassigned, in the team's queue.")
    team_id: Id | None = None


class QualifyIn(BodyIn):
    note: str = Field("", max_length=500)


class DisqualifyIn(BodyIn):
    reason: Reason
    note: str = Field("", max_length=500, description="Required with reason `other`.")


class ConvertOpportunityIn(BodyIn):
    name: str = Field("", max_length=200, description="Left empty: the lead's interest, company or name.")
    pipeline_id: Id | None = Field(None, description="Left out: the default pipeline.")
    amount: Decimal | None = Field(None, description='CNY, as a string such as "259800.00".')
    expected_close: date | None = None


class ConvertIn(BodyIn):
    customer_id: Id | None = Field(
        None, description="An existing customer to link; left out: a new customer."
    )
    as_company: bool = Field(
        False, description="New customer only: a company named after the lead's company."
    )
    opportunity: ConvertOpportunityIn | None = Field(None, description="Open an opportunity too.")


class Ref(Schema):
    id: int
    name: str


class UserRef(Schema):
    id: int
    username: str
    name: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.display_name)


class ReasonOut(Schema):
    rule: str
    points: int
    label: str
    text: str = Field(..., description="The label with its points: “Came through a referral +20”.")


class LeadOut(Schema):
    id: int
    name: str
    company: str
    phone: str
    email: str
    wechat_id: str
    city: str
    store: Ref | None
    source: str
    interest: str
    message: str
    status: LeadStatus
    disqualify_reason: str
    status_note: str
    score: int = Field(..., description="0–100, from the rules in `score_reasons`.")
    score_reasons: list[ReasonOut]
    captures: int = Field(..., description="How many times this person reached us while the lead was open.")
    last_captured_at: datetime | None
    extra: dict[str, Any]
    customer: Ref | None = Field(
        ...,
        description="The customer this lead is: matched by phone or email on arrival, or made by conversion.",
    )
    opportunity: Ref | None
    converted_at: datetime | None
    owner: UserRef | None
    team: Ref | None
    created_at: datetime
    updated_at: datetime
    merged: bool = Field(False, description="On create: the capture was merged into this open lead.")
    pii_masked: bool

    @staticmethod
    def resolve_phone(obj: Any) -> str:
        return str(obj.value_phone)

    @staticmethod
    def resolve_email(obj: Any) -> str:
        return str(obj.display_email)

    @staticmethod
    def resolve_wechat_id(obj: Any) -> str:
        return str(obj.display_wechat_id)

    @staticmethod
    def resolve_score_reasons(obj: Any) -> list[dict[str, Any]]:
        return [
            {"rule": r.rule, "points": r.points, "label": r.label, "text": r.text}
            for r in scoring.explain(obj.score_reasons)
        ]

    @staticmethod
    def resolve_pii_masked(obj: Any) -> bool:
        return not obj.clear


class LeadPage(Schema):
    items: list[LeadOut]
    limit: int
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next (older) page; null on the last."
    )
