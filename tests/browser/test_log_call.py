"""Logging a call from the customer 360 page in real Chromium: the form starts as a call now, the call
appears at the top of the timeline without a page load, and the timeline filters to calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from conftest import PASSWORD
from django.utils import timezone

from guanxi.activities import services as activity_services
from guanxi.activities.models import Activity
from guanxi.customers import services as customer_services
from guanxi.sales import services as sales_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


@pytest.fixture
def customer(admin: Any, make_user: Any) -> Any:
    """A rep's customer with a purchase, an earlier visit and an earlier call."""
    rep = make_user("manager", username="rep")  # a manager sees orders on the timeline too
    zhang = customer_services.customer_create(
        actor=rep, name="张伟", phones=["13800138000"], emails=["zhang.wei@example.com"]
    )
    now = timezone.now()
    sales_services.order_create(
        actor=rep, customer=zhang, amount="268.00", ordered_at=now - timedelta(days=3)
    )
    activity_services.activity_log(
        actor=rep,
        customer=zhang,
        kind="visit",
        outcome="interested",
        body="到店看了比亚迪汉",
        occurred_at=now - timedelta(days=2),
    )
    activity_services.activity_log(
        actor=rep,
        customer=zhang,
        kind="call",
        direction="out",
        outcome="no_answer",
        occurred_at=now - timedelta(days=1),
    )
    return zhang


def test_log_a_call_and_filter_the_timeline_by_calls(
    page: Any, live_server: Any, customer: Any, shot: Any
) -> None:
    sign_in(page, live_server, "rep")
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.evaluate("window.__notReloaded = true")

    # The form starts as a call, outbound, now; a visit has no direction, an email has its address
    assert page.is_checked("#activity-form input[name=kind][value=call]")
    assert page.is_checked("#activity-form input[name=direction][value=out]")
    assert page.input_value("#activity-occurred_at").startswith(timezone.localtime().strftime("%Y-%m-%dT"))
    page.click("#activity-form label.act-kind-visit")
    assert not page.is_visible("#activity-form input[name=direction][value=out]")
    assert page.is_visible("#activity-outcome")
    page.click("#activity-form label.act-kind-email")
    assert page.is_visible("#activity-email_to") and page.is_visible("#activity-send_email")
    page.click("#activity-form label.act-kind-call")
    shot("log-call-form")

    # When the rep logs an incoming call that reached the customer
    page.click("#activity-form input[name=direction][value=in]")
    page.select_option("#activity-outcome", "reached")
    page.fill("#activity-duration_minutes", "6")
    page.fill("#activity-body", "客户来电问保养价格，约周六上午到店")
    page.click("#activity-form button.primary")

    # Then it is at the top of the timeline, without a page load, and the form is fresh
    first = page.locator("#timeline ol.timeline > li").first
    first.locator("text=客户来电问保养价格").wait_for(timeout=30_000)
    assert first.get_attribute("class") == "tl-act-call"
    assert page.evaluate("window.__notReloaded") is True
    assert page.input_value("#activity-body") == ""
    activity = Activity.objects.get(body__startswith="客户来电")
    assert (activity.kind, activity.direction, activity.outcome) == ("call", "in", "reached")
    kinds = page.eval_on_selector_all("#timeline ol.timeline > li", "items => items.map(i => i.className)")
    assert kinds == ["tl-act-call", "tl-created", "tl-act-call", "tl-act-visit", "tl-order"]
    shot("log-call-logged")

    # When the rep shows only calls
    page.click("#timeline .tl-chip[data-type='activity.call']")
    page.wait_for_function(
        "document.querySelector(\"#timeline .tl-chip.active\")?.dataset.type === 'activity.call'"
    )
    kinds = page.eval_on_selector_all("#timeline ol.timeline > li", "items => items.map(i => i.className)")
    assert kinds == ["tl-act-call", "tl-act-call"]
    assert page.url.endswith(f"/customers/{customer.pk}/?type=activity.call")
    assert page.evaluate("window.__notReloaded") is True
    shot("log-call-filtered")

    # And a second call logged while filtered lands at the top of the filtered timeline
    page.fill("#activity-body", "回拨确认周六到店")
    page.click("#activity-form button.primary")
    page.locator("#timeline ol.timeline > li").first.locator("text=回拨确认周六到店").wait_for(timeout=30_000)
    kinds = page.eval_on_selector_all("#timeline ol.timeline > li", "items => items.map(i => i.className)")
    assert kinds == ["tl-act-call"] * 3

    # And the whole page, loaded again at that address, keeps the filter
    page.reload()
    assert page.locator("#timeline .tl-chip.active").get_attribute("data-type") == "activity.call"
