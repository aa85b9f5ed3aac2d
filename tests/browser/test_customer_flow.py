"""A user's first minutes, in real Chromium: sign in, add a customer, find it, open it, switch language."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import PASSWORD

from guanxi.customers.models import Customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_create_find_open_and_switch_language(page: Any, live_server: Any, admin: Any, shot: Any) -> None:
    # Given an administrator signed in (Chinese is the default language)
    sign_in(page, live_server, "admin")
    assert page.locator("html").get_attribute("lang") == "zh-hans"

    # When they create a customer with a messily written phone number
    page.goto(f"{live_server.url}/customers/new")
    page.fill("input[name=name]", "张伟")
    page.fill("textarea[name=phones]", "138-0013 8000")
    page.click("form button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/customers/*/")
    customer = Customer.objects.get(name="张伟")
    assert list(customer.phones.values_list("number", flat=True)) == ["+8613800138000"]

    # Then the topbar search finds it by its initials
    page.goto(f"{live_server.url}/")
    page.fill(".global-search input[name=q]", "zw")
    suggestion = page.locator("#search-suggest a", has_text="张伟").first
    suggestion.wait_for()
    suggestion.click()
    page.wait_for_url(f"{live_server.url}/customers/{customer.pk}/")

    # And its 360 page shows the number and the creation on the timeline
    assert "138 0013 8000" in page.content()
    shot("customer-360-zh")

    # When they switch to English, the page is in English and the choice sticks
    page.click("form.lang-switch button")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(f"{live_server.url}/customers/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Customers" in page.locator("h1").first.inner_text()
    shot("customer-list-en")


def test_viewer_sees_masked_phone(
    page: Any, live_server: Any, admin: Any, make_user: Any, make_customer: Any
) -> None:
    viewer = make_user("viewer", team=admin.team)
    customer = make_customer(admin, name="李娜", phones=["13900139000"])
    sign_in(page, live_server, viewer.username)
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    content = page.content()
    assert "139****9000" in content
    assert "13900139000" not in content and "139 0013 9000" not in content
