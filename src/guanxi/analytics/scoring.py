"""RFM scores and segments, churn bands and value at risk: vectorised rules over a whole base at once.

Pure numpy over one array element per customer; no database, no Python loop over customers.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from guanxi.analytics.models import Band, Segment

# Segment codes by index: index = 4 × (M low) + 2 × (R low) + (F low), so bit by bit the table of
# Chinese retail practice: 重要价值 (R, F, M high) … 一般挽留 (all three low).
SEGMENTS: tuple[str, ...] = (
    Segment.IMPORTANT_VALUE,
    Segment.IMPORTANT_DEVELOP,
    Segment.IMPORTANT_KEEP,
    Segment.IMPORTANT_RETAIN,
    Segment.GENERAL_VALUE,
    Segment.GENERAL_DEVELOP,
    Segment.GENERAL_KEEP,
    Segment.GENERAL_RETAIN,
)
GENERAL_RETAIN = SEGMENTS.index(Segment.GENERAL_RETAIN)
BANDS: tuple[str, ...] = (Band.ACTIVE, Band.AT_RISK, Band.CHURNED)
ACTIVE, AT_RISK, CHURNED = 0, 1, 2


def quintile_scores(values: NDArray[np.floating] | NDArray[np.integer], *, higher_is_better: bool) -> NDArray:
    """1–5 by quintiles: 1 + ⌊5 × (share of the others that are strictly worse)⌋.

    With distinct values this is the plain quintile (the bottom fifth scores 1, the top fifth 5); equal
    values always score alike, at the quintile where the first of them falls. So when 60% of customers
    bought once, all of them score 1 on frequency, and the next value scores 4.
    """
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    ordered = np.sort(values)
    if higher_is_better:
        worse = np.searchsorted(ordered, values, side="left")
    else:
        worse = n - np.searchsorted(ordered, values, side="right")
    return (1 + (5 * worse.astype(np.int64)) // n).astype(np.int8)


def rfm_segment_index(
    recency: NDArray, frequency: NDArray, monetary: NDArray
) -> tuple[NDArray[np.int8], dict[str, float]]:
    """Each customer's segment (an index into SEGMENTS) and the averages it was judged against.

    R is high when the customer bought more recently than the average (fewer days since the last
    purchase); F and M are high when above their average. A value equal to the average is low.
    """
    if len(recency) == 0:
        return np.zeros(0, dtype=np.int8), {"recency": 0.0, "frequency": 0.0, "monetary": 0.0}
    means = {
        "recency": float(np.mean(recency)),
        "frequency": float(np.mean(frequency)),
        "monetary": float(np.mean(monetary)),
    }
    r_low = recency >= means["recency"]
    f_low = frequency <= means["frequency"]
    m_low = monetary <= means["monetary"]
    index = 4 * m_low.astype(np.int8) + 2 * r_low.astype(np.int8) + f_low.astype(np.int8)
    return index.astype(np.int8), means


def rfm(
    recency: NDArray, window_orders: NDArray, window_spend: NDArray
) -> tuple[NDArray[np.int8], NDArray[np.int8], NDArray[np.int8], NDArray[np.int8], dict[str, float]]:
    """R, F and M scores and segment indexes of every customer.

    The RFM population is the customers with an order in the window (`window_orders` > 0): their
    quintiles and averages decide. A customer whose last order is older than the window scores 1, 1, 1
    and is 一般挽留 (general_retain): the lowest on all three whatever the others do.
    """
    n = len(recency)
    r = np.ones(n, dtype=np.int8)
    f = np.ones(n, dtype=np.int8)
    m = np.ones(n, dtype=np.int8)
    segment = np.full(n, GENERAL_RETAIN, dtype=np.int8)
    inside = window_orders > 0
    r[inside] = quintile_scores(recency[inside], higher_is_better=False)
    f[inside] = quintile_scores(window_orders[inside], higher_is_better=True)
    m[inside] = quintile_scores(window_spend[inside], higher_is_better=True)
    segment[inside], means = rfm_segment_index(recency[inside], window_orders[inside], window_spend[inside])
    return r, f, m, segment, means


def silence_probability(age: NDArray, r: float, alpha: float) -> NDArray[np.floating]:
    """The chance that a customer who still buys, at the base's fitted rates (λ ~ Gamma(r, α)), makes no
    purchase in `age` days: (α / (α + age))^r."""
    return np.power(alpha / (alpha + age.astype(np.float64)), r)


def one_time_wait_days(probability: float, r: float, alpha: float) -> float:
    """The days of silence after which that chance falls below `probability`: α (probability^(−1/r) − 1)."""
    return float(alpha * (probability ** (-1.0 / r) - 1.0))


def activity(frequency: NDArray, age: NDArray, p_alive: NDArray, r: float, alpha: float) -> NDArray:
    """How likely each customer still buys, as the bands read it.

    Repeat buyers: P(alive) of BG/NBD. One-time buyers: BG/NBD lets a customer drop out only after a
    repeat purchase, so their P(alive) is 1 however long ago they came; for them the bands read the chance
    that a customer still buying would have stayed silent this long (`silence_probability`).
    """
    return np.where(frequency > 0, p_alive, silence_probability(age, r, alpha))


def bands(active: NDArray, *, at_risk_below: float, churned_below: float) -> NDArray[np.int8]:
    """Index into BANDS: churned below `churned_below`, at risk below `at_risk_below`, else active."""
    out = np.full(len(active), ACTIVE, dtype=np.int8)
    out[active < at_risk_below] = AT_RISK
    out[active < churned_below] = CHURNED
    return out
