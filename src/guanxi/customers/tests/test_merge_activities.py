"""customer_merge moves the merged customer's activities and tasks (another app's one-to-many rows) to the
survivor, with their timeline entries, and says so on the merge's timeline entry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from guanxi.activities import services as activity_services
from guanxi.activities.models import Activity, Task
from guanxi.customers import services
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.users.models import User

pytestmark = pytest.mark.django_db


def test_the_merge_moves_activities_and_tasks_to_the_survivor(
    admin: User, make_user: Callable[..., User], make_customer: Callable[..., Any]
) -> None:
    rep = make_user("sales")
    survivor = make_customer(admin, name="张伟", phones=["13800138000"], owner=rep, team=rep.team)
    other = make_customer(admin, name="张伟(重复)", phones=["13900139000"], owner=rep, team=rep.team)
    kept = activity_services.activity_log(actor=rep, customer=survivor, kind="note", body="原有")
    moved = [
        activity_services.activity_log(actor=rep, customer=other, kind="call", direction="out"),
        activity_services.activity_log(actor=rep, customer=other, kind="visit", outcome="interested"),
    ]
    task = Task.objects.create(
        title="回访", assignee=rep, customer=other, due_at=timezone.now() + timedelta(days=3), created_by=rep
    )

    services.customer_merge(actor=admin, survivor=survivor, other=other)

    assert not Customer.objects.filter(pk=other.pk).exists()
    assert set(Activity.objects.filter(customer=survivor).values_list("pk", flat=True)) == {
        kept.pk,
        *(a.pk for a in moved),
    }
    task.refresh_from_db()
    assert task.customer_id == survivor.pk
    entries = TimelineEntry.objects.filter(customer=survivor, kind__startswith="activity.")
    assert sorted(entries.values_list("data__activity_id", flat=True)) == sorted(
        [kept.pk, *(a.pk for a in moved)]
    )
    merged = TimelineEntry.objects.get(customer=survivor, kind="customer.merged")
    assert merged.data["moved"]["activities.activity"] == 2
    assert merged.data["moved"]["activities.task"] == 1
    # The moved activities stay the rep's to change.
    activity_services.activity_update(actor=rep, activity=moved[0], body="合并后补充")
    assert entries.get(data__activity_id=moved[0].pk).data["body"] == "合并后补充"
