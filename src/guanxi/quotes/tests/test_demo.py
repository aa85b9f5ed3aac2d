"""The demo quotes: made through the services for the reps' customers, in every state, at most once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from guanxi.catalog.models import Product
from guanxi.core.errors import PermissionDenied
from guanxi.quotes.demo import demo_quotes
from guanxi.quotes.models import Quote
from guanxi.sales.models import Order
from guanxi.users.models import User


def test_demo_quotes_come_in_every_state_once(
    seller: User,
    make_user: Callable[..., User],
    make_customer: Callable[..., Any],
    tile: Product,
    paint: Product,
) -> None:
    for index in range(6):
        make_customer(seller, name=f"客户{index}")
    stats = demo_quotes(count=40)
    assert stats.created == Quote.objects.exclude(version__gt=1).count() > 0
    assert stats.accepted == Quote.objects.filter(status="accepted").count() == Order.objects.count() > 0
    assert stats.rejected > 0 and stats.sent > 0 and stats.expired > 0 and stats.versions > 0
    assert Quote.objects.shown_as("expired").count() == stats.expired
    for quote in Quote.objects.filter(status="accepted").select_related("order"):
        assert quote.order is not None and quote.order.total == quote.grand_total
    assert demo_quotes(count=40).created == 0  # once only
    with pytest.raises(PermissionDenied):
        demo_quotes(actor=seller)
