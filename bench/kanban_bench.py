"""Guanxi kanban bench: the opportunity board with 10,000 open opportunities.

For each database, in a child process with a database of its own (SQLite: a file under the data dir;
PostgreSQL: guanxi_kbbench_<n>): the demo organisation and demo customers (customers.demo), the default
pipeline, then N open opportunities bulk inserted across its four open stages (owned by the sales reps and
managers, for their own customers), each with its first stage-history row, plus 10% closed ones (won and
lost, half of them this month). Then, through django.test.Client signed in (server time, no network), each
measure `--runs` times after a warm-up:

- the board `/opportunities/` as admin (sees all N), as a manager (their team) and as a sales rep (own);
- the board searched (`?q=` an opportunity name fragment) and filtered to "mine";
- "show more" of the fullest column (cards 50–100), the list view page 1;
- a drop (`POST /opportunities/<id>/move`, the board drawn again), alternating between two stages.

Each row: median and p95 of the server time in ms, SQL time, and the queries per request ("a-b" when it
varies: a constant count prints one number). Goal: the board under 150 ms with constant queries.

    .venv/bin/python bench/kanban_bench.py                      # 10,000 on SQLite and PostgreSQL
    .venv/bin/python bench/kanban_bench.py --opportunities 50000 --databases postgres --runs 50
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from children import child_environment

BENCH_DIR = Path(__file__).resolve().parent
PROJECT = BENCH_DIR.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_DATA = BENCH_DIR / "results" / "kanban"
GOAL_MS = 150.0


def _args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--opportunities", type=int, default=10_000, help="Open opportunities (default 10,000)."
    )
    parser.add_argument("--customers", type=int, default=3000, help="Demo customers they belong to.")
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite, postgres or both.")
    parser.add_argument("--runs", type=int, default=30, help="Requests per measure (the median of these).")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--reuse", action="store_true", help="Reuse a database loaded by an earlier run.")
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA), help="Where the SQLite files go.")
    parser.add_argument("--postgres-url", default=os.environ.get("GUANXI_BENCH_POSTGRES", DEFAULT_PG))
    parser.add_argument("--worker", metavar="DATABASE", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _pg_name(size: int) -> str:
    return f"guanxi_kbbench_{size}"


def main() -> int:
    args = _args()
    if args.worker:
        return worker(args, args.worker)
    data = Path(args.data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for database in _split(args.databases):
        print(f"== {database}, {args.opportunities:,} open opportunities", file=sys.stderr, flush=True)
        env = child_environment(
            data / f"{database}-{args.opportunities}",
            database,
            args.postgres_url,
            _pg_name(args.opportunities),
        )
        command = [sys.executable, str(Path(__file__).resolve()), *sys.argv[1:], "--worker", database]
        done = subprocess.run(command, env=env, cwd=PROJECT, stdout=subprocess.PIPE, text=True, check=False)
        if done.returncode != 0:
            notes.append(f"{database}: the run failed (exit {done.returncode}).")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        rows.extend(result["rows"])
        notes.extend(result["notes"])
    table = render(rows, notes, args)
    print(table)
    (data / "latest.txt").write_text(table + "\n", encoding="utf-8")
    return 0


def render(rows: list[dict[str, Any]], notes: list[str], args: argparse.Namespace) -> str:
    header = ("database", "open", "measure", "p50 ms", "p95 ms", "SQL p50", "queries", "n", "goal (p50)")
    lines = [header]
    for r in rows:
        if r["measure"] == "load":
            lines.append((r["database"], f"{r['open']:,}", "load", "", "", "", "", "", r["goal"]))
            continue
        lines.append(
            (
                r["database"],
                f"{r['open']:,}",
                r["measure"],
                f"{r['p50']:.1f}",
                f"{r['p95']:.1f}",
                f"{r['sql50']:.1f}",
                r["queries"],
                str(r["n"]),
                r["goal"],
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [
        "  ".join(
            cell.ljust(widths[i]) if i in (0, 2, 8) else cell.rjust(widths[i]) for i, cell in enumerate(line)
        )
        for line in lines
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    title = (
        f"Guanxi kanban bench {time.strftime('%Y-%m-%d %H:%M')}: {os.cpu_count()} CPUs, load average "
        f"{load:.1f} at the end; {args.runs} requests a measure; goal: the board under {GOAL_MS:.0f} ms "
        "server time with a constant number of queries"
    )
    return "\n".join([title, "", *out, *(["", "Notes:"] + [f"- {n}" for n in notes] if notes else [])])


# -- the child: load, then measure ------------------------------------------------------------------


def worker(args: argparse.Namespace, database: str) -> int:
    data_dir = Path(os.environ["GUANXI_DATA_DIR"])
    if not args.reuse:
        if database == "postgres":
            _pg_recreate(args.postgres_url, _pg_name(args.opportunities))
        else:
            for suffix in ("", "-wal", "-shm"):
                (data_dir / f"guanxi.sqlite3{suffix}").unlink(missing_ok=True)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from guanxi.opportunities.models import Opportunity

    settings.DEBUG = False
    call_command("migrate", verbosity=0, interactive=False)
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    open_count = Opportunity.objects.filter(status=Opportunity.Status.OPEN).count()
    if open_count < args.opportunities:
        began = time.perf_counter()
        made = load(args)
        seconds = time.perf_counter() - began
        rows.append(
            {
                "database": database,
                "open": args.opportunities,
                "measure": "load",
                "goal": f"{made:,} rows in {seconds:.1f} s",
            }
        )
    else:
        rows.append({"database": database, "open": open_count, "measure": "load", "goal": "reused"})
    measure_all(args, database, rows, notes)
    print(json.dumps({"rows": rows, "notes": notes}))
    return 0


def load(args: argparse.Namespace) -> int:
    """Demo organisation and customers, then the opportunities in bulk; returns the rows written."""
    import random
    from datetime import timedelta
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from guanxi.customers.demo import demo_setup
    from guanxi.customers.models import Customer
    from guanxi.opportunities.models import Opportunity, Stage, StageChange
    from guanxi.opportunities.services import pipeline_default
    from guanxi.users.models import User

    demo_setup(vertical="fuel", customers=args.customers)
    rng = random.Random(args.seed)
    pipeline = pipeline_default()
    stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position"))
    open_stages = [s for s in stages if s.kind == Stage.Kind.OPEN]
    won = next(s for s in stages if s.kind == Stage.Kind.WON)
    lost = next(s for s in stages if s.kind == Stage.Kind.LOST)
    owners = list(User.objects.filter(role__in=[User.Role.SALES, User.Role.MANAGER]).order_by("id"))
    customers: dict[int, list[int]] = {
        user.pk: list(Customer.objects.filter(owner=user).values_list("pk", flat=True)) for user in owners
    }
    owners = [user for user in owners if customers[user.pk]]
    now = timezone.now()
    today = timezone.localdate()
    words = ("年度采购", "车队合同", "新店合作", "批量订购", "续约", "升级方案", "团购", "长期供货")
    closed = args.opportunities // 10
    batch: list[Opportunity] = []
    position = 0
    for index in range(args.opportunities + closed):
        owner = owners[index % len(owners)]
        is_open = index < args.opportunities
        stage = rng.choice(open_stages) if is_open else (won if index % 2 else lost)
        amount = Decimal(rng.randrange(10, 5000) * 100)
        when = now - timedelta(days=rng.randint(0, 90), minutes=rng.randint(0, 1440))
        position += 1024
        batch.append(
            Opportunity(
                name=f"{rng.choice(words)} {index}",
                customer_id=rng.choice(customers[owner.pk]),
                pipeline=pipeline,
                stage=stage,
                status=stage.kind,
                amount=amount,
                probability=stage.probability,
                expected_close=today + timedelta(days=rng.randint(-20, 120)),
                next_step=rng.choice(("周五电话回访", "发送报价单", "约客户到店", "")),
                owner=owner,
                team_id=owner.team_id,
                position=position,
                stage_changed_at=when,
                closed_at=None if is_open else (now - timedelta(days=rng.randint(0, 60))),
                lost_reason="" if is_open or stage.kind == Stage.Kind.WON else "price",
            )
        )
    with transaction.atomic():
        Opportunity.objects.bulk_create(batch, batch_size=2000)
        made = Opportunity.objects.values_list("pk", "stage_id", "owner_id", "stage_changed_at")
        StageChange.objects.bulk_create(
            (
                StageChange(opportunity_id=pk, to_stage_id=stage_id, changed_by_id=owner_id, changed_at=when)
                for pk, stage_id, owner_id, when in made.iterator()
            ),
            batch_size=2000,
        )
    return len(batch) * 2


def measure_all(
    args: argparse.Namespace, database: str, rows: list[dict[str, Any]], notes: list[str]
) -> None:
    from django.db.models import Count
    from django.test import Client

    from guanxi.opportunities.models import Opportunity
    from guanxi.users.models import User

    open_count = Opportunity.objects.filter(status=Opportunity.Status.OPEN).count()
    admin = User.objects.get(username="admin")
    manager = User.objects.get(username="manager_hn")
    sales = User.objects.get(username="sales_hn1")

    def client_for(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    def row(measure: str, request: Callable[[int], Any]) -> None:
        rows.append({"database": database, "open": open_count, **timed(measure, request, args.runs, notes)})

    as_admin, as_manager, as_sales = client_for(admin), client_for(manager), client_for(sales)
    row("board, admin (all)", lambda _i: as_admin.get("/opportunities/"))
    row("board, manager (team)", lambda _i: as_manager.get("/opportunities/"))
    row("board, sales rep (own)", lambda _i: as_sales.get("/opportunities/"))
    row("board searched q=续约, admin", lambda _i: as_admin.get("/opportunities/", {"q": "续约"}))
    row("board owner=mine, manager", lambda _i: as_manager.get("/opportunities/", {"owner": "mine"}))
    fullest = (
        Opportunity.objects.filter(status=Opportunity.Status.OPEN)
        .values("stage_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    assert fullest is not None
    more = f"/opportunities/board/stages/{fullest['stage_id']}/more"
    row(
        "show more (cards 50-100), admin",
        lambda _i: as_admin.get(more, {"offset": 50}, HTTP_HX_REQUEST="true"),
    )
    row("list page 1, admin", lambda _i: as_admin.get("/opportunities/list/"))
    card = Opportunity.objects.filter(status=Opportunity.Status.OPEN).order_by("id").first()
    assert card is not None
    stages = list(card.pipeline.stages.filter(kind="open").order_by("position").values_list("pk", flat=True))[
        :2
    ]

    def move(i: int) -> Any:
        return as_admin.post(
            f"/opportunities/{card.pk}/move",
            {"stage": stages[i % 2], "region": "board"},
            HTTP_HX_REQUEST="true",
        )

    row("drop (move, board redrawn), admin", move)


def timed(measure: str, request: Callable[[int], Any], runs: int, notes: list[str]) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(3):  # warm the caches and the connection
        request(i)
    times, sql_times, counts, statuses = [], [], [], set()
    spent = [0.0]

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[0] += time.perf_counter() - began

    for i in range(runs):
        spent[0] = 0.0
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(wrapper):
            began = time.perf_counter()
            response = request(i)
            times.append((time.perf_counter() - began) * 1000)
        sql_times.append(spent[0] * 1000)
        counts.append(len(captured.captured_queries))
        statuses.add(response.status_code)
    if statuses != {200}:
        notes.append(f"{measure}: HTTP status {sorted(statuses)}")
    p50 = statistics.median(times)
    spread = f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)}-{max(counts)}"
    print(f"   {measure}: p50 {p50:.1f} ms, {spread} queries", file=sys.stderr, flush=True)
    return {
        "measure": measure,
        "p50": p50,
        "p95": sorted(times)[max(0, round(0.95 * len(times)) - 1)],
        "sql50": statistics.median(sql_times),
        "queries": spread,
        "n": runs,
        "goal": f"< {GOAL_MS:.0f} ok" if p50 < GOAL_MS else f"< {GOAL_MS:.0f} MISSED",
    }


def _pg_recreate(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")


if __name__ == "__main__":
    raise SystemExit(main())
