"""The record of an export: taking personal data out of the CRM is itself something the audit log keeps."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from guanxi.audit.models import AuditEvent
from guanxi.audit.services import audit_record
from guanxi.core.permissions import ensure_can
from guanxi.users.models import User


@transaction.atomic
def customer_export_record(
    *,
    actor: User,
    format: str,
    filters: dict[str, Any],
    rows: int,
    complete: bool = True,
    masked: bool = False,
) -> AuditEvent:
    """Record that `actor` exported `rows` customers in `format` (csv, xlsx, vcf), selected by `filters`.

    PIPL asks who took which personal data out and when: every export writes exactly one event, also one
    the reader broke off (`complete` false), and says whether the personal data in it was masked.
    """
    ensure_can(actor, "customer.export")
    return audit_record(
        actor=actor,
        action="customer.export",
        data={"format": format, "filters": filters, "rows": rows, "complete": complete, "masked": masked},
    )
