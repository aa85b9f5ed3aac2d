"""Task and notification endpoints: thin shells over selectors_tasks and services_tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from guanxi.activities import selectors_tasks as selectors
from guanxi.activities import services_tasks as services
from guanxi.activities.models import Task
from guanxi.activities.schemas_tasks import (
    CompleteIn,
    Id,
    MarkReadIn,
    MarkReadOut,
    NotificationPage,
    TaskIn,
    TaskOut,
    TaskPage,
    TaskPatch,
    TaskStatus,
)
from guanxi.core.errors import Errors, NotFound
from guanxi.core.http import ApiRequest

router = Router(tags=["tasks"])
LINKS = {"customer_id": "customer", "opportunity_id": "opportunity", "lead_id": "lead"}
_UNKNOWN = {
    "customer_id": lambda: _("There is no such customer."),
    "opportunity_id": lambda: _("There is no such opportunity."),
    "lead_id": lambda: _("There is no such lead."),
}


class TaskFilters(Schema):
    assignee_id: Id | None = Field(
        None, description="Whose tasks (within your scope); all you may see when left out."
    )
    status: TaskStatus | None = None
    due_from: datetime | None = Field(None, description="Due at or after (inclusive).")
    due_until: datetime | None = Field(None, description="Due before (exclusive).")
    customer_id: Id | None = None
    opportunity_id: Id | None = None
    cursor: str = Field("", description="`next_cursor` of the page before.")
    limit: int = 50


class NotificationFilters(Schema):
    unread: bool = False
    cursor: str = ""
    limit: int = 50


def _limit(value: int) -> int:
    return max(1, min(value, settings.GUANXI_API_MAX_LIMIT))


def _resolve(actor: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The payload's ids as records in the actor's scope; an unknown one is a field error (422)."""
    errors = Errors()
    fields: dict[str, Any] = {}
    for key, value in data.items():
        if key in LINKS:
            try:
                fields[LINKS[key]] = (
                    None if value is None else selectors.link_get(actor=actor, kind=LINKS[key], pk=value)
                )
            except NotFound:
                errors.add(key, _UNKNOWN[key]())
        elif key == "assignee_id":
            if value is None:
                continue
            try:
                fields["assignee"] = selectors.assignee_in_scope(actor=actor, user_id=value)
            except NotFound:
                errors.add(key, _("You cannot give tasks to this user."))
        else:
            fields[key] = value
    errors.raise_if_any()
    return fields


def _task(actor: Any, task_id: int) -> Task:
    return selectors.task_get(actor=actor, task_id=task_id)


@router.get("/tasks", response=TaskPage, summary="List tasks, soonest due first")
def task_list(request: ApiRequest, filters: Query[TaskFilters]) -> dict[str, Any]:
    """Tasks you may see: yours; your team's for a manager; all for an administrator. Page with `limit`
    and `cursor` (keyset on due time)."""
    limit = _limit(filters.limit)
    tasks = selectors.task_list(
        actor=request.auth,
        assignee_id=filters.assignee_id,
        status=filters.status or "",
        due_from=filters.due_from,
        due_until=filters.due_until,
        customer_id=filters.customer_id,
        opportunity_id=filters.opportunity_id,
    )
    if filters.cursor:
        tasks = selectors.tasks_after(tasks, filters.cursor)
    items = list(tasks[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    last = items[-1] if more and items else None
    return {
        "items": items,
        "limit": limit,
        "next_cursor": selectors.cursor_encode(last.due_at, last.pk) if last else None,
    }


@router.post("/tasks", response={201: TaskOut}, summary="Create a task")
def task_create(request: ApiRequest, payload: TaskIn) -> Status[Task]:
    fields = _resolve(request.auth, payload.model_dump())
    task = services.task_create(actor=request.auth, **fields)
    return Status(201, _task(request.auth, task.pk))


@router.get("/tasks/{task_id}", response=TaskOut, summary="One task")
def task_get(request: ApiRequest, task_id: int) -> Task:
    return _task(request.auth, task_id)


@router.patch("/tasks/{task_id}", response=TaskOut, summary="Change a task")
def task_update(request: ApiRequest, task_id: int, payload: TaskPatch) -> Task:
    """Only the fields sent change. A new `remind_at` reminds again. 409 `task_not_open` for a task done
    or cancelled."""
    task = _task(request.auth, task_id)
    fields = _resolve(request.auth, payload.model_dump(exclude_unset=True))
    services.task_update(actor=request.auth, task=task, **fields)
    return _task(request.auth, task_id)


@router.post("/tasks/{task_id}/complete", response=TaskOut, summary="Mark a task done")
def task_complete(request: ApiRequest, task_id: int, payload: CompleteIn) -> Task:
    """409 `task_not_open` when it is done or cancelled already."""
    services.task_complete(actor=request.auth, task=_task(request.auth, task_id), note=payload.note)
    return _task(request.auth, task_id)


@router.post("/tasks/{task_id}/reopen", response=TaskOut, summary="Open a done or cancelled task again")
def task_reopen(request: ApiRequest, task_id: int) -> Task:
    services.task_reopen(actor=request.auth, task=_task(request.auth, task_id))
    return _task(request.auth, task_id)


@router.post("/tasks/{task_id}/cancel", response=TaskOut, summary="Cancel a task")
def task_cancel(request: ApiRequest, task_id: int) -> Task:
    services.task_cancel(actor=request.auth, task=_task(request.auth, task_id))
    return _task(request.auth, task_id)


@router.get("/notifications", response=NotificationPage, summary="Your notifications, newest first")
def notification_list(request: ApiRequest, filters: Query[NotificationFilters]) -> dict[str, Any]:
    limit = _limit(filters.limit)
    notes = selectors.notification_list(actor=request.auth, unread=filters.unread)
    if filters.cursor:
        notes = selectors.notifications_after(notes, filters.cursor)
    items = list(notes[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    last = items[-1] if more and items else None
    return {
        "items": items,
        "unread": selectors.notification_unread_count(actor=request.auth),
        "limit": limit,
        "next_cursor": selectors.cursor_encode(last.created_at, last.pk) if last else None,
    }


@router.post("/notifications/read", response=MarkReadOut, summary="Mark notifications read")
def notification_mark_read(request: ApiRequest, payload: MarkReadIn) -> dict[str, int]:
    return {"marked": services.notification_mark_read(actor=request.auth, ids=payload.ids)}
