"""The CDNOW sample of the papers (fixtures/README.md), as the per-customer summaries the models take.

Two readings: the summary file as shipped (x, t_x and T in weeks rounded to 2 decimals, z̄ rounded to the
cent: the inputs of Hardie's spreadsheets), and the same summaries computed here from the transactions,
unrounded. Calibration is the first 39 weeks of 1997: purchases up to 1997-09-30, T counted from the
first purchase to that day; purchases on one day are one transaction, as in the papers.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from guanxi.analytics.estimation.inputs import FloatArray

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CALIBRATION_END = dt.date(1997, 9, 30)


@dataclass(frozen=True)
class Summary:
    """Per customer, in ID order: repeat transactions, recency and age in weeks, mean repeat spend in $."""

    x: FloatArray
    t_x: FloatArray
    T: FloatArray
    mean_spend: FloatArray


@cache
def shipped() -> Summary:
    with (FIXTURES / "cdnow_customers_summary_with_transactions.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = {name: np.array([float(row[name]) for row in rows]) for name in ("x", "t_x", "T", "zbar")}
    return Summary(columns["x"], columns["t_x"], columns["T"], columns["zbar"])


@cache
def from_transactions() -> Summary:
    by_day: dict[tuple[int, dt.date], float] = defaultdict(float)
    with (FIXTURES / "CDNOW_sample.txt").open() as handle:
        for line in handle:
            _master_id, sample_id, ymd, _cds, dollars = line.split()
            by_day[(int(sample_id), dt.date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:])))] += float(dollars)
    days: dict[int, list[tuple[dt.date, float]]] = defaultdict(list)
    for (customer, day), amount in sorted(by_day.items()):
        days[customer].append((day, amount))
    customers = sorted(days)
    out = np.zeros((len(customers), 4))
    for row, customer in enumerate(customers):
        first = days[customer][0][0]
        repeats = [(day, amount) for day, amount in days[customer][1:] if day <= CALIBRATION_END]
        recency = (repeats[-1][0] - first).days / 7 if repeats else 0.0
        spend = sum(amount for _day, amount in repeats) / len(repeats) if repeats else 0.0
        out[row] = (len(repeats), recency, (CALIBRATION_END - first).days / 7, spend)
    return Summary(out[:, 0], out[:, 1], out[:, 2], out[:, 3])
