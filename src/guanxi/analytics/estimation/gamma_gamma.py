"""The Gamma-Gamma model of spend per transaction, and CLV with BG/NBD.

Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves for customer base analysis", Journal of
Marketing Research 42(4) 415–430, and Fader & Hardie 2013, "The Gamma-Gamma model of monetary value"
(brucehardie.com note 025).

The story: a customer's transactions are worth z ~ Gamma(shape p, rate ν) each, with ν varying across
customers as Gamma(shape q, rate γ); spend is independent of the purchase process. The data are, for each
customer with x ≥ 1 repeat transactions, x and z̄, the average value of those repeat transactions (the
first purchase is left out, as in the papers). The density of z̄ given x (the note's eq. 3):

    f(z̄ | x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q · z̄^(px−1) · x^(px) / (γ + x z̄)^(px+q),

and the expected spend per transaction of that customer (eq. 5), a weighted mean of the population mean
pγ/(q−1) and the customer's own z̄:

    E[Z | x, z̄] = p (γ + x z̄) / (px + q − 1) = (q−1)/(px+q−1) · pγ/(q−1) + px/(px+q−1) · z̄.

The mean pγ/(q−1) exists only for q > 1. Money is a float in one currency throughout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import digamma, gammaln

from guanxi.analytics.estimation import bgnbd
from guanxi.analytics.estimation.inputs import FloatArray, as_vector, check_counts, check_weights
from guanxi.analytics.estimation.optimize import dot, maximize

MAX_PERIODS = 10_000

__all__ = [
    "Fit",
    "Params",
    "customer_lifetime_value",
    "expected_spend",
    "fit",
    "log_likelihood",
    "population_mean",
]


@dataclass(frozen=True)
class Params:
    """Gamma-Gamma parameters: z ~ Gamma(p, ν) per transaction, ν ~ Gamma(q, γ) across customers."""

    p: float
    q: float
    gamma: float

    def __post_init__(self) -> None:
        for name in ("p", "q", "gamma"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"Gamma-Gamma parameter {name} must be a positive number, got {value!r}.")


@dataclass(frozen=True)
class Fit:
    """A maximum-likelihood fit on the repeat buyers: parameters, log-likelihood and how it was reached."""

    p: float
    q: float
    gamma: float
    log_likelihood: float
    n_customers: int  # repeat buyers fitted on (the sum of their weights)
    iterations: int
    converged: bool
    message: str

    @property
    def params(self) -> Params:
        return Params(p=self.p, q=self.q, gamma=self.gamma)

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": "Gamma-Gamma",
            "p": self.p,
            "q": self.q,
            "gamma": self.gamma,
            "log_likelihood": self.log_likelihood,
            "n_customers": self.n_customers,
            "iterations": self.iterations,
            "converged": self.converged,
            "message": self.message,
        }


def _check(x: npt.ArrayLike, mean_spend: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    xs, spend = as_vector("x", x), as_vector("mean_spend", mean_spend)
    if len(xs) != len(spend):
        raise ValueError(f"x and mean_spend must have one length, got {len(xs)} and {len(spend)}.")
    if len(xs) == 0:
        raise ValueError("No customers: x and mean_spend are empty.")
    check_counts(xs)
    bad = (xs > 0) & (spend <= 0)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            "The average repeat spend of a customer with repeat purchases must be positive (leave out "
            f"customers whose refunds bring it to zero or below): row {i} has x={xs[i]:g}, "
            f"mean_spend={spend[i]:g}."
        )
    return xs, spend


class _Objective:
    """Minus the mean log-likelihood over the repeat buyers, and its gradient in log-parameters.

    Regrouped as Σ_x w [ln Γ(px+q) − ln Γ(px)] − n ln Γ(q) + p Σ w x ln(x z̄/(γ + x z̄)) + q Σ w ln(γ/(γ + x z̄))
    − Σ w ln z̄: the Γ terms depend on x alone (summed over distinct x), and each row's logarithms are of
    ratios below 1, so no two large sums cancel (which would leave the optimiser noise at the optimum).
    """

    def __init__(self, x: FloatArray, spend: FloatArray, w: FloatArray) -> None:
        self.w = w
        self.total = float(w.sum())
        self.ux, ix = np.unique(x, return_inverse=True)
        self.wx = np.bincount(ix, weights=w)
        self.xz = x * spend
        self.w_x = w * x
        self.constant = -dot(w, np.log(spend))

    def __call__(self, log_params: FloatArray) -> tuple[float, FloatArray]:
        p, q, gamma = np.exp(log_params)
        ux, wx = self.ux, self.wx
        pux = p * ux
        own = -np.log1p(gamma / self.xz)  # ln(x z̄ / (γ + x z̄))
        pooled = -np.log1p(self.xz / gamma)  # ln(γ / (γ + x z̄))
        sum_own, sum_pooled = dot(self.w_x, own), dot(self.w, pooled)
        ll = dot(wx, gammaln(pux + q) - gammaln(pux)) - self.total * gammaln(q)
        ll += p * sum_own + q * sum_pooled + self.constant
        psi = digamma(pux + q)
        g_p = dot(wx * ux, psi - digamma(pux)) + sum_own
        g_q = dot(wx, psi) - self.total * digamma(q) + sum_pooled
        inv = 1.0 / (gamma + self.xz)
        g_gamma = q / gamma * dot(self.w, self.xz * inv) - p * dot(self.w_x, inv)
        grad = np.array([g_p * p, g_q * q, g_gamma * gamma])
        return -float(ll) / self.total, -grad / self.total


def _repeat_buyers(
    x: npt.ArrayLike, mean_spend: npt.ArrayLike, weights: npt.ArrayLike | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    xs, spend = _check(x, mean_spend)
    w = check_weights(weights, len(xs))
    repeat = xs > 0
    if not np.any(repeat):
        raise ValueError("Gamma-Gamma needs customers with repeat purchases (x > 0) and their average spend.")
    return xs[repeat], spend[repeat], w[repeat]


def log_likelihood(
    params: Params, x: npt.ArrayLike, mean_spend: npt.ArrayLike, weights: npt.ArrayLike | None = None
) -> float:
    """The log-likelihood of `params` on the repeat buyers among the rows (x = 0 rows are left out)."""
    xs, spend, w = _repeat_buyers(x, mean_spend, weights)
    value, _ = _Objective(xs, spend, w)(np.log([params.p, params.q, params.gamma]))
    return -value * float(w.sum())


def fit(
    x: npt.ArrayLike,
    mean_spend: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
    initial: Params | None = None,
    max_iterations: int = 1000,
) -> Fit:
    """Fit Gamma-Gamma by maximum likelihood on x (repeat transactions) and mean_spend (their average value).

    Rows with x = 0 carry no information on spend in this model and are left out, so the whole base can be
    passed; every row with x > 0 needs a positive mean_spend.
    """
    xs, spend, w = _repeat_buyers(x, mean_spend, weights)
    objective = _Objective(xs, spend, w)
    if initial is None:
        # With q = 2 the population mean spend pγ/(q−1) starts at the observed mean.
        initial = Params(p=1.0, q=2.0, gamma=dot(w, spend) / objective.total)
    start = np.log([initial.p, initial.q, initial.gamma])
    outcome = maximize(objective, start, max_iterations=max_iterations)
    p, q, gamma = (float(v) for v in outcome.parameters)
    return Fit(
        p=p,
        q=q,
        gamma=gamma,
        log_likelihood=outcome.mean_log_likelihood * objective.total,
        n_customers=round(objective.total),
        iterations=outcome.iterations,
        converged=outcome.converged,
        message=outcome.message,
    )


def population_mean(params: Params) -> float:
    """The mean spend per transaction across customers, pγ/(q−1); ValueError when q ≤ 1 (no finite mean)."""
    if params.q <= 1:
        raise ValueError(
            f"Gamma-Gamma with q={params.q:g} ≤ 1 has no finite mean spend: no expectation to give."
        )
    return params.p * params.gamma / (params.q - 1.0)


def expected_spend(params: Params, x: npt.ArrayLike, mean_spend: npt.ArrayLike) -> FloatArray:
    """E[spend per future transaction | x, z̄] = p(γ + x z̄)/(px + q − 1) (eq. 5 of the note).

    A customer without repeat purchases (x = 0) gets the population mean pγ/(q−1); their mean_spend is not
    used (it must still be a finite number).
    """
    population_mean(params)  # q > 1, or ValueError
    xs, spend = _check(x, mean_spend)
    p, q, gamma = params.p, params.q, params.gamma
    used = np.where(xs > 0, spend, 0.0)
    return p * (gamma + xs * used) / (p * xs + q - 1.0)


def customer_lifetime_value(
    transactions: bgnbd.Params,
    spend: Params,
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
    mean_spend: npt.ArrayLike,
    *,
    horizon: float,
    period: float,
    discount_rate: float,
) -> FloatArray:
    """Discounted expected spend over the next `horizon`, per customer (float, mean_spend's currency).

        CLV = E[Z | x, z̄] · Σ_{k=1..K} (E[Y(τ_k)] − E[Y(τ_{k−1})]) / (1 + d)^k,
        τ_k = min(k · period, horizon), K = ⌈horizon / period⌉,

    where E[Y(τ)] is BG/NBD's expected number of purchases in (T, T+τ] given (x, t_x, T) (eq. 10 of
    the 2005 Marketing Science paper) and E[Z | x, z̄] the Gamma-Gamma expected spend per purchase. The
    purchases expected within period k are discounted as if made at its end, at `discount_rate` d per
    period (an annual rate D over periods of m days: d = (1 + D)^(m / 365) − 1). `horizon`, `period` and
    the BG/NBD parameters share one time unit (the fit's `time_unit`); the last period may be shorter.
    Spend is revenue as the averages are: multiply by a margin for profit.
    """
    if not (math.isfinite(horizon) and horizon > 0 and math.isfinite(period) and period > 0):
        raise ValueError(f"horizon and period must be positive, got horizon={horizon!r}, period={period!r}.")
    if not (math.isfinite(discount_rate) and discount_rate > -1):
        raise ValueError(f"discount_rate must be a rate per period above −1, got {discount_rate!r}.")
    periods = math.ceil(horizon / period - 1e-9)
    if periods > MAX_PERIODS:
        raise ValueError(
            f"{periods} periods is too many: use a longer period (at most {MAX_PERIODS} periods)."
        )
    per_purchase = expected_spend(spend, x, mean_spend)
    alive = bgnbd.p_alive(transactions, x, t_x, T)
    discounted = np.zeros_like(per_purchase)
    before = np.zeros_like(per_purchase)
    for k in range(1, periods + 1):
        by_end = bgnbd.expected_purchases_if_alive(transactions, min(k * period, horizon), x, t_x, T)
        discounted += (by_end - before) / (1.0 + discount_rate) ** k
        before = by_end
    return per_purchase * alive * discounted
