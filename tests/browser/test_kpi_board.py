"""The KPI board in real Chromium: ECharts draws every chart from the page's data, the filters narrow the
figures, a chart downloads as CSV, and the early-warning list opens from it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from conftest import PASSWORD
from django.utils import timezone

from guanxi.analytics.services import analytics_refresh
from guanxi.catalog import services as catalog_services
from guanxi.customers import services as customer_services
from guanxi.sales.services import order_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def history(admin: Any, make_user: Any) -> dict[str, Any]:
    manager = make_user("manager", username="boss")
    east = catalog_services.store_create(actor=admin, code="E1", name="城东站")
    west = catalog_services.store_create(actor=admin, code="W1", name="城西站")
    now = timezone.now()
    for i in range(30):
        customer = customer_services.customer_create(actor=manager, name=f"客户{i}")
        for k in range(1 + i % 5):
            order_create(
                actor=manager,
                customer=customer,
                amount=f"{80 + 7 * i}.00",
                store=east if i % 3 else west,
                ordered_at=now - timedelta(days=200 - 35 * k - 2 * i),
            )
    analytics_refresh(actor=None)
    return {"manager": manager, "west": west}


def test_the_board_draws_its_charts_and_filters_by_store(
    page: Any, live_server: Any, history: dict[str, Any], shot: Any
) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.click("nav a[href='/analytics/']")  # 数据看板
    page.wait_for_url(f"{live_server.url}/analytics/")
    for key in ("revenue", "segments", "clv", "bands"):  # ECharts drew into each frame
        page.wait_for_selector(f"#chart-{key} canvas")
    all_orders = page.inner_text("#kpi-orders .stat")
    shot("kpi-board")

    page.select_option("select[name=store]", label="城西站")
    page.click(".board-filters button[type=submit]")
    page.wait_for_url("**/analytics/?*store=*")
    assert int(page.inner_text("#kpi-orders .stat").replace(",", "")) < int(all_orders.replace(",", ""))

    with page.expect_download() as download:
        page.click("#chart-revenue >> xpath=.. >> text=CSV")
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "月份,销售额,订单,活跃客户"  # the page's language, Excel's encoding

    page.click(".page-head a[href='/analytics/warning/']")
    page.wait_for_url(f"{live_server.url}/analytics/warning/")
    assert page.is_visible("h1:has-text('流失预警')")
