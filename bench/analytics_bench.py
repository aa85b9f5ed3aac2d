"""Guanxi analytics benchmark: demo customers with years of orders, then the full analytics refresh.

For each database and size, in a child process with a database of its own (SQLite: a file under the data
dir; PostgreSQL: guanxi_anbench_<n>): the demo organisation and N demo customers (customers.demo), their
orders (sales.demo: about 15–20 a customer over three years for the fuel trade, with lines and refunds),
then `guanxi.analytics.services.analytics_refresh` — RFM, the BG/NBD and Gamma-Gamma fits, P(alive), CLV,
stage moves and recommendations for the whole base — timed twice: "refresh" is the first run (which may
move many lifecycle stages), "again" the nightly case right after it, with the child's peak resident
memory during the first (VmHWM, reset through /proc/self/clear_refs).

Beside it, the ceiling of a columnar engine: the same orders exported to Parquet (not timed) and the RFM
aggregation (recency, purchase days, net spend per customer, then quintile scores) done by DuckDB over
that file; the ratio is the nightly ("again") refresh's time over DuckDB's RFM time.

By default SQLite runs 100,000 customers and PostgreSQL 100,000 and 680,000 (about ten million orders,
the issue's scale); --sizes sets the sizes for every database. The "steps" column splits the nightly
run: read, fit, score, recommend, write (services.STEPS).

    .venv/bin/python bench/analytics_bench.py
    .venv/bin/python bench/analytics_bench.py --sizes 680000 --databases postgres --reuse
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from children import child_environment
from import_bench import _peak_mb, _reset_peak
from import_bench import _pg_database as pg_database

BENCH_DIR = Path(__file__).resolve().parent
PROJECT = BENCH_DIR.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_DATA = BENCH_DIR / "results" / "analytics"
GOAL_SECONDS = 60.0  # the full refresh at 10M orders
GOAL_RATIO = 10.0  # within 10× DuckDB's RFM time
DEFAULT_SIZES = {"sqlite": "100000", "postgres": "100000,680000"}  # 680,000 fuel customers: ~10M orders


def _args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default=None, help="Customer counts, comma separated (default: DEFAULT_SIZES by database)."
    )
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite, postgres or both.")
    parser.add_argument("--vertical", default="fuel", choices=["fuel", "building", "auto"])
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--reuse", action="store_true", help="Reuse a database loaded by an earlier run.")
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA), help="Where SQLite and Parquet files go.")
    parser.add_argument("--postgres-url", default=os.environ.get("GUANXI_BENCH_POSTGRES", DEFAULT_PG))
    parser.add_argument("--worker", nargs=2, metavar=("DATABASE", "SIZE"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _pg_name(size: int) -> str:
    return f"guanxi_anbench_{size}"


def main() -> int:
    args = _args()
    if args.worker:
        return worker(args, args.worker[0], int(args.worker[1]))
    data = Path(args.data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    notes: list[str] = []
    runs = [
        (int(size), database)
        for database in _split(args.databases)
        for size in _split(args.sizes or DEFAULT_SIZES.get(database, "100000"))
    ]
    for size, database in sorted(runs):
        print(f"== {database}, {size:,} customers", file=sys.stderr, flush=True)
        env = child_environment(data / f"{database}-{size}", database, args.postgres_url, _pg_name(size))
        command = [sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]]
        command += ["--worker", database, str(size)]
        done = subprocess.run(command, env=env, cwd=PROJECT, stdout=subprocess.PIPE, text=True, check=False)
        if done.returncode != 0:
            notes.append(f"{database} {size:,}: the run failed (exit {done.returncode}).")
            continue
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    table = render(results, notes)
    print(table)
    (data / "latest.txt").write_text(table + "\n", encoding="utf-8")
    return 0


def render(results: list[dict[str, Any]], notes: list[str]) -> str:
    header = (
        "database",
        "customers",
        "orders",
        "load s",
        "refresh s",
        "again s",
        "steps s",
        "peak MB",
        "duckdb RFM s",
        "ratio",
        "segments",
        "at risk",
        "fit",
    )
    lines = [header]
    for r in results:
        lines.append(
            (
                r["database"],
                f"{r['customers']:,}",
                f"{r['orders']:,}",
                f"{r['load_seconds']:.0f}" if r["load_seconds"] is not None else "reused",
                f"{r['refresh_seconds']:.1f}",
                f"{r['again_seconds']:.1f}",
                "/".join(f"{v:.1f}" for v in r["steps"]),
                f"{r['peak_mb']:.0f}",
                f"{r['duckdb_seconds']:.2f}",
                f"{r['again_seconds'] / r['duckdb_seconds']:.1f}" if r["duckdb_seconds"] else "",
                str(r["segments"]),
                f"{r['at_risk']:,}",
                r["fit"],
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [
        "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line))
        for line in lines
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    title = (
        f"Guanxi analytics bench {time.strftime('%Y-%m-%d %H:%M')}: {os.cpu_count()} CPUs, load average "
        f"{load:.1f} at the end; goal: refresh at 10M orders under {GOAL_SECONDS:.0f} s and within "
        f"{GOAL_RATIO:.0f}× DuckDB's RFM time; peak MB is the refreshing process's peak RSS"
    )
    return "\n".join([title, "", *out, *(["", "Notes:"] + [f"- {n}" for n in notes] if notes else [])])


# -- the child: load, refresh, DuckDB -------------------------------------------------------------------


def worker(args: argparse.Namespace, database: str, size: int) -> int:
    data_dir = Path(os.environ["GUANXI_DATA_DIR"])
    if not args.reuse:
        if database == "postgres":
            _pg_database(args.postgres_url, _pg_name(size))
        else:
            for suffix in ("", "-wal", "-shm"):
                (data_dir / f"guanxi.sqlite3{suffix}").unlink(missing_ok=True)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Count

    from guanxi.analytics.models import CustomerMetrics
    from guanxi.analytics.services import analytics_refresh
    from guanxi.customers.demo import demo_setup
    from guanxi.sales.demo import demo_orders_load
    from guanxi.sales.models import Order

    call_command("migrate", verbosity=0, interactive=False)
    load_seconds: float | None = None
    if not Order.objects.exists():
        began = time.perf_counter()
        demo_setup(vertical=args.vertical, customers=size)
        demo_orders_load(actor=None, vertical=args.vertical, seed=args.seed, progress=_progress)
        load_seconds = time.perf_counter() - began
    orders = Order.objects.count()
    reset = _reset_peak()
    began = time.perf_counter()
    run = analytics_refresh(actor=None)
    refresh_seconds = time.perf_counter() - began
    peak = _peak_mb(reset)
    # The nightly case: nothing bought since, so no stage moves (the first run of a base may move many).
    steps: list[float] = []
    began = time.perf_counter()

    def step(_name: str, _done: int, _total: int) -> None:
        steps.append(time.perf_counter() - began - sum(steps))

    analytics_refresh(actor=None, progress=step)
    again_seconds = time.perf_counter() - began
    parquet = data_dir / "orders.parquet"
    _export_parquet(parquet)
    duckdb_seconds = _duckdb_rfm(parquet)
    bands = dict(CustomerMetrics.objects.values_list("band").annotate(n=Count("pk")))
    params = run.parameters or {}
    fit = ", ".join(f"{k}={params[k]:.3g}" for k in ("r", "alpha", "a", "b") if k in params)
    print(
        json.dumps(
            {
                "database": database,
                "customers": size,
                "orders": orders,
                "load_seconds": load_seconds,
                "refresh_seconds": refresh_seconds,
                "again_seconds": again_seconds,
                "steps": steps,
                "peak_mb": peak,
                "duckdb_seconds": duckdb_seconds,
                "segments": CustomerMetrics.objects.values("segment").distinct().count(),
                "at_risk": bands.get("at_risk", 0) + bands.get("churned", 0),
                "fit": fit,
            }
        )
    )
    return 0


def _progress(done: int, total: int, orders: int) -> None:
    if done == total or done % 100_000 < 5000:
        print(f"   {done:,}/{total:,} customers, {orders:,} orders", file=sys.stderr, flush=True)


def _export_parquet(path: Path) -> None:
    """The orders as the RFM reads them (customer, time, net amount, status), into a Parquet file."""
    import duckdb
    from django.db import connection, transaction

    from guanxi.sales.models import Order

    table = Order._meta.db_table
    staging = path.with_suffix(".csv")
    with (
        staging.open("w", newline="", encoding="utf-8") as handle,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        out = csv.writer(handle)
        out.writerow(["customer_id", "ordered_at", "net", "status"])
        if connection.vendor == "postgresql":
            cursor = connection.connection.cursor(name="bench_export")  # server side: memory stays flat
        cursor.execute(
            f"SELECT customer_id, ordered_at, total - refunded_total, status FROM {table} ORDER BY id"
        )
        while rows := cursor.fetchmany(50_000):
            out.writerows(rows)
    duckdb.sql(
        "COPY (SELECT customer_id, CAST(ordered_at AS TIMESTAMPTZ) AS ordered_at, "
        f"CAST(net AS DECIMAL(12, 2)) AS net, status FROM read_csv('{staging}', header = true)) "
        f"TO '{path}' (FORMAT parquet)"
    )
    staging.unlink()


def _duckdb_rfm(path: Path) -> float:
    """Seconds for DuckDB to compute each customer's R, F and M and their 1–5 quintile scores."""
    import duckdb

    connection = duckdb.connect()
    began = time.perf_counter()
    connection.sql(
        f"""
        CREATE TABLE rfm AS
        WITH per AS (
            SELECT customer_id,
                   max(ordered_at) AS last_at,
                   count(DISTINCT CAST(ordered_at AS DATE)) FILTER (WHERE status <> 'refunded') AS days,
                   sum(net) AS monetary
            FROM read_parquet('{path}')
            GROUP BY customer_id
        )
        SELECT customer_id, last_at, days, monetary,
               ntile(5) OVER (ORDER BY last_at) AS r,
               ntile(5) OVER (ORDER BY days) AS f,
               ntile(5) OVER (ORDER BY monetary) AS m
        FROM per
        """
    )
    seconds = time.perf_counter() - began
    connection.close()
    return seconds


def _pg_database(url: str, name: str) -> None:
    pg_database(url, name, create=True)


if __name__ == "__main__":
    raise SystemExit(main())
