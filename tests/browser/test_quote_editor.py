"""The quote editor in real Chromium: a sales rep makes a quote for a company customer, adds products
by searching the catalogue, edits quantity, price and discount inline (totals come back from the
server), and accepts it into an order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from conftest import PASSWORD

from guanxi.catalog import services as catalog_services
from guanxi.customers import services as customer_services
from guanxi.quotes.models import Quote
from guanxi.sales.models import Order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_for_total(page: Any, total: str) -> None:
    """The lines' grand total shows `total` and no htmx request is still in flight, so the next edit
    lands in the rows that stay (a loaded CI machine also renders the PDF preview meanwhile)."""
    page.wait_for_function(
        f"document.querySelector('#quote-lines dd.qt-grand').innerText === '{total}'"
        " && !document.querySelector('.htmx-request')",
        timeout=30_000,
    )


def sign_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


@pytest.fixture
def store(admin: Any, make_user: Any) -> dict[str, Any]:
    rep = make_user("sales", username="rep")
    catalog_services.product_create(
        actor=admin, sku="TILE-800", name="抛釉瓷砖 800×800", category="瓷砖", unit="片", price="45.80"
    )
    catalog_services.product_create(
        actor=admin, sku="PAINT-18L", name="立邦净味乳胶漆 18L", category="涂料", unit="桶", price="520.00"
    )
    customer = customer_services.customer_create(
        actor=rep, name="深圳市鹏程装饰工程有限公司", kind="company", emails=["caigou@pengcheng.example"]
    )
    return {"rep": rep, "customer": customer}


def totals(page: Any) -> str:
    return str(page.locator("#quote-lines dd.qt-grand").inner_text())


def test_a_quote_is_prepared_inline_and_accepted(
    page: Any, live_server: Any, store: dict[str, Any], shot: Any
) -> None:
    sign_in(page, live_server, "rep")
    page.goto(f"{live_server.url}/quotes/new")
    page.fill(".qt-search input", "鹏程")
    page.locator(".qt-pick a").first.click()
    page.fill("input[name=title]", "样板房装修材料")
    page.click("button.primary[type=submit]")
    page.wait_for_url(f"{live_server.url}/quotes/*/")
    quote = Quote.objects.get()

    # two products from the catalogue
    for term in ("瓷砖", "乳胶漆"):
        page.fill("#product-q", term)
        page.locator(f"#product-results button.qt-product:has-text('{term}')").first.click()
        page.locator(f"#quote-lines tr:has-text('{term}')").wait_for()
    assert totals(page) == "¥565.80"

    # 120 tiles at 5 % off, 6 buckets at 498: typed in the row, saved on change
    tile_row = page.locator("#quote-lines tr:has-text('瓷砖')")
    tile_row.locator("input[name=quantity]").fill("120")
    tile_row.locator("input[name=quantity]").press("Tab")
    wait_for_total(page, "¥6,016.00")
    page.locator("#quote-lines tr:has-text('瓷砖') input[name=discount_percent]").fill("5")
    page.locator("#quote-lines tr:has-text('瓷砖') input[name=discount_percent]").press("Tab")
    wait_for_total(page, "¥5,741.20")
    paint = page.locator("#quote-lines tr:has-text('乳胶漆')")
    paint.locator("input[name=quantity]").fill("6")
    paint.locator("input[name=quantity]").press("Tab")
    wait_for_total(page, "¥8,341.20")
    page.locator("#quote-lines tr:has-text('乳胶漆') input[name=unit_price]").fill("498")
    page.locator("#quote-lines tr:has-text('乳胶漆') input[name=unit_price]").press("Tab")
    wait_for_total(page, "¥8,209.20")
    # the details beside the lines follow
    assert "¥8,209.20" in page.locator("#quote-side").inner_text()
    shot("quote-editor")
    quote.refresh_from_db()
    assert quote.grand_total == Decimal("8209.20") and quote.tax_total == Decimal("944.42")

    # a wrong discount is refused on its row and nothing changes
    page.locator("#quote-lines tr:has-text('瓷砖') input[name=discount_percent]").fill("150")
    page.locator("#quote-lines tr:has-text('瓷砖') input[name=discount_percent]").press("Tab")
    page.locator(".qt-line-errors").wait_for()
    assert totals(page) == "¥8,209.20"

    # accept: one order of the same total
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button.qt-accept")
    page.locator(".badge.qt-accepted").first.wait_for()
    shot("quote-accepted")
    order = Order.objects.get()
    assert order.total == Decimal("8209.20") and order.customer_id == store["customer"].pk
