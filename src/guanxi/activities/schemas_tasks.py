"""API shapes of tasks and notifications. Times go out in UTC ("Z"); a time sent without an offset is
read in Asia/Shanghai."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema

from guanxi.customers.schemas import BodyIn

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
TaskStatus = Literal["open", "done", "cancelled"]
Priority = Annotated[int, Field(ge=1, le=4, description="1 low, 2 normal, 3 high, 4 urgent.")]


class TaskIn(BodyIn):
    title: str = Field(..., max_length=200, examples=["回访张伟: 保养后满意度"])
    due_at: datetime
    assignee_id: Id | None = Field(
        None, description="You when left out; a manager may give tasks to the team."
    )
    description: str = Field("", max_length=5000)
    priority: Priority = 2
    duration_minutes: int | None = Field(None, ge=1, le=1440, description="A meeting's length.")
    customer_id: Id | None = None
    opportunity_id: Id | None = Field(None, description="Its customer becomes the task's customer.")
    lead_id: Id | None = None
    remind_at: datetime | None = Field(
        None, description="When to remind the assignee, in the app and by email."
    )


class TaskPatch(BodyIn):
    """Only the fields sent change; send null to clear an optional one."""

    title: str | None = Field(None, max_length=200)
    due_at: datetime | None = None
    assignee_id: Id | None = None
    description: str | None = Field(None, max_length=5000)
    priority: Priority | None = None
    duration_minutes: int | None = Field(None, ge=1, le=1440)
    customer_id: Id | None = None
    opportunity_id: Id | None = None
    lead_id: Id | None = None
    remind_at: datetime | None = None


class CompleteIn(BodyIn):
    note: str = Field("", max_length=500, description="The outcome; shown on the customer's timeline.")


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


class TaskOut(Schema):
    id: int
    title: str
    description: str
    status: TaskStatus
    priority: int
    due_at: datetime
    duration_minutes: int | None
    assignee: UserRef
    customer: Ref | None
    opportunity: Ref | None
    lead: Ref | None
    remind_at: datetime | None
    reminded_at: datetime | None
    completed_at: datetime | None
    rule_id: int | None = Field(None, description="The follow-up rule that made it, if one did.")
    created_at: datetime
    updated_at: datetime


class TaskPage(Schema):
    items: list[TaskOut]
    limit: int
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` to fetch the next page; null on the last."
    )


class NotificationOut(Schema):
    id: int
    text: str
    link: str
    task_id: int | None
    read_at: datetime | None
    created_at: datetime


class NotificationPage(Schema):
    items: list[NotificationOut]
    unread: int = Field(..., description="Your unread notifications in all.")
    limit: int
    next_cursor: str | None = None


class MarkReadIn(BodyIn):
    ids: list[Id] | None = Field(None, description="The notifications to mark read; all when left out.")


class MarkReadOut(Schema):
    marked: int
