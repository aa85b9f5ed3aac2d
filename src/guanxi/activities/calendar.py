"""The calendar: the month and week grids of the calendar page, and the iCalendar (RFC 5545) feed.

A task is a point in time on the calendar; a task with a length (`duration_minutes`) is a meeting and
shows as a block from its due time to its end. The feed has one VEVENT per task, with a UID that stays
the same for the task's life (so a calendar updates it in place), times in the configured zone with its
VTIMEZONE, and STATUS CANCELLED for a cancelled task (a calendar then removes it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.activities.models import Task

PRODID = "-//Guanxi//Guanxi CRM tasks//ZH"
REFRESH = timedelta(minutes=15)


# ---------------------------------------------------------------------------------------------------
# The page's grids (weeks start on Monday, as in China)


@dataclass
class Day:
    day: date
    in_month: bool
    is_today: bool
    tasks: list[Task] = field(default_factory=list)


def month_start(value: date) -> date:
    return value.replace(day=1)


def add_months(value: date, months: int) -> date:
    index = value.year * 12 + value.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def week_start(value: date) -> date:
    return value - timedelta(days=value.weekday())


def month_range(first: date) -> tuple[date, date]:
    """The first and the day after the last shown day of the month's grid: whole weeks, Monday first."""
    start = week_start(first)
    end = week_start(add_months(first, 1) - timedelta(days=1)) + timedelta(days=7)
    return start, end


def grid(start: date, end: date, tasks: list[Task], *, month: int | None, today: date) -> list[list[Day]]:
    """Weeks of days from `start` to `end` (exclusive), each day with its tasks in due order."""
    by_day: dict[date, list[Task]] = {}
    for task in tasks:
        by_day.setdefault(timezone.localtime(task.due_at).date(), []).append(task)
    weeks: list[list[Day]] = []
    day = start
    while day < end:
        if day.weekday() == 0 or not weeks:
            weeks.append([])
        weeks[-1].append(
            Day(
                day=day,
                in_month=month is None or day.month == month,
                is_today=day == today,
                tasks=by_day.get(day, []),
            )
        )
        day += timedelta(days=1)
    return weeks


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


# ---------------------------------------------------------------------------------------------------
# The iCalendar feed


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _description(task: Task) -> str:
    lines = []
    if task.customer_id is not None and task.customer is not None:
        lines.append(_("Customer: %(name)s") % {"name": task.customer.name})
    if task.opportunity_id is not None and task.opportunity is not None:
        lines.append(_("Opportunity: %(name)s") % {"name": task.opportunity.name})
    lines.append(_("Priority: %(priority)s") % {"priority": task.get_priority_display()})
    if task.description:
        lines += ["", task.description]
    return "\n".join(lines)


def task_event(task: Task, *, uid_domain: str, url: str, stamp: datetime) -> icalendar.Event:
    zone = _zone()
    event = icalendar.Event()
    event.add("uid", f"task-{task.pk}@{uid_domain}")
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", task.due_at.astimezone(zone))
    ends_at = task.ends_at
    if ends_at is not None:
        event.add("dtend", ends_at.astimezone(zone))
    summary = task.title if task.status != Task.Status.DONE else f"✓ {task.title}"
    event.add("summary", summary)
    event.add("description", _description(task))
    event.add("url", url)
    event.add("status", "CANCELLED" if task.status == Task.Status.CANCELLED else "CONFIRMED")
    event.add("last-modified", task.updated_at.astimezone(UTC))
    event.add("priority", {4: 1, 3: 3, 2: 5, 1: 9}.get(task.priority, 0))
    event.add("transp", "OPAQUE" if ends_at is not None else "TRANSPARENT")
    if task.remind_at is not None and task.status == Task.Status.OPEN:
        # The calendar app reminds too, at the same moment as Guanxi's own reminder.
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", task.title)
        alarm.add("trigger", task.remind_at - task.due_at, parameters={"RELATED": "START"})
        event.add_component(alarm)
    return event


def feed_calendar(
    tasks: list[Task], *, name: str, uid_domain: str, url_for: Any, stamp: datetime | None = None
) -> bytes:
    """The feed as RFC 5545 text (CRLF line ends, lines folded at 75 octets by icalendar)."""
    stamp = stamp or timezone.now()
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)
    for task in tasks:
        calendar.add_component(task_event(task, uid_domain=uid_domain, url=url_for(task), stamp=stamp))
    calendar.add_missing_timezones()
    return calendar.to_ical()
