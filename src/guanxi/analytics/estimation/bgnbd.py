"""The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way", Marketing Science
24(2) 275–284): fit by maximum likelihood, P(alive), expected purchases.

The story: while active, a customer buys at a Poisson rate λ; after each repeat purchase they drop out
for good with probability p. Across customers λ ~ Gamma(shape r, rate α) and p ~ Beta(a, b).
A customer is summarised by x (repeat purchases), t_x (time of the last purchase, from the first) and T
(time from the first purchase to the end of observation), all in one time unit (see inputs). Only α
depends on the unit, as a rate's scale does: fitted on days it is 7 times what it is on weeks.

Log-likelihood of one customer (eq. 6 of the paper), with δ = 1 if x > 0:

    ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
      + ln[(α+T)^−(r+x) + δ · a/(b+x−1) · (α+t_x)^−(r+x)],

the last term by log-sum-exp. Its gradient in log-parameters is exact (digamma), and the parts that
depend on x alone, or on T alone for x = 0, are summed over distinct values, so a fit costs a few
vector operations a repeat buyer per iteration. scipy's L-BFGS-B maximises it over (ln r, ln α, ln a,
ln b) (optimize.maximize).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import digamma, expit, gammaln

from guanxi.analytics.estimation.hypergeometric import expected_if_alive
from guanxi.analytics.estimation.inputs import (
    FloatArray,
    Grouped,
    check_histories,
    check_weights,
    group,
)
from guanxi.analytics.estimation.optimize import dot, maximize

TIME_UNITS = ("day", "week")

__all__ = [
    "TIME_UNITS",
    "Fit",
    "Grouped",
    "Params",
    "expected_purchases",
    "expected_purchases_if_alive",
    "expected_purchases_new_customer",
    "fit",
    "group",
    "grouped_fit",
    "log_likelihood",
    "p_alive",
]


@dataclass(frozen=True)
class Params:
    """BG/NBD parameters: λ ~ Gamma(r, α) in the time unit of the data, p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float

    def __post_init__(self) -> None:
        for name in ("r", "alpha", "a", "b"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"BG/NBD parameter {name} must be a positive number, got {value!r}.")


@dataclass(frozen=True)
class Fit:
    """A maximum-likelihood fit: the parameters, the maximised log-likelihood and how it was reached.

    `converged` says the optimiser stopped where the gradient vanishes, inside e^±30 for every parameter.
    Data with no sign of drop-out or of differences between customers have their maximum at infinity
    (r and α growing together, or a → 0): the fit may then stop, "converged", at huge or tiny values.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int  # the sum of the weights
    n_rows: int  # the (grouped) rows the likelihood was summed over
    time_unit: str
    iterations: int
    converged: bool
    message: str

    @property
    def params(self) -> Params:
        return Params(r=self.r, alpha=self.alpha, a=self.a, b=self.b)

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": "BG/NBD",
            "r": self.r,
            "alpha": self.alpha,
            "a": self.a,
            "b": self.b,
            "log_likelihood": self.log_likelihood,
            "n_customers": self.n_customers,
            "n_rows": self.n_rows,
            "time_unit": self.time_unit,
            "iterations": self.iterations,
            "converged": self.converged,
            "message": self.message,
        }


class _Objective:
    """Minus the mean log-likelihood over the customers, and its gradient in log-parameters."""

    def __init__(self, x: FloatArray, t_x: FloatArray, T: FloatArray, w: FloatArray) -> None:
        self.total = float(w.sum())
        self.ux, ix = np.unique(x, return_inverse=True)
        self.wx = np.bincount(ix, weights=w)
        zero = x == 0
        self.uT0, iT0 = np.unique(T[zero], return_inverse=True)
        self.wT0 = np.bincount(iT0, weights=w[zero], minlength=len(self.uT0))
        pos = ~zero
        self.w = w[pos]
        self.x = x[pos]
        self.ixp = ix[pos]
        self.uT, self.iT = np.unique(T[pos], return_inverse=True)
        self.ut, self.it = np.unique(t_x[pos], return_inverse=True)

    def __call__(self, log_params: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = np.exp(log_params)
        ux, wx = self.ux, self.wx
        log_alpha = np.log(alpha)
        # Terms of x alone: ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b), summed over distinct x.
        ll = dot(wx, gammaln(r + ux) + gammaln(b + ux) - gammaln(a + b + ux))
        ll += self.total * (r * log_alpha - gammaln(r) - gammaln(b) + gammaln(a + b))
        g_r = dot(wx, digamma(r + ux)) + self.total * (log_alpha - digamma(r))
        g_alpha = self.total * r / alpha
        g_a = self.total * digamma(a + b) - dot(wx, digamma(a + b + ux))
        g_b = dot(wx, digamma(b + ux) - digamma(a + b + ux)) + self.total * (digamma(a + b) - digamma(b))
        # No repeat purchase: the bracket is (α+T)^−r, summed over distinct T.
        log_T0 = np.log(alpha + self.uT0)
        ll -= r * dot(self.wT0, log_T0)
        g_r -= dot(self.wT0, log_T0)
        g_alpha -= r * dot(self.wT0, 1.0 / (alpha + self.uT0))
        # Repeat buyers: ln[e^A3 + e^A4], A3 = −(r+x) ln(α+T), A4 = ln a − ln(b+x−1) − (r+x) ln(α+t_x).
        if len(self.x):
            w, rx = self.w, r + self.x
            log_T = np.log(alpha + self.uT)[self.iT]
            log_t = np.log(alpha + self.ut)[self.it]
            inv_b = 1.0 / (b + ux - 1.0)
            with np.errstate(divide="ignore"):  # b + x − 1 is positive for x ≥ 1; x = 0 rows are not here
                log_b = np.log(b + ux - 1.0)
            gap = log_T - log_t  # ln((α+T)/(α+t_x)) ≥ 0
            d = np.log(a) - log_b[self.ixp] + rx * gap  # A4 − A3
            share = expit(d)  # the dropped-out branch's share of the likelihood: 1 − P(alive)
            ll += dot(w, np.logaddexp(0.0, d) - rx * log_T)
            g_r += dot(w, share * gap - log_T)
            inv_T = (1.0 / (alpha + self.uT))[self.iT]
            inv_t = (1.0 / (alpha + self.ut))[self.it]
            g_alpha -= dot(w, rx * (inv_T + share * (inv_t - inv_T)))
            g_a += dot(w, share) / a
            g_b -= dot(w, share * inv_b[self.ixp])
        grad = np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])
        return -float(ll) / self.total, -grad / self.total


def log_likelihood(
    params: Params,
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
) -> float:
    """The log-likelihood of `params` on the customers (weighted rows)."""
    xs, txs, Ts = check_histories(x, t_x, T)
    w = check_weights(weights, len(xs))
    value, _ = _Objective(xs, txs, Ts, w)(np.log([params.r, params.alpha, params.a, params.b]))
    return -value * float(w.sum())


def fit(
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
    time_unit: str = "day",
    initial: Params | None = None,
    max_iterations: int = 1000,
) -> Fit:
    """Fit BG/NBD by maximum likelihood on customers' (x, t_x, T), in `time_unit`.

    `weights` counts the customers of each row, so `group(...)`'s distinct triples with their counts give
    the same fit as the customers one by one. At least one customer must have a repeat purchase (with none,
    the likelihood grows without bound as r → 0).
    """
    if time_unit not in TIME_UNITS:
        raise ValueError(f"time_unit must be one of {', '.join(TIME_UNITS)}, got {time_unit!r}.")
    xs, txs, Ts = check_histories(x, t_x, T)
    w = check_weights(weights, len(xs))
    if not np.any(xs > 0):
        raise ValueError("BG/NBD needs at least one customer with a repeat purchase (x > 0) to fit.")
    objective = _Objective(xs, txs, Ts, w)
    if initial is None:
        # λ's mean r/α near the observed rate of repeat purchases; a quarter drop out after a purchase.
        mean_T = max(dot(w, Ts) / objective.total, 1e-9)
        mean_x = max(dot(w, xs) / objective.total, 1e-3)
        initial = Params(r=1.0, alpha=mean_T / mean_x, a=1.0, b=3.0)
    start = np.log([initial.r, initial.alpha, initial.a, initial.b])
    outcome = maximize(objective, start, max_iterations=max_iterations)
    r, alpha, a, b = (float(v) for v in outcome.parameters)
    return Fit(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        log_likelihood=outcome.mean_log_likelihood * objective.total,
        n_customers=round(objective.total),
        n_rows=len(xs),
        time_unit=time_unit,
        iterations=outcome.iterations,
        converged=outcome.converged,
        message=outcome.message,
    )


def _broadcast(
    x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    xs, txs, Ts = np.broadcast_arrays(
        np.asarray(x, dtype=np.float64), np.asarray(t_x, dtype=np.float64), np.asarray(T, dtype=np.float64)
    )
    shape = xs.shape
    xs, txs, Ts = check_histories(xs.ravel(), txs.ravel(), Ts.ravel())
    return xs.reshape(shape), txs.reshape(shape), Ts.reshape(shape)


def p_alive(params: Params, x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike) -> FloatArray:
    """P(still active | x, t_x, T) = 1 / (1 + δ · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)); 1 when x = 0.

    (The denominator of the paper's eq. 10; Fader & Hardie's note "Computing P(alive) using the BG/NBD
    model".)
    """
    xs, txs, Ts = _broadcast(x, t_x, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = xs > 0
    with np.errstate(divide="ignore"):
        log_odds_dropped = (
            np.log(a)
            - np.log(np.where(repeat, b + xs - 1.0, 1.0))
            + (r + xs) * np.log((alpha + Ts) / (alpha + txs))
        )
    return np.where(repeat, expit(-log_odds_dropped), 1.0)


def _horizon(t: npt.ArrayLike) -> FloatArray:
    horizon = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(horizon)) or np.any(horizon < 0):
        raise ValueError("The horizon t must be a finite number of periods, zero or more.")
    return horizon


def expected_purchases_if_alive(
    params: Params, t: npt.ArrayLike, x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike
) -> FloatArray:
    """E[purchases in (T, T+t] | x, T, still active]: eq. 10 without its P(alive) factor.

    The active customer's λ ~ Gamma(r+x, α+T) and p ~ Beta(a, b+x); t_x does not matter once active is
    given, but is checked with the rest.
    """
    horizon = _horizon(t)
    xs, _txs, Ts = _broadcast(x, t_x, T)
    xs, Ts, horizon = np.broadcast_arrays(xs, Ts, horizon)
    z = (horizon / (params.alpha + Ts + horizon)).ravel()
    values = expected_if_alive(params.r, params.a, params.b, np.ascontiguousarray(xs).ravel(), z)
    return values.reshape(xs.shape)


def expected_purchases(
    params: Params, t: npt.ArrayLike, x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike
) -> FloatArray:
    """E[purchases in (T, T+t] | x, t_x, T] (eq. 10 of the paper): P(alive) × the same if still active.

    `t` is in the data's time unit and broadcasts against the customers (a scalar, or one per customer).
    """
    return p_alive(params, x, t_x, T) * expected_purchases_if_alive(params, t, x, t_x, T)


def expected_purchases_new_customer(params: Params, t: npt.ArrayLike) -> FloatArray:
    """E[X(t)]: repeat purchases in the first t after a first purchase, for someone not yet seen (eq. 9)."""
    horizon = _horizon(t)
    zeros = np.zeros_like(horizon)
    return expected_purchases_if_alive(params, horizon, zeros, zeros, zeros)


def grouped_fit(
    x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike, *, time_unit: str = "day"
) -> tuple[Fit, Grouped]:
    """Group the customers by triple, then fit on the distinct triples weighted by their counts.

    The grouping is returned too: `values[grouped.inverse]` spreads per-triple predictions to the customers.
    """
    grouped = group(x, t_x, T)
    return fit(grouped.x, grouped.t_x, grouped.T, weights=grouped.counts, time_unit=time_unit), grouped
