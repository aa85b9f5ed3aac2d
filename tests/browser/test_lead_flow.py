"""A lead from the public web form to a customer, in real Chromium: the form embedded in another page's
iframe (no cookies, no sign-in), then a manager finds the lead in the list and converts it in one step."""

from __future__ import annotations

import time
from typing import Any

import pytest
from conftest import PASSWORD

from guanxi.customers.models import Customer
from guanxi.leads import services as lead_services
from guanxi.leads.models import Lead
from guanxi.opportunities.models import Opportunity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_a_visitor_fills_the_embedded_form_and_a_manager_converts_the_lead(
    page: Any, live_server: Any, admin: Any, make_user: Any, shot: Any
) -> None:
    manager = make_user("manager", username="manager")
    lead_services.form_create(
        actor=admin,
        slug="test-drive",
        title="预约试驾",
        intro="留下联系方式，顾问会在一个工作日内联系您。",
        fields=["phone", "city", "interest", "message"],
        team=manager.team,
        thank_you="提交成功！顾问会尽快与您联系。",
    )

    # Another website embeds the form in an iframe.
    page.set_content(
        f'<h1>某某汽车 4S 店</h1><iframe id="f" src="{live_server.url}/leads/form/test-drive/" '
        'style="width:520px;height:700px;border:0"></iframe>'
    )
    frame = page.frame_locator("#f")
    frame.locator("input[name=name]").fill("王芳")
    opened = time.monotonic()
    frame.locator("input[name=phone]").fill("139 0013 9000")
    frame.locator("input[name=city]").fill("深圳")
    frame.locator("input[name=interest]").fill("汉EV 四驱版")
    frame.locator("textarea[name=message]").fill("周末想试驾，下午三点后方便。")
    shot("lead-form-embedded")
    time.sleep(max(0.0, 3.5 - (time.monotonic() - opened)))  # a person takes a few seconds
    frame.locator("button[type=submit]").click()
    frame.locator(".lead-done").wait_for()
    assert "提交成功" in frame.locator(".lead-done").inner_text()
    shot("lead-form-thanks")
    assert page.context.cookies() == []
    lead = Lead.objects.get()
    assert (lead.phone, lead.source, lead.team_id) == ("+8613900139000", "web", manager.team_id)

    # The manager sees it in the list and opens it.
    sign_in(page, live_server, "manager")
    page.goto(f"{live_server.url}/leads/")
    row = page.locator("table.lead-table tbody tr", has_text="王芳")
    row.wait_for()
    assert "139 0013 9000" in row.inner_text()
    shot("lead-list")
    row.locator("a", has_text="王芳").click()
    page.wait_for_url(f"{live_server.url}/leads/{lead.pk}/")
    assert "汉EV 四驱版" in page.locator("body").inner_text()

    # Convert: a new customer plus an opportunity, in one step.
    page.check("input[name=target][value=person]")
    page.check("input[name=opportunity]")
    page.fill("input[name=opportunity_name]", "王芳 · 汉EV")
    page.fill("input[name=amount]", "259800")
    shot("lead-convert")
    page.click("#convert button[type=submit]")
    page.wait_for_url(f"{live_server.url}/leads/{lead.pk}/")
    page.locator(".lead-banner-converted").wait_for()
    shot("lead-converted")
    lead.refresh_from_db()
    customer = Customer.objects.get()
    assert lead.status == "converted" and lead.customer == customer
    assert Opportunity.objects.get().customer == customer
    page.click(".lead-banner-converted a")
    page.wait_for_url(f"{live_server.url}/customers/{customer.pk}/")
    assert "王芳" in page.locator("body").inner_text()
    shot("lead-customer")
