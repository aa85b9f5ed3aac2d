"""Follow-up rules: one task per (rule, event), safe to run twice, at once, and after a long stop."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from guanxi.activities import services_followups as followups
from guanxi.activities.models import FollowUpRule, Task
from guanxi.activities.tests.tasks_fixtures import *  # noqa: F403  (the fixtures)
from guanxi.activities.tests.tasks_fixtures import SHANGHAI, T0, Clock
from guanxi.audit.models import AuditEvent
from guanxi.core.errors import PermissionDenied, ValidationFailed
from guanxi.customers import services as customer_services
from guanxi.customers.models import Customer
from guanxi.opportunities.services import opportunity_close_won, opportunity_create
from guanxi.sales.services import order_create, order_refund
from guanxi.users.models import User


@pytest.fixture
def purchase_rule(manager: User, clock: Clock) -> FollowUpRule:
    return followups.followup_rule_create(
        actor=manager,
        name="购买后3天回访",
        trigger=FollowUpRule.Trigger.PURCHASE,
        days=3,
        due_time=time(10, 30),
        title_template="回访{customer}: 订单{order} ({date})",
        priority=3,
    )


def test_a_purchase_makes_one_revisit_task_for_the_customers_owner(
    rep: User, buyer: Customer, purchase_rule: FollowUpRule, clock: Clock
) -> None:
    clock.move(minutes=5)
    order = order_create(actor=rep, customer=buyer, amount="278.28")
    clock.move(minutes=5)
    assert followups.followups_apply() == {"created": 1, "exists": 0, "unassigned": 0}
    task = Task.objects.get()
    assert task.assignee == rep and task.customer == buyer and task.rule == purchase_rule
    assert task.due_at == datetime(2026, 12, 5, 10, 30, tzinfo=SHANGHAI)
    assert task.remind_at == task.due_at and task.priority == 3
    assert task.title == f"回访张伟: 订单#{order.pk} (2026-12-02)"
    assert task.rule_key == f"rule:{purchase_rule.pk}:order:{order.pk}"
    assert AuditEvent.objects.filter(action="task.create", actor=None).count() == 1

    # Run again: the order is read again (it is inside the late-commit window) but makes nothing new;
    # once the window has passed it is not read at all.
    clock.move(hours=1)
    assert followups.followups_apply() == {"created": 0, "exists": 1, "unassigned": 0}
    clock.move(minutes=1)
    assert followups.followups_apply() == {"created": 0, "exists": 0, "unassigned": 0}
    assert Task.objects.count() == 1


def test_an_order_read_twice_in_the_late_commit_window_makes_one_task(
    rep: User, buyer: Customer, purchase_rule: FollowUpRule, clock: Clock
) -> None:
    clock.move(minutes=1)
    order_create(actor=rep, customer=buyer, amount="50")
    clock.move(minutes=1)
    followups.followups_apply()
    clock.move(minutes=1)  # the order is still inside the window read again
    assert followups.followups_apply() == {"created": 0, "exists": 1, "unassigned": 0}
    assert Task.objects.count() == 1


def test_purchases_before_the_rule_and_refunded_ones_make_no_task(
    rep: User, buyer: Customer, manager: User, clock: Clock
) -> None:
    order_create(actor=rep, customer=buyer, amount="10", ordered_at=T0 - timedelta(minutes=1))
    clock.move(minutes=1)
    rule = followups.followup_rule_create(
        actor=manager, name="r", trigger="purchase", title_template="回访{customer}"
    )
    clock.move(minutes=1)
    old = order_create(
        actor=rep, customer=buyer, amount="20", ordered_at=T0 - timedelta(days=300)
    )  # an import
    refunded = order_create(actor=rep, customer=buyer, amount="30")
    order_refund(actor=manager, order=refunded, reason="退货")
    assert followups.followups_apply()["created"] == 0
    assert not Task.objects.filter(rule=rule).exists()
    assert old.pk  # booked, only not followed up


def test_after_a_long_stop_every_event_since_gets_its_task(
    rep: User, buyer: Customer, purchase_rule: FollowUpRule, clock: Clock
) -> None:
    for _day in range(3):
        clock.move(days=1)
        order_create(actor=rep, customer=buyer, amount="100")
    clock.move(days=2)
    assert followups.followups_apply()["created"] == 3
    assert sorted(t.due_at.date() for t in Task.objects.all()) == [
        date(2026, 12, 6),
        date(2026, 12, 7),
        date(2026, 12, 8),
    ]


def test_two_runs_at_once_make_one_task_per_event(
    rep: User, buyer: Customer, purchase_rule: FollowUpRule, clock: Clock
) -> None:
    """A run that read the events before another run created their tasks hits the unique rule_key."""
    clock.move(minutes=1)
    order = order_create(actor=rep, customer=buyer, amount="100")
    event = next(
        followups._orders(purchase_rule, purchase_rule.scanned_until - followups.LATE_COMMIT, clock.now)
    )
    assert followups.followups_apply()["created"] == 1
    assert followups._make_task(purchase_rule, event, clock.now) == "exists"  # the slower run
    assert Task.objects.filter(rule_key__endswith=f"order:{order.pk}").count() == 1


def test_a_won_opportunity_makes_a_task_linked_to_it(
    rep: User, buyer: Customer, manager: User, clock: Clock
) -> None:
    rule = followups.followup_rule_create(
        actor=manager,
        name="成交后回访",
        trigger="won",
        days=7,
        title_template="成交回访 {customer}: {opportunity}",
    )
    clock.move(minutes=1)
    opportunity = opportunity_create(actor=rep, customer=buyer, name="比亚迪汉 换购", amount="180000")
    opportunity_close_won(actor=rep, opportunity=opportunity)
    clock.move(minutes=1)
    assert followups.followups_apply()["created"] == 1
    task = Task.objects.get(rule=rule)
    assert task.opportunity == opportunity and task.title == "成交回访 张伟: 比亚迪汉 换购"
    assert task.due_at == datetime(2026, 12, 9, 10, 0, tzinfo=SHANGHAI)
    assert followups.followups_apply()["created"] == 0


def test_a_vehicle_due_for_service_makes_a_task_before_it_and_a_new_date_another(
    rep: User, buyer: Customer, manager: User, clock: Clock
) -> None:
    asset = customer_services.asset_create(
        actor=rep, customer=buyer, plate="粤B12345", next_service_on=date(2026, 12, 20)
    )
    rule = followups.followup_rule_create(
        actor=manager,
        name="保养提醒",
        trigger="service_due",
        days=7,
        title_template="{plate} 保养到期 {date}",
    )
    assert followups.followups_apply()["created"] == 0  # 18 days ahead: not yet
    clock.set(datetime(2026, 12, 13, 8, 0, tzinfo=SHANGHAI))
    assert followups.followups_apply()["created"] == 1
    task = Task.objects.get(rule=rule)
    assert task.title == "粤B12345 保养到期 2026-12-20"
    assert task.due_at == datetime(2026, 12, 13, 10, 0, tzinfo=SHANGHAI)  # 7 days before, at 10:00
    clock.move(days=1)
    assert followups.followups_apply()["created"] == 0
    customer_services.asset_update(actor=rep, asset=asset, next_service_on=date(2026, 12, 21))
    assert followups.followups_apply()["created"] == 1
    assert Task.objects.filter(rule=rule).count() == 2
    # A date set only 3 days ahead: the task is due now, not overdue from the start.
    soon = customer_services.asset_create(
        actor=rep, customer=buyer, plate="粤B54321", next_service_on=date(2026, 12, 17)
    )
    clock.move(hours=5)  # 13:00 on the 14th
    assert followups.followups_apply()["created"] == 1
    assert Task.objects.get(rule_key=f"rule:{rule.pk}:service:{soon.pk}:2026-12-17").due_at == clock.now


def test_the_fallback_assignee_takes_customers_without_an_owner(
    rep: User, mate: User, manager: User, make_customer: Callable[..., Any], clock: Clock
) -> None:
    admin = User.objects.create(username="root", role="admin")
    orphan = customer_services.customer_create(actor=admin, name="无主客户")
    Customer.objects.filter(pk=orphan.pk).update(owner=None)  # its owner left the company
    rule = followups.followup_rule_create(
        actor=manager, name="r", trigger="purchase", title_template="回访{customer}", fallback_assignee=mate
    )
    lonely = followups.followup_rule_create(actor=manager, name="r2", trigger="purchase", title_template="x")
    clock.move(minutes=1)
    order_create(actor=admin, customer=orphan, amount="10")
    clock.move(minutes=1)
    counts = followups.followups_apply()
    assert counts == {"created": 1, "exists": 0, "unassigned": 1}
    assert Task.objects.get(rule=rule).assignee == mate
    assert not Task.objects.filter(rule=lonely).exists()


def test_rules_need_followup_manage_and_known_placeholders(rep: User, manager: User, viewer: User) -> None:
    with pytest.raises(PermissionDenied):
        followups.followup_rule_create(actor=rep, name="r", trigger="purchase", title_template="x")
    with pytest.raises(ValidationFailed) as caught:
        followups.followup_rule_create(
            actor=manager,
            name="",
            trigger="birthday",
            title_template="回访{name}",
            days=-1,
            fallback_assignee=None,
        )
    assert set(caught.value.details) == {"name", "trigger", "title_template", "days"}
    with pytest.raises(ValidationFailed):
        followups.followup_rule_create(
            actor=manager, name="r", trigger="purchase", title_template="回访{customer"
        )
    assert not FollowUpRule.objects.exists()


def test_a_rule_switched_back_on_does_not_catch_up_on_what_it_missed(
    rep: User, buyer: Customer, manager: User, purchase_rule: FollowUpRule, clock: Clock
) -> None:
    followups.followup_rule_update(actor=manager, rule=purchase_rule, active=False)
    clock.move(hours=1)
    order_create(actor=rep, customer=buyer, amount="10")
    clock.move(hours=1)
    assert followups.followups_apply()["created"] == 0
    followups.followup_rule_update(actor=manager, rule=purchase_rule, active=True)
    clock.move(minutes=1)
    assert followups.followups_apply()["created"] == 0
    assert timezone.now() - FollowUpRule.objects.get().scanned_until < timedelta(minutes=1)


def test_orders_are_read_above_an_id_floor_that_moves_once_the_window_has_passed(
    rep: User, buyer: Customer, manager: User, clock: Clock, django_assert_max_num_queries: Any
) -> None:
    first = order_create(actor=rep, customer=buyer, amount="10")
    rule = followups.followup_rule_create(actor=manager, name="r", trigger="purchase", title_template="x")
    assert rule.order_id_floor == first.pk  # a new rule starts above the orders booked before it
    clock.move(minutes=1)
    second = order_create(actor=rep, customer=buyer, amount="20")
    clock.move(minutes=1)
    followups.followups_apply()
    assert FollowUpRule.objects.get().order_id_floor == first.pk  # the second is inside the window
    clock.move(minutes=20)
    with django_assert_max_num_queries(6):  # rules, orders, tasks made, cursor, floor
        assert followups.followups_apply()["created"] == 0
    assert FollowUpRule.objects.get().order_id_floor == second.pk
    assert Task.objects.filter(rule=rule).count() == 1
