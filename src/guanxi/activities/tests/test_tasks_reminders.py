"""Reminders: sent at the right time (a frozen clock), once, in the app and by email to a real SMTP server."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections

from guanxi.activities import services_reminders, services_tasks
from guanxi.activities.models import Notification, Task
from guanxi.activities.tests.tasks_fixtures import *  # noqa: F403  (the fixtures)
from guanxi.activities.tests.tasks_fixtures import T0, Clock
from guanxi.channels.models import EmailMessage
from guanxi.customers.models import Customer
from guanxi.users.models import User


def test_a_reminder_is_sent_once_at_its_time_in_the_app_and_by_email(
    rep: User,
    buyer: Customer,
    make_task: Callable[..., Task],
    clock: Clock,
    smtp_server: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    task = make_task(title="回访张伟: 保养满意度", due_at=T0 + timedelta(hours=1), customer=buyer)
    services_tasks.task_update(actor=rep, task=task, remind_at=T0 + timedelta(minutes=45))

    clock.move(minutes=44, seconds=59)
    with django_capture_on_commit_callbacks(execute=True):
        assert services_reminders.reminders_send() == 0
    assert not Notification.objects.exists() and smtp_server.messages == []

    clock.move(seconds=1)  # 09:45 exactly
    with django_capture_on_commit_callbacks(execute=True):
        assert services_reminders.reminders_send() == 1
    note = Notification.objects.get()
    assert note.user == rep and note.task == task and note.read_at is None
    assert note.link == f"/tasks/{task.pk}/"
    assert "回访张伟: 保养满意度" in note.text and "张伟" in note.text
    [mail] = smtp_server.messages
    assert mail["To"] == "li.na@dealer.example"
    assert "回访张伟: 保养满意度" in mail["Subject"]
    assert f"/tasks/{task.pk}/" in smtp_server.text(mail)
    assert Task.objects.get(pk=task.pk).reminded_at == clock.now

    clock.move(minutes=1)  # the next minute's run
    with django_capture_on_commit_callbacks(execute=True):
        assert services_reminders.reminders_send() == 0
    assert Notification.objects.count() == 1 and len(smtp_server.messages) == 1
    assert EmailMessage.objects.count() == 1


def test_a_changed_reminder_time_reminds_again_and_a_done_task_not_at_all(
    rep: User, make_task: Callable[..., Task], clock: Clock
) -> None:
    task = make_task(due_at=T0 + timedelta(hours=2), remind_at=T0)
    done = make_task(title="已完成", due_at=T0, remind_at=T0)
    services_tasks.task_complete(actor=rep, task=done)
    assert services_reminders.reminders_send() == 1
    services_tasks.task_update(actor=rep, task=task, remind_at=T0 + timedelta(hours=1))
    assert services_reminders.reminders_send() == 0  # not yet
    clock.move(hours=1)
    assert services_reminders.reminders_send() == 1
    keys = sorted(Notification.objects.values_list("key", flat=True))
    assert keys == sorted(
        [
            services_reminders.reminder_key(task, T0),
            services_reminders.reminder_key(task, T0 + timedelta(hours=1)),
        ]
    )
    assert EmailMessage.objects.filter(key__in=keys).count() == 2
    assert not Notification.objects.filter(task=done).exists()


def test_an_assignee_without_email_gets_the_notification_only(
    rep: User, make_task: Callable[..., Task], clock: Clock
) -> None:
    User.objects.filter(pk=rep.pk).update(email="")
    make_task(remind_at=T0)
    assert services_reminders.reminders_send() == 1
    assert Notification.objects.count() == 1 and not EmailMessage.objects.exists()


def test_reminders_missed_while_the_consumer_was_down_go_out_on_the_next_run(
    rep: User, make_task: Callable[..., Task], clock: Clock
) -> None:
    for hour in range(5):
        make_task(
            title=f"任务{hour}", due_at=T0 + timedelta(hours=hour), remind_at=T0 + timedelta(hours=hour)
        )
    clock.move(hours=10)
    assert services_reminders.reminders_send() == 5
    assert services_reminders.reminders_send() == 0


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_consumers_at_once_send_each_reminder_once(
    make_user: Callable[..., User], smtp_server: Any
) -> None:
    """Two threads (two database connections) run the reminders at the same moment."""
    user = make_user("sales", username="racer")
    user.email = "racer@dealer.example"
    user.save()
    from django.utils import timezone

    now = timezone.now()
    for n in range(20):
        services_tasks.task_create(
            actor=user, title=f"回访{n}", due_at=now, remind_at=now - timedelta(minutes=1)
        )
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def run() -> None:
        try:
            barrier.wait()
            counts.append(services_reminders.reminders_send())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert connection.vendor == "postgresql"
    assert sum(counts) == 20
    assert Notification.objects.count() == 20
    assert EmailMessage.objects.count() == 20
    assert len(smtp_server.messages) == 20
    assert len({m["Subject"] for m in smtp_server.messages}) == 20  # each reminder once
