"""Guanxi timeline benchmark: the customer 360 page of a customer with 5,000 timeline events.

For each database, in a child process with a database of its own (SQLite: a file under the data dir;
PostgreSQL: guanxi_tlbench): the demo organisation (customers.demo.demo_setup, no demo customers), a
crowd of other customers with a short history each (so the timeline table is not the one customer's
alone), and one customer of a sales rep with `--events` timeline events over three years, bulk inserted:
orders (sales.Order rows and their "order.created" entries), activities of every kind (activities.Activity
rows and their "activity.<kind>" entries; some emails sent through the outbox, with a delivery state) and
changes (customer, contact and consent entries). Then, signed in as the rep, through django.test.Client:

- the whole 360 page (purchase summary, analytics card, log form, the newest 50 entries);
- the timeline card (htmx), and filtered to calls, to orders and to changes;
- "Load older" 4,000 entries deep (keyset on time and id);
- the same page and card of a customer with a short history, for the query counts to compare.

Each measure: the median and p95 of `--requests` requests' server time (in process, no network), and the
SQL queries per request (a range when they vary); "CPU p50" is this process's CPU time per request (the
Python side: views, templates, the SQLite engine), which other work on the machine slows less.
Goal: a median under 150 ms and the same number of queries for 5,000 events as for 10.

    .venv/bin/python bench/timeline_bench.py                              # SQLite and PostgreSQL
    .venv/bin/python bench/timeline_bench.py --databases sqlite --requests 20
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from children import child_environment

BENCH_DIR = Path(__file__).resolve().parent
PROJECT = BENCH_DIR.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_DATA = BENCH_DIR / "results" / "timeline"
PG_NAME = "guanxi_tlbench"
GOAL_MS = 150.0
HX = {"HTTP_HX_REQUEST": "true"}


def _args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite, postgres or both.")
    parser.add_argument("--events", type=int, default=5000, help="Timeline events of the big customer.")
    parser.add_argument("--crowd", type=int, default=2000, help="Other customers, ~12 events each.")
    parser.add_argument("--requests", type=int, default=50, help="Requests per measure.")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA), help="Where the SQLite files go.")
    parser.add_argument("--postgres-url", default=os.environ.get("GUANXI_BENCH_POSTGRES", DEFAULT_PG))
    parser.add_argument("--worker", metavar="DATABASE", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def main() -> int:
    args = _args()
    if args.worker:
        return worker(args, args.worker)
    data = Path(args.data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for database in _split(args.databases):
        print(f"== {database}", file=sys.stderr, flush=True)
        env = child_environment(data / database, database, args.postgres_url, PG_NAME)
        command = [sys.executable, str(Path(__file__).resolve()), *sys.argv[1:], "--worker", database]
        done = subprocess.run(command, env=env, cwd=PROJECT, stdout=subprocess.PIPE, text=True, check=False)
        if done.returncode != 0:
            notes.append(f"{database}: the run failed (exit {done.returncode}).")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        rows += result["rows"]
        notes += result["notes"]
    table = render(rows, notes, args)
    print(table)
    (data / "latest.txt").write_text(table + "\n", encoding="utf-8")
    return 0


def render(rows: list[dict[str, Any]], notes: list[str], args: argparse.Namespace) -> str:
    header = (
        "database",
        "measure",
        "p50 ms",
        "p95 ms",
        "CPU p50",
        "queries",
        "n",
        f"goal (p50 < {GOAL_MS:.0f} ms)",
    )
    lines = [header]
    for row in rows:
        if "p50" not in row:
            lines.append((row["database"], row["measure"], "", "", "", "", "", row.get("goal", "")))
            continue
        lines.append(
            (
                row["database"],
                row["measure"],
                f"{row['p50']:.1f}",
                f"{row['p95']:.1f}",
                f"{row['cpu']:.1f}",
                row["queries"],
                str(row["n"]),
                row.get("goal", ""),
            )
        )
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    numeric = {2, 3, 4, 5, 6}
    out = [
        "  ".join(
            str(cell).rjust(widths[i]) if i in numeric else str(cell).ljust(widths[i])
            for i, cell in enumerate(line)
        ).rstrip()
        for line in lines
    ]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    title = (
        f"Guanxi timeline bench {time.strftime('%Y-%m-%d %H:%M')}: {args.events:,} events on one customer, "
        f"{args.crowd:,} other customers, {args.requests} requests per measure, {os.cpu_count()} CPUs, "
        f"load average {load:.1f} at the end"
    )
    return "\n".join([title, "", *out, *(["", "Notes:"] + [f"- {n}" for n in notes] if notes else [])])


# -- the child: load, then measure -----------------------------------------------------------------


def worker(args: argparse.Namespace, database: str) -> int:
    if database == "postgres":
        _pg_database(args.postgres_url, PG_NAME)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(os.environ["GUANXI_DATA_DIR"], f"guanxi.sqlite3{suffix}").unlink(missing_ok=True)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    bench = Bench(args, database)
    bench.load()
    bench.measure_all()
    print(json.dumps({"rows": bench.rows, "notes": bench.notes}))
    return 0


def _pg_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class Bench:
    """One database: the data, the rep, the requests and the measures."""

    def __init__(self, args: argparse.Namespace, database: str) -> None:
        self.args, self.database = args, database
        self.rows: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.random = random.Random(args.seed)

    def log(self, message: str) -> None:
        print(f"[{self.database}] {message}", file=sys.stderr, flush=True)

    # -- data --------------------------------------------------------------------------------------
    def load(self) -> None:
        from django.db import transaction

        from guanxi.core.context import origin
        from guanxi.customers import services as customer_services
        from guanxi.customers.demo import demo_setup
        from guanxi.customers.models import Customer
        from guanxi.users.models import User

        began = time.perf_counter()
        with origin("cli"):
            demo_setup(vertical="auto", customers=0)
        rep = User.objects.filter(role=User.Role.SALES, team__name="华南一组").order_by("id").first()
        if rep is None:
            raise SystemExit("No sales user in 华南一组: the demo organisation is missing.")
        self.rep: User = rep
        admin = User.objects.get(username="admin")
        with origin("cli"):
            self.big = customer_services.customer_create(
                actor=admin,
                owner=self.rep,
                team=self.rep.team,
                name="王建国",
                kind=Customer.Kind.COMPANY,
                phones=["13800138000", "13900139000"],
                emails=["wang.jg@example.com"],
                tags=["VIP", "车队"],
            )
            for i in range(3):
                customer_services.contact_create(
                    actor=self.rep, customer=self.big, name=f"联系人{i}", phone=f"1370013700{i}"
                )
            self.small = customer_services.customer_create(
                actor=self.rep, name="李小明", phones=["13600136000"]
            )
        with transaction.atomic():
            crowd_rows = self._crowd()
            big_rows = self._history(self.big, self.args.events)
            self._history(self.small, 10)
        seconds = time.perf_counter() - began
        self.rows.append(
            {
                "database": self.database,
                "measure": "load",
                "goal": f"{seconds:.0f} s: {big_rows:,} events on one customer, {crowd_rows:,} on the others",
            }
        )
        self.log(f"loaded in {seconds:.0f} s")

    def _crowd(self) -> int:
        """Other customers with a dozen entries each, in bulk (so the index holds more than one customer)."""
        from django.utils import timezone

        from guanxi.customers.models import Customer, TimelineEntry

        now = timezone.now()
        customers = Customer.objects.bulk_create(
            Customer(name=f"客户{i:05d}", owner=self.rep, team=self.rep.team) for i in range(self.args.crowd)
        )
        entries = [
            TimelineEntry(
                customer=customer,
                occurred_at=now - timedelta(minutes=self.random.randint(0, 3 * 365 * 24 * 60)),
                kind=self.random.choice(["activity.call", "order.created", "customer.changed", "note"]),
                actor=self.rep,
                data={"body": "…", "order_id": 0, "total": "1.00", "changes": {}},
            )
            for customer in customers
            for _ in range(12)
        ]
        TimelineEntry.objects.bulk_create(entries, batch_size=2000)
        return len(entries)

    def _history(self, customer: Any, events: int) -> int:
        """`events` entries over three years: 30% orders, 50% activities (5% of those sent emails), 20%
        changes; each order and activity also a row of its own, as the services write them."""
        from django.utils import timezone

        from guanxi.activities.models import Activity
        from guanxi.channels.models import EmailMessage
        from guanxi.customers.models import TimelineEntry
        from guanxi.sales.models import Order

        r, now, rep = self.random, timezone.now(), self.rep
        times = sorted(
            (now - timedelta(seconds=r.randint(60, 3 * 365 * 24 * 3600)) for _ in range(events)), reverse=True
        )
        n_orders, n_activities = int(events * 0.3), int(events * 0.5)
        order_times, activity_times, change_times = (
            times[0::3][:n_orders],
            [t for i, t in enumerate(times) if i % 3 != 0][:n_activities],
            [],
        )
        used = set(order_times) | set(activity_times)
        change_times = [t for t in times if t not in used][: events - len(order_times) - len(activity_times)]

        orders = Order.objects.bulk_create(
            [
                Order(
                    customer=customer,
                    ordered_at=when,
                    total=Decimal(r.randint(5000, 90000)) / 100,
                    created_by=rep,
                    payment_method=r.choice(["cash", "wechat_pay", "alipay"]),
                )
                for when in order_times
            ],
            batch_size=1000,
        )
        kinds = ["call", "call", "call", "visit", "wechat", "note", "meeting", "sms", "email"]
        activities = [
            Activity(
                customer=customer,
                kind=r.choice(kinds),
                direction=r.choice(["out", "in"]),
                outcome=r.choice(["reached", "no_answer", "interested", "call_back"]),
                subject="",
                body=r.choice(["询问保养价格", "约周六到店试驾", "客户反馈油耗偏高", "回访满意度"]),
                occurred_at=when,
                duration_minutes=r.randint(1, 20),
                owner=rep,
                team=rep.team,
            )
            for when in activity_times
        ]
        # The newest activity is an email, so the first page of every customer here, short history or
        # long, holds an order, an email and changes: the same work, the same queries.
        activities[0].kind = "email"
        emails = EmailMessage.objects.bulk_create(
            [
                EmailMessage(
                    key=f"bench:{customer.pk}:{i}",
                    to=["wang.jg@example.com"],
                    subject="保养提醒",
                    body="您的车该保养了",
                    status=r.choice(["sent", "sent", "sent", "failed"]),
                    customer=customer,
                    created_by=rep,
                )
                for i, activity in enumerate(activities)
                if activity.kind == "email"
            ]
        )
        for activity, email in zip((a for a in activities if a.kind == "email"), emails, strict=True):
            activity.email = email
            activity.subject = email.subject
        activities = Activity.objects.bulk_create(activities, batch_size=1000)
        entries = [
            TimelineEntry(
                customer=customer,
                occurred_at=order.ordered_at,
                kind="order.created",
                actor=rep,
                data={
                    "order_id": order.pk,
                    "total": str(order.total),
                    "store": "",
                    "payment_method": order.payment_method,
                    "channel": "store",
                    "items": [],
                    "lines": 0,
                },
            )
            for order in orders
        ]
        entries += [
            TimelineEntry(
                customer=customer,
                occurred_at=activity.occurred_at,
                kind=f"activity.{activity.kind}",
                actor=rep,
                data={
                    "activity_id": activity.pk,
                    "kind": activity.kind,
                    "direction": activity.direction,
                    "outcome": activity.outcome,
                    "subject": activity.subject,
                    "body": activity.body,
                    "duration_minutes": activity.duration_minutes,
                    **(
                        {"email_id": activity.email_id, "to": ["wang.jg@example.com"]}
                        if activity.email_id
                        else {}
                    ),
                },
            )
            for activity in activities
        ]
        changes = [
            (
                "customer.changed",
                {"changes": {"city": ["广州市", "深圳市"], "phones": [None, "+8613800138000"]}},
            ),
            ("contact.changed", {"name": "联系人1", "changes": {"title": ["", "车队经理"]}}),
            (
                "consent.recorded",
                {"purpose": "marketing", "channel": "sms", "granted": True, "method": "paper"},
            ),
            ("customer.tagged", {"tag": "VIP"}),
        ]
        for when in change_times:
            kind, data = r.choice(changes)
            entries.append(
                TimelineEntry(customer=customer, occurred_at=when, kind=kind, actor=rep, data=data)
            )
        TimelineEntry.objects.bulk_create(entries, batch_size=2000)
        return TimelineEntry.objects.filter(customer=customer).count()

    # -- measures ----------------------------------------------------------------------------------
    def measure_all(self) -> None:
        from django.conf import settings
        from django.db import connection
        from django.test import Client

        from guanxi.customers.models import TimelineEntry

        settings.DEBUG = False
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        client.force_login(self.rep)
        big, small = self.big.pk, self.small.pk
        deep = (
            TimelineEntry.objects.filter(customer_id=big)
            .order_by("-occurred_at", "-id")
            .values_list("pk", flat=True)[4000:4001]
        )
        deep_id = deep[0] if deep else None
        measures: list[tuple[str, str, dict[str, str]]] = [
            ("360 page, 5,000 events", f"/customers/{big}/", {}),
            ("360 page, 10 events", f"/customers/{small}/", {}),
            ("timeline card (htmx), 5,000 events", f"/customers/{big}/timeline", HX),
            ("timeline card (htmx), 10 events", f"/customers/{small}/timeline", HX),
            ("timeline: calls only", f"/customers/{big}/timeline?type=activity.call", HX),
            ("timeline: orders only", f"/customers/{big}/timeline?type=orders", HX),
            ("timeline: changes only", f"/customers/{big}/timeline?type=changes", HX),
            ("timeline: emails only (delivery states)", f"/customers/{big}/timeline?type=activity.email", HX),
        ]
        if deep_id:
            measures.append(
                ("timeline: load older, 4,000 deep", f"/customers/{big}/timeline?before_id={deep_id}", HX)
            )
        measures.append(("activity list, this customer", f"/activities/?customer={big}", {}))
        for label, url, headers in measures:
            self.measure(client, label, url, headers)
        pairs = [("360 page, 5,000 events", "360 page, 10 events")]
        pairs.append(("timeline card (htmx), 5,000 events", "timeline card (htmx), 10 events"))
        by_label = {row["measure"]: row for row in self.rows}
        for many, few in pairs:
            if by_label[many]["queries"] != by_label[few]["queries"]:
                self.notes.append(
                    f"{self.database}: {many} ran {by_label[many]['queries']} queries, "
                    f"{few} {by_label[few]['queries']}: not constant."
                )

    def measure(self, client: Any, label: str, url: str, headers: dict[str, str]) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        for _ in range(3):  # warm the caches: templates, the query planner, the page cache
            response = client.get(url, **headers)
            if response.status_code != 200:
                raise SystemExit(f"{url}: {response.status_code}")
        times, cpu, counts = [], [], []
        for _ in range(self.args.requests):
            with CaptureQueriesContext(connection) as queries:
                began, began_cpu = time.perf_counter(), time.process_time()
                response = client.get(url, **headers)
                elapsed = (time.perf_counter() - began) * 1000
                cpu.append((time.process_time() - began_cpu) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            times.append(elapsed)
            counts.append(len(queries))
        low, high = min(counts), max(counts)
        p50 = statistics.median(times)
        self.rows.append(
            {
                "database": self.database,
                "measure": label,
                "p50": p50,
                "p95": _percentile(times, 0.95),
                "cpu": statistics.median(cpu),
                "queries": str(low) if low == high else f"{low}-{high}",
                "n": len(times),
                "goal": "ok" if p50 < GOAL_MS else "MISSED",
            }
        )
        self.log(f"{label}: p50 {p50:.1f} ms, {low}-{high} queries")


if __name__ == "__main__":
    raise SystemExit(main())
