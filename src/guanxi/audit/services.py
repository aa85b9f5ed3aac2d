from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models

from guanxi.audit.models import AuditEvent
from guanxi.core.context import current_origin


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool, dict)):
        return value
    return str(value)


def _empty_as_none(value: Any) -> Any:
    value = _plain(value)
    return None if value in ("", [], {}) else value


def changes_between(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for each field whose value differs (empty counts as unset), JSON-safe.

    A field missing from one side counts as unset there, so a value removed (a custom field emptied,
    which leaves the record's snapshot) is a change to None.
    """
    changes = {}
    for key in [*new, *(key for key in old if key not in new)]:
        before, after = _empty_as_none(old.get(key)), _empty_as_none(new.get(key))
        if before != after:
            changes[key] = [before, after]
    return changes


def audit_event(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    changes: dict[str, list[Any]] | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """One audit event, not saved yet: for services that write many at once (bulk_create)."""
    origin = current_origin()
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent(
        actor=user,
        actor_label=str(getattr(user, "username", "") or "system"),
        via=origin.via,
        ip=origin.ip,
        user_agent=origin.user_agent,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:200] if target is not None else "",
        changes=changes or {},
        data={k: _plain(v) for k, v in (data or {}).items()},
    )


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    changes: dict[str, list[Any]] | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit event. Called by every service that writes, inside its transaction."""
    event = audit_event(actor=actor, action=action, target=target, changes=changes, data=data)
    event.save()
    return event


def audit_record_many(
    *, actor: Any, action: str, targets: Sequence[models.Model], data: dict[str, Any] | None = None
) -> None:
    """One audit event per target in a single insert, for bulk actions."""
    AuditEvent.objects.bulk_create(
        audit_event(actor=actor, action=action, target=target, data=data) for target in targets
    )
