"""Task services: who may write, to whom a task may go, what it may link, and the state changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from guanxi.activities import selectors_tasks as selectors
from guanxi.activities import services_tasks as services
from guanxi.activities.models import Task
from guanxi.activities.tests.tasks_fixtures import *  # noqa: F403  (the fixtures)
from guanxi.activities.tests.tasks_fixtures import SHANGHAI, T0, Clock
from guanxi.audit.models import AuditEvent
from guanxi.core.errors import NotFound, PermissionDenied, ValidationFailed
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.opportunities.services import opportunity_create
from guanxi.users.models import User


def test_a_rep_creates_a_task_for_themselves_and_it_is_audited(
    rep: User, buyer: Customer, clock: Clock
) -> None:
    task = services.task_create(
        actor=rep,
        title="  回访   张伟 ",
        due_at=datetime(2026, 12, 3, 10, 0),  # naive: read in Asia/Shanghai
        customer=buyer,
        priority=Task.Priority.HIGH,
        remind_at=datetime(2026, 12, 3, 9, 45, tzinfo=SHANGHAI),
    )
    assert task.title == "回访 张伟"
    assert task.assignee == rep and task.team_id == rep.team_id and task.created_by == rep
    assert task.due_at == datetime(2026, 12, 3, 10, 0, tzinfo=SHANGHAI)
    assert task.status == Task.Status.OPEN
    event = AuditEvent.objects.get(action="task.create")
    assert event.actor == rep and event.target_id == str(task.pk)
    assert event.data["customer"] == buyer.pk


def test_a_rep_cannot_give_a_task_to_a_team_mate(rep: User, mate: User) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.task_create(actor=rep, title="x", due_at=T0, assignee=mate)
    assert "assignee" in caught.value.details
    assert not Task.objects.exists()


def test_a_manager_gives_tasks_to_the_team_but_not_to_another_team(
    manager: User, mate: User, stranger: User
) -> None:
    task = services.task_create(actor=manager, title="跟进报价", due_at=T0, assignee=mate)
    assert task.assignee == mate and task.team_id == mate.team_id
    with pytest.raises(ValidationFailed) as caught:
        services.task_create(actor=manager, title="x", due_at=T0, assignee=stranger)
    assert caught.value.details["assignee"] == ["You cannot give tasks to this user."]
    assert Task.objects.count() == 1


def test_a_task_cannot_go_to_a_user_whose_role_sees_no_tasks(
    make_user: Callable[..., User], marketer: User
) -> None:
    admin = make_user("admin", username="root")
    with pytest.raises(ValidationFailed):
        services.task_create(actor=admin, title="x", due_at=T0, assignee=marketer)


def test_links_outside_the_scope_are_refused(
    rep: User, make_customer: Callable[..., Any], stranger: User
) -> None:
    theirs = make_customer(stranger, name="赵敏")
    with pytest.raises(ValidationFailed) as caught:
        services.task_create(actor=rep, title="x", due_at=T0, customer=theirs)
    assert caught.value.details == {"customer": ["There is no such customer."]}
    assert not Task.objects.exists()


def test_an_opportunity_brings_its_customer_and_must_match_it(
    rep: User, buyer: Customer, make_customer: Callable[..., Any]
) -> None:
    opportunity = opportunity_create(actor=rep, customer=buyer, name="比亚迪汉 换购", amount="180000")
    task = services.task_create(actor=rep, title="试驾", due_at=T0, opportunity=opportunity)
    assert task.customer == buyer
    another = make_customer(rep, name="李雷")
    with pytest.raises(ValidationFailed) as caught:
        services.task_create(actor=rep, title="试驾", due_at=T0, opportunity=opportunity, customer=another)
    assert "opportunity" in caught.value.details


def test_the_fields_are_checked_together(rep: User) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.task_create(actor=rep, title="", due_at=None, priority=9, duration_minutes=0 - 5)
    assert set(caught.value.details) == {"title", "due_at", "priority", "duration_minutes"}


@pytest.mark.parametrize("role", ["viewer", "marketing"])
def test_roles_without_activity_create_cannot_write(make_user: Callable[..., User], role: str) -> None:
    user = make_user(role)
    with pytest.raises(PermissionDenied):
        services.task_create(actor=user, title="x", due_at=T0)
    assert not Task.objects.exists()


def test_done_adds_to_the_customers_timeline_once(
    rep: User, buyer: Customer, make_task: Callable[..., Task], clock: Clock
) -> None:
    task = make_task(customer=buyer)
    clock.move(hours=2)
    services.task_complete(actor=rep, task=task, note="客户满意, 下月再来保养")
    task.refresh_from_db()
    assert task.status == Task.Status.DONE and task.completed_at == clock.now
    entry = TimelineEntry.objects.get(customer=buyer, kind="task.done")
    assert entry.data["task_id"] == task.pk and entry.data["note"] == "客户满意, 下月再来保养"
    with pytest.raises(services.TaskNotOpen):
        services.task_complete(actor=rep, task=task)
    assert TimelineEntry.objects.filter(kind="task.done").count() == 1


def test_reopen_and_cancel(rep: User, make_task: Callable[..., Task]) -> None:
    task = make_task()
    with pytest.raises(services.TaskAlreadyOpen):
        services.task_reopen(actor=rep, task=task)
    services.task_cancel(actor=rep, task=task)
    assert Task.objects.get(pk=task.pk).status == Task.Status.CANCELLED
    with pytest.raises(services.TaskNotOpen):
        services.task_update(actor=rep, task=task, title="改")
    services.task_reopen(actor=rep, task=task)
    task.refresh_from_db()
    assert task.status == Task.Status.OPEN and task.completed_at is None
    actions = list(AuditEvent.objects.filter(target_id=str(task.pk)).values_list("action", flat=True))
    assert sorted(actions) == ["task.cancel", "task.create", "task.reopen"]


def test_a_new_reminder_time_reminds_again(rep: User, make_task: Callable[..., Task]) -> None:
    task = make_task(remind_at=T0 - timedelta(minutes=15))
    Task.objects.filter(pk=task.pk).update(reminded_at=T0)
    services.task_update(actor=rep, task=task, title="回访张伟 (改期)")
    assert Task.objects.get(pk=task.pk).reminded_at == T0  # the reminder time did not change
    services.task_update(actor=rep, task=task, remind_at=T0 + timedelta(days=1))
    assert Task.objects.get(pk=task.pk).reminded_at is None
    change = AuditEvent.objects.filter(action="task.update").order_by("id").last()
    assert change is not None and set(change.changes) == {"remind_at"}


def test_someone_elses_task_is_not_found_for_a_rep_but_seen_by_the_manager(
    rep: User, mate: User, manager: User, stranger: User, make_task: Callable[..., Task]
) -> None:
    task = make_task(actor=mate)
    with pytest.raises(NotFound):
        selectors.task_get(actor=rep, task_id=task.pk)
    with pytest.raises(NotFound):
        services.task_complete(actor=rep, task=task)
    assert Task.objects.get(pk=task.pk).status == Task.Status.OPEN
    assert selectors.task_get(actor=manager, task_id=task.pk) == task
    services.task_complete(actor=manager, task=task)
    theirs = make_task(actor=stranger)
    with pytest.raises(NotFound):
        selectors.task_get(actor=manager, task_id=theirs.pk)


def test_my_day_sorts_tasks_into_four_lists_in_four_queries(
    rep: User, buyer: Customer, make_task: Callable[..., Task], clock: Clock, django_assert_num_queries: Any
) -> None:
    late = make_task(title="昨天的回访", due_at=T0 - timedelta(days=1), customer=buyer)
    soon = make_task(title="今天下午", due_at=T0 + timedelta(hours=6), customer=buyer)
    later = make_task(title="下周一", due_at=T0 + timedelta(days=5))
    make_task(title="太远", due_at=T0 + timedelta(days=30))
    done = make_task(title="上午已完成", due_at=T0 + timedelta(hours=1))
    services.task_complete(actor=rep, task=done)
    with django_assert_num_queries(4):
        day = selectors.my_day(actor=rep)
        [task.customer for task in day.overdue + day.today]  # joined, no more queries
    assert day.overdue == [late] and day.today == [soon] and day.upcoming == [later]
    assert day.done_today == [done]


def test_lists_read_in_one_query_whatever_their_length(
    rep: User, manager: User, buyer: Customer, make_task: Callable[..., Task], django_assert_num_queries: Any
) -> None:
    for n in range(12):
        make_task(title=f"任务{n}", due_at=T0 + timedelta(hours=n), customer=buyer)
    with django_assert_num_queries(1):
        tasks = list(selectors.task_list(actor=manager))
        [(task.assignee.username, task.customer.name if task.customer else "") for task in tasks]
    assert len(tasks) == 12
    with django_assert_num_queries(1):
        month = selectors.calendar_tasks(actor=rep, start=T0 - timedelta(days=1), end=T0 + timedelta(days=30))
        [task.customer.name for task in month if task.customer]
    assert len(month) == 12
    with django_assert_num_queries(1):
        card = selectors.customer_open_tasks(actor=rep, customer=buyer)
        [(task.assignee.username, task.customer.name) for task in card if task.customer]
    assert len(card) == 12
