"""BG/NBD and Gamma-Gamma fit times: on CDNOW, and on a million customers drawn from the models themselves.

CDNOW: the 2,357 customers of the papers (src/guanxi/analytics/tests/fixtures), fitted --repeat times;
the median is reported, with the parameters and log-likelihood.

Synthetic: --customers customers drawn from the BG/NBD process with known parameters (time unit: day; ages
1–730 days, as if acquired over two years; numpy's default generator seeded with --seed; see
guanxi.analytics.estimation.simulate), then recorded as a store would: times in whole days (the last
purchase's day counted up, so a repeat purchase is at least a day after the first). Reported, each with
its seconds and the peak resident memory of the process during it (VmHWM, reset through
/proc/self/clear_refs before each step; ru_maxrss where that is not possible):

- simulate: drawing the customers;
- group: np.unique over the (x, t_x, T) triples (bgnbd.group);
- fit grouped: BG/NBD on the distinct triples weighted by their counts: the way to fit a base;
- predict: P(alive) and expected purchases in 30 and 90 days for every triple, spread to the customers;
- fit continuous: BG/NBD on the same customers before rounding to days, one row a customer (no triple
  repeats): the cost without grouping, and the check that the fit finds the parameters it was given;
- Gamma-Gamma: average spend simulated for the repeat buyers, then fitted.

    .venv/bin/python bench/fit_bench.py                      # CDNOW and 1,000,000 customers
    .venv/bin/python bench/fit_bench.py --customers 100000 --json
    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/fit_bench.py

On a machine whose cores are busy, OpenBLAS's threads (which scipy's L-BFGS-B uses for its small matrix
steps) now and then stall a fit for tens of milliseconds: a CDNOW fit's median then moves from ~2 ms to
~100 ms, and the million-customer fits take up to twice as long. OPENBLAS_NUM_THREADS=1 avoids it.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from guanxi.analytics.estimation import bgnbd, gamma_gamma, simulate
from guanxi.analytics.tests import cdnow

TRUE_BGNBD = bgnbd.Params(r=0.8, alpha=40.0, a=0.8, b=2.4)  # a purchase every ~50 days while active
TRUE_SPEND = gamma_gamma.Params(p=6.25, q=3.74, gamma=15.44)  # CDNOW's, in yuan
GOAL_SECONDS = 10.0  # the goal: fit at a million customers under 10 s on this 2-core machine

T = TypeVar("T")


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000, help="Synthetic customers (default 1e6).")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--repeat", type=int, default=20, help="CDNOW fits to take the median of.")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON instead of a table.")
    return parser.parse_args()


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_mib(reset_worked: bool) -> float:
    if reset_worked:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _step(steps: list[dict[str, Any]], name: str, work: Callable[[], T], rows: int) -> T:
    reset = _reset_peak()
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    steps.append({"step": name, "rows": rows, "seconds": seconds, "peak_mib": _peak_mib(reset)})
    return result


def _cdnow(repeat: int) -> dict[str, Any]:
    data = cdnow.from_transactions()
    times, fit = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        fit = bgnbd.fit(data.x, data.t_x, data.T, time_unit="week")
        times.append(time.perf_counter() - started)
    spend_times, spend = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        spend = gamma_gamma.fit(data.x, data.mean_spend)
        spend_times.append(time.perf_counter() - started)
    assert fit is not None and spend is not None
    return {
        "bgnbd": {**fit.as_dict(), "seconds_median": statistics.median(times)},
        "gamma_gamma": {**spend.as_dict(), "seconds_median": statistics.median(spend_times)},
    }


def _synthetic(customers: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    steps: list[dict[str, Any]] = []

    def draw() -> tuple[simulate.Histories, np.ndarray]:
        ages = rng.integers(1, 731, customers).astype(np.float64)
        histories = simulate.bgnbd_histories(TRUE_BGNBD, ages, rng)
        return histories, np.ceil(histories.t_x)  # the last purchase's day, counted up

    histories, t_x_days = _step(steps, "simulate", draw, customers)
    grouped = _step(steps, "group", lambda: bgnbd.group(histories.x, t_x_days, histories.T), customers)
    fit = _step(
        steps,
        "fit grouped",
        lambda: bgnbd.fit(grouped.x, grouped.t_x, grouped.T, weights=grouped.counts, time_unit="day"),
        len(grouped),
    )
    params = fit.params

    def predict() -> None:
        alive = bgnbd.p_alive(params, grouped.x, grouped.t_x, grouped.T)
        for days in (30.0, 90.0):
            per_triple = alive * bgnbd.expected_purchases_if_alive(
                params, days, grouped.x, grouped.t_x, grouped.T
            )
            per_triple[grouped.inverse]
        alive[grouped.inverse]

    _step(steps, "predict", predict, len(grouped))
    continuous = _step(
        steps,
        "fit continuous",
        lambda: bgnbd.fit(histories.x, histories.t_x, histories.T, time_unit="day"),
        customers,
    )
    mean_spend, _nu = simulate.gamma_gamma_mean_spend(TRUE_SPEND, histories.x, rng)
    repeat = histories.x > 0
    spend = _step(
        steps,
        "Gamma-Gamma fit",
        lambda: gamma_gamma.fit(histories.x[repeat], mean_spend[repeat]),
        int(repeat.sum()),
    )
    return {
        "customers": customers,
        "repeat_buyers": int(repeat.sum()),
        "distinct_triples": len(grouped),
        "steps": steps,
        "truth": {"bgnbd": TRUE_BGNBD.__dict__, "gamma_gamma": TRUE_SPEND.__dict__},
        "fit_days": fit.as_dict(),
        "fit_continuous": continuous.as_dict(),
        "gamma_gamma": spend.as_dict(),
        "simulate_group_fit_seconds": sum(s["seconds"] for s in steps[:3]),
    }


def _table(result: dict[str, Any]) -> str:
    out = []
    cd = result["cdnow"]
    b, g = cd["bgnbd"], cd["gamma_gamma"]
    out.append("CDNOW (2,357 customers, weeks; median of the fits)")
    out.append(
        f"  BG/NBD       {b['seconds_median'] * 1000:8.1f} ms  r={b['r']:.4f} alpha={b['alpha']:.4f} "
        f"a={b['a']:.4f} b={b['b']:.4f}  LL={b['log_likelihood']:.4f}  ({b['iterations']} iterations)"
    )
    out.append(
        f"  Gamma-Gamma  {g['seconds_median'] * 1000:8.1f} ms  p={g['p']:.4f} q={g['q']:.4f} "
        f"gamma={g['gamma']:.4f}  LL={g['log_likelihood']:.4f}  ({g['n_customers']} repeat buyers)"
    )
    sy = result["synthetic"]
    out.append("")
    out.append(
        f"Synthetic: {sy['customers']:,} customers ({sy['repeat_buyers']:,} repeat buyers, "
        f"{sy['distinct_triples']:,} distinct triples in whole days)"
    )
    out.append(f"  {'step':<16} {'rows':>10} {'seconds':>9} {'peak MiB':>9}")
    for s in sy["steps"]:
        out.append(f"  {s['step']:<16} {s['rows']:>10,} {s['seconds']:>9.2f} {s['peak_mib']:>9.0f}")
    total = sy["simulate_group_fit_seconds"]
    verdict = "met" if total < GOAL_SECONDS else "MISSED"
    out.append(f"  simulate + group + fit: {total:.2f} s (goal < {GOAL_SECONDS:g} s: {verdict})")
    out.append("")
    out.append(f"  {'parameter':<10} {'true':>9} {'days':>9} {'continuous':>11}")
    for name in ("r", "alpha", "a", "b"):
        out.append(
            f"  {name:<10} {sy['truth']['bgnbd'][name]:>9.4f} {sy['fit_days'][name]:>9.4f} "
            f"{sy['fit_continuous'][name]:>11.4f}"
        )
    for name in ("p", "q", "gamma"):
        out.append(f"  {name:<10} {sy['truth']['gamma_gamma'][name]:>9.4f} {sy['gamma_gamma'][name]:>9.4f}")
    conv = all(sy[k]["converged"] for k in ("fit_days", "fit_continuous", "gamma_gamma"))
    out.append(f"  all fits converged: {conv}")
    return "\n".join(out)


def main() -> int:
    args = _args()
    result = {"cdnow": _cdnow(args.repeat), "synthetic": _synthetic(args.customers, args.seed)}
    print(json.dumps(result, indent=2) if args.json else _table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
