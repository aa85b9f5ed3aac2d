"""Task pages: my day, the form, quick complete with and without htmx, scopes on every route."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from guanxi.activities import services_reminders
from guanxi.activities.models import FollowUpRule, Notification, Task
from guanxi.activities.tests.tasks_fixtures import *  # noqa: F403  (the fixtures)
from guanxi.activities.tests.tasks_fixtures import T0, Clock
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.users.models import User

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_my_day_shows_the_four_lists(
    rep: User,
    buyer: Customer,
    make_task: Callable[..., Task],
    clock: Clock,
    client_for: Callable[..., Client],
) -> None:
    make_task(title="昨天没打的电话", due_at=T0 - timedelta(days=1), customer=buyer)
    make_task(title="下午回访", due_at=T0 + timedelta(hours=5))
    make_task(title="周五上门", due_at=T0 + timedelta(days=2))
    response = client_for(rep).get("/tasks/")
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "My day",
        "Overdue",
        "昨天没打的电话",
        "Today",
        "下午回访",
        "Next 7 days",
        "周五上门",
        "Done today",
    ):
        assert text in page
    assert page.index("昨天没打的电话") < page.index("下午回访") < page.index("周五上门")
    assert 'name="assignee"' not in page  # a rep has only their own day
    partial = client_for(rep).get("/tasks/", **HTMX)
    assert (
        partial.status_code == 200
        and b"<html" not in partial.content
        and "下午回访" in partial.content.decode()
    )


def test_quick_complete_with_htmx_swaps_the_row_and_writes_the_timeline(
    rep: User, buyer: Customer, make_task: Callable[..., Task], client_for: Callable[..., Client]
) -> None:
    task = make_task(customer=buyer)
    response = client_for(rep).post(f"/tasks/{task.pk}/complete", **HTMX)
    assert response.status_code == 200
    assert f'id="task-{task.pk}"' in response.content.decode() and b"tk-done" in response.content
    assert Task.objects.get(pk=task.pk).status == Task.Status.DONE
    assert TimelineEntry.objects.filter(customer=buyer, kind="task.done").count() == 1
    again = client_for(rep).post(f"/tasks/{task.pk}/complete", **HTMX)  # a double click
    assert again.status_code == 200 and b"already" in again.content
    plain = client_for(rep).post(f"/tasks/{task.pk}/reopen", {"next": "/tasks/"})
    assert plain.status_code == 302 and plain["Location"] == "/tasks/"
    assert Task.objects.get(pk=task.pk).status == Task.Status.OPEN


def test_the_form_creates_a_linked_task_with_a_reminder(
    rep: User, buyer: Customer, client_for: Callable[..., Client], clock: Clock
) -> None:
    client = client_for(rep)
    form = client.get(f"/tasks/new?customer={buyer.pk}")
    assert form.status_code == 200 and "张伟" in form.content.decode()
    response = client.post(
        "/tasks/new",
        {
            "title": "回访: 保养满意度",
            "due_at": "2026-12-03T10:00",
            "priority": "3",
            "assignee": str(rep.pk),
            "remind": "15",
            "customer": str(buyer.pk),
            "description": "问问新机油的感受",
        },
    )
    task = Task.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/tasks/{task.pk}/"
    assert task.customer == buyer and task.priority == 3
    assert task.remind_at == task.due_at - timedelta(minutes=15)
    detail = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "回访: 保养满意度" in detail and "问问新机油的感受" in detail


def test_the_form_refuses_what_the_service_refuses(
    rep: User,
    mate: User,
    make_customer: Callable[..., Any],
    stranger: User,
    client_for: Callable[..., Client],
) -> None:
    theirs = make_customer(stranger, name="赵敏")
    response = client_for(rep).post(
        "/tasks/new",
        {
            "title": "x",
            "due_at": "2026-12-03T10:00",
            "priority": "2",
            "assignee": str(mate.pk),
            "customer": str(theirs.pk),
        },
    )
    assert response.status_code == 422
    assert not Task.objects.exists()
    assert "赵敏" not in response.content.decode()


def test_the_link_search_finds_customers_in_scope_only(
    rep: User,
    buyer: Customer,
    make_customer: Callable[..., Any],
    stranger: User,
    client_for: Callable[..., Client],
) -> None:
    make_customer(stranger, name="张三丰")
    page = client_for(rep).get("/tasks/links", {"q": "张"}).content.decode()
    assert "张伟" in page and "张三丰" not in page


def test_a_manager_looks_at_a_team_members_day_but_not_another_teams(
    manager: User,
    mate: User,
    stranger: User,
    make_task: Callable[..., Task],
    client_for: Callable[..., Client],
) -> None:
    make_task(actor=mate, title="队友的任务", due_at=T0 + timedelta(hours=1))
    make_task(actor=stranger, title="别组的任务", due_at=T0 + timedelta(hours=1))
    client = client_for(manager)
    page = client.get("/tasks/", {"assignee": mate.pk}).content.decode()
    assert "队友的任务" in page and 'name="assignee"' in page
    other = client.get("/tasks/", {"assignee": stranger.pk}).content.decode()
    assert "别组的任务" not in other and "My day" in other  # an unknown assignee shows the manager's own day


def test_routes_by_role_and_scope(
    rep: User,
    mate: User,
    viewer: User,
    marketer: User,
    manager: User,
    make_task: Callable[..., Task],
    client_for: Callable[..., Client],
) -> None:
    mine = make_task(title="mine")
    theirs = make_task(actor=mate, title="theirs")
    reads = ["/tasks/", f"/tasks/{mine.pk}/", "/tasks/calendar/", "/tasks/calendar/?view=week"]
    writes = ["/tasks/new", f"/tasks/{mine.pk}/edit", "/tasks/links?q=x"]
    for url in reads + writes:
        assert client_for(rep).get(url).status_code == 200, url
        assert client_for(marketer).get(url).status_code == 403, url
        anonymous = client_for(None).get(url)
        assert anonymous.status_code == 302 and "/login/" in anonymous["Location"], url
    for url in writes:
        assert client_for(viewer).get(url).status_code == 403, url
    for action in ("complete", "cancel", "reopen"):
        assert client_for(viewer).post(f"/tasks/{mine.pk}/{action}").status_code == 403
        assert client_for(rep).post(f"/tasks/{theirs.pk}/{action}").status_code == 404
    assert client_for(rep).get(f"/tasks/{theirs.pk}/").status_code == 404
    assert client_for(rep).get(f"/tasks/{theirs.pk}/edit").status_code == 404
    assert client_for(manager).get(f"/tasks/{theirs.pk}/").status_code == 200
    assert Task.objects.get(pk=theirs.pk).status == Task.Status.OPEN
    for url in ("/tasks/followups/", "/tasks/followups/new"):
        assert client_for(rep).get(url).status_code == 403
        assert client_for(manager).get(url).status_code == 200


def test_the_bell_counts_unread_reminders_and_opening_one_marks_it_read(
    rep: User, mate: User, make_task: Callable[..., Task], clock: Clock, client_for: Callable[..., Client]
) -> None:
    task = make_task(title="回访张伟", remind_at=T0)
    make_task(actor=mate, title="队友", remind_at=T0)
    services_reminders.reminders_send()
    client = client_for(rep)
    bell = client.get("/tasks/notifications/bell").content.decode()
    assert 'class="tk-bell-count">1<' in bell and "回访张伟" in bell and "队友" not in bell
    note = Notification.objects.get(user=rep)
    theirs = Notification.objects.get(user=mate)
    assert client.post(f"/tasks/notifications/{theirs.pk}/open").status_code == 404
    response = client.post(f"/tasks/notifications/{note.pk}/open")
    assert response.status_code == 302 and response["Location"] == f"/tasks/{task.pk}/"
    assert Notification.objects.get(pk=note.pk).read_at is not None
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert "tk-bell-count" not in client.get("/tasks/notifications/bell").content.decode()
    assert client.get("/tasks/notifications/").status_code == 200


@pytest.mark.parametrize("with_htmx", [False, True])
def test_the_calendar_shows_the_months_tasks_and_moves_with_htmx(
    rep: User,
    make_task: Callable[..., Task],
    clock: Clock,
    client_for: Callable[..., Client],
    with_htmx: bool,
) -> None:
    make_task(title="12月的会议", due_at=T0 + timedelta(days=3), duration_minutes=60)
    make_task(title="1月的回访", due_at=T0 + timedelta(days=40))
    headers = HTMX if with_htmx else {}
    december = client_for(rep).get("/tasks/calendar/", **headers).content.decode()
    assert "12月的会议" in december and "1月的回访" not in december and "tk-ev-meeting" in december
    january = client_for(rep).get("/tasks/calendar/?view=month&date=2027-01-01", **headers).content.decode()
    assert "1月的回访" in january and "12月的会议" not in january
    assert ("<html" in january) is not with_htmx


def test_the_follow_up_rule_pages_create_change_and_delete_a_rule(
    manager: User, mate: User, client_for: Callable[..., Client]
) -> None:
    client = client_for(manager)
    form = {
        "name": "购买后3天回访",
        "trigger": "purchase",
        "days": "3",
        "due_time": "10:30",
        "title_template": "回访{customer}",
        "priority": "2",
        "fallback_assignee": str(mate.pk),
        "active": "on",
    }
    bad = client.post("/tasks/followups/new", {**form, "title_template": "回访{name}"})
    assert bad.status_code == 422 and "Unknown placeholder" in bad.content.decode()
    assert client.post("/tasks/followups/new", form).status_code == 302
    rule = FollowUpRule.objects.get()
    assert rule.fallback_assignee == mate and rule.due_time.hour == 10 and rule.due_time.minute == 30
    listing = client.get("/tasks/followups/").content.decode()
    assert "购买后3天回访" in listing
    assert client.post(f"/tasks/followups/{rule.pk}/edit", {**form, "days": "5"}).status_code == 302
    assert FollowUpRule.objects.get().days == 5
    assert client.post(f"/tasks/followups/{rule.pk}/delete").status_code == 302
    assert not FollowUpRule.objects.exists()


def test_the_customer_card_lists_the_open_tasks_in_scope(
    rep: User,
    mate: User,
    marketer: User,
    buyer: Customer,
    make_customer: Callable[..., Any],
    stranger: User,
    make_task: Callable[..., Task],
    client_for: Callable[..., Client],
    django_assert_max_num_queries: Any,
) -> None:
    make_task(title="回访张伟", customer=buyer)
    make_task(title="另一个客户的", customer=make_customer(rep, name="李雷"))
    client = client_for(rep)
    with django_assert_max_num_queries(4):  # session, user, the customer, the tasks with their assignees
        card = client.get(f"/tasks/customer/{buyer.pk}", **HTMX)
    assert card.status_code == 200
    assert "回访张伟" in card.content.decode() and "另一个客户的" not in card.content.decode()
    theirs = make_customer(stranger, name="赵敏")
    assert client.get(f"/tasks/customer/{theirs.pk}").status_code == 404
    assert client_for(marketer).get(f"/tasks/customer/{buyer.pk}").status_code == 403


def test_notifications_are_for_every_signed_in_user_and_calendars_for_task_readers(
    marketer: User, viewer: User, client_for: Callable[..., Client]
) -> None:
    for user in (marketer, viewer):
        client = client_for(user)
        assert client.get("/tasks/notifications/").status_code == 200
        assert client.get("/tasks/notifications/bell").status_code == 200
        assert client.post("/tasks/notifications/read").status_code == 302
    assert client_for(marketer).post("/tasks/calendar/feed/reset").status_code == 403
    assert client_for(viewer).post("/tasks/calendar/feed/reset").status_code == 302
    anonymous = client_for(None)
    for url in ("/tasks/notifications/", "/tasks/notifications/bell", "/tasks/followups/"):
        assert anonymous.get(url).status_code == 302
