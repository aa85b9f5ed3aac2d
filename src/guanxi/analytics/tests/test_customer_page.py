"""The customer 360 page shows the customer's value and churn risk once the analytics have run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guanxi.analytics.models import CustomerMetrics, Segment
from guanxi.analytics.selectors import segment_action
from guanxi.analytics.services import analytics_refresh
from guanxi.sales.services import order_create
from guanxi.users.models import User


def test_the_360_page_shows_segment_risk_and_value_after_a_refresh(
    make_user: Callable[..., User], make_customer: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    manager = make_user("manager")
    now = timezone.now()
    customers = [make_customer(manager, name=f"客户{i}") for i in range(12)]
    for i, customer in enumerate(customers):
        for k in range(1 + i % 4):
            order_create(
                actor=manager,
                customer=customer,
                amount=f"{100 + 10 * i}.00",
                ordered_at=now - timedelta(days=300 - 40 * k - 3 * i),
            )
    page = reverse("customer-detail", args=[customers[5].pk])
    assert "Value and churn risk" in client_for(manager).get(page).content.decode()  # before: a note

    analytics_refresh(actor=None)

    metrics = CustomerMetrics.objects.get(customer=customers[5])
    html = client_for(manager).get(page).content.decode()
    assert str(Segment(metrics.segment).label) in html
    assert segment_action(metrics.segment) in html  # what to do with such a customer
    assert "Value and churn risk" not in client_for(make_user("service")).get(page).content.decode()
