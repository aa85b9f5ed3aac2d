"""Tasks (待办 / 回访任务): create, change, complete, reopen, cancel; notifications; the calendar feed.

Rules enforced here and nowhere else:
- `activity.create` to write a task; the task must be in the actor's scope (assigned to them, to their
  team for a team scope, any for an all scope), else NotFound, as if it did not exist.
- The assignee is someone the actor may assign to (models.assignable_q): themselves, their team's
  members for a manager, anyone for an administrator.
- A linked customer, opportunity or lead must be in the actor's scope; an opportunity's customer is the
  task's customer.
- A changed reminder time reminds again (reminded_at is cleared); reminders themselves are sent by
  services_reminders, once.
- A task done with a customer adds a `task.done` entry to the customer's timeline.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.activities.models import CalendarFeed, Notification, Task, assignable_q, feed_digest
from guanxi.audit.services import audit_record, changes_between
from guanxi.core.errors import Conflict, Errors, NotFound
from guanxi.core.permissions import ensure_can, scope_q
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.leads.models import Lead
from guanxi.opportunities.models import Opportunity
from guanxi.users.models import User

TITLE_MAX = 200
DESCRIPTION_MAX = 5000
MAX_DURATION_MINUTES = 24 * 60
EARLIEST_YEAR = 2000
LATEST_YEARS_AHEAD = 10
TASK_FIELDS = (
    "title",
    "description",
    "assignee",
    "due_at",
    "duration_minutes",
    "priority",
    "customer",
    "opportunity",
    "lead",
    "remind_at",
)


class TaskNotOpen(Conflict):
    code = "task_not_open"
    default_message = "This task is done or cancelled already."


class TaskAlreadyOpen(Conflict):
    code = "task_already_open"
    default_message = "This task is open already."


def _in_scope(actor: User, task: Task) -> Task:
    """The task, read again under a row lock, if `actor` may see it; NotFound otherwise."""
    found = Task.objects.visible_to(actor).select_for_update().filter(pk=task.pk).first()
    if found is None:
        raise NotFound(_("Task not found."))
    return found


def _aware(value: Any, field: str, errors: Errors) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, datetime):
        errors.add(field, _("Enter a date and time."))
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)  # read in the configured time zone (Asia/Shanghai)
    now = timezone.now()
    if value.year < EARLIEST_YEAR or value.year > now.year + LATEST_YEARS_AHEAD:
        errors.add(
            field,
            _("Enter a time between %(first)d and %(last)d.")
            % {"first": EARLIEST_YEAR, "last": now.year + LATEST_YEARS_AHEAD},
        )
        return None
    return value


def _clean(actor: User, fields: dict[str, Any], errors: Errors) -> dict[str, Any]:
    """The sent fields checked and normalised; every problem is added to `errors`."""
    for key in sorted(set(fields) - set(TASK_FIELDS)):
        errors.add(key, _("Unknown field."))
    cleaned: dict[str, Any] = {}
    if "title" in fields:
        title = " ".join(str(fields["title"] or "").split())
        if not title:
            errors.add("title", _("This field is required."))
        elif len(title) > TITLE_MAX:
            errors.add("title", _("Enter at most %(limit)d characters.") % {"limit": TITLE_MAX})
        cleaned["title"] = title
    if "description" in fields:
        description = str(fields["description"] or "").strip()
        if len(description) > DESCRIPTION_MAX:
            errors.add("description", _("Enter at most %(limit)d characters.") % {"limit": DESCRIPTION_MAX})
        cleaned["description"] = description
    if "due_at" in fields:
        due_at = _aware(fields["due_at"], "due_at", errors)
        if due_at is None and "due_at" not in errors.details:
            errors.add("due_at", _("This field is required."))
        cleaned["due_at"] = due_at
    if "remind_at" in fields:
        cleaned["remind_at"] = _aware(fields["remind_at"], "remind_at", errors)
    if "duration_minutes" in fields:
        duration = fields["duration_minutes"]
        if duration in (None, "", 0):
            cleaned["duration_minutes"] = None
        elif (
            not isinstance(duration, int)
            or isinstance(duration, bool)
            or not 0 < duration <= MAX_DURATION_MINUTES
        ):
            errors.add(
                "duration_minutes",
                _("Enter a whole number of minutes from 1 to %(limit)d.") % {"limit": MAX_DURATION_MINUTES},
            )
        else:
            cleaned["duration_minutes"] = duration
    if "priority" in fields:
        if fields["priority"] not in Task.Priority.values:
            errors.add(
                "priority", _("“%(value)s” is not one of the allowed values.") % {"value": fields["priority"]}
            )
        else:
            cleaned["priority"] = int(fields["priority"])
    if "assignee" in fields:
        assignee = fields["assignee"]
        if assignee is None:
            errors.add("assignee", _("This field is required."))
        elif (
            not isinstance(assignee, User)
            or not User.objects.filter(assignable_q(actor), pk=assignee.pk).exists()
        ):
            errors.add("assignee", _("You cannot give tasks to this user."))
        else:
            cleaned["assignee"] = assignee
    _clean_links(actor, fields, cleaned, errors)
    return cleaned


def _clean_links(actor: User, fields: dict[str, Any], cleaned: dict[str, Any], errors: Errors) -> None:
    """The customer, opportunity and lead, each in the actor's scope (else "no such …")."""
    checks: list[tuple[str, type[Any], str]] = [
        ("customer", Customer, _("There is no such customer.")),
        ("opportunity", Opportunity, _("There is no such opportunity.")),
        ("lead", Lead, _("There is no such lead.")),
    ]
    for key, model, message in checks:
        if key not in fields:
            continue
        value = fields[key]
        if value is None:
            cleaned[key] = None
        elif not model.objects.filter(scope_q(actor), pk=getattr(value, "pk", None)).exists():
            errors.add(key, message)
        else:
            cleaned[key] = value
    opportunity = cleaned.get("opportunity")
    if opportunity is not None:
        customer = cleaned.get("customer")
        if customer is None and "customer" not in errors.details:
            cleaned["customer"] = opportunity.customer
        elif customer is not None and customer.pk != opportunity.customer_id:
            errors.add("opportunity", _("This opportunity is another customer's."))


@transaction.atomic
def task_create(
    *,
    actor: User,
    title: str,
    due_at: datetime | None,
    assignee: User | None = None,
    description: str = "",
    priority: int = Task.Priority.NORMAL,
    duration_minutes: int | None = None,
    customer: Customer | None = None,
    opportunity: Opportunity | None = None,
    lead: Lead | None = None,
    remind_at: datetime | None = None,
) -> Task:
    """A new open task, for the actor unless another assignee is given."""
    ensure_can(actor, "activity.create")
    errors = Errors()
    cleaned = _clean(
        actor,
        {
            "title": title,
            "description": description,
            "assignee": assignee or actor,
            "due_at": due_at,
            "duration_minutes": duration_minutes,
            "priority": priority,
            "customer": customer,
            "opportunity": opportunity,
            "lead": lead,
            "remind_at": remind_at,
        },
        errors,
    )
    errors.raise_if_any()
    task = Task.objects.create(**cleaned, team_id=cleaned["assignee"].team_id, created_by=actor)
    audit_record(actor=actor, action="task.create", target=task, data=_snapshot(task))
    return task


def _snapshot(task: Task) -> dict[str, Any]:
    return {
        "title": task.title,
        "assignee": task.assignee_id,
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "priority": task.priority,
        "customer": task.customer_id,
        "opportunity": task.opportunity_id,
        "lead": task.lead_id,
        "remind_at": task.remind_at.isoformat() if task.remind_at else None,
        "duration_minutes": task.duration_minutes,
        "description": task.description,
    }


@transaction.atomic
def task_update(*, actor: User, task: Task, **fields: Any) -> Task:
    """Change some of a task's fields (only those sent). An open task only; a new reminder time
    reminds again."""
    ensure_can(actor, "activity.create")
    task = _in_scope(actor, task)
    if not task.is_open:
        raise TaskNotOpen(_("This task is done or cancelled already."))
    errors = Errors()
    cleaned = _clean(actor, fields, errors)
    errors.raise_if_any()
    before = _snapshot(task)
    for key, value in cleaned.items():
        setattr(task, key, value)
    if "assignee" in cleaned:
        task.team_id = task.assignee.team_id
    if "remind_at" in cleaned and before["remind_at"] != (
        task.remind_at.isoformat() if task.remind_at else None
    ):
        task.reminded_at = None
    task.save()
    changes = changes_between(before, _snapshot(task))
    if changes:
        audit_record(actor=actor, action="task.update", target=task, changes=changes)
    return task


@transaction.atomic
def task_complete(*, actor: User, task: Task, note: str = "") -> Task:
    """Mark an open task done; a task about a customer says so on the customer's timeline."""
    ensure_can(actor, "activity.create")
    task = _in_scope(actor, task)
    if not task.is_open:
        raise TaskNotOpen(_("This task is done or cancelled already."))
    now = timezone.now()
    task.status, task.completed_at = Task.Status.DONE, now
    task.save(update_fields=["status", "completed_at", "updated_at"])
    note = str(note or "").strip()[:DESCRIPTION_MAX]
    audit_record(actor=actor, action="task.complete", target=task, data={"note": note} if note else None)
    if task.customer_id is not None:
        TimelineEntry.objects.create(
            customer_id=task.customer_id,
            occurred_at=now,
            kind="task.done",
            actor=actor,
            data={"task_id": task.pk, "title": task.title, "note": note, "due_at": task.due_at.isoformat()},
        )
    return task


@transaction.atomic
def task_reopen(*, actor: User, task: Task) -> Task:
    """Open a done or cancelled task again."""
    ensure_can(actor, "activity.create")
    task = _in_scope(actor, task)
    if task.is_open:
        raise TaskAlreadyOpen(_("This task is open already."))
    before = task.status
    task.status, task.completed_at = Task.Status.OPEN, None
    task.save(update_fields=["status", "completed_at", "updated_at"])
    audit_record(actor=actor, action="task.reopen", target=task, changes={"status": [before, task.status]})
    return task


@transaction.atomic
def task_cancel(*, actor: User, task: Task) -> Task:
    """Cancel an open task: it leaves "my day" and the calendar shows it cancelled."""
    ensure_can(actor, "activity.create")
    task = _in_scope(actor, task)
    if not task.is_open:
        raise TaskNotOpen(_("This task is done or cancelled already."))
    task.status = Task.Status.CANCELLED
    task.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="task.cancel", target=task)
    return task


# ---------------------------------------------------------------------------------------------------
# Notifications (the bell)


@transaction.atomic
def notification_mark_read(*, actor: User, ids: list[int] | None = None) -> int:
    """Mark the actor's own unread notifications read: those in `ids`, or all. Returns how many."""
    if not getattr(actor, "is_authenticated", False):
        raise NotFound(_("Not found."))
    unread = Notification.objects.filter(user=actor, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    count = unread.update(read_at=timezone.now())
    if count:
        audit_record(actor=actor, action="notification.read", data={"count": count, "ids": ids})
    return count


# ---------------------------------------------------------------------------------------------------
# The calendar feed: a secret address per user, kept as its SHA-256 only


FEED_TOKEN_BYTES = 24
FEED_TOUCH_EVERY = timedelta(minutes=10)


@transaction.atomic
def calendar_feed_reset(*, actor: User) -> str:
    """A new secret feed token for the actor (the old address stops working); returns the token, which
    is shown once."""
    ensure_can(actor, "activity.view")
    token = secrets.token_urlsafe(FEED_TOKEN_BYTES)
    existed = CalendarFeed.objects.filter(user=actor).exists()
    CalendarFeed.objects.update_or_create(
        user=actor,
        defaults={
            "digest": feed_digest(token),
            "prefix": token[:6],
            "created_at": timezone.now(),
            "last_used_at": None,
        },
    )
    audit_record(
        actor=actor, action="calendar_feed.reset" if existed else "calendar_feed.create", target=actor
    )
    return token


@transaction.atomic
def calendar_feed_delete(*, actor: User) -> None:
    """Turn the actor's feed off: its address stops working."""
    ensure_can(actor, "activity.view")
    deleted, _detail = CalendarFeed.objects.filter(user=actor).delete()
    if deleted:
        audit_record(actor=actor, action="calendar_feed.delete", target=actor)


def calendar_feed_touch(*, feed: CalendarFeed) -> None:
    """Note when a calendar last fetched the feed (at most every few minutes: calendars poll)."""
    now = timezone.now()
    if feed.last_used_at is None or now - feed.last_used_at > FEED_TOUCH_EVERY:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
