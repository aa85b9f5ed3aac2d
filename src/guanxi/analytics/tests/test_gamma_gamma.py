"""Gamma-Gamma against the published CDNOW figures and hand computations, and CLV from both models."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from guanxi.analytics.estimation import bgnbd, gamma_gamma, simulate
from guanxi.analytics.tests import cdnow

# Fader & Hardie (2013), "The Gamma-Gamma model of monetary value", on the 946 CDNOW customers with a
# repeat purchase in the 39 calibration weeks: p = 6.25, q = 3.74, γ = 15.44. Its log-likelihood is the one
# CLVTools' test suite checks its fit of the same data against (−4055.9177).
NOTE = gamma_gamma.Params(p=6.25, q=3.74, gamma=15.44)
NOTE_LL = -4055.9
BGNBD = bgnbd.Params(r=0.243, alpha=4.414, a=0.793, b=2.426)


def test_fit_on_the_cdnow_repeat_buyers_gives_the_notes_parameters_and_log_likelihood() -> None:
    data = cdnow.from_transactions()

    fit = gamma_gamma.fit(data.x, data.mean_spend)

    assert fit.converged, fit.message
    assert (round(fit.p, 2), round(fit.q, 2), round(fit.gamma, 2)) == (6.25, 3.74, 15.44)
    assert round(fit.log_likelihood, 1) == NOTE_LL
    assert fit.n_customers == 946


def test_customers_without_repeat_purchases_are_left_out_of_the_fit() -> None:
    data = cdnow.from_transactions()
    repeat = data.x > 0
    everyone = gamma_gamma.fit(data.x, data.mean_spend)

    repeat_buyers = gamma_gamma.fit(data.x[repeat], data.mean_spend[repeat])

    assert int((~repeat).sum()) == 1411
    assert repeat_buyers.n_customers == everyone.n_customers == 946
    assert repeat_buyers.log_likelihood == pytest.approx(everyone.log_likelihood, abs=1e-9)
    assert repeat_buyers.gamma == pytest.approx(everyone.gamma, rel=1e-9)


def test_a_weight_counts_as_that_many_identical_customers() -> None:
    data = cdnow.from_transactions()
    tripled = gamma_gamma.fit(np.tile(data.x, 3), np.tile(data.mean_spend, 3))

    weighted = gamma_gamma.fit(data.x, data.mean_spend, weights=np.full(len(data.x), 3.0))

    assert weighted.n_customers == tripled.n_customers == 3 * 946
    assert weighted.log_likelihood == pytest.approx(tripled.log_likelihood, abs=1e-6)
    for name in ("p", "q", "gamma"):
        assert getattr(weighted, name) == pytest.approx(getattr(tripled, name), rel=1e-6)


def test_log_likelihood_at_the_notes_parameters_is_near_the_maximum() -> None:
    data = cdnow.from_transactions()

    value = gamma_gamma.log_likelihood(NOTE, data.x, data.mean_spend)

    assert NOTE_LL - 0.1 < value < NOTE_LL + 0.05


def test_gradient_of_the_objective_is_exact() -> None:
    data = cdnow.from_transactions()
    repeat = data.x > 0
    objective = gamma_gamma._Objective(data.x[repeat], data.mean_spend[repeat], np.ones(int(repeat.sum())))

    for point in ([1.0, 2.0, 30.0], [6.25, 3.74, 15.44], [0.5, 10.0, 200.0]):
        at = np.log(point)
        steps = 1e-6 * np.eye(len(at))
        central = [(objective(at + h)[0] - objective(at - h)[0]) / 2e-6 for h in steps]
        assert objective(at)[1] == pytest.approx(central, rel=1e-6, abs=1e-8)


def test_expected_spend_weighs_the_population_mean_against_the_customers_own() -> None:
    p, q, gamma = NOTE.p, NOTE.q, NOTE.gamma
    population = p * gamma / (q - 1)  # 35.218… dollars a transaction

    spend = gamma_gamma.expected_spend(NOTE, [0, 1, 2, 10, 10_000], [0.0, 80.0, 12.5, 12.5, 12.5])

    assert gamma_gamma.population_mean(NOTE) == pytest.approx(35.21897810, rel=1e-9)
    assert spend[0] == pytest.approx(population, rel=1e-12)  # no repeat purchase: the population mean
    weight = p / (p + q - 1)  # x = 1: eq. 5 by hand
    assert spend[1] == pytest.approx((1 - weight) * population + weight * 80.0, rel=1e-12)
    assert spend[2] == pytest.approx(6.25 * (15.44 + 2 * 12.5) / (6.25 * 2 + 3.74 - 1), rel=1e-12)
    assert 12.5 < spend[4] < spend[3] < spend[2] < population
    assert spend[4] == pytest.approx(12.5, rel=1e-3)


def test_expected_spend_matches_customers_simulated_from_the_model() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(1, 8, 300_000).astype(np.float64)
    mean_spend, nu = simulate.gamma_gamma_mean_spend(NOTE, x, rng)
    true_mean = NOTE.p / nu  # each customer's own mean spend a transaction

    expected = gamma_gamma.expected_spend(NOTE, x, mean_spend)

    for count in (1, 3, 7):
        group = x == count
        error = float(np.mean(true_mean[group] - expected[group]))
        spread = float(np.std(true_mean[group] - expected[group])) / np.sqrt(int(group.sum()))
        assert abs(error) < 4 * spread


def test_fit_recovers_the_parameters_of_simulated_customers() -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(1, 15, 300_000).astype(np.float64)
    mean_spend, _nu = simulate.gamma_gamma_mean_spend(NOTE, x, rng)

    fit = gamma_gamma.fit(x, mean_spend)

    assert fit.converged, fit.message
    # p and γ trade off: their standard errors here are about 2 %; q's is 0.2 %.
    for name, tolerance in (("p", 0.06), ("q", 0.01), ("gamma", 0.06)):
        assert getattr(fit, name) == pytest.approx(getattr(NOTE, name), rel=tolerance)


def test_expected_spend_needs_a_finite_population_mean() -> None:
    with pytest.raises(ValueError, match=r"q=0.9 ≤ 1 has no finite mean"):
        gamma_gamma.expected_spend(gamma_gamma.Params(p=2.0, q=0.9, gamma=10.0), [1], [20.0])


@pytest.mark.parametrize(
    ("x", "mean_spend", "message"),
    [
        ([], [], "empty"),
        ([-1, 2], [10.0, 10.0], "must not be negative: row 0"),
        ([2.5], [10.0], "whole numbers"),
        ([1, 3], [10.0, 0.0], "must be positive .* row 1 has x=3, mean_spend=0"),
        ([1, 3], [10.0, -4.0], "must be positive"),
        ([1, 2], [10.0], "one length"),
        ([1], [float("inf")], "finite"),
        ([0, 0], [0.0, 0.0], "needs customers with repeat purchases"),
    ],
)
def test_bad_input_is_refused_with_the_reason(x: list, mean_spend: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        gamma_gamma.fit(x, mean_spend)


# CLV


def _clv(**kwargs: float) -> np.ndarray:
    return gamma_gamma.customer_lifetime_value(
        BGNBD, NOTE, [0, 2, 7], [0.0, 30.43, 29.43], [38.86, 38.86, 38.86], [0.0, 22.35, 73.74], **kwargs
    )


def test_clv_without_discount_is_expected_spend_times_expected_purchases() -> None:
    x, t_x, T, spend = [0, 2, 7], [0.0, 30.43, 29.43], [38.86] * 3, [0.0, 22.35, 73.74]
    purchases = bgnbd.expected_purchases(BGNBD, 52.0, x, t_x, T)
    per_purchase = gamma_gamma.expected_spend(NOTE, x, spend)

    value = _clv(horizon=52.0, period=4.0, discount_rate=0.0)

    assert value == pytest.approx(per_purchase * purchases, rel=1e-12)
    assert _clv(horizon=52.0, period=52.0, discount_rate=0.0) == pytest.approx(value, rel=1e-12)


def test_clv_discounts_each_periods_purchases_at_its_end() -> None:
    x, t_x, T, spend = 2, 30.43, 38.86, 22.35
    d = 0.01
    cumulative = [float(bgnbd.expected_purchases(BGNBD, weeks, x, t_x, T)) for weeks in (0, 4, 8, 10)]
    by_hand = float(gamma_gamma.expected_spend(NOTE, [x], [spend])[0]) * sum(
        (cumulative[k] - cumulative[k - 1]) / (1 + d) ** k for k in (1, 2, 3)
    )

    # 10 weeks in periods of 4: the third period is 2 weeks long.
    value = gamma_gamma.customer_lifetime_value(
        BGNBD, NOTE, [x], [t_x], [T], [spend], horizon=10.0, period=4.0, discount_rate=d
    )

    assert float(value[0]) == pytest.approx(by_hand, rel=1e-12)


def test_clv_falls_with_the_discount_rate_and_grows_with_the_horizon() -> None:
    values = [_clv(horizon=104.0, period=4.0, discount_rate=d) for d in (0.0, 0.005, 0.01, 0.05)]
    horizons = [_clv(horizon=h, period=4.0, discount_rate=0.01) for h in (4.0, 52.0, 104.0, 520.0)]

    for before, after in itertools.pairwise(values):
        assert np.all(after < before)
    for before, after in itertools.pairwise(horizons):
        assert np.all(after > before)
    assert np.all(values[-1] > 0)


def test_bad_clv_settings_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="horizon and period must be positive"):
        _clv(horizon=0.0, period=4.0, discount_rate=0.01)
    with pytest.raises(ValueError, match="horizon and period must be positive"):
        _clv(horizon=52.0, period=float("nan"), discount_rate=0.01)
    with pytest.raises(ValueError, match="discount_rate"):
        _clv(horizon=52.0, period=4.0, discount_rate=-1.0)
    with pytest.raises(ValueError, match="too many"):
        _clv(horizon=1e6, period=1.0, discount_rate=0.01)
