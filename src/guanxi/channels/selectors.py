"""Reads of the email outbox.

Who sees a message: a user whose scope covers the one who queued it (own, team, all) or the customer
it was written to. A message the system queued for nobody in particular (no author, no customer)
shows only to a role that sees all records.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.channels.models import EmailMessage
from guanxi.core.errors import NotFound
from guanxi.core.permissions import ALL, ensure_can, scope_of, scope_q

# A queued message whose task was lost (the queue emptied, the consumer down when it was queued) is
# picked up by the every-minute sweep once it is this old; younger ones are its own task's to send.
QUEUED_GRACE = timedelta(minutes=2)
DUE_BATCH = 500


def email_scope(*, actor: Any) -> QuerySet[EmailMessage]:
    ensure_can(actor, "email.view")
    messages = EmailMessage.objects.all()
    if scope_of(actor) == ALL:
        return messages
    return messages.filter(
        scope_q(actor, owner="created_by", team="created_by__team")
        | scope_q(actor, owner="customer__owner", team="customer__team")
    )


def email_list(*, actor: Any, status: str = "", q: str = "") -> QuerySet[EmailMessage]:
    """Messages in scope, newest first, with their customer and author joined. `q` finds a subject
    or a recipient (a substring of either)."""
    messages = email_scope(actor=actor)
    if status:
        messages = messages.filter(status=status)
    text = q.strip()
    if text:
        # `to` is a JSON list: its text form holds every address, on SQLite and PostgreSQL alike.
        messages = messages.filter(Q(subject__icontains=text) | Q(to__icontains=text))
    return messages.select_related("customer", "created_by").order_by("-id")


def email_get(*, actor: Any, message_id: int) -> EmailMessage:
    """One message with its attachments' names and sizes (not their content)."""
    messages = email_scope(actor=actor).select_related("customer", "created_by")
    try:
        return messages.get(pk=message_id)
    except (EmailMessage.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound(_("Email not found.")) from exc


def email_attachments(*, message: EmailMessage) -> list[dict[str, Any]]:
    """Name, type and size of each attachment, without loading the files."""
    rows = message.attachments.annotate(size=Length("content")).values("filename", "content_type", "size")
    return list(rows)


def email_due_ids(*, limit: int = DUE_BATCH) -> list[int]:
    """For the task layer (no actor): failed messages whose next attempt is due, and queued ones
    older than QUEUED_GRACE whose own task never ran. Oldest first."""
    now = timezone.now()
    due = Q(status=EmailMessage.Status.FAILED, next_attempt_at__lte=now) | Q(
        status=EmailMessage.Status.QUEUED, created_at__lte=now - QUEUED_GRACE
    )
    return list(EmailMessage.objects.filter(due).order_by("id").values_list("pk", flat=True)[:limit])
