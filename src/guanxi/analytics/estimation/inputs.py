"""Checking and grouping the per-customer summaries the models take.

A customer's purchase history is summarised, for BG/NBD, by three numbers in one time unit:
x (frequency: repeat purchases, i.e. purchases after the first), t_x (recency: time from the first
purchase to the last one; 0 when x = 0) and T (age: time from the first purchase to the end of the
observation window). Many customers share a triple when times are whole days, so a base of a million is
fitted on its distinct triples, each weighted by how many customers have it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def as_vector(name: str, values: npt.ArrayLike) -> FloatArray:
    """`values` as a 1-D float64 array of finite numbers, or ValueError naming `name`."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must hold finite numbers only (no NaN or infinity).")
    return array


def _first_bad(mask: npt.NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0])


def check_counts(x: FloatArray, name: str = "x") -> None:
    """Counts are whole numbers, zero or more."""
    if np.any(x < 0):
        i = _first_bad(x < 0)
        raise ValueError(f"{name} (repeat purchases) must not be negative: row {i} has {x[i]:g}.")
    if np.any(x != np.floor(x)):
        i = _first_bad(x != np.floor(x))
        raise ValueError(f"{name} (repeat purchases) must be whole numbers: row {i} has {x[i]:g}.")


def check_histories(
    x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The three summaries as float arrays of one length, or ValueError saying what is wrong and where."""
    xs, txs, Ts = as_vector("x", x), as_vector("t_x", t_x), as_vector("T", T)
    if not len(xs) == len(txs) == len(Ts):
        raise ValueError(f"x, t_x and T must have one length, got {len(xs)}, {len(txs)} and {len(Ts)}.")
    if len(xs) == 0:
        raise ValueError("No customers: x, t_x and T are empty.")
    check_counts(xs)
    if np.any(txs < 0):
        i = _first_bad(txs < 0)
        raise ValueError(f"t_x (recency) must not be negative: row {i} has {txs[i]:g}.")
    if np.any(Ts < 0):
        i = _first_bad(Ts < 0)
        raise ValueError(f"T (age) must not be negative: row {i} has {Ts[i]:g}.")
    if np.any(txs > Ts):
        i = _first_bad(txs > Ts)
        raise ValueError(f"t_x (recency) must not exceed T (age): row {i} has t_x={txs[i]:g} > T={Ts[i]:g}.")
    repeat_at_start = (xs > 0) & (txs == 0)
    if np.any(repeat_at_start):
        i = _first_bad(repeat_at_start)
        raise ValueError(
            f"A customer with repeat purchases has a last purchase after the first (t_x > 0): row {i} has "
            f"x={xs[i]:g} and t_x=0."
        )
    recency_without_repeat = (xs == 0) & (txs != 0)
    if np.any(recency_without_repeat):
        i = _first_bad(recency_without_repeat)
        raise ValueError(
            f"t_x (recency) is 0 when there is no repeat purchase: row {i} has x=0, t_x={txs[i]:g}."
        )
    return xs, txs, Ts


def check_weights(weights: npt.ArrayLike | None, n: int) -> FloatArray:
    """Customers per row (1 each when None): positive, one per row."""
    if weights is None:
        return np.ones(n, dtype=np.float64)
    w = as_vector("weights", weights)
    if len(w) != n:
        raise ValueError(f"weights must have one value per row: {len(w)} weights for {n} rows.")
    if np.any(w <= 0):
        i = _first_bad(w <= 0)
        raise ValueError(f"weights (customers per row) must be positive: row {i} has {w[i]:g}.")
    return w


@dataclass(frozen=True)
class Grouped:
    """Distinct (x, t_x, T) triples, how many customers have each, and each customer's triple.

    `values[inverse]` spreads a per-triple result back to the customers, in their order.
    """

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    counts: FloatArray
    inverse: IntArray

    def __len__(self) -> int:
        return len(self.x)


def group(x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike) -> Grouped:
    """Group customers by their (x, t_x, T) triple (after checking the histories), triples in sorted order."""
    xs, txs, Ts = check_histories(x, t_x, T)
    # One lexsort and a pass over neighbours: several times faster than np.unique(axis=0) on a million rows.
    order = np.lexsort((Ts, txs, xs))
    sx, stx, sT = xs[order], txs[order], Ts[order]
    new = np.empty(len(order), dtype=bool)
    new[0] = True
    new[1:] = (sx[1:] != sx[:-1]) | (stx[1:] != stx[:-1]) | (sT[1:] != sT[:-1])
    starts = np.flatnonzero(new)
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return Grouped(
        x=sx[starts],
        t_x=stx[starts],
        T=sT[starts],
        counts=np.diff(np.append(starts, len(order))).astype(np.float64),
        inverse=inverse,
    )
