"""Demo quotes: about twenty-five quotes for the demo customers of the sales reps and managers, most made
from their open opportunities, some in a second version, some accepted (their orders booked), rejected,
sent or past their date.

Quotes go through the services, acting as their owner, so numbers, totals, audit events, orders and
timeline entries are what real use leaves. Two things are set directly, because real use would have
needed the outside world or time: "sent" quotes are marked sent without emailing the demo customers'
made-up addresses, and expired ones get a validity date in the past.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from guanxi.catalog.models import Product
from guanxi.core.permissions import ensure_can
from guanxi.customers.models import Customer
from guanxi.opportunities.demo import deal_quantity
from guanxi.opportunities.models import Opportunity
from guanxi.quotes.models import Quote
from guanxi.quotes.services import quote_accept, quote_create, quote_new_version, quote_reject
from guanxi.users.models import User

TERMS = (
    "付款方式：合同签订后预付30%，到货验收后付清余款。\n送货：市内免费送货上门。",
    "报价含税含运费；安装费另计。\n质保：自验收之日起一年。",
    "款到发货。\n本报价有效期内价格不变。",
)
REASONS = ("价格高于预算", "选择了其他供应商", "项目延期", "")


@dataclass
class DemoQuoteStats:
    created: int = 0
    versions: int = 0
    accepted: int = 0
    rejected: int = 0
    sent: int = 0
    expired: int = 0


def _lines(rng: random.Random, products: list[Product]) -> list[dict[str, Any]]:
    chosen = rng.sample(products, k=min(len(products), rng.randint(1, 4)))
    return [
        {
            "product_id": product.pk,
            "quantity": str(deal_quantity(rng, product)),
            "discount_percent": str(rng.choice((0, 0, 0, 5, 8, 10))),
        }
        for product in chosen
    ]


def demo_quotes(*, actor: User | None = None, count: int = 25, seed: int = 20261203) -> DemoQuoteStats:
    """About `count` demo quotes (nothing when any quote exists already). `actor` None is the installer
    (the CLI, setup_demo); a user must be allowed to manage users, like the other demo loaders. Needs
    demo customers owned by reps, and products; run after the demo opportunities to quote those."""
    if actor is not None:
        ensure_can(actor, "user.manage")
    stats = DemoQuoteStats()
    if Quote.objects.exists():
        return stats
    rng = random.Random(seed)
    products = list(Product.objects.filter(active=True).order_by("id")[:30])
    reps = list(User.objects.filter(role__in=("sales", "manager"), is_active=True).order_by("id"))
    if not products or not reps:
        return stats
    opportunities = list(
        Opportunity.objects.filter(status=Opportunity.Status.OPEN, owner__in=reps, lines__isnull=False)
        .select_related("owner")
        .distinct()
        .order_by("id")[:count]
    )
    customers: dict[int, list[Customer]] = {}
    for customer in Customer.objects.filter(owner__in=reps).order_by("id"):
        customers.setdefault(customer.owner_id or 0, []).append(customer)
    now = timezone.now()
    with transaction.atomic():
        for index in range(count):
            if index < len(opportunities) and rng.random() < 0.7:
                opportunity = opportunities[index]
                owner = opportunity.owner
                assert owner is not None
                quote = quote_create(actor=owner, opportunity=opportunity, terms=rng.choice(TERMS))
            else:
                owner = reps[index % len(reps)]
                if not customers.get(owner.pk):
                    continue
                quote = quote_create(
                    actor=owner,
                    customer=rng.choice(customers[owner.pk]),
                    lines=_lines(rng, products),
                    terms=rng.choice(TERMS),
                )
            stats.created += 1
            if not quote.lines.exists():
                continue
            if rng.random() < 0.25:
                quote = quote_new_version(actor=owner, quote=quote)
                stats.versions += 1
            fate = rng.random()
            if fate < 0.2:
                quote_accept(actor=owner, quote=quote)
                stats.accepted += 1
            elif fate < 0.32:
                quote_reject(actor=owner, quote=quote, reason=rng.choice(REASONS))
                stats.rejected += 1
            elif fate < 0.62:
                sent_at = now - timedelta(days=rng.randint(1, 20))
                Quote.objects.filter(pk=quote.pk).update(status=Quote.Status.SENT, sent_at=sent_at)
                stats.sent += 1
            elif fate < 0.72:
                Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.localdate() - timedelta(days=3))
                stats.expired += 1
    return stats
