"""BG/NBD against the published CDNOW figures, independent computations and the model's own simulation."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, stats

from guanxi.analytics.estimation import bgnbd, simulate
from guanxi.analytics.estimation.hypergeometric import _expected_if_alive_series, expected_if_alive
from guanxi.analytics.tests import cdnow

# Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science 24(2), section 4.
PAPER = bgnbd.Params(r=0.243, alpha=4.414, a=0.793, b=2.426)
PAPER_LL = -9582.4


def _assert_paper_figures(fit: bgnbd.Fit) -> None:
    assert fit.converged, fit.message
    printed = (round(fit.r, 3), round(fit.alpha, 3), round(fit.a, 3), round(fit.b, 3))
    assert printed == (PAPER.r, PAPER.alpha, PAPER.a, PAPER.b)
    assert round(fit.log_likelihood, 1) == PAPER_LL
    assert fit.n_customers == 2357


def test_fit_on_the_cdnow_summary_gives_the_papers_parameters_and_log_likelihood() -> None:
    data = cdnow.shipped()

    fit = bgnbd.fit(data.x, data.t_x, data.T, time_unit="week")

    _assert_paper_figures(fit)
    assert (fit.time_unit, fit.n_rows) == ("week", 2357)


def test_fit_on_the_cdnow_transactions_gives_the_papers_parameters_and_log_likelihood() -> None:
    data = cdnow.from_transactions()

    fit = bgnbd.fit(data.x, data.t_x, data.T, time_unit="week")

    _assert_paper_figures(fit)


def test_the_summaries_computed_from_the_transactions_are_the_shipped_ones_unrounded() -> None:
    shipped, computed = cdnow.shipped(), cdnow.from_transactions()

    assert np.array_equal(shipped.x, computed.x)
    assert int(shipped.x.sum()) == 2457  # repeat transactions in the 39 calibration weeks
    for name in ("t_x", "T", "mean_spend"):
        assert np.max(np.abs(getattr(shipped, name) - getattr(computed, name))) <= 0.005 + 1e-9


def test_grouping_by_distinct_triple_gives_the_same_fit_as_customer_by_customer() -> None:
    data = cdnow.shipped()
    one_by_one = bgnbd.fit(data.x, data.t_x, data.T, time_unit="week")

    grouped = bgnbd.group(data.x, data.t_x, data.T)
    fit = bgnbd.fit(grouped.x, grouped.t_x, grouped.T, weights=grouped.counts, time_unit="week")

    assert len(grouped) == 1016
    assert (fit.n_customers, fit.n_rows) == (2357, 1016)
    assert fit.log_likelihood == pytest.approx(one_by_one.log_likelihood, abs=1e-6)
    for name in ("r", "alpha", "a", "b"):
        assert getattr(fit, name) == pytest.approx(getattr(one_by_one, name), rel=1e-6)
    assert np.array_equal(grouped.x[grouped.inverse], data.x)
    assert np.array_equal(grouped.T[grouped.inverse], data.T)


def test_grouped_fit_groups_then_fits_and_returns_the_grouping() -> None:
    data = cdnow.shipped()

    fit, grouped = bgnbd.grouped_fit(data.x, data.t_x, data.T, time_unit="week")

    assert (fit.n_customers, fit.n_rows, len(grouped), fit.time_unit) == (2357, 1016, 1016, "week")
    assert round(fit.log_likelihood, 1) == PAPER_LL
    assert np.array_equal(grouped.t_x[grouped.inverse], data.t_x)


def test_a_weight_counts_as_that_many_identical_customers() -> None:
    data = cdnow.shipped()
    doubled = bgnbd.fit(np.tile(data.x, 2), np.tile(data.t_x, 2), np.tile(data.T, 2))

    weighted = bgnbd.fit(data.x, data.t_x, data.T, weights=np.full(len(data.x), 2.0))

    assert weighted.n_customers == doubled.n_customers == 4714
    assert weighted.log_likelihood == pytest.approx(2 * PAPER_LL, abs=0.2)
    assert weighted.log_likelihood == pytest.approx(doubled.log_likelihood, abs=1e-6)
    assert weighted.r == pytest.approx(doubled.r, rel=1e-6)


def test_log_likelihood_at_the_papers_parameters_is_the_papers_maximum() -> None:
    data = cdnow.shipped()

    assert bgnbd.log_likelihood(PAPER, data.x, data.t_x, data.T) == pytest.approx(PAPER_LL, abs=0.05)


def test_gradient_of_the_objective_is_exact() -> None:
    data = cdnow.shipped()
    objective = bgnbd._Objective(data.x, data.t_x, data.T, np.ones(len(data.x)))

    for point in ([0.5, 3.0, 1.2, 2.0], [0.243, 4.414, 0.793, 2.426], [2.0, 40.0, 0.2, 9.0]):
        at = np.log(point)
        steps = 1e-6 * np.eye(len(at))
        central = [(objective(at + h)[0] - objective(at - h)[0]) / 2e-6 for h in steps]
        assert objective(at)[1] == pytest.approx(central, rel=1e-6, abs=1e-8)


def test_conditional_expectation_of_the_worked_example_is_hardies() -> None:
    # Customer ID 1 of the CDNOW sample (x=2, t_x=30.43, T=38.86): 1.226 purchases expected in weeks
    # 40–78 in Hardie's BG/NBD spreadsheet (the figure the lifetimes test suite checks against).
    fitted = bgnbd.fit(*(getattr(cdnow.shipped(), n) for n in ("x", "t_x", "T")), time_unit="week").params

    for params in (PAPER, fitted):
        value = bgnbd.expected_purchases(params, 39, 2, 30.43, 38.86)
        assert value.shape == ()
        assert round(float(value), 3) == 1.226


def test_expected_purchases_of_a_new_customer_are_hardies() -> None:
    # E[X(t)] of Hardie's spreadsheet at the fitted parameters (as quoted by the lifetimes test suite).
    data = cdnow.shipped()
    params = bgnbd.fit(data.x, data.t_x, data.T, time_unit="week").params
    weeks = np.array([0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0])

    values = bgnbd.expected_purchases_new_customer(params, weeks)

    assert values == pytest.approx([0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576], abs=5e-4)


def test_expected_purchases_of_a_new_customer_match_eq_9_directly() -> None:
    # Eq. 9 as printed, with scipy's 2F1 of the untransformed parameters: fine for x = 0.
    from scipy.special import hyp2f1

    r, alpha, a, b = PAPER.r, PAPER.alpha, PAPER.a, PAPER.b
    for t in (1.0, 39.0, 78.0, 520.0):
        z = t / (alpha + t)
        printed = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))
        assert float(bgnbd.expected_purchases_new_customer(PAPER, t)) == pytest.approx(printed, rel=1e-12)


def test_a_customer_without_repeat_purchases_is_alive_for_sure() -> None:
    alive = bgnbd.p_alive(PAPER, [0, 0, 0], [0, 0, 0], [0.0, 38.86, 5000.0])

    assert alive.tolist() == [1.0, 1.0, 1.0]


def test_p_alive_is_the_active_branchs_share_of_the_likelihood() -> None:
    # The likelihood (eq. 6) is the sum of an "active at T" and a "dropped out at t_x" branch.
    r, alpha, a, b = PAPER.r, PAPER.alpha, PAPER.a, PAPER.b
    customers = ((1, 1.71, 38.86), (2, 30.43, 38.86), (7, 29.43, 38.86), (10, 34.14, 38.86), (3, 2.0, 52.0))
    for x, t_x, T in customers:
        active = (alpha + T) ** -(r + x)
        dropped = a / (b + x - 1) * (alpha + t_x) ** -(r + x)
        assert float(bgnbd.p_alive(PAPER, x, t_x, T)) == pytest.approx(active / (active + dropped), rel=1e-12)


def test_p_alive_falls_with_time_since_the_last_purchase() -> None:
    ages = np.linspace(30.5, 200.0, 50)
    later = bgnbd.p_alive(PAPER, 5, 30.0, ages)
    recencies = np.linspace(1.0, 52.0, 50)
    more_recent = bgnbd.p_alive(PAPER, 5, recencies, 52.0)

    assert np.all(np.diff(later) < 0)
    assert np.all(np.diff(more_recent) > 0)
    # Bought just now: only the drop-out chance after that purchase counts, (b+x−1)/(a+b+x−1).
    just_bought = (PAPER.b + 4) / (PAPER.a + PAPER.b + 4)
    assert float(bgnbd.p_alive(PAPER, 5, 52.0, 52.0)) == pytest.approx(just_bought, rel=1e-12)
    assert float(bgnbd.p_alive(PAPER, 5, 5.0, 52.0)) < 0.01


def test_expected_purchases_grow_with_the_horizon_from_zero() -> None:
    horizons = np.array([0.0, 1.0, 4.0, 13.0, 39.0, 52.0, 104.0, 520.0])

    values = bgnbd.expected_purchases(PAPER, horizons, 4, 20.0, 38.86)

    assert values[0] == 0.0
    assert np.all(np.diff(values) > 0)
    alive = float(bgnbd.p_alive(PAPER, 4, 20.0, 38.86))
    if_alive = bgnbd.expected_purchases_if_alive(PAPER, horizons, 4, 20.0, 38.86)
    assert values == pytest.approx(alive * if_alive, rel=1e-14)


def _posterior_integral(params: bgnbd.Params, t: float, x: float, T: float) -> float:
    """E[purchases in t | active] by integrating over p ~ Beta(a, b+x) the Gamma(r+x, α+T) expectation."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    density = stats.beta(a, b + x).pdf

    def integrand(p: float) -> float:
        return float(density(p)) * -math.expm1(-(r + x) * math.log1p(p * t / (alpha + T))) / p

    mode = a / (a + b + x)
    points = [mode * 10.0**k for k in range(-4, 3) if mode * 10.0**k < 1]
    value, _error = integrate.quad(integrand, 0.0, 1.0, points=points, limit=500, epsabs=0, epsrel=1e-11)
    return value


@pytest.mark.parametrize(
    ("r", "alpha", "a", "b", "x", "T", "t"),
    [
        (0.243, 4.414, 0.793, 2.426, 2, 38.86, 39.0),  # the worked example
        (0.243, 4.414, 0.793, 2.426, 0, 0.0, 520.0),
        (0.6, 40.0, 1.5, 4.0, 5000, 700.0, 365.0),  # a heavy buyer: eq. 10 as printed overflows here
        (0.6, 40.0, 1.0, 4.0, 12, 400.0, 365.0),  # a = 1: eq. 10 is 0/0
        (0.6, 40.0, 1.0 + 1e-7, 4.0, 12, 400.0, 365.0),
        (2.0, 10.0, 3.0, 5.0, 1, 300.0, 0.01),  # a horizon minute against α + T
        (0.3, 5.0, 0.4, 1.2, 40, 30.0, 3650.0),  # ten years ahead
    ],
)
def test_expected_purchases_if_alive_agree_with_the_posterior_integral(
    r: float, alpha: float, a: float, b: float, x: int, T: float, t: float
) -> None:
    params = bgnbd.Params(r=r, alpha=alpha, a=a, b=b)

    value = float(bgnbd.expected_purchases_if_alive(params, t, x, 0.5 * T if x else 0.0, T))

    assert math.isfinite(value)
    assert value == pytest.approx(_posterior_integral(params, t, x, T), rel=1e-8)


def test_the_series_agrees_with_scipys_hypergeometric_where_both_are_accurate() -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(0, 300, 2000).astype(np.float64)
    z = rng.uniform(0.01, 0.95, 2000)

    for r, a, b in ((0.243, 0.793, 2.426), (1.7, 2.5, 0.3), (0.05, 6.0, 30.0)):
        series = _expected_if_alive_series(r, a, b, x, z)
        assert series == pytest.approx(expected_if_alive(r, a, b, x, z), rel=1e-9)


def test_p_alive_and_expected_purchases_match_customers_simulated_from_the_model() -> None:
    params = bgnbd.Params(r=0.25, alpha=4.4, a=0.8, b=2.4)
    rng = np.random.default_rng(20240601)
    customers = simulate.bgnbd_histories(params, rng.uniform(1.0, 52.0, 400_000), rng)
    bought = simulate.bgnbd_future(customers, 39.0, rng)

    alive = bgnbd.p_alive(params, customers.x, customers.t_x, customers.T)
    expected = bgnbd.expected_purchases(params, 39.0, customers.x, customers.t_x, customers.T)

    x = customers.x
    for group in (x == 1, x == 2, (x >= 3) & (x < 6), x >= 6):
        spread = math.sqrt(float(np.sum(alive[group] * (1 - alive[group]))))
        assert abs(float(np.sum(customers.alive[group] - alive[group]))) < 4 * spread
        spread = math.sqrt(float(np.var(bought[group])) * int(group.sum()))
        assert abs(float(np.sum(bought[group] - expected[group]))) < 4 * spread


def test_fit_recovers_the_parameters_of_simulated_customers() -> None:
    truth = bgnbd.Params(r=0.5, alpha=12.0, a=0.7, b=3.0)
    rng = np.random.default_rng(11)
    customers = simulate.bgnbd_histories(truth, rng.integers(1, 366, 200_000).astype(np.float64), rng)

    fit = bgnbd.fit(customers.x, customers.t_x, customers.T, time_unit="day")

    assert fit.converged, fit.message
    for name in ("r", "alpha", "a", "b"):
        assert getattr(fit, name) == pytest.approx(getattr(truth, name), rel=0.03)


@pytest.mark.parametrize(
    ("x", "t_x", "T", "message"),
    [
        ([], [], [], "empty"),
        ([-1], [0], [10], "x .* must not be negative: row 0"),
        ([1.5], [2], [10], "whole numbers"),
        ([1, 2], [3, -2], [10, 10], "t_x .* must not be negative: row 1"),
        ([0], [0], [-3], "T .* must not be negative"),
        ([0, 3], [0, 12], [10, 10], r"must not exceed T .*row 1 has t_x=12 > T=10"),
        ([2], [0], [10], "x=2 and t_x=0"),
        ([0], [4], [10], "t_x .* is 0 when there is no repeat purchase"),
        ([1, 2], [1], [5, 5], "one length"),
        ([1], [float("nan")], [5], "finite"),
        ([[1]], [[1]], [[5]], "one-dimensional"),
    ],
)
def test_bad_histories_are_refused_with_the_reason(x: list, t_x: list, T: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bgnbd.fit(x, t_x, T)


def test_bad_predictions_and_fits_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="at least one customer with a repeat purchase"):
        bgnbd.fit([0, 0], [0, 0], [5, 9])
    with pytest.raises(ValueError, match=r"weights .* must be positive: row 1"):
        bgnbd.fit([1, 2], [1, 2], [5, 5], weights=[1, 0])
    with pytest.raises(ValueError, match="time_unit"):
        bgnbd.fit([1], [1], [5], time_unit="month")
    with pytest.raises(ValueError, match="horizon"):
        bgnbd.expected_purchases(PAPER, -1.0, 1, 1, 5)
    with pytest.raises(ValueError, match="must not exceed T"):
        bgnbd.p_alive(PAPER, 1, 6, 5)
    with pytest.raises(ValueError, match="alpha must be a positive number"):
        bgnbd.Params(r=1.0, alpha=0.0, a=1.0, b=1.0)


def test_expected_purchases_stay_finite_when_a_fit_on_a_small_base_runs_off_to_huge_a_and_b() -> None:
    # Parameters a fit on a few dozen customers gave. The Euler form is 0·inf here; the values below are
    # mpmath's (50 digits) of c·(1 − 2F1(r+x, a−1; c; z/(z−1)))/(a − 1).
    r, a, b = 6.0826503050493965, 1508529.6921502491, 7303915.110901718
    x = np.array([0.0, 2.0, 30.0])
    z = np.array([0.0512195, 0.0479452, 0.5])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = expected_if_alive(r, a, b, x, z)

    assert value == pytest.approx([0.31788505026958563, 0.39155549127387423, 5.822250569204051], rel=1e-10)
