"""Demo activities: a few weeks of follow-up for the customers of every sales rep and manager (calls that
reached the customer or not, store visits, WeChat messages, notes, now and then a meeting or an SMS), so
the 360 timelines and the activity list have something to show.

Every activity goes through activity_log, acting as the customer's owner, so the audit events and
timeline entries are what real use leaves. No email is sent: the demo has no mail server.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from guanxi.activities.models import Activity
from guanxi.activities.services import activity_log
from guanxi.core.permissions import ensure_can
from guanxi.customers.models import Customer
from guanxi.users.models import User

# (kind, direction, outcome, subject, body), the trade's everyday follow-up.
SCRIPTS = (
    ("call", "out", "reached", "", "回访上次消费体验, 客户满意"),
    ("call", "out", "no_answer", "", "未接通, 稍后再打"),
    ("call", "out", "call_back", "", "客户在开会, 约明天上午再联系"),
    ("call", "in", "reached", "", "客户来电咨询会员储值卡优惠"),
    ("visit", "", "interested", "到店", "客户到店看了新品, 对价格有兴趣"),
    ("wechat", "out", "reached", "", "微信发送本月优惠信息, 客户已读"),
    ("wechat", "in", "", "", "客户微信发来发票抬头"),
    ("note", "", "", "", "客户偏好周末上午联系; 不喜欢电话推销"),
    ("meeting", "", "done", "季度合作复盘", "与客户负责人复盘本季度用量, 下季度预计增加两成"),
    ("sms", "out", "", "", "短信提醒: 会员积分月底到期"),
)
PER_REP = 40  # customers of each rep that get a history
MAX_PER_CUSTOMER = 4


@dataclass
class DemoActivityStats:
    activities: int = 0
    customers: int = 0


def demo_activities(*, actor: User | None = None, seed: int = 20261202) -> DemoActivityStats:
    """Demo activities (nothing when any activity exists already). `actor` None is the installer (the CLI,
    setup_demo); a user must be allowed to manage users, like the other demo loaders."""
    if actor is not None:
        ensure_can(actor, "user.manage")
    stats = DemoActivityStats()
    if Activity.objects.exists():
        return stats
    rng = random.Random(seed)
    reps = User.objects.filter(is_active=True, role__in=[User.Role.SALES, User.Role.MANAGER]).order_by("id")
    now = timezone.now()
    with transaction.atomic():
        for rep in reps:
            for customer in Customer.objects.filter(owner=rep).order_by("id")[:PER_REP]:
                count = rng.randint(1, MAX_PER_CUSTOMER)
                for _ in range(count):
                    kind, direction, outcome, subject, body = rng.choice(SCRIPTS)
                    activity_log(
                        actor=rep,
                        customer=customer,
                        kind=kind,
                        direction=direction,
                        outcome=outcome,
                        subject=subject,
                        body=body,
                        occurred_at=now - timedelta(minutes=rng.randint(30, 45 * 24 * 60)),
                        duration_minutes=rng.randint(1, 15) if kind == "call" and outcome else None,
                    )
                stats.activities += count
                stats.customers += 1
    return stats
