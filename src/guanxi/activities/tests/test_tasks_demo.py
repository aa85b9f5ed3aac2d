"""The demo tasks: made through the services for each rep with customers, once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from guanxi.activities.demo_tasks import OFFSETS, demo_tasks
from guanxi.activities.models import FollowUpRule, Task
from guanxi.activities.tests.tasks_fixtures import *  # noqa: F403  (the fixtures)
from guanxi.audit.models import AuditEvent
from guanxi.core.errors import PermissionDenied
from guanxi.users.models import User


def test_demo_tasks_are_made_once_for_reps_with_customers(
    rep: User, manager: User, mate: User, make_customer: Callable[..., Any]
) -> None:
    make_customer(rep, name="张伟")
    make_customer(manager, name="李雷")
    stats = demo_tasks()
    assert stats.tasks == 2 * len(OFFSETS) and stats.done == 2 and stats.rules == 2
    assert set(Task.objects.values_list("assignee__username", flat=True)) == {rep.username, manager.username}
    assert Task.objects.filter(status=Task.Status.DONE).count() == 2
    assert AuditEvent.objects.filter(action="task.create").count() == stats.tasks
    assert FollowUpRule.objects.count() == 2
    assert demo_tasks().tasks == 0  # once
    with pytest.raises(PermissionDenied):
        demo_tasks(actor=rep)
