"""The audit log, read-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from ninja import Query, Router, Schema

from guanxi.audit import selectors
from guanxi.core.http import ApiRequest

router = Router(tags=["audit"])


class AuditFilters(Schema):
    action: str = ""
    actor: str = ""
    target_type: str = ""
    target_id: str = ""
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    offset: int = 0


class AuditOut(Schema):
    id: int
    occurred_at: datetime
    actor: str
    via: str
    ip: str | None
    action: str
    target_type: str
    target_id: str
    target_label: str
    changes: dict[str, Any]
    data: dict[str, Any]

    @staticmethod
    def resolve_actor(obj: Any) -> str:
        return str(obj.actor_label)


class AuditPage(Schema):
    items: list[AuditOut]
    limit: int
    offset: int
    next_offset: int | None


@router.get("", response=AuditPage, summary="Audit events, newest first (administrators)")
def audit_list(request: ApiRequest, filters: Query[AuditFilters]) -> dict[str, Any]:
    limit = max(1, min(filters.limit, settings.GUANXI_API_MAX_LIMIT))
    offset = max(0, min(filters.offset, 1_000_000_000))
    events = selectors.audit_list(
        actor=request.auth,
        action=filters.action,
        actor_username=filters.actor,
        target_type=filters.target_type,
        target_id=filters.target_id,
        since=filters.since,
        until=filters.until,
    )
    items = list(events[offset : offset + limit + 1])
    return {
        "items": items[:limit],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if len(items) > limit else None,
    }
