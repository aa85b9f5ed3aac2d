"""Reads of tasks, notifications, follow-up rules and calendar feeds, each within the reader's scope.

A task is visible to its assignee, to the assignee's team for a team scope (a manager), and to all for
an all scope (an administrator): Task.objects.visible_to.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from guanxi.activities.models import CalendarFeed, FollowUpRule, Notification, Task, assignable_q, feed_digest
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.permissions import can, ensure_can, scope_q
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import Customer
from guanxi.leads.models import Lead
from guanxi.opportunities.models import Opportunity
from guanxi.users.models import User

UPCOMING_DAYS = 7
MY_DAY_LIMIT = 100
SUGGESTIONS = 6
FEED_PAST_DAYS = 60
FEED_FUTURE_DAYS = 366
FEED_LIMIT = 2000
BELL_LIMIT = 10


def _joined(tasks: QuerySet[Task]) -> QuerySet[Task]:
    return tasks.select_related("assignee", "customer", "opportunity", "lead")


def task_scope(*, actor: User) -> QuerySet[Task]:
    """The tasks `actor` may see, unsorted: the base of every task read."""
    ensure_can(actor, "activity.view")
    return Task.objects.visible_to(actor)


def task_list(
    *,
    actor: User,
    assignee_id: int | None = None,
    status: str = "",
    due_from: datetime | None = None,
    due_until: datetime | None = None,
    customer_id: int | None = None,
    opportunity_id: int | None = None,
) -> QuerySet[Task]:
    """Tasks in scope by due time (soonest first) with assignee and links joined. `due_from` is
    inclusive, `due_until` exclusive."""
    tasks = task_scope(actor=actor)
    if assignee_id:
        tasks = tasks.filter(assignee_id=assignee_id)
    if status:
        tasks = tasks.filter(status=status)
    if due_from:
        tasks = tasks.filter(due_at__gte=due_from)
    if due_until:
        tasks = tasks.filter(due_at__lt=due_until)
    if customer_id:
        tasks = tasks.filter(customer_id=customer_id)
    if opportunity_id:
        tasks = tasks.filter(opportunity_id=opportunity_id)
    return _joined(tasks).order_by("due_at", "id")


def customer_open_tasks(*, actor: User, customer: Customer, limit: int = 20) -> list[Task]:
    """The open tasks about one customer that the actor may see, soonest due first (one query)."""
    tasks = task_scope(actor=actor).filter(customer=customer, status=Task.Status.OPEN)
    return list(_joined(tasks).order_by("due_at", "id")[:limit])


def task_get(*, actor: User, task_id: int) -> Task:
    try:
        return _joined(task_scope(actor=actor)).select_related("created_by", "rule").get(pk=task_id)
    except (Task.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound(_("Task not found.")) from exc


@dataclass
class MyDay:
    """The four lists of "my day", each soonest first (done: latest first)."""

    overdue: list[Task]
    today: list[Task]
    upcoming: list[Task]
    done_today: list[Task]
    day_start: datetime
    now: datetime


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The start of `day` and of the day after it, in the configured time zone."""
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()))
    return start, end


def my_day(*, actor: User, assignee_id: int | None = None) -> MyDay:
    """Open tasks overdue (due before now), due later today, due in the next 7 days; tasks done today.

    Without `assignee_id`, the actor's own tasks; with it, that user's (within the actor's scope).
    Four queries, whatever the number of tasks.
    """
    tasks = _joined(task_scope(actor=actor).filter(assignee_id=assignee_id or actor.pk))
    now = timezone.now()
    start, end = day_bounds(timezone.localtime(now).date())
    open_ = tasks.filter(status=Task.Status.OPEN)
    return MyDay(
        overdue=list(open_.filter(due_at__lt=now).order_by("due_at", "id")[:MY_DAY_LIMIT]),
        today=list(open_.filter(due_at__gte=now, due_at__lt=end).order_by("due_at", "id")[:MY_DAY_LIMIT]),
        upcoming=list(
            open_.filter(due_at__gte=end, due_at__lt=end + timedelta(days=UPCOMING_DAYS)).order_by(
                "due_at", "id"
            )[:MY_DAY_LIMIT]
        ),
        done_today=list(
            tasks.filter(status=Task.Status.DONE, completed_at__gte=start, completed_at__lt=end).order_by(
                "-completed_at", "-id"
            )[:MY_DAY_LIMIT]
        ),
        day_start=start,
        now=now,
    )


def assignable_users(*, actor: User) -> QuerySet[User]:
    """Users the actor may give a task to (and whose day a manager may look at)."""
    return User.objects.filter(assignable_q(actor)).order_by("username")


def assignee_in_scope(*, actor: User, user_id: int) -> User:
    user = assignable_users(actor=actor).filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("User not found."))
    return user


def link_search(*, actor: User, q: str) -> dict[str, list[Any]]:
    """Customers, opportunities and leads matching `q` that a task may be linked to (a few of each)."""
    q = q.strip()
    found: dict[str, list[Any]] = {"customers": [], "opportunities": [], "leads": []}
    if not q:
        return found
    if can(actor, "customer.view"):
        found["customers"] = list(
            customer_selectors.customer_list(actor=actor, q=q, window=SUGGESTIONS)[:SUGGESTIONS]
        )
    if can(actor, "opportunity.view"):
        found["opportunities"] = list(
            Opportunity.objects.filter(scope_q(actor), Q(name__icontains=q) | Q(customer__name__icontains=q))
            .select_related("customer")
            .order_by("-id")[:SUGGESTIONS]
        )
    if can(actor, "lead.view"):
        found["leads"] = list(
            Lead.objects.filter(scope_q(actor), Q(name__icontains=q) | Q(company__icontains=q)).order_by(
                "-id"
            )[:SUGGESTIONS]
        )
    return found


def link_get(*, actor: User, kind: str, pk: Any) -> Any:
    """One customer, opportunity or lead in the actor's scope, for a task's link; NotFound otherwise."""
    models: dict[str, Any] = {"customer": Customer, "opportunity": Opportunity, "lead": Lead}
    model = models.get(kind)
    try:
        found = model.objects.filter(scope_q(actor), pk=int(pk)).first() if model else None
    except (TypeError, ValueError, OverflowError):
        found = None
    if found is None:
        raise NotFound(_("Not found."))
    return found


# ---------------------------------------------------------------------------------------------------
# Calendar


def calendar_tasks(
    *, actor: User, start: datetime, end: datetime, assignee_id: int | None = None
) -> list[Task]:
    """Open and done tasks due in [start, end) for the actor (or one assignee in scope); one query."""
    tasks = task_scope(actor=actor).filter(assignee_id=assignee_id or actor.pk)
    tasks = tasks.filter(due_at__gte=start, due_at__lt=end).exclude(status=Task.Status.CANCELLED)
    return list(tasks.select_related("customer").order_by("due_at", "id")[:FEED_LIMIT])


def calendar_feed_get(*, actor: User) -> CalendarFeed | None:
    ensure_can(actor, "activity.view")
    return CalendarFeed.objects.filter(user=actor).first()


def calendar_feed_by_token(*, token: str) -> CalendarFeed | None:
    """The feed of a secret token, if its user is still active and may see tasks; None otherwise."""
    if not token or len(token) > 100:
        return None
    feed = CalendarFeed.objects.select_related("user").filter(digest=feed_digest(token)).first()
    if feed is None or not can(feed.user, "activity.view"):
        return None
    return feed


def feed_tasks(*, user: User) -> list[Task]:
    """The tasks in a user's feed: theirs, due from two months ago to a year ahead, cancelled ones too
    (so a calendar that has them marks them cancelled)."""
    now = timezone.now()
    tasks = Task.objects.filter(
        assignee=user,
        due_at__gte=now - timedelta(days=FEED_PAST_DAYS),
        due_at__lt=now + timedelta(days=FEED_FUTURE_DAYS),
    )
    return list(tasks.select_related("customer", "opportunity").order_by("due_at", "id")[:FEED_LIMIT])


# ---------------------------------------------------------------------------------------------------
# Notifications


def notification_list(*, actor: User, unread: bool = False) -> QuerySet[Notification]:
    """The actor's own notifications, newest first."""
    if not getattr(actor, "is_authenticated", False):
        return Notification.objects.none()
    notes = Notification.objects.filter(user=actor)
    if unread:
        notes = notes.filter(read_at__isnull=True)
    return notes.order_by("-created_at", "-id")


def notification_unread_count(*, actor: User) -> int:
    return notification_list(actor=actor, unread=True).count()


def notification_get(*, actor: User, notification_id: int) -> Notification:
    found = notification_list(actor=actor).filter(pk=notification_id).first()
    if found is None:
        raise NotFound(_("Not found."))
    return found


def notifications_after(notes: QuerySet[Notification], cursor: str) -> QuerySet[Notification]:
    when, pk = cursor_decode(cursor)
    return notes.filter(Q(created_at__lt=when) | Q(created_at=when, id__lt=pk))


# ---------------------------------------------------------------------------------------------------
# Follow-up rules


def followup_rule_list(*, actor: User) -> QuerySet[FollowUpRule]:
    ensure_can(actor, "followup.manage")
    return FollowUpRule.objects.select_related("fallback_assignee").order_by("name", "id")


def followup_rule_get(*, actor: User, rule_id: int) -> FollowUpRule:
    try:
        return followup_rule_list(actor=actor).get(pk=rule_id)
    except (FollowUpRule.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound(_("Follow-up rule not found.")) from exc


def followup_task_counts(*, actor: User) -> dict[int, int]:
    """How many tasks each rule has made, in one query."""
    ensure_can(actor, "followup.manage")
    rows = Task.objects.filter(rule__isnull=False).values("rule").annotate(n=Count("id")).order_by()
    return {row["rule"]: row["n"] for row in rows}


# ---------------------------------------------------------------------------------------------------
# Keyset pages for the API, by (due_at, id) or (created_at, id)


def cursor_encode(when: datetime, pk: int) -> str:
    raw = f"{when.isoformat()}|{pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when_text, _sep, id_text = raw.rpartition("|")
        when = parse_datetime(when_text)
        pk = int(id_text)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed(details={"cursor": [_("This cursor is not valid.")]}) from exc
    if when is None:
        raise ValidationFailed(details={"cursor": [_("This cursor is not valid.")]})
    return when, pk


def tasks_after(tasks: QuerySet[Task], cursor: str) -> QuerySet[Task]:
    when, pk = cursor_decode(cursor)
    return tasks.filter(Q(due_at__gt=when) | Q(due_at=when, id__gt=pk))
