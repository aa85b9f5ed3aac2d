"""The demo activities: through the services, on the reps' own customers, once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from guanxi.activities.demo import demo_activities
from guanxi.activities.models import Activity
from guanxi.core.errors import PermissionDenied
from guanxi.customers.models import TimelineEntry
from guanxi.users.models import User

pytestmark = pytest.mark.django_db


def test_demo_activities_land_on_the_reps_customers_once(
    admin: User, make_user: Callable[..., User], make_customer: Callable[..., Any]
) -> None:
    rep = make_user("sales")
    viewer = make_user("viewer")
    mine = [make_customer(rep, name=f"客户{i}") for i in range(3)]
    make_customer(admin, name="无人跟进", owner=viewer, team=viewer.team)

    stats = demo_activities()

    assert stats.customers == 3 and stats.activities == Activity.objects.count() >= 3
    assert set(Activity.objects.values_list("customer_id", flat=True)) == {c.pk for c in mine}
    assert set(Activity.objects.values_list("owner_id", flat=True)) == {rep.pk}
    assert TimelineEntry.objects.filter(kind__startswith="activity.").count() == stats.activities
    assert Activity.objects.filter(email__isnull=False).count() == 0
    assert demo_activities().activities == 0  # a second run adds nothing


def test_only_an_administrator_loads_them(make_user: Callable[..., User]) -> None:
    with pytest.raises(PermissionDenied):
        demo_activities(actor=make_user("manager"))
