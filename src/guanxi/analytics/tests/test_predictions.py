"""The stored model figures of known customers against the estimation package's own functions: P(alive),
expected purchases, expected spend, CLV, churn risk, bands and value at risk."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from guanxi.analytics.estimation import bgnbd, gamma_gamma
from guanxi.analytics.models import CustomerMetrics
from guanxi.analytics.services import analytics_refresh, analytics_settings_update
from guanxi.analytics.tests.orders import UNTIL, customers, order, synthetic_base
from guanxi.users.models import User


@pytest.fixture
def known(admin: User) -> dict[str, Any]:
    """A fitted base and three customers of known histories (x, t_x, T in days up to 2025-06-30)."""
    synthetic_base(admin, 80)
    steady, lapsed, once = customers(admin, ["常客", "久未来", "一次"])
    # steady: Jan 1, Feb 1, … Jun 1 at ¥100, ¥120, …: x = 5, t_x = 151, T = 180
    for i, day in enumerate(
        ("2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01", "2025-06-01")
    ):
        order(steady, day, f"{100 + 20 * i}.00")
    # lapsed: 2024-09-01, 09-08, 09-15, 09-22 at ¥300: x = 3, t_x = 21, T = 302
    for day in ("2024-09-01", "2024-09-08", "2024-09-15", "2024-09-22"):
        order(lapsed, day, "300.00")
    # once: 2025-03-02 only: x = 0, t_x = 0, T = 120
    order(once, "2025-03-02", "75.00")
    run = analytics_refresh(actor=admin, until=UNTIL)
    p = run.parameters
    return {
        "run": run,
        "bgnbd": bgnbd.Params(r=p["r"], alpha=p["alpha"], a=p["a"], b=p["b"]),
        "gg": gamma_gamma.Params(p=p["p"], q=p["q"], gamma=p["gamma"]),
        "histories": {steady: (5, 151, 180, 160.0), lapsed: (3, 21, 302, 300.0), once: (0, 0, 120, 0.0)},
    }


def test_the_summaries_are_the_hand_counted_ones(known: dict[str, Any]) -> None:
    for customer, (x, t_x, age, _spend) in known["histories"].items():
        m = CustomerMetrics.objects.get(customer=customer)
        assert (m.frequency, m.t_x, m.age) == (x, t_x, age), customer.name


def test_p_alive_and_expected_purchases_are_the_models(known: dict[str, Any]) -> None:
    params = known["bgnbd"]
    for customer, (x, t_x, age, _spend) in known["histories"].items():
        # given the fitted parameters of the run and the customer's (x, t_x, T)
        m = CustomerMetrics.objects.get(customer=customer)

        # then the stored figures are the estimation functions' values
        assert m.p_alive == pytest.approx(float(bgnbd.p_alive(params, x, t_x, age)), rel=1e-12)
        for days, stored in ((30, m.expected_purchases_30), (90, m.expected_purchases_90)):
            expected = float(bgnbd.expected_purchases(params, days, x, t_x, age))
            assert stored == pytest.approx(expected, rel=1e-12), (customer.name, days)


def test_a_one_time_buyer_is_alive_for_bgnbd_and_banded_by_silence(known: dict[str, Any]) -> None:
    params = known["bgnbd"]
    once = next(c for c, h in known["histories"].items() if h[0] == 0)
    m = CustomerMetrics.objects.get(customer=once)
    silence = (params.alpha / (params.alpha + 120)) ** params.r
    assert m.p_alive == 1.0
    assert m.churn_risk == pytest.approx(1 - silence, rel=1e-12)
    assert m.band == ("active" if silence >= 0.5 else "at_risk" if silence >= 0.15 else "churned")


def test_the_lapsed_customer_is_less_alive_than_the_steady_one(known: dict[str, Any]) -> None:
    steady, lapsed, _once = known["histories"]
    a, b = CustomerMetrics.objects.get(customer=steady), CustomerMetrics.objects.get(customer=lapsed)
    assert a.p_alive > 0.5 > b.p_alive
    assert a.band == "active" and b.band in ("at_risk", "churned")
    assert b.churn_risk == pytest.approx(1 - b.p_alive, rel=1e-12)


def test_spend_and_clv_are_the_gamma_gamma_ones(known: dict[str, Any]) -> None:
    transactions, spend = known["bgnbd"], known["gg"]
    monthly = 1.1 ** (1 / 12) - 1  # the default 10% a year
    for customer, (x, t_x, age, repeat_mean) in known["histories"].items():
        m = CustomerMetrics.objects.get(customer=customer)
        per_purchase = float(gamma_gamma.expected_spend(spend, x, repeat_mean)[0])
        clv = float(
            gamma_gamma.customer_lifetime_value(
                transactions,
                spend,
                x,
                t_x,
                age,
                repeat_mean,
                horizon=365.0,
                period=365 / 12,
                discount_rate=monthly,
            )[0]
        )
        assert m.expected_average_spend == Decimal(f"{per_purchase:.2f}"), customer.name
        assert m.clv == Decimal(f"{clv:.2f}"), customer.name
        # value at risk: the CLV of a customer still buying, times the churn risk
        if_alive = clv / m.p_alive
        assert float(m.value_at_risk) == pytest.approx(if_alive * m.churn_risk, abs=0.006), customer.name


def test_the_steady_customers_repeat_spend_leaves_the_first_purchase_out(known: dict[str, Any]) -> None:
    # the steady customer's repeat days were ¥120, 140, 160, 180 and 200: ¥160 on average, the first ¥100
    # not among them; Gamma-Gamma pulls that towards the base's mean
    steady = next(iter(known["histories"]))
    spend = known["gg"]
    m = CustomerMetrics.objects.get(customer=steady)
    assert m.expected_average_spend == Decimal(f"{gamma_gamma.expected_spend(spend, 5, 160.0)[0]:.2f}")


def test_a_longer_horizon_and_a_lower_rate_raise_the_clv(known: dict[str, Any], admin: User) -> None:
    before = dict(CustomerMetrics.objects.values_list("customer_id", "clv"))
    analytics_settings_update(actor=admin, clv_horizon_months=24, discount_rate_annual=Decimal("0.05"))
    analytics_refresh(actor=admin, until=UNTIL)
    after = dict(CustomerMetrics.objects.values_list("customer_id", "clv"))
    assert all(after[k] >= before[k] for k in before)
    assert sum(after.values()) > sum(before.values())


def test_the_runs_parameters_say_how_the_fit_went(known: dict[str, Any]) -> None:
    run = known["run"]
    p = run.parameters
    assert p["time_unit"] == "day" and run.time_unit == "day"
    assert p["customers"] == CustomerMetrics.objects.count() == run.customers
    assert p["converged"] is True
    assert run.bgnbd_log_likelihood == pytest.approx(
        bgnbd.log_likelihood(
            known["bgnbd"],
            *np.array(list(CustomerMetrics.objects.values_list("frequency", "t_x", "age"))).T,
        ),
        rel=1e-9,
    )
    assert run.gamma_gamma_log_likelihood is not None and run.gamma_gamma_log_likelihood < 0
    assert p["settings"]["discount_rate_annual"] == "0.1000"
    assert run.window_end == UNTIL and run.window_start is not None and run.window_start < date(2025, 1, 1)
