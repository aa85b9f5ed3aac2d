from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from guanxi.audit.models import AuditEvent
from guanxi.core.permissions import ensure_can


def audit_list(
    *,
    actor: Any,
    action: str = "",
    actor_username: str = "",
    target_type: str = "",
    target_id: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events, newest first. Only roles with `audit.view` read the log."""
    ensure_can(actor, "audit.view")
    events = AuditEvent.objects.select_related("actor")
    if action:
        events = events.filter(action__startswith=action)
    if actor_username:
        events = events.filter(actor_label=actor_username)
    if target_type:
        events = events.filter(target_type=target_type)
    if target_id:
        events = events.filter(target_id=target_id)
    if since:
        events = events.filter(occurred_at__gte=since)
    if until:
        events = events.filter(occurred_at__lt=until)
    return events


def audit_action_names() -> list[str]:
    return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())
