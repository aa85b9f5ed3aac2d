"""The stored metrics rows as the refresh writes them (binary COPY on PostgreSQL, tuples on SQLite): money
rounded to fen as numpy rounds, NaN and missing figures as NULL, dates and the run's time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from guanxi.analytics import scoring
from guanxi.analytics.metrics_rows import METRICS_COLUMNS, metrics_columns
from guanxi.analytics.models import CustomerMetrics
from guanxi.analytics.predict import Predictions
from guanxi.analytics.purchases import Base, day_number
from guanxi.analytics.tables import TableReplace

UNTIL = date(2026, 11, 30)
NOW = datetime(2026, 12, 1, 0, 27, 6, 123456, tzinfo=ZoneInfo("Asia/Shanghai"))


def days(*values: str) -> np.ndarray:
    return np.array([day_number(date.fromisoformat(value)) for value in values], dtype=np.int64)


def three_customers() -> Base:
    return Base(
        customer_id=np.array([11, 12, 13], dtype=np.int64),
        purchase_days=np.array([2, 1, 3], dtype=np.int64),
        first_day=days("1999-12-31", "1899-12-31", "1970-01-01"),
        last_day=days("2000-01-01", "1899-12-31", "2026-11-30"),
        orders=np.array([2, 1, 3], dtype=np.int64),
        cents=np.array([5, -150, 9_999_999_999_999], dtype=np.int64),
        window_orders=np.array([0, 1, 3], dtype=np.int64),
        window_cents=np.array([0, -150, 9_999_999_999_999], dtype=np.int64),
        first_day_cents=np.array([2, -150, 1], dtype=np.int64),
        until=UNTIL,
        window_start=date(2025, 12, 1),
    )


def store(base: Base, figures: Predictions, lists: np.ndarray) -> list[dict[str, Any]]:
    scores = np.array([1, 5, 3])
    segment = np.array([0, 7, 3])
    metrics = TableReplace(CustomerMetrics, METRICS_COLUMNS)
    metrics.begin()
    metrics.write_columns(metrics_columns(base, scores, scores, scores, segment, figures, lists, 42, NOW))
    metrics.finish()
    return list(CustomerMetrics.objects.order_by("customer_id").values())


def test_the_metrics_are_stored_as_computed(db: Any) -> None:
    # given figures with a NaN, half fen to round and a band-less customer
    figures = Predictions(
        p_alive=np.array([0.9, np.nan, 0.25]),
        churn_risk=np.array([0.1, np.nan, 0.75]),
        band=np.array([0, 3, 2], dtype=np.int8),
        expected_30=np.array([0.5, np.nan, 0.0]),
        expected_90=np.array([1.5, np.nan, 0.0]),
        spend=np.array([0.125, np.nan, 0.135]),
        clv=np.array([99_999_999_999.99, np.nan, -0.004]),
        value_at_risk=np.array([-1.5, np.nan, 0.005]),
    )

    # when
    rows = store(three_customers(), figures, np.array([7, -1, 0]))

    # then
    assert [row["customer_id"] for row in rows] == [11, 12, 13]
    assert [(row["net_spend"], row["average_order_value"], row["rfm_spend"]) for row in rows] == [
        (Decimal("0.05"), Decimal("0.02"), Decimal("0.00")),  # 2.5 fen rounds to even
        (Decimal("-1.50"), Decimal("-1.50"), Decimal("-1.50")),
        (Decimal("99999999999.99"), Decimal("33333333333.33"), Decimal("99999999999.99")),
    ]
    assert [(row["first_purchase"], row["last_purchase"]) for row in rows] == [
        (date(1999, 12, 31), date(2000, 1, 1)),
        (date(1899, 12, 31), date(1899, 12, 31)),
        (date(1970, 1, 1), date(2026, 11, 30)),
    ]
    assert [
        (
            row["orders_count"],
            row["recency_days"],
            row["frequency"],
            row["t_x"],
            row["age"],
            row["rfm_orders"],
        )
        for row in rows
    ] == [
        (
            2,
            day_number(UNTIL) - day_number(date(2000, 1, 1)),
            1,
            1,
            day_number(UNTIL) - day_number(date(1999, 12, 31)),
            0,
        ),
        (1, day_number(UNTIL) + 25_568, 0, 0, day_number(UNTIL) + 25_568, 1),
        (3, 0, 2, day_number(UNTIL), day_number(UNTIL), 3),
    ]
    assert [(row["r_score"], row["segment"], row["band"]) for row in rows] == [
        (1, scoring.SEGMENTS[0], "active"),
        (5, scoring.SEGMENTS[7], ""),
        (3, scoring.SEGMENTS[3], "churned"),
    ]
    assert [
        (row["p_alive"], row["churn_risk"], row["expected_purchases_30"], row["expected_purchases_90"])
        for row in rows
    ] == [(0.9, 0.1, 0.5, 1.5), (None, None, None, None), (0.25, 0.75, 0.0, 0.0)]
    assert [(row["expected_average_spend"], row["clv"], row["value_at_risk"]) for row in rows] == [
        (Decimal("0.12"), Decimal("99999999999.99"), Decimal("-1.50")),
        (None, None, None),
        (Decimal("0.14"), Decimal("0.00"), Decimal("0.00")),  # 13.500000000000002 fen; -0.4 and 0.5 fen
    ]
    assert [(row["typical_interval_days"], row["recommendation_key"]) for row in rows] == [
        (1.0, 7),
        (None, None),
        (day_number(UNTIL) / 2, 0),
    ]
    assert {(row["run_id"], row["computed_at"]) for row in rows} == {
        (42, datetime(2026, 11, 30, 16, 27, 6, 123456, tzinfo=UTC))
    }


def test_no_fitted_model_leaves_the_predictions_empty(db: Any) -> None:
    rows = store(three_customers(), Predictions(), np.array([-1, -1, -1]))

    predicted = ("p_alive", "churn_risk", "expected_purchases_30", "expected_purchases_90")
    money = ("expected_average_spend", "clv", "value_at_risk")
    assert {tuple(row[name] for name in (*predicted, *money, "recommendation_key")) for row in rows} == {
        (None,) * 8
    }
    assert [row["band"] for row in rows] == ["", "", ""]


@pytest.mark.parametrize("count", [0, 1, 50_001])
def test_every_customer_gets_one_row(db: Any, count: int) -> None:
    # given more customers than one chunk holds (or none)
    ones = np.ones(count, dtype=np.int64)
    base = Base(
        customer_id=np.arange(1, count + 1, dtype=np.int64),
        purchase_days=ones,
        first_day=ones * 20_000,
        last_day=ones * 20_000,
        orders=ones,
        cents=np.arange(count, dtype=np.int64) - 500,
        window_orders=ones,
        window_cents=ones,
        first_day_cents=ones,
        until=UNTIL,
        window_start=date(2025, 12, 1),
    )
    zeros = np.zeros(count, dtype=np.int64)
    metrics = TableReplace(CustomerMetrics, METRICS_COLUMNS)
    metrics.begin()

    # when
    metrics.write_columns(metrics_columns(base, zeros, zeros, zeros, zeros, Predictions(), zeros - 1, 1, NOW))
    metrics.finish()

    # then
    assert metrics.count == count
    assert CustomerMetrics.objects.count() == count
    if count:
        last = CustomerMetrics.objects.get(customer_id=count)
        assert last.net_spend == Decimal(count - 501) / 100
