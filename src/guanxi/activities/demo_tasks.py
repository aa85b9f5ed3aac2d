"""Demo tasks: a few days of work for every sales rep and manager who owns demo customers (some overdue,
some today, the rest over the coming weeks, a couple done this morning, a meeting or two), and the two
follow-up rules a dealer starts with (a revisit call three days after a purchase, a service reminder a
week before a vehicle is due).

Every task goes through the services, acting as its assignee, so audit events and timeline entries are
what real use leaves. Reminders are not sent here: the task layer sends those due when it next runs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import time, timedelta

from django.db import transaction
from django.utils import timezone

from guanxi.activities.models import FollowUpRule, Task
from guanxi.activities.services_followups import followup_rule_create
from guanxi.activities.services_tasks import task_complete, task_create
from guanxi.core.permissions import ensure_can
from guanxi.customers.models import Customer
from guanxi.users.models import User

TITLES = (
    "回访: 询问上次消费体验",
    "电话: 确认月结账单",
    "上门拜访: 介绍会员储值卡",
    "提醒客户保养到期",
    "发送本月优惠信息",
    "跟进报价",
    "回访新客户",
    "邀请参加店庆活动",
    "确认发票信息",
    "回访投诉处理结果",
)
MEETINGS = ("与车队经理开会", "项目现场碰头会", "季度合作复盘")
# Hours from now of each demo task of a rep: two overdue, today, the coming days and weeks.
OFFSETS = (-30, -4, 2, 5, 20, 28, 50, 74, 120, 170, 330)


@dataclass
class DemoTaskStats:
    tasks: int = 0
    done: int = 0
    rules: int = 0


def demo_tasks(*, actor: User | None = None, seed: int = 20261202) -> DemoTaskStats:
    """Demo tasks and follow-up rules (nothing when any task exists already). `actor` None is the
    installer (the CLI, setup_demo); a user must be allowed to manage users, like the other demo loaders."""
    if actor is not None:
        ensure_can(actor, "user.manage")
    stats = DemoTaskStats()
    if Task.objects.exists():
        return stats
    rng = random.Random(seed)
    reps = list(
        User.objects.filter(is_active=True, role__in=[User.Role.SALES, User.Role.MANAGER]).order_by("id")
    )
    now = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    with transaction.atomic():
        for rep in reps:
            customers = list(Customer.objects.filter(owner=rep).order_by("id")[:100])
            if not customers:
                continue
            for index, hours in enumerate(OFFSETS):
                meeting = index % 5 == 4
                due_at = now + timedelta(hours=hours, minutes=rng.choice((0, 15, 30, 45)))
                task = task_create(
                    actor=rep,
                    title=rng.choice(MEETINGS if meeting else TITLES),
                    due_at=due_at,
                    priority=rng.choice((2, 2, 2, 3, 3, 4, 1)),
                    duration_minutes=60 if meeting else None,
                    customer=rng.choice(customers),
                    remind_at=due_at - timedelta(minutes=15),
                )
                stats.tasks += 1
                if index == 1:
                    task_complete(actor=rep, task=task, note="已联系, 客户满意")
                    stats.done += 1
        manager = next((user for user in reps if user.role == User.Role.MANAGER), None)
        if manager is not None and not FollowUpRule.objects.exists():
            followup_rule_create(
                actor=manager,
                name="购买后3天回访",
                trigger=FollowUpRule.Trigger.PURCHASE,
                days=3,
                due_time=time(10, 0),
                title_template="回访{customer}: 订单{order}",
            )
            followup_rule_create(
                actor=manager,
                name="保养到期提醒",
                trigger=FollowUpRule.Trigger.SERVICE_DUE,
                days=7,
                due_time=time(9, 30),
                title_template="{plate} 保养到期 ({date}), 联系{customer}预约",
                priority=Task.Priority.HIGH,
            )
            stats.rules = 2
    return stats
