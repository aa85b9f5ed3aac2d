"""Customers drawn from the models themselves: for tests of the formulas and for the fit benchmark.

BG/NBD, exactly and without simulating each purchase: λ ~ Gamma(r, α), p ~ Beta(a, b); the repeat
purchase after which the customer drops out is the J-th, J ~ Geometric(p) on 1, 2, …; N ~ Poisson(λT)
purchases would fall in (0, T] if they never dropped out, so x = min(N, J), the customer is still active
when N < J, and the x-th purchase time, the x-th of N uniform order statistics on (0, T], is T · Beta(x,
N − x + 1). An active customer's purchases in (T, T+t] number min(Poisson(λt), J − x) (memorylessness).

Gamma-Gamma: ν ~ Gamma(q, γ) per customer, and the mean of x transactions each Gamma(p, ν) is
Gamma(px, νx).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from guanxi.analytics.estimation import bgnbd, gamma_gamma
from guanxi.analytics.estimation.inputs import FloatArray, IntArray, as_vector


@dataclass(frozen=True)
class Histories:
    """Simulated customers: their summaries and the hidden truth behind them."""

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    alive: npt.NDArray[np.bool_]
    rate: FloatArray  # λ
    dropout: FloatArray  # p
    purchases_to_dropout: IntArray  # J


def bgnbd_histories(params: bgnbd.Params, T: npt.ArrayLike, rng: np.random.Generator) -> Histories:
    """One customer per age in `T`, with BG/NBD's parameters `params` (in T's time unit)."""
    ages = as_vector("T", T)
    n = len(ages)
    rate = rng.gamma(params.r, 1.0 / params.alpha, n)
    dropout = rng.beta(params.a, params.b, n)
    dropout = np.maximum(dropout, np.finfo(np.float64).tiny)  # Beta draws can underflow to 0 for small a
    to_dropout = rng.geometric(dropout).astype(np.int64)
    would_buy = rng.poisson(rate * ages).astype(np.int64)
    x = np.minimum(would_buy, to_dropout)
    t_x = np.zeros(n, dtype=np.float64)
    repeat = x > 0
    t_x[repeat] = ages[repeat] * rng.beta(x[repeat], would_buy[repeat] - x[repeat] + 1)
    return Histories(
        x=x.astype(np.float64),
        t_x=t_x,
        T=ages,
        alive=would_buy < to_dropout,
        rate=rate,
        dropout=dropout,
        purchases_to_dropout=to_dropout,
    )


def bgnbd_future(histories: Histories, t: float, rng: np.random.Generator) -> IntArray:
    """Purchases each simulated customer makes in (T, T+t]: none once dropped out."""
    would_buy = rng.poisson(histories.rate * t).astype(np.int64)
    left = histories.purchases_to_dropout - histories.x.astype(np.int64)
    return np.where(histories.alive, np.minimum(would_buy, left), 0)


def gamma_gamma_mean_spend(
    params: gamma_gamma.Params, x: npt.ArrayLike, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Each customer's average spend over their x transactions (0 when x = 0), and their hidden ν."""
    counts = as_vector("x", x)
    nu = rng.gamma(params.q, 1.0 / params.gamma, len(counts))
    mean = np.zeros(len(counts), dtype=np.float64)
    some = counts > 0
    mean[some] = rng.gamma(params.p * counts[some], 1.0 / (nu[some] * counts[some]))
    return mean, nu
