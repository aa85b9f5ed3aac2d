"""Demo opportunities: about sixty deals across the stages of the default pipeline, for the demo customers
owned by the sales reps and managers, some won (a few with their order booked) and some lost, each with a
stage history spread over the last weeks.

Every opportunity goes through the services, acting as its owner, so audit events, stage history and
timeline entries are what real use leaves; only the times are moved back afterwards (the services stamp
"now"), so the history, cycle times and the timeline read like weeks of work.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from guanxi.catalog.models import Product
from guanxi.core.permissions import ensure_can
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.opportunities.models import Opportunity, Stage, StageChange
from guanxi.opportunities.services import (
    opportunity_close_lost,
    opportunity_close_won,
    opportunity_create,
    opportunity_move,
    pipeline_default,
)
from guanxi.users.models import User

NAMES = (
    "年度采购",
    "新店合作",
    "车队合同",
    "批量订购",
    "续约",
    "升级方案",
    "试用转正式",
    "项目报价",
    "团购",
    "长期供货",
)
NEXT_STEPS = (
    "周五电话回访",
    "发送报价单",
    "约客户到店",
    "安排试驾",
    "确认预算",
    "等待客户决策",
    "上门测量",
    "提交方案",
    "",
)
COMPETITORS = ("", "", "中石化", "附近同行", "线上平台", "")


@dataclass
class DemoOpportunityStats:
    created: int = 0
    won: int = 0
    lost: int = 0
    orders: int = 0


def _reps_with_customers() -> list[tuple[User, list[Customer]]]:
    reps = list(
        User.objects.filter(is_active=True, role__in=[User.Role.SALES, User.Role.MANAGER]).order_by("id")
    )
    pairs = []
    for rep in reps:
        customers = list(Customer.objects.filter(owner=rep).order_by("id")[:200])
        if customers:
            pairs.append((rep, customers))
    return pairs


def _lines(rng: random.Random, products: list[Product]) -> list[dict[str, Any]]:
    if not products or rng.random() < 0.3:
        return []
    chosen = rng.sample(products, k=min(len(products), rng.choice((1, 1, 2))))
    return [{"product_id": p.pk, "quantity": deal_quantity(rng, p)} for p in chosen]


def deal_quantity(rng: random.Random, product: Product) -> int:
    """A quantity worth a deal, ¥2,000 to ¥200,000: a fleet's fuel for a quarter, a floor's tiles, a car."""
    target = Decimal(rng.randrange(20, 2000) * 100)
    return max(1, int(target / product.price)) if product.price else 1


def _backdate(opportunity: Opportunity, start: Any, step: timedelta) -> None:
    """Spread the opportunity's history from `start`, one `step` a move (demo only: see the module)."""
    changes = list(StageChange.objects.filter(opportunity=opportunity).order_by("id"))
    for index, change in enumerate(changes):
        change.changed_at = start + step * index
    StageChange.objects.bulk_update(changes, ["changed_at"])
    last = changes[-1].changed_at
    closed = last if opportunity.status != Opportunity.Status.OPEN else None
    Opportunity.objects.filter(pk=opportunity.pk).update(
        created_at=start, stage_changed_at=last, closed_at=closed
    )
    entries = list(
        TimelineEntry.objects.filter(customer_id=opportunity.customer_id, kind__startswith="opportunity.")
        .filter(data__opportunity_id=opportunity.pk)
        .order_by("id")
    )
    for index, entry in enumerate(entries):
        entry.occurred_at = start + step * min(index, len(changes) - 1)
    TimelineEntry.objects.bulk_update(entries, ["occurred_at"])


def demo_opportunities(
    *, actor: User | None = None, count: int = 60, seed: int = 20261202
) -> DemoOpportunityStats:
    """About `count` demo opportunities (nothing when any opportunity exists already). `actor` None is the
    installer (the CLI, setup_demo); a user must be allowed to manage users, like the other demo loaders.
    Needs the demo organisation (reps that own customers); returns what it made."""
    if actor is not None:
        ensure_can(actor, "user.manage")
    stats = DemoOpportunityStats()
    if Opportunity.objects.exists():
        return stats
    rng = random.Random(seed)
    pairs = _reps_with_customers()
    if not pairs:
        return stats
    pipeline = pipeline_default()
    stages = list(Stage.objects.filter(pipeline=pipeline, active=True).order_by("position", "id"))
    open_stages = [s for s in stages if s.kind == Stage.Kind.OPEN]
    products = list(Product.objects.filter(active=True).order_by("id")[:30])
    now = timezone.now()
    today = timezone.localdate()
    reasons = [choice.value for choice in Opportunity.LostReason]
    with transaction.atomic():
        for index in range(count):
            rep, customers = pairs[index % len(pairs)]
            customer = rng.choice(customers)
            fate = rng.random()
            lines = _lines(rng, products)
            opportunity = opportunity_create(
                actor=rep,
                customer=customer,
                name=rng.choice(NAMES),
                amount="0" if lines else str(Decimal(rng.randrange(20, 3000) * 100)),
                expected_close=today + timedelta(days=rng.randint(-12, 75)),
                next_step=rng.choice(NEXT_STEPS),
                competitors=rng.choice(COMPETITORS),
                lines=lines,
            )
            stats.created += 1
            depth = rng.randint(0, len(open_stages) - 1)
            for stage in open_stages[1 : depth + 1]:
                opportunity_move(actor=rep, opportunity=opportunity, stage=stage)
            if fate < 0.18:
                book = bool(lines) and rng.random() < 0.5
                opportunity_close_won(actor=rep, opportunity=opportunity, create_order=book, note="")
                stats.won += 1
                stats.orders += int(book)
            elif fate < 0.30:
                opportunity_close_lost(
                    actor=rep, opportunity=opportunity, reason=rng.choice(reasons), note=""
                )
                stats.lost += 1
            opportunity.refresh_from_db()
            moves = StageChange.objects.filter(opportunity=opportunity).count()
            age = timedelta(days=rng.randint(3, 80), hours=rng.randint(0, 23))
            _backdate(opportunity, now - age, age / max(moves, 1) * 0.9)
    return stats
