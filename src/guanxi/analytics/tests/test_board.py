"""The KPI board: figures computed by hand on a small history, through the actor's scope and the filters."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from guanxi.analytics.kpis import (
    BoardFilters,
    band_table,
    clv_table,
    kpi_values,
    revenue_by_month,
    segment_table,
)
from guanxi.analytics.models import Band, CustomerMetrics, ModelRun, Segment
from guanxi.analytics.selectors import segment_action
from guanxi.catalog.models import Store
from guanxi.core.errors import PermissionDenied
from guanxi.customers.models import Customer
from guanxi.sales.models import Order
from guanxi.sales.services import order_create, order_refund
from guanxi.users.models import Team, User

OCTOBER = BoardFilters(start=date(2026, 10, 1), end=date(2026, 10, 31))


def _at(day: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(f"{day} 10:00"))


@dataclass
class History:
    admin: User
    manager: User
    sales: User
    regular: Customer  # bought in September and twice in October
    newcomer: Customer  # added in October, bought twice, one refunded in full
    lapsed: Customer  # another team's; bought in September only, at the ring-road store
    ring_road: Store


@pytest.fixture
def history(make_user: Callable[..., User], make_customer: Callable[..., Any], team_b: Team) -> History:
    admin, manager, sales = make_user("admin"), make_user("manager"), make_user("sales")
    other = make_user("sales", team=team_b)
    regular = make_customer(sales, name="老客户")
    newcomer = make_customer(sales, name="新客户")
    lapsed = make_customer(other, name="流失客户")
    for customer, added in ((regular, "2026-01-10"), (newcomer, "2026-10-05"), (lapsed, "2025-06-01")):
        Customer.objects.filter(pk=customer.pk).update(created_at=_at(added))  # history as the test needs it
    ring_road = Store.objects.create(code="R1", name="环路站")

    def book(customer: Customer, day: str, amount: str, store: Store | None = None) -> Order:
        return order_create(actor=admin, customer=customer, amount=amount, ordered_at=_at(day), store=store)

    book(regular, "2026-09-10", "100.00")
    book(regular, "2026-10-03", "200.00")
    order_refund(actor=admin, order=book(regular, "2026-10-20", "300.00"), reason="少加了油", amount="50.00")
    order_refund(actor=admin, order=book(newcomer, "2026-10-06", "80.00"), reason="退货")
    book(newcomer, "2026-10-07", "120.00")
    book(lapsed, "2026-09-15", "500.00", store=ring_road)
    return History(admin, manager, sales, regular, newcomer, lapsed, ring_road)


def _figures(actor: User, filters: BoardFilters) -> dict[str, Any]:
    return {v.key: v.value for v in kpi_values(actor=actor, filters=filters)}


def test_the_figures_of_a_month_as_worked_out_by_hand(history: History) -> None:
    figures = _figures(history.admin, OCTOBER)

    assert figures["revenue"] == Decimal("570.00")  # 200 + (300 − 50) + (80 − 80) + 120
    assert figures["orders"] == 3  # the order refunded in full is no purchase
    assert figures["average_order_value"] == Decimal("190.00")
    assert figures["active_customers"] == 2
    assert figures["repeat_purchase_rate"] == 0.5  # the regular bought twice, the newcomer once
    assert figures["churn_rate"] == 0.5  # September's buyers: the regular (back) and the lapsed (gone)
    assert figures["new_customers"] == 1
    assert figures["customers"] == 3
    assert figures["value_at_risk"] is None  # no analytics refresh yet


def test_a_sales_person_sees_the_figures_of_their_own_customers(history: History) -> None:
    figures = _figures(history.sales, OCTOBER)

    assert (figures["customers"], figures["revenue"], figures["churn_rate"]) == (2, Decimal("570.00"), 0.0)


def test_the_team_and_store_filters_narrow_every_figure(history: History) -> None:
    team_b = history.lapsed.team_id
    figures = _figures(history.admin, BoardFilters(OCTOBER.start, OCTOBER.end, team_id=team_b))
    assert (figures["revenue"], figures["orders"], figures["average_order_value"]) == (Decimal(0), 0, None)
    assert (figures["customers"], figures["churn_rate"]) == (1, 1.0)

    september = BoardFilters(date(2026, 9, 1), date(2026, 9, 30), store_id=history.ring_road.pk)
    assert _figures(history.admin, september)["revenue"] == Decimal("500.00")


def test_revenue_by_month_counts_refunds_and_purchases(history: History) -> None:
    table = revenue_by_month(actor=history.admin, filters=BoardFilters(date(2026, 9, 1), date(2026, 10, 31)))

    assert table.rows == [["2026-09", Decimal("600.00"), 2, 2], ["2026-10", Decimal("570.00"), 3, 2]]


def _metrics(customer: Customer, run: ModelRun, segment: str, band: str, clv: str, risk: str) -> None:
    CustomerMetrics.objects.create(
        customer=customer,
        orders_count=2,
        net_spend=Decimal("300.00"),
        average_order_value=Decimal("150.00"),
        first_purchase=date(2026, 9, 10),
        last_purchase=date(2026, 10, 20),
        recency_days=40,
        frequency=1,
        t_x=40,
        age=80,
        rfm_orders=2,
        rfm_spend=Decimal(clv) / 10,
        r_score=3,
        f_score=3,
        m_score=3,
        segment=segment,
        band=band,
        clv=Decimal(clv),
        value_at_risk=Decimal(risk),
        run=run,
        computed_at=run.started_at,
    )


def test_segments_lifetime_values_and_bands_come_from_the_last_refresh(history: History) -> None:
    now = timezone.now()
    run = ModelRun.objects.create(
        model_version="test", status=ModelRun.Status.SUCCEEDED, started_at=now, finished_at=now
    )
    _metrics(history.regular, run, Segment.IMPORTANT_VALUE, Band.ACTIVE, "2500.00", "100.00")
    _metrics(history.newcomer, run, Segment.IMPORTANT_VALUE, Band.AT_RISK, "50.00", "30.00")
    _metrics(history.lapsed, run, Segment.GENERAL_RETAIN, Band.AT_RISK, "12000.00", "9000.00")

    segments = {row[0]: row[1:] for row in segment_table(actor=history.admin, filters=OCTOBER).rows}
    assert segments[str(Segment.IMPORTANT_VALUE.label)][:3] == [2, Decimal("255.00"), 0.1753]
    assert segments[str(Segment.GENERAL_RETAIN.label)][:3] == [1, Decimal("1200.00"), 0.8247]
    assert segments[str(Segment.GENERAL_KEEP.label)][:3] == [0, Decimal(0), 0.0]
    assert segments[str(Segment.GENERAL_KEEP.label)][3] == segment_action(Segment.GENERAL_KEEP)
    clv = dict(clv_table(actor=history.admin, filters=OCTOBER).rows)
    assert (clv["0–100"], clv["1,000–3,000"], clv["10,000–30,000"], clv["30,000+"]) == (1, 1, 1, 0)
    bands = {row[0]: row[1:] for row in band_table(actor=history.admin, filters=OCTOBER).rows}
    assert bands[str(Band.AT_RISK.label)] == [2, Decimal("9030.00")]
    assert _figures(history.admin, OCTOBER)["value_at_risk"] == Decimal("9030.00")
    assert _figures(history.sales, OCTOBER)["value_at_risk"] == Decimal("30.00")  # not the other team's


def test_only_those_who_may_see_analytics_read_the_board(make_user: Callable[..., User]) -> None:
    with pytest.raises(PermissionDenied):
        kpi_values(actor=make_user("service"), filters=OCTOBER)


# -- the page and its downloads ---------------------------------------------------------------------------


def test_the_board_shows_every_figure_and_chart(history: History, client_for: Callable[..., Client]) -> None:
    response = client_for(history.manager).get("/analytics/", {"start": "2026-10-01", "end": "2026-10-31"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "¥570.00" in page and "¥190.00" in page and "50.0%" in page
    for key in ("revenue", "segments", "clv", "bands"):
        assert f'id="chart-{key}"' in page
        assert f"/analytics/{key}.csv?start=2026-10-01" in page
    assert "Of the customers who bought in the period, the share who bought two or more times." in page


def test_a_period_that_ends_before_it_starts_is_refused_with_a_reason(
    history: History, client_for: Callable[..., Client]
) -> None:
    response = client_for(history.manager).get("/analytics/", {"start": "2026-10-31", "end": "2026-10-01"})

    assert response.status_code == 200
    assert "The end of the period comes before its start." in response.content.decode()


def test_a_chart_downloads_as_csv_that_excel_reads(
    history: History, client_for: Callable[..., Client]
) -> None:
    response = client_for(history.admin).get(
        "/analytics/revenue.csv", {"start": "2026-09-01", "end": "2026-10-31"}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows == [
        ["Month", "Revenue", "Orders", "Active customers"],
        ["2026-09", "600.00", "2", "2"],
        ["2026-10", "570.00", "3", "2"],
    ]
    assert client_for(history.admin).get("/analytics/nothing.csv").status_code == 404


def test_the_board_is_closed_to_roles_without_analytics(
    make_user: Callable[..., User], client_for: Callable[..., Client]
) -> None:
    service = make_user("service")
    assert client_for(service).get("/analytics/").status_code == 403
    assert client_for(service).get("/analytics/kpis.csv").status_code == 403
    assert client_for(None).get("/analytics/").status_code == 302


def test_the_early_warning_lists_customers_at_risk_with_why(
    history: History, client_for: Callable[..., Client]
) -> None:
    now = timezone.now()
    run = ModelRun.objects.create(
        model_version="test", status=ModelRun.Status.SUCCEEDED, started_at=now, finished_at=now
    )
    _metrics(history.regular, run, Segment.IMPORTANT_VALUE, Band.ACTIVE, "2500.00", "100.00")
    _metrics(history.newcomer, run, Segment.IMPORTANT_VALUE, Band.AT_RISK, "50.00", "30.00")
    _metrics(history.lapsed, run, Segment.GENERAL_RETAIN, Band.AT_RISK, "12000.00", "9000.00")

    page = client_for(history.admin).get("/analytics/warning/").content.decode()
    own = client_for(history.sales).get("/analytics/warning/").content.decode()

    assert page.index("流失客户") < page.index("新客户")  # the most value at risk first
    assert "老客户" not in page  # active
    assert "¥9,000.00" in page
    assert "流失客户" not in own and "新客户" in own  # a sales person's own customers only


def test_those_allowed_can_ask_for_the_analytics_again_now(
    history: History, client_for: Callable[..., Client], django_capture_on_commit_callbacks: Any
) -> None:
    was, HUEY.immediate = HUEY.immediate, True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            denied = client_for(history.sales).post("/analytics/refresh")
            asked = client_for(history.manager).post("/analytics/refresh")
    finally:
        HUEY.immediate = was

    assert denied.status_code == 403
    assert asked.status_code == 302
    run = ModelRun.objects.get()
    assert (run.started_by, run.status) == (history.manager, ModelRun.Status.SUCCEEDED)
    assert "Compute again now" in client_for(history.manager).get("/analytics/").content.decode()
    assert "Compute again now" not in client_for(history.sales).get("/analytics/").content.decode()
