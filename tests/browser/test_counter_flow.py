"""The counter in real Chromium, as a fuel-station cashier uses it: find the customer by plate, type the
amount, Enter; then the next customer by phone, with a product line; only the keyboard where it can."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from conftest import PASSWORD

from guanxi.catalog import services as catalog_services
from guanxi.customers import services as customer_services
from guanxi.sales.models import Order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


@pytest.fixture
def station(admin: Any, make_user: Any) -> dict[str, Any]:
    cashier = make_user("sales", username="cashier")
    store = catalog_services.store_create(actor=admin, code="NS01", name="南山加油站", city="深圳")
    catalog_services.product_create(
        actor=admin, sku="92#", name="92号汽油", category="燃油", unit="升", price="7.89"
    )
    catalog_services.product_create(
        actor=admin, sku="WASH", name="精致洗车", category="服务", unit="次", price="35.00"
    )
    zhang = customer_services.customer_create(actor=cashier, name="张伟", phones=["13800138000"])
    customer_services.asset_create(actor=cashier, customer=zhang, plate="粤B12345", model="比亚迪汉")
    li = customer_services.customer_create(actor=cashier, name="李娜", phones=["13900139000"])
    return {"cashier": cashier, "store": store, "zhang": zhang, "li": li}


def test_two_customers_booked_at_the_counter(
    page: Any, live_server: Any, station: dict[str, Any], shot: Any
) -> None:
    sign_in(page, live_server, "cashier")
    page.goto(f"{live_server.url}/sales/counter/")
    assert page.evaluate("document.activeElement.id") == "counter-q"  # ready to type
    shot("counter-empty")

    # The first car: its plate, Enter picks the match, the amount, Enter books
    started = time.monotonic()
    page.keyboard.type("粤B12345")
    page.locator("#counter-results [data-pick]").first.wait_for()
    shot("counter-search")
    page.keyboard.press("Enter")
    page.locator("#counter-customer .counter-chip").wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.name === 'amount'")
    shot("counter-chosen")
    page.keyboard.type("300")
    page.keyboard.press("Enter")
    page.locator(".counter-saved").wait_for()
    first_seconds = time.monotonic() - started
    first = Order.objects.get()
    assert (first.customer, first.total, first.store, first.payment_method) == (
        station["zhang"],
        Decimal("300.00"),
        station["store"],
        "cash",
    )
    assert "张伟" in page.locator(".counter-saved").inner_text()
    shot("counter-booked")

    # Ready for the next: no customer chosen, the search box has the focus
    assert page.locator("#counter-customer .counter-chip").count() == 0
    page.wait_for_function("document.activeElement && document.activeElement.id === 'counter-q'")

    # The second: by phone, typed fast with Enter before the list arrives; a product line; WeChat Pay
    page.keyboard.type("13900139000")
    page.keyboard.press("Enter")
    page.locator("#counter-customer .counter-chip").wait_for()
    assert "李娜" in page.locator(".counter-chip").inner_text()
    page.locator(".counter-lines summary").click()
    page.locator("select[name=line_product]").first.select_option(label="92号汽油 · ¥7.89/升")
    quantity = page.locator("input[name=line_quantity]").first
    assert page.evaluate("document.activeElement.name") == "line_quantity"
    page.keyboard.type("35.27")
    assert page.locator("input[name=amount]").input_value() == "278.28"
    assert page.locator("input[name=amount]").get_attribute("readonly") is not None
    page.locator("label.counter-payment:has(input[value=wechat_pay])").click()
    shot("counter-lines")
    quantity.press("Enter")
    page.locator(".counter-saved", has_text="李娜").wait_for()
    second = Order.objects.exclude(pk=first.pk).get()
    assert (second.customer, second.total, second.payment_method) == (
        station["li"],
        Decimal("278.28"),
        "wechat_pay",
    )
    assert [(line.name, line.quantity) for line in second.lines.all()] == [("92号汽油", Decimal("35.270"))]

    # The payment method is remembered for the next customer; the order list shows both
    assert page.locator("input[name=payment_method][value=wechat_pay]").is_checked()
    page.goto(f"{live_server.url}/sales/orders/")
    assert page.locator("tbody tr").count() == 2
    shot("orders-list")
    page.goto(f"{live_server.url}/customers/{station['zhang'].pk}/")
    assert "¥300.00" in page.locator("#purchases").inner_text()
    shot("customer-360-purchases")
    assert first_seconds < 5, f"the first booking took {first_seconds:.1f} s"
    print(f"\ncounter: plate → booked in {first_seconds:.2f} s (typing included)")


def test_a_search_without_match_says_so_and_books_nothing(
    page: Any, live_server: Any, station: dict[str, Any]
) -> None:
    sign_in(page, live_server, "cashier")
    page.goto(f"{live_server.url}/sales/counter/")
    page.keyboard.type("粤Z99999")
    page.locator(".counter-pick-empty").wait_for()
    page.keyboard.press("Enter")
    page.locator("input[name=amount]").fill("50")
    page.locator("button.counter-save").click()
    page.locator(".form-summary").wait_for()
    assert page.locator(".counter-step.has-error").count() == 1  # the customer step, marked
    assert Order.objects.count() == 0
