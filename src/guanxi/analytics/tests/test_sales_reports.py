"""The sales forecast and reports of the KPI board, worked out by hand on a small book of opportunities.

Open today (the pipeline, whatever the period):
    O1 李明  华南一组  10,000.00 × 20% = 2,000.00     expected 2026-11-15
    O2 李明  华南一组   5,000.00 × 50% = 2,500.00     expected 2026-11-30
    O3 王芳  华南一组   8,000.50 × 75% = 6,000.375    expected 2026-12-01
    O4 赵强  华东二组   3,000.00 × 10% =   300.00     no date
    O5 —     华南一组   1,000.00 × 40% =   400.00     expected 2026-11-02
Closed in October 2026 (the period):
    W1 李明 won 12,000 after 30 days · W2 王芳 won 6,000 after 10 days · W3 赵强 won 2,000 after 91 days
    L1 李明 lost 4,000 (price) · L2 李明 lost 7,000 (competitor) · L3 赵强 lost 1,500 (price)
    L4 王芳 lost 500 (no reason)
Closed outside it: W0 李明 won 99,999 on 30 September 23:30 after 10 days · L0 lost on 1 November 00:10.
Leads that came in during October: five (one of team B), four became opportunities (W1, L1, O1, W3);
one more came in during September (became W0).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from guanxi.analytics.kpis import BoardFilters
from guanxi.analytics.sales_reports import (
    SALES_CHARTS,
    lead_funnel,
    lost_reasons,
    pipeline_by_month,
    pipeline_by_rep,
    pipeline_by_team,
    sales_cycle_by_month,
    sales_kpi_values,
    win_rate_by_rep,
)
from guanxi.catalog.models import Store
from guanxi.core.errors import PermissionDenied
from guanxi.customers.models import Customer
from guanxi.leads.models import Lead
from guanxi.opportunities.models import Opportunity, Pipeline, Stage
from guanxi.users.models import Team, User

OCTOBER = BoardFilters(start=date(2026, 10, 1), end=date(2026, 10, 31))
D = Decimal


@pytest.fixture(autouse=True)
def _english() -> Any:
    """Row labels (reasons, steps) in English, as the assertions spell them."""
    with translation.override("en"):
        yield


def _at(moment: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(moment))


@dataclass
class Book:
    admin: User
    manager: User
    marketing: User
    liming: User
    wangfang: User
    zhaoqiang: User
    team_b: Team
    store: Store


@pytest.fixture
def book(
    make_user: Callable[..., User], make_customer: Callable[..., Any], team_a: Team, team_b: Team
) -> Book:
    admin, manager, marketing = make_user("admin"), make_user("manager"), make_user("marketing")
    liming = make_user("sales", username="liming")
    wangfang = make_user("sales", username="wangfang")
    zhaoqiang = make_user("sales", team=team_b, username="zhaoqiang")
    for user, name in ((liming, "李明"), (wangfang, "王芳"), (zhaoqiang, "赵强")):
        User.objects.filter(pk=user.pk).update(full_name=name)
    customer: Customer = make_customer(admin, name="华南建材有限公司")
    pipeline = Pipeline.objects.create(name="工程项目")
    stages = {
        kind: Stage.objects.create(pipeline=pipeline, name=str(kind), position=i, kind=kind)
        for i, kind in enumerate(Stage.Kind)
    }
    store = Store.objects.create(code="NS01", name="南山展厅")

    def opportunity(
        name: str,
        owner: User | None,
        amount: str,
        *,
        team: Team | None = None,
        probability: int = 0,
        expected: str | None = None,
        status: str = Opportunity.Status.OPEN,
        created: str = "2026-06-01T10:00",
        closed: str | None = None,
        reason: str = "",
    ) -> Opportunity:
        row = Opportunity.objects.create(
            name=name,
            customer=customer,
            pipeline=pipeline,
            stage=stages[status],
            status=status,
            amount=D(amount),
            probability=probability,
            expected_close=date.fromisoformat(expected) if expected else None,
            owner=owner,
            team=team if team is not None else (owner.team if owner else team_a),
            closed_at=_at(closed) if closed else None,
            lost_reason=reason,
            stage_changed_at=_at(created),
        )
        Opportunity.objects.filter(pk=row.pk).update(created_at=_at(created))  # history as the test needs
        return row

    won, lost = Opportunity.Status.WON, Opportunity.Status.LOST
    o1 = opportunity("O1", liming, "10000.00", probability=20, expected="2026-11-15")
    opportunity("O2", liming, "5000.00", probability=50, expected="2026-11-30")
    opportunity("O3", wangfang, "8000.50", probability=75, expected="2026-12-01")
    opportunity("O4", zhaoqiang, "3000.00", probability=10)
    opportunity("O5", None, "1000.00", probability=40, expected="2026-11-02")
    w1 = opportunity(
        "W1", liming, "12000.00", status=won, created="2026-09-01T10:00", closed="2026-10-01T10:00"
    )
    opportunity("W2", wangfang, "6000.00", status=won, created="2026-10-10T10:00", closed="2026-10-20T10:00")
    w3 = opportunity(
        "W3", zhaoqiang, "2000.00", status=won, created="2026-08-01T10:00", closed="2026-10-31T10:00"
    )
    w0 = opportunity(
        "W0", liming, "99999.00", status=won, created="2026-09-20T23:30", closed="2026-09-30T23:30"
    )
    l1 = opportunity("L1", liming, "4000.00", status=lost, closed="2026-10-05T10:00", reason="price")
    opportunity("L2", liming, "7000.00", status=lost, closed="2026-10-15T10:00", reason="competitor")
    opportunity("L3", zhaoqiang, "1500.00", status=lost, closed="2026-10-25T10:00", reason="price")
    opportunity("L4", wangfang, "500.00", status=lost, closed="2026-10-26T10:00")
    opportunity("L0", liming, "800.00", status=lost, closed="2026-11-01T00:10", reason="price")

    def lead(
        name: str, came: str, owner: User, opportunity: Opportunity | None, store: Store | None = None
    ) -> None:
        row = Lead.objects.create(
            name=name,
            owner=owner,
            team=owner.team,
            store=store,
            opportunity=opportunity,
            status=Lead.Status.CONVERTED if opportunity else Lead.Status.WORKING,
        )
        Lead.objects.filter(pk=row.pk).update(created_at=_at(came))

    lead("线索1", "2026-10-02T09:00", liming, w1, store)
    lead("线索2", "2026-10-03T09:00", liming, l1)
    lead("线索3", "2026-10-04T09:00", wangfang, o1, store)
    lead("线索4", "2026-10-05T09:00", zhaoqiang, w3)
    lead("线索5", "2026-10-31T23:00", wangfang, None)
    lead("线索0", "2026-09-15T09:00", liming, w0)
    return Book(admin, manager, marketing, liming, wangfang, zhaoqiang, team_b, store)


def _figures(actor: User, filters: BoardFilters = OCTOBER) -> dict[str, Any]:
    return {v.key: v.value for v in sales_kpi_values(actor=actor, filters=filters)}


def test_the_key_figures_as_worked_out_by_hand(book: Book) -> None:
    assert _figures(book.admin) == {
        "weighted_pipeline": D("11200.38"),  # 2,000 + 2,500 + 6,000.375 + 300 + 400, half up to the cent
        "open_pipeline": D("27000.50"),
        "won_amount": D("20000.00"),  # W1 + W2 + W3; W0 was won in September
        "win_rate": 0.4286,  # 3 won of 7 closed
        "sales_cycle": 43.7,  # (30 + 10 + 91) ÷ 3
        "lead_conversion": 0.8,  # 4 of October's 5 leads
    }


def test_a_manager_sees_the_team_and_marketing_sees_all(book: Book) -> None:
    assert _figures(book.manager) == {
        "weighted_pipeline": D("10900.38"),  # not 赵强's O4
        "open_pipeline": D("24000.50"),
        "won_amount": D("18000.00"),
        "win_rate": 0.4,  # W1, W2 of W1, W2, L1, L2, L4
        "sales_cycle": 20.0,
        "lead_conversion": 0.75,  # 线索1–3 of 线索1, 2, 3, 5
    }
    assert _figures(book.marketing) == _figures(book.admin)


def test_the_team_filter_narrows_every_figure_and_the_store_the_funnel(book: Book) -> None:
    team_b = BoardFilters(OCTOBER.start, OCTOBER.end, team_id=book.team_b.pk)
    assert _figures(book.admin, team_b) == {
        "weighted_pipeline": D("300.00"),
        "open_pipeline": D("3000.00"),
        "won_amount": D("2000.00"),
        "win_rate": 0.5,
        "sales_cycle": 91.0,
        "lead_conversion": 1.0,
    }
    at_store = BoardFilters(OCTOBER.start, OCTOBER.end, store_id=book.store.pk)
    assert lead_funnel(actor=book.admin, filters=at_store).rows == [
        ["Leads", 2, 1.0, 1.0],
        ["Became opportunities", 2, 1.0, 1.0],
        ["Won", 1, 0.5, 0.5],
    ]
    assert _figures(book.admin, at_store)["win_rate"] == 0.4286  # opportunities have no store


def test_nothing_in_the_period_gives_no_rate_rather_than_zero(book: Book) -> None:
    empty = BoardFilters(date(2020, 1, 1), date(2020, 1, 31))
    figures = _figures(book.admin, empty)
    assert (figures["win_rate"], figures["sales_cycle"], figures["lead_conversion"]) == (None, None, None)
    assert figures["weighted_pipeline"] == D("11200.38")  # the pipeline is today's, whatever the period
    assert sales_cycle_by_month(actor=book.admin, filters=empty).rows == []


def test_the_weighted_pipeline_by_month_of_expected_close(book: Book) -> None:
    assert pipeline_by_month(actor=book.admin, filters=OCTOBER).rows == [
        ["2026-11", 3, D("16000.00"), D("4900.00")],
        ["2026-12", 1, D("8000.50"), D("6000.38")],
        ["No date", 1, D("3000.00"), D("300.00")],
    ]


def test_the_weighted_pipeline_by_rep_and_by_team(book: Book) -> None:
    assert pipeline_by_rep(actor=book.admin, filters=OCTOBER).rows == [
        ["王芳", "华南一组", 1, D("8000.50"), D("6000.38")],
        ["李明", "华南一组", 2, D("15000.00"), D("4500.00")],
        ["Unassigned", "", 1, D("1000.00"), D("400.00")],
        ["赵强", "华东二组", 1, D("3000.00"), D("300.00")],
    ]
    assert pipeline_by_team(actor=book.admin, filters=OCTOBER).rows == [
        ["华南一组", 4, D("24000.50"), D("10900.38")],
        ["华东二组", 1, D("3000.00"), D("300.00")],
    ]


def test_the_conversion_funnel_of_the_period(book: Book) -> None:
    assert lead_funnel(actor=book.admin, filters=OCTOBER).rows == [
        ["Leads", 5, 1.0, 1.0],
        ["Became opportunities", 4, 0.8, 0.8],
        ["Won", 2, 0.5, 0.4],  # W1 and W3
    ]


def test_the_win_rate_by_rep(book: Book) -> None:
    assert win_rate_by_rep(actor=book.admin, filters=OCTOBER).rows == [
        ["王芳", "华南一组", 1, 1, 0.5],
        ["赵强", "华东二组", 1, 1, 0.5],
        ["李明", "华南一组", 1, 2, 0.3333],
    ]


def test_the_sales_cycle_by_month_won_uses_local_days(book: Book) -> None:
    filters = BoardFilters(date(2026, 9, 1), date(2026, 10, 31))
    assert sales_cycle_by_month(actor=book.admin, filters=filters).rows == [
        ["2026-09", 1, D("99999.00"), 10.0],  # 23:30 on 30 September in Shanghai, 15:30 UTC
        ["2026-10", 3, D("20000.00"), 43.7],
    ]


def test_lost_reasons_count_and_sum_every_reason(book: Book) -> None:
    rows = {row[0]: row[1:] for row in lost_reasons(actor=book.admin, filters=OCTOBER).rows}
    assert rows == {
        "Price": [2, D("5500.00")],  # L1 + L3; L0 was lost in November
        "Went to a competitor": [1, D("7000.00")],
        "No budget": [0, D("0.00")],
        "No decision": [0, D("0.00")],
        "Timing": [0, D("0.00")],
        "Product fit": [0, D("0.00")],
        "Other": [0, D("0.00")],
        "Not given": [1, D("500.00")],
    }


def test_each_report_is_one_query_and_the_figures_three(book: Book) -> None:
    for key, chart in SALES_CHARTS.items():
        with CaptureQueriesContext(connection) as queries:
            chart(actor=book.manager, filters=OCTOBER)
        assert len(queries) == 1, key
    with CaptureQueriesContext(connection) as queries:
        sales_kpi_values(actor=book.manager, filters=OCTOBER)
    assert len(queries) == 3


def test_only_those_with_sales_report_view_read_the_reports(book: Book) -> None:
    for chart in (*SALES_CHARTS.values(), sales_kpi_values):
        with pytest.raises(PermissionDenied):
            chart(actor=book.liming, filters=OCTOBER)  # sales: analytics.view, not sales_report.view


# -- on the board ------------------------------------------------------------------------------------------


def test_the_board_shows_the_sales_section_to_a_manager(
    book: Book, client_for: Callable[..., Client]
) -> None:
    page = client_for(book.manager).get("/analytics/", {"start": "2026-10-01", "end": "2026-10-31"}).text
    assert "Sales forecast and reports" in page
    assert "¥10,900.38" in page and "40.0%" in page and "20.0 days" in page
    for key in SALES_CHARTS:
        assert f'id="chart-{key}"' in page
        assert f"/analytics/{key}.csv?start=2026-10-01" in page
    assert "Of the opportunities closed in the period, the share won: won ÷ (won + lost)." in page
    assert "The store filter applies here only." in page


def test_the_board_hides_the_sales_section_without_the_permission(
    book: Book, client_for: Callable[..., Client]
) -> None:
    client = client_for(book.liming)
    page = client.get("/analytics/").text
    assert "Sales forecast and reports" not in page and "chart-funnel" not in page
    assert client.get("/analytics/funnel.csv").status_code == 403
    assert client.get("/analytics/sales_kpis.csv").status_code == 403


def test_the_board_costs_the_same_queries_however_many_opportunities(
    book: Book, client_for: Callable[..., Client], make_user: Callable[..., User]
) -> None:
    client = client_for(book.admin)
    query = {"start": "2026-10-01", "end": "2026-10-31"}
    client.get("/analytics/", query)
    with CaptureQueriesContext(connection) as before:
        client.get("/analytics/", query)
    template = Opportunity.objects.get(name="W2")
    for n in range(5):
        owner = make_user("sales", username=f"extra{n}")
        template.pk, template.name, template.owner = None, f"W2-{n}", owner
        template.save()
    with CaptureQueriesContext(connection) as after:
        client.get("/analytics/", query)
    assert len(after) == len(before)


def test_a_report_downloads_as_csv(book: Book, client_for: Callable[..., Client]) -> None:
    response = client_for(book.admin).get("/analytics/pipeline_reps.csv", {"start": "2026-10-01"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8").lstrip("\ufeff"))))
    assert rows == [
        ["Sales rep", "Team", "Open opportunities", "Amount", "Weighted amount"],
        ["王芳", "华南一组", "1", "8000.50", "6000.38"],
        ["李明", "华南一组", "2", "15000.00", "4500.00"],
        ["Unassigned", "", "1", "1000.00", "400.00"],
        ["赵强", "华东二组", "1", "3000.00", "300.00"],
    ]
    figures = client_for(book.admin).get(
        "/analytics/sales_kpis.csv", {"start": "2026-10-01", "end": "2026-10-31"}
    )
    rows = list(csv.reader(io.StringIO(figures.content.decode("utf-8").lstrip("\ufeff"))))
    assert rows[1][:2] == ["Weighted pipeline", "11200.38"]
    assert rows[4][:2] == ["Win rate", "0.4286"]
