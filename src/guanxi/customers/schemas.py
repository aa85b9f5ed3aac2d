"""API shapes of customer data. Personal data goes out masked where the reader may not see it in clear."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import ModelWrapValidatorHandler, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from guanxi.customers.services.config import MAX_POSITION
from guanxi.customers.services.details import MAX_MILEAGE_KM

# A database id: SQLite refuses integers past 64 bits with OverflowError where Django does not guard the
# lookup (foreign keys, IN lists), so the API refuses them first.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
Kind = Literal["person", "company"]
Stage = Literal["lead", "prospect", "customer", "repeat", "loyal", "at_risk", "churned"]
Gender = Literal["", "male", "female"]
Source = Literal[
    "", "walk_in", "referral", "phone", "web", "wechat", "campaign", "event", "partner", "import", "other"
]


class CustomerQuery(Schema):
    """The search, filters and sort of a customer list (GET /customers, the exports); `cf_<key>=<value>`
    filters by custom fields beside these."""

    q: str = ""
    stage: str = ""
    tag: Id | None = None
    owner: Id | None = None
    team: Id | None = None
    source: str = ""
    city: str = ""
    kind: str = ""
    sort: str = "newest"


class BodyIn(Schema):
    """A request body, which must be a JSON object.

    ninja's Schema wraps what it validates so that fields can be read from an object's attributes (its
    validator of this name); a body of [], "text" or 42 would then read as an object with no fields, a
    change of nothing answered 200. A body is JSON, never an object with attributes: this validator takes
    the place of ninja's, refuses what is not a JSON object and validates the object as it is.
    """

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(
        cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        if not isinstance(values, dict):
            raise PydanticCustomError("object_type", _("Send the fields as a JSON object."))
        return handler(values)


class Ref(Schema):
    id: int
    name: str


class CustomerIn(BodyIn):
    name: str = Field(..., max_length=200, examples=["张伟"])
    kind: Kind = "person"
    phones: list[str] = Field(default_factory=list, examples=[["138 0013 8000"]])
    emails: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    gender: Gender = ""
    birthday: date | None = None
    wechat_id: str = ""
    member_no: str | None = None
    external_ids: dict[str, str] = Field(default_factory=dict)
    province: str = ""
    city: str = ""
    district: str = ""
    street: str = ""
    source: Source = ""
    stage: Stage = "lead"
    notes: str = ""
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    owner_id: Id | None = None
    team_id: Id | None = None


class CustomerPatch(BodyIn):
    name: str | None = Field(None, max_length=200)
    kind: Kind | None = None
    phones: list[str] | None = None
    emails: list[str] | None = None
    tags: list[str] | None = None
    gender: Gender | None = None
    birthday: date | None = None
    wechat_id: str | None = None
    member_no: str | None = None
    external_ids: dict[str, str] | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    street: str | None = None
    source: Source | None = None
    stage: Stage | None = None
    notes: str | None = None
    custom_fields: dict[str, Any] | None = None
    owner_id: Id | None = None
    team_id: Id | None = None


class CustomerOut(Schema):
    id: int
    kind: str
    name: str
    phones: list[str]
    emails: list[str]
    tags: list[str]
    gender: str
    birthday: str | None
    wechat_id: str
    member_no: str | None
    external_ids: dict[str, str]
    province: str
    city: str
    district: str
    street: str
    source: str
    stage: str
    notes: str
    custom_fields: dict[str, Any]
    owner: Ref | None
    team: Ref | None
    created_at: datetime
    updated_at: datetime
    pii_masked: bool

    @staticmethod
    def resolve_phones(obj: Any) -> list[str]:
        return [p.value for p in obj.phones.all()]

    @staticmethod
    def resolve_emails(obj: Any) -> list[str]:
        return [e.display for e in obj.emails.all()]

    @staticmethod
    def resolve_tags(obj: Any) -> list[str]:
        return [t.name for t in obj.tags.all()]

    @staticmethod
    def resolve_birthday(obj: Any) -> str | None:
        return obj.display_birthday or None

    @staticmethod
    def resolve_wechat_id(obj: Any) -> str:
        return str(obj.display_wechat_id)

    @staticmethod
    def resolve_street(obj: Any) -> str:
        return str(obj.display_street)

    @staticmethod
    def resolve_owner(obj: Any) -> dict[str, Any] | None:
        return {"id": obj.owner.pk, "name": obj.owner.display_name} if obj.owner else None

    @staticmethod
    def resolve_team(obj: Any) -> dict[str, Any] | None:
        return {"id": obj.team.pk, "name": obj.team.name} if obj.team else None

    @staticmethod
    def resolve_pii_masked(obj: Any) -> bool:
        return not obj.clear


class CustomerPage(Schema):
    items: list[CustomerOut]
    limit: int
    offset: int
    next_offset: int | None = Field(
        None, description="Pass as `offset` to fetch the next page; null on the last."
    )


class ContactIn(BodyIn):
    name: str = Field(..., max_length=100)
    title: str = ""
    phone: str = ""
    email: str = ""
    wechat_id: str = ""
    is_primary: bool = False
    notes: str = ""


class ContactPatch(BodyIn):
    name: str | None = None
    title: str | None = None
    phone: str | None = None
    email: str | None = None
    wechat_id: str | None = None
    is_primary: bool | None = None
    notes: str | None = None


class ContactOut(Schema):
    id: int
    customer_id: int
    name: str
    title: str
    phone: str
    email: str
    wechat_id: str
    is_primary: bool
    notes: str

    @staticmethod
    def resolve_phone(obj: Any) -> str:
        return str(obj.value_phone)

    @staticmethod
    def resolve_email(obj: Any) -> str:
        return str(obj.display_email)

    @staticmethod
    def resolve_wechat_id(obj: Any) -> str:
        return str(obj.display_wechat_id)


class AssetIn(BodyIn):
    kind: Literal["vehicle", "site", "other"] = "vehicle"
    name: str = ""
    plate: str = Field("", examples=["粤B12345"])
    vin: str = ""
    model: str = ""
    mileage_km: int | None = Field(None, ge=0, le=MAX_MILEAGE_KM)
    address: str = ""
    site_stage: Literal["", "planning", "foundation", "structure", "finishing", "completed"] = ""
    notes: str = ""


class AssetPatch(BodyIn):
    kind: Literal["vehicle", "site", "other"] | None = None
    name: str | None = None
    plate: str | None = None
    vin: str | None = None
    model: str | None = None
    mileage_km: int | None = Field(None, ge=0, le=MAX_MILEAGE_KM)
    address: str | None = None
    site_stage: Literal["", "planning", "foundation", "structure", "finishing", "completed"] | None = None
    notes: str | None = None


class AssetOut(Schema):
    id: int
    customer_id: int
    kind: str
    name: str
    plate: str
    vin: str
    model: str
    mileage_km: int | None
    address: str
    site_stage: str
    notes: str


class ConsentIn(BodyIn):
    purpose: Literal["marketing", "profiling"]
    channel: Literal["any", "sms", "email", "wechat"] = "any"
    granted: bool
    method: Literal["paper", "verbal", "web", "sms", "wechat", "import"]
    recorded_at: datetime | None = None
    note: str = Field("", max_length=300)


class ConsentOut(Schema):
    id: int
    purpose: str
    channel: str
    granted: bool
    method: str
    recorded_at: datetime
    recorded_by: str | None
    note: str

    @staticmethod
    def resolve_recorded_by(obj: Any) -> str | None:
        return obj.recorded_by.username if obj.recorded_by else None


class NoteIn(BodyIn):
    body: str = Field(..., max_length=5000)


class TimelineOut(Schema):
    id: int
    occurred_at: datetime
    kind: str
    actor: str | None
    data: dict[str, Any]

    @staticmethod
    def resolve_actor(obj: Any) -> str | None:
        return obj.actor.username if obj.actor else None


class BulkTagIn(BodyIn):
    ids: list[Id] = Field(..., min_length=1, max_length=10000)
    tag: str
    remove: bool = False


class BulkAssignIn(BodyIn):
    ids: list[Id] = Field(..., min_length=1, max_length=10000)
    owner_id: Id | None = None
    team_id: Id | None = None


class BulkResult(Schema):
    changed: int


class TagIn(BodyIn):
    name: str = Field(..., max_length=50)
    color: str = "#2563eb"


class TagOut(Schema):
    id: int
    name: str
    color: str


class CustomFieldIn(BodyIn):
    key: str = Field("", max_length=50, description="Letters, digits and _; fixed once made.")
    label: str = Field(..., max_length=100)
    type: Literal["text", "number", "date", "choice", "boolean"]
    choices: list[str] = Field(default_factory=list)
    required: bool = False
    help_text: str = ""
    position: int = Field(0, ge=0, le=MAX_POSITION)


class CustomFieldPatch(BodyIn):
    label: str | None = None
    type: Literal["text", "number", "date", "choice", "boolean"] | None = None
    choices: list[str] | None = None
    required: bool | None = None
    help_text: str | None = None
    position: int | None = Field(None, ge=0, le=MAX_POSITION)
    active: bool | None = None


class CustomFieldOut(Schema):
    id: int
    key: str
    label: str
    type: str
    choices: list[str]
    required: bool
    help_text: str
    position: int
    active: bool
