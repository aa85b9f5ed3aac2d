"""Task reminders: in the app (a notification) and by email (the outbox), each sent once.

The periodic job (tasks.py, every minute) calls `reminders_send`. A task is due for its reminder when
it is open, its `remind_at` has come and `reminded_at` is empty. Each reminder is claimed with one
conditional UPDATE (`reminded_at` set only where it is still empty and `remind_at` unchanged), so two
consumers running at once never both send it; the notification and the email are written in the same
transaction as the claim, under keys that name the task and its reminder time, so a re-run sends
nothing twice and a changed reminder time reminds again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from guanxi.activities.models import Notification, Task
from guanxi.audit.services import audit_record
from guanxi.channels.services import email_enqueue

log = logging.getLogger(__name__)
BATCH = 200


def reminder_key(task: Task, remind_at: datetime) -> str:
    return f"task-reminder:{task.pk}:{remind_at.astimezone(UTC).isoformat()}"


def _text(task: Task) -> str:
    due = formats.date_format(timezone.localtime(task.due_at), "SHORT_DATETIME_FORMAT")
    if task.customer_id is not None:
        return _("Task “%(title)s” for %(customer)s is due %(due)s.") % {
            "title": task.title,
            "customer": task.customer.name if task.customer else "",
            "due": due,
        }
    return _("Task “%(title)s” is due %(due)s.") % {"title": task.title, "due": due}


def _email_body(task: Task, link: str) -> str:
    lines = [_text(task), ""]
    if task.description:
        lines += [task.description, ""]
    lines.append(_("Open the task: %(link)s") % {"link": link})
    return "\n".join(lines)


def _absolute(path: str) -> str:
    base = str(getattr(settings, "GUANXI_BASE_URL", "") or "").rstrip("/")
    return f"{base}{path}"


def _due(now: datetime) -> list[tuple[int, datetime | None]]:
    rows = (
        Task.objects.open()
        .filter(reminded_at__isnull=True, remind_at__lte=now)
        .order_by("remind_at", "id")
        .values_list("pk", "remind_at")[:BATCH]
    )
    return list(rows)


def _send_one(task_id: int, remind_at: datetime, now: datetime) -> bool:
    """Claim one reminder and write its notification and email; False when someone else has it."""
    with transaction.atomic():
        claimed = Task.objects.filter(
            pk=task_id, status=Task.Status.OPEN, reminded_at__isnull=True, remind_at=remind_at
        ).update(reminded_at=now)
        if claimed != 1:
            return False
        task = Task.objects.select_related("assignee", "customer").get(pk=task_id)
        key = reminder_key(task, remind_at)
        path = reverse("task-detail", args=[task.pk])
        text = _text(task)
        _notification, created = Notification.objects.get_or_create(
            key=key,
            defaults={
                "user": task.assignee,
                "text": text[:300],
                "link": path,
                "task": task,
                "created_at": now,
            },
        )
        # Not to someone who has left: their account is off, their mailbox may be someone else's now.
        email = task.assignee.email if task.assignee.is_active else ""
        if email:
            email_enqueue(
                actor=None,
                key=key,
                to=[email],
                subject=_("Reminder: %(title)s") % {"title": task.title},
                body=_email_body(task, _absolute(path)),
                customer=task.customer,
            )
        audit_record(
            actor=None,
            action="task.remind",
            target=task,
            data={"remind_at": remind_at.isoformat(), "email": bool(email), "notified": created},
        )
    return True


def reminders_send(*, now: datetime | None = None) -> int:
    """Send every reminder that has come due and was not sent; returns how many this run sent."""
    now = now or timezone.now()
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        while True:
            due = _due(now)
            if not due:
                break
            progressed = 0
            for task_id, remind_at in due:
                if remind_at is not None and _send_one(task_id, remind_at, now):
                    sent += 1
                    progressed += 1
            if len(due) < BATCH or not progressed:
                break
    if sent:
        log.info("task reminders sent: %d", sent)
    return sent
