"""The iCalendar feed: valid RFC 5545 parsed back with icalendar, a secret address per user, reset."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import icalendar
from django.test import Client

from guanxi.activities import services_tasks
from guanxi.activities.models import CalendarFeed, Task
from guanxi.activities.tests.tasks_fixtures import *  # noqa: F403  (the fixtures)
from guanxi.activities.tests.tasks_fixtures import SHANGHAI, T0, Clock
from guanxi.audit.models import AuditEvent
from guanxi.customers.models import Customer
from guanxi.users.models import User

FEED_URL = re.compile(r'value="(http://testserver/tasks/calendar/[A-Za-z0-9_-]+\.ics)"')


def _feed_url(client: Client) -> str:
    """Reset the feed from the calendar page and read the address it shows once."""
    response = client.post("/tasks/calendar/feed/reset", follow=True)
    match = FEED_URL.search(response.content.decode())
    assert match, "the calendar page shows the new address"
    return match.group(1).removeprefix("http://testserver")


def test_the_feed_is_valid_icalendar_with_every_required_property(
    rep: User,
    buyer: Customer,
    make_task: Callable[..., Task],
    clock: Clock,
    client_for: Callable[..., Client],
) -> None:
    long_title = "回访张伟: 询问比亚迪汉保养后的满意度, 并预约下次保养, 顺便介绍冬季轮胎优惠活动"
    meeting = make_task(title="看车会议", due_at=T0 + timedelta(days=1), duration_minutes=90, customer=buyer)
    call = make_task(
        title=long_title,
        due_at=T0 + timedelta(days=2),
        description="第一行\n第二行; 带逗号, 和分号",
        remind_at=T0 + timedelta(days=2, minutes=-30),
    )
    gone = make_task(title="取消的拜访", due_at=T0 + timedelta(days=3))
    services_tasks.task_cancel(actor=rep, task=gone)
    url = _feed_url(client_for(rep))

    response = Client().get(url)  # no sign-in: calendars cannot sign in
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    raw = response.content
    lines = raw.split(b"\r\n")
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    assert all(len(line) <= 75 for line in lines), "lines folded at 75 octets"
    assert any(line.startswith(b" ") for line in lines), "the long title is folded"

    calendar = icalendar.Calendar.from_ical(raw)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    events = {event["UID"]: event for event in calendar.walk("VEVENT")}
    assert len(events) == 3
    for event in events.values():
        for prop in ("UID", "DTSTAMP", "DTSTART", "SUMMARY", "STATUS", "URL", "DESCRIPTION"):
            assert prop in event, prop
    first = events[f"task-{meeting.pk}@testserver"]
    assert first.start == datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI)
    assert first.end == datetime(2026, 12, 3, 10, 30, tzinfo=SHANGHAI)
    assert first["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert str(first["SUMMARY"]) == "看车会议" and "张伟" in str(first["DESCRIPTION"])
    assert str(first["URL"]) == f"http://testserver/tasks/{meeting.pk}/"
    assert str(first["STATUS"]) == "CONFIRMED"
    second = events[f"task-{call.pk}@testserver"]
    assert str(second["SUMMARY"]) == long_title  # unfolded whole
    assert "第二行; 带逗号, 和分号" in str(second["DESCRIPTION"])
    assert "DTEND" not in second  # a point in time, not a meeting
    assert first.walk("VALARM") == []  # no reminder set
    [alarm] = second.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY" and alarm["TRIGGER"].dt == timedelta(minutes=-30)
    assert str(events[f"task-{gone.pk}@testserver"]["STATUS"]) == "CANCELLED"

    # A change keeps the UID, so a calendar updates the event in place.
    services_tasks.task_update(actor=rep, task=call, title="改期的回访", due_at=T0 + timedelta(days=4))
    again = icalendar.Calendar.from_ical(Client().get(url).content)
    changed = {e["UID"]: e for e in again.walk("VEVENT")}[f"task-{call.pk}@testserver"]
    assert str(changed["SUMMARY"]) == "改期的回访" and changed.start == T0 + timedelta(days=4)


def test_a_reset_invalidates_the_old_address_and_only_the_owners_tasks_are_in_it(
    rep: User, mate: User, make_task: Callable[..., Task], clock: Clock, client_for: Callable[..., Client]
) -> None:
    make_task(title="我的")
    make_task(actor=mate, title="队友的")
    client = client_for(rep)
    old = _feed_url(client)
    body = Client().get(old).content.decode()
    assert "我的" in body and "队友的" not in body
    new = _feed_url(client)
    assert new != old
    assert Client().get(old).status_code == 404
    assert Client().get(new).status_code == 200
    feed = CalendarFeed.objects.get(user=rep)
    assert feed.digest != new.rsplit("/", 1)[1].removesuffix(".ics")  # only its hash is kept
    assert feed.last_used_at == clock.now
    assert AuditEvent.objects.filter(action__in=["calendar_feed.create", "calendar_feed.reset"]).count() == 2
    page = client.get("/tasks/calendar/").content.decode()
    assert new not in page and feed.prefix in page  # shown once, then only its start
    client.post("/tasks/calendar/feed/delete")
    assert Client().get(new).status_code == 404


def test_a_deactivated_user_s_feed_stops(rep: User, client_for: Callable[..., Client]) -> None:
    url = _feed_url(client_for(rep))
    User.objects.filter(pk=rep.pk).update(is_active=False)
    assert Client().get(url).status_code == 404
    assert Client().get("/tasks/calendar/not-a-token.ics").status_code == 404


def test_the_feed_reads_a_constant_number_of_queries(
    rep: User,
    buyer: Customer,
    make_task: Callable[..., Task],
    client_for: Callable[..., Client],
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    url = _feed_url(client_for(rep))
    for n in range(30):
        make_task(title=f"任务{n}", due_at=T0 + timedelta(hours=n), customer=buyer)
    with django_assert_max_num_queries(3):  # the feed and its user, the tasks, the last-used mark
        assert Client().get(url).status_code == 200
