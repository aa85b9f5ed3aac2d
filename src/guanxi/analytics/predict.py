"""The models applied to the base: BG/NBD and Gamma-Gamma fitted on it, and each customer's predictions.

Fitting and the models' formulas are guanxi.analytics.estimation's; this module chooses what they are fed
(distinct (x, t_x, T) triples with their counts, repeat buyers' average spend) and turns their output
into the stored figures: P(alive), expected purchases in 30 and 90 days, expected spend a purchase, CLV,
churn band and value at risk.

- CLV is estimation.gamma_gamma.customer_lifetime_value's: month by month over the horizon (months of
  365/12 days), the expected purchases of that month times the expected spend a purchase, discounted
  at the annual rate made monthly, (1 + d)^(1/12) − 1; computed once a distinct (x, t_x, T).
- Value at risk is what the customer would bring over the horizon if they still buy (the same CLV
  with P(alive) taken as 1: BG/NBD's expected purchases are P(alive) × the purchases of a customer still
  buying), times the churn risk. So a valuable customer who has probably gone ranks above an equally
  valuable one who probably has not, and above a small customer who has surely gone. (CLV × (1 − P(alive))
  would count P(alive) twice, ranking the likelier loss lower.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from guanxi.analytics import scoring
from guanxi.analytics.estimation import bgnbd, gamma_gamma
from guanxi.analytics.estimation.inputs import Grouped
from guanxi.analytics.models import AnalyticsSettings
from guanxi.analytics.purchases import Base

# Fewer customers than this, or fewer repeat buyers, leave nothing to learn a base's rhythm from: the run
# stores the purchase figures and RFM, and no model figures.
MIN_CUSTOMERS = 20
MIN_REPEAT_BUYERS = 5
MONTH = 365 / 12  # days: CLV's period
# A repeat buyer whose refunds leave nothing of their repeat days is taken to spend a fen a purchase.
MIN_SPEND = 0.01


@dataclass
class Fit:
    """The fitted models of a base (None where there was too little to fit), time unit: day."""

    bgnbd: bgnbd.Params | None
    bgnbd_log_likelihood: float | None
    gamma_gamma: gamma_gamma.Params | None
    gamma_gamma_log_likelihood: float | None
    customers: int
    repeat_buyers: int
    triples: int
    converged: bool = True
    message: str = ""
    grouped: Grouped | None = None  # the distinct triples the fit summed over

    def parameters(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "time_unit": "day",
            "customers": self.customers,
            "repeat_buyers": self.repeat_buyers,
            "distinct_triples": self.triples,
        }
        if self.bgnbd is not None:
            out.update(r=self.bgnbd.r, alpha=self.bgnbd.alpha, a=self.bgnbd.a, b=self.bgnbd.b)
            out.update(converged=self.converged, fit_message=self.message)
        if self.gamma_gamma is not None:
            out.update(p=self.gamma_gamma.p, q=self.gamma_gamma.q, gamma=self.gamma_gamma.gamma)
        return out


def fit_models(base: Base) -> Fit:
    """BG/NBD on every customer's (x, t_x, T); Gamma-Gamma on the repeat buyers' average repeat spend."""
    repeat = base.frequency > 0
    repeat_buyers = int(repeat.sum())
    if len(base) < MIN_CUSTOMERS or repeat_buyers < MIN_REPEAT_BUYERS:
        return Fit(None, None, None, None, len(base), repeat_buyers, 0)
    fitted, grouped = bgnbd.grouped_fit(base.frequency, base.t_x, base.age, time_unit="day")
    fit = Fit(fitted.params, fitted.log_likelihood, None, None, len(base), repeat_buyers, len(grouped))
    fit.converged, fit.message, fit.grouped = fitted.converged, fitted.message, grouped
    spend = base.repeat_mean_cents / 100.0
    usable = repeat & (spend > 0)
    if usable.sum() >= MIN_REPEAT_BUYERS:
        money = gamma_gamma.fit(base.frequency[usable], spend[usable])
        if money.params.q > 1:  # the population mean spend pγ / (q − 1) exists only then
            fit.gamma_gamma, fit.gamma_gamma_log_likelihood = money.params, money.log_likelihood
    return fit


@dataclass
class Predictions:
    """Per customer (base order); None where the model it needs was not fitted."""

    p_alive: NDArray[np.float64] | None = None
    churn_risk: NDArray[np.float64] | None = None
    band: NDArray[np.int8] | None = None
    expected_30: NDArray[np.float64] | None = None
    expected_90: NDArray[np.float64] | None = None
    spend: NDArray[np.float64] | None = None
    clv: NDArray[np.float64] | None = None
    value_at_risk: NDArray[np.float64] | None = None


def predictions(fit: Fit, base: Base, settings: AnalyticsSettings) -> Predictions:
    out = Predictions()
    params = fit.bgnbd
    if params is None:
        return out
    grouped = fit.grouped or bgnbd.group(base.frequency, base.t_x, base.age)
    x, t_x, age, inverse = grouped.x, grouped.t_x, grouped.T, grouped.inverse
    p_alive = bgnbd.p_alive(params, x, t_x, age)
    out.p_alive = p_alive[inverse]
    out.expected_30 = bgnbd.expected_purchases(params, 30, x, t_x, age)[inverse]
    out.expected_90 = bgnbd.expected_purchases(params, 90, x, t_x, age)[inverse]
    active = scoring.activity(base.frequency, base.age, out.p_alive, params.r, params.alpha)
    out.churn_risk = 1.0 - active
    out.band = scoring.bands(
        active, at_risk_below=settings.at_risk_below, churned_below=settings.churned_below
    )
    if fit.gamma_gamma is None:
        return out
    spend = np.maximum(base.repeat_mean_cents / 100.0, MIN_SPEND)
    out.spend = gamma_gamma.expected_spend(fit.gamma_gamma, base.frequency, spend)
    # gamma_gamma.customer_lifetime_value's sum, over the distinct triples: months of 365/12 days, each
    # month's purchases discounted at its end at the annual rate made monthly, (1 + D)^(1/12) − 1.
    monthly = (1.0 + float(settings.discount_rate_annual)) ** (1.0 / 12.0) - 1.0
    alive_value = np.zeros(len(x), dtype=np.float64)
    before = np.zeros(len(x), dtype=np.float64)
    for month in range(1, settings.clv_horizon_months + 1):
        by_now = bgnbd.expected_purchases_if_alive(params, month * MONTH, x, t_x, age)
        alive_value += (by_now - before) / (1.0 + monthly) ** month
        before = by_now
    if_alive = alive_value[inverse] * out.spend
    out.clv = if_alive * out.p_alive
    out.value_at_risk = if_alive * out.churn_risk
    return out
