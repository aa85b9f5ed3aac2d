"""Guanxi benchmarks: load demo data at a given size, then time search, the customer list and the 360 page.

Run by `make bench` (BENCH_ARGS="--sizes 100000 --databases sqlite"). For each database and size the data
is loaded with the demo loader (guanxi.customers.demo.demo_load) into a database of its own, then every
measure runs in-process through django.test.Client, so the times are server times without the network.
Each (database, size) runs in a child process, because Django reads its database settings once.
See bench/README.md.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results"
PROJECT = BENCH_DIR.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
GOALS = {"search": 50.0, "page": 100.0, "match": 20.0}  # p95 ms at a million customers on a 2-core machine


def _args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000", help="Customer counts, comma separated.")
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite, postgres or both.")
    parser.add_argument("--queries", type=int, default=200, help="Requests per measure (default 200).")
    parser.add_argument("--reuse", action="store_true", help="Reuse a database loaded by an earlier run.")
    parser.add_argument("--vertical", default="fuel", choices=["fuel", "building", "auto"])
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--postgres-url", default=os.environ.get("GUANXI_BENCH_POSTGRES", DEFAULT_PG))
    parser.add_argument("--data-dir", default=str(RESULTS), help="Where the SQLite files go.")
    parser.add_argument(
        "--only", choices=["search", "pages"], default=None, help="Measure only search or only the pages."
    )
    parser.add_argument("--worker", nargs=2, metavar=("DATABASE", "SIZE"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# -- the parent: one child per (database, size), then one table ---------------------------------------


def main() -> int:
    args = _args()
    if args.worker:
        return worker(args, args.worker[0], int(args.worker[1]))
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for database in [d.strip() for d in args.databases.split(",") if d.strip()]:
        for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
            print(f"== {database}, {size:,} customers", file=sys.stderr, flush=True)
            env = {**os.environ, **_environment(args, database, size)}
            if database == "sqlite":
                env.pop("DATABASE_URL", None)
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                *sys.argv[1:],
                "--worker",
                database,
                str(size),
            ]
            done = subprocess.run(
                command, env=env, cwd=PROJECT, stdout=subprocess.PIPE, text=True, check=False
            )
            if done.returncode != 0:
                notes.append(f"{database} {size:,}: the run failed (exit code {done.returncode}), see above.")
                continue
            result = json.loads(done.stdout.strip().splitlines()[-1])
            rows += result["rows"]
            notes += result["notes"]
    table = render(rows, notes, args)
    print(table)
    (RESULTS / "latest.txt").write_text(table + "\n", encoding="utf-8")
    print(f"(written to {RESULTS / 'latest.txt'})", file=sys.stderr)
    return 0


def _environment(args: argparse.Namespace, database: str, size: int) -> dict[str, str]:
    data_dir = Path(args.data_dir).resolve() / f"{database}-{size}"
    (data_dir / "static").mkdir(parents=True, exist_ok=True)  # STATIC_ROOT, so whitenoise does not warn
    env = {
        "GUANXI_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "guanxi.config.settings",
        "GUANXI_LOG_LEVEL": "WARNING",
        "GUANXI_DEBUG": "0",
    }
    if database == "postgres":
        env["DATABASE_URL"] = _pg_url(args.postgres_url, f"guanxi_bench_{size}")
    elif database != "sqlite":
        raise SystemExit(f"Unknown database {database!r}: use sqlite or postgres.")
    return env


def _pg_url(url: str, name: str) -> str:
    base, _slash, _old = url.rpartition("/")
    return f"{base}/{name}"


def render(rows: list[dict[str, Any]], notes: list[str], args: argparse.Namespace) -> str:
    header = (
        "database",
        "customers",
        "measure",
        "p50 ms",
        "p95 ms",
        "SQL p50",
        "SQL p95",
        "queries",
        "n",
        "goal (p95) / note",
    )
    lines = [header]
    for row in rows:
        lines.append(
            (
                row["database"],
                f"{row['size']:,}",
                row["measure"],
                _ms(row.get("p50")),
                _ms(row.get("p95")),
                _ms(row.get("sql50")),
                _ms(row.get("sql95")),
                str(row.get("queries", "")),
                str(row.get("n", "")),
                row.get("goal", ""),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    right = {3, 4, 5, 6, 7, 8}
    out = [
        "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(line)
        ).rstrip()
        for line in lines
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    when = time.strftime("%Y-%m-%d %H:%M")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    title = (
        f"Guanxi bench {when}: vertical {args.vertical}, seed {args.seed}, {args.queries} requests per "
        f"measure, {os.cpu_count()} CPUs, load average {load:.1f} at the end"
    )
    return "\n".join([title, "", *out, *(["", "Notes:"] + [f"- {n}" for n in notes] if notes else [])])


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


# -- the child: load, then measure -----------------------------------------------------------------


def worker(args: argparse.Namespace, database: str, size: int) -> int:
    if database == "postgres":
        _ensure_pg_database(args.postgres_url, f"guanxi_bench_{size}", drop=not args.reuse)
    elif not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(os.environ["GUANXI_DATA_DIR"], f"guanxi.sqlite3{suffix}").unlink(missing_ok=True)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    bench = Bench(args, database, size)
    bench.load()
    bench.measure_all()
    print(json.dumps({"rows": bench.rows, "notes": bench.notes}))
    return 0


def _ensure_pg_database(url: str, name: str, *, drop: bool) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and drop:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class Bench:
    """One database at one size: the data, the users, the queries and the measures."""

    def __init__(self, args: argparse.Namespace, database: str, size: int) -> None:
        self.args, self.database, self.size = args, database, size
        self.rows: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.random = random.Random(args.seed)

    def log(self, message: str) -> None:
        print(f"[{self.database} {self.size:,}] {message}", file=sys.stderr, flush=True)

    # -- data --------------------------------------------------------------------------------------
    def load(self) -> None:
        from guanxi.core.context import origin
        from guanxi.customers.demo import demo_load, demo_setup
        from guanxi.customers.management.commands.demo import progress_printer
        from guanxi.customers.models import Customer

        with origin("cli"):
            demo_setup(vertical=self.args.vertical, customers=0)
            have = Customer.objects.count()
            if have >= self.size:
                self.log(f"reusing {have:,} customers")
                self.rows.append(self._row("load (reused)", n=have))
                return
            self.log(f"loading {self.size - have:,} customers")
            stats = demo_load(
                actor=None,
                vertical=self.args.vertical,
                customers=self.size - have,
                seed=self.args.seed,
                progress=progress_printer(lambda line: self.log(line.strip())),
            )
        rate = stats.customers / stats.seconds if stats.seconds else 0.0
        self.rows.append(
            self._row(
                "load",
                n=stats.customers,
                goal=f"{stats.seconds:.0f} s total, {rate:,.0f} customers/s, {stats.total_rows:,} rows",
            )
        )

    def _row(self, measure: str, **values: Any) -> dict[str, Any]:
        return {"database": self.database, "size": self.size, "measure": measure, **values}

    # -- measures ----------------------------------------------------------------------------------
    def measure_all(self) -> None:
        from django.conf import settings
        from django.test import Client

        from guanxi.users.models import User
        from guanxi.users.services import token_create

        settings.DEBUG = False
        admin = User.objects.get(username="admin")
        sales = User.objects.filter(role=User.Role.SALES, team__name="华南一组").order_by("id").first()
        if sales is None:
            raise SystemExit("No sales user in 华南一组: the demo organisation is missing.")
        self.warm_up()
        if self.args.only != "pages":
            self.measure_search(admin, sales, Client, token_create)
        if self.args.only != "search":
            self.measure_pages(admin, sales, Client)
        if self.args.only is None:
            self.measure_duplicates(admin, Client)

    def warm_up(self) -> None:
        """Read the database once so the figures are those of a server that has been up a while.

        Right after a load (or a restart) the rows are on disk only, and this machine's disk serves about
        1,000 random reads a second: the first pass of each measure would time the disk, not Guanxi.
        """
        from django.db import connection

        began = time.perf_counter()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
                cursor.execute(
                    "SELECT sum(pg_prewarm(c.oid::regclass, 'read')) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 't')"
                )
        else:
            with open(connection.settings_dict["NAME"], "rb") as database:
                while database.read(1 << 24):
                    pass
        self.log(f"warmed the database up in {time.perf_counter() - began:.1f} s")

    def measure_search(self, admin: Any, sales: Any, client_class: Any, token_create: Any) -> None:
        queries = self.queries()
        for user, label in ((admin, "admin"), (sales, f"sales {sales.username}")):
            _token, secret = token_create(actor=user, user=user, name="bench")
            api = client_class(HTTP_AUTHORIZATION=f"Bearer {secret}")
            for kind, values in queries.items():
                self.measure(
                    f"API search {kind}, {label}",
                    lambda q, api=api: api.get("/api/v1/customers", {"q": q}),
                    values,
                    goal="search",
                )

    def queries(self) -> dict[str, list[str]]:
        """Search terms taken from real generated customers (people with a phone)."""
        from guanxi.core.phone import phone_national_digits
        from guanxi.core.pinyin import name_pinyin
        from guanxi.customers.models import Asset, Customer, CustomerPhone

        n = self.args.queries
        top = Customer.objects.order_by("-id").values_list("id", flat=True).first() or 0
        ids = [self.random.randint(1, top) for _ in range(n * 3)]
        people = list(
            Customer.objects.filter(pk__in=ids, kind=Customer.Kind.PERSON).values_list("pk", "name")
        )
        phones = dict(
            CustomerPhone.objects.filter(customer_id__in=[p[0] for p in people], position=0).values_list(
                "customer_id", "number"
            )
        )
        plates = [
            p
            for p in Asset.objects.filter(customer_id__in=ids)
            .exclude(plate="")
            .values_list("plate", flat=True)
        ]
        initials, pinyin, names, digits = [], [], [], []
        for pk, name in people:
            full, short = name_pinyin(name)
            initials.append(short[: self.random.choice((2, 3))])
            pinyin.append(full)
            names.append(name[:2])
            if pk in phones:
                national = phone_national_digits(phones[pk])
                width = self.random.randint(4, 6)
                start = self.random.randint(0, len(national) - width)
                digits.append(national[start : start + width])
        terms = {
            "initials": initials,
            "full pinyin": pinyin,
            "Chinese 2 chars": names,
            "phone 4-6 digits": digits,
            "plate w/o province": [p[1:] for p in plates],
        }
        if self.args.vertical == "building":
            del terms["plate w/o province"]
            self.notes.append("building sites have no plates: no plate search measured")
        return {
            kind: (values * (n // max(len(values), 1) + 1))[:n] for kind, values in terms.items() if values
        }

    def measure(self, measure: str, request: Callable[[str], Any], values: list[str], *, goal: str) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        for value in values[:5]:  # warm the caches and the connection
            request(value)
        times, sql_times, counts, statuses = [], [], [], set()
        spent = [0.0]

        def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            began = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                spent[0] += time.perf_counter() - began

        for value in values:
            spent[0] = 0.0
            with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timed):
                began = time.perf_counter()
                response = request(value)
                times.append((time.perf_counter() - began) * 1000)
            sql_times.append(spent[0] * 1000)
            counts.append(len(captured.captured_queries))
            statuses.add(response.status_code)
        if statuses != {200}:
            self.notes.append(f"{self.database} {self.size:,} {measure}: HTTP status {sorted(statuses)}")
        p95 = _percentile(times, 0.95)
        limit = GOALS[goal]
        verdict = f"< {limit:.0f} ok" if p95 < limit else f"< {limit:.0f} MISSED"
        spread = f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)}-{max(counts)}"
        self.rows.append(
            self._row(
                measure,
                p50=statistics.median(times),
                p95=p95,
                sql50=statistics.median(sql_times),
                sql95=_percentile(sql_times, 0.95),
                queries=spread,
                n=len(times),
                goal=verdict,
            )
        )
        self.log(
            f"{measure}: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, "
            f"SQL p50 {statistics.median(sql_times):.1f} ms, {spread} queries"
        )

    def measure_pages(self, admin: Any, sales: Any, client_class: Any) -> None:
        from django.urls import NoReverseMatch, reverse

        from guanxi.customers.models import Customer

        web = client_class()
        web.force_login(admin)
        n = self.args.queries
        pages = {
            "list page 1, admin": {},
            "list page 20, admin": {"page": "20"},
            "list stage=loyal, admin": {"stage": "loyal"},
        }
        for measure, params in pages.items():
            self.measure(
                measure, lambda _v, params=params: web.get("/customers/", params), [""] * n, goal="page"
            )
        initials = self.queries()["initials"]
        self.measure(
            "list searched by initials, admin",
            lambda q: web.get("/customers/", {"q": q}),
            initials,
            goal="page",
        )
        seller = client_class()
        seller.force_login(sales)
        self.measure("list page 1, sales", lambda _v: seller.get("/customers/"), [""] * n, goal="page")
        try:
            reverse("customer-detail", args=[1])
        except NoReverseMatch:
            self.notes.append("the 360 page (URL customer-detail) does not resolve yet: not measured")
            return
        top = Customer.objects.order_by("-id").values_list("id", flat=True).first() or 1
        short = [
            str(pk)
            for pk in Customer.objects.filter(
                pk__in=[self.random.randint(1, top) for _ in range(n)]
            ).values_list("pk", flat=True)
        ]
        long_id = self.long_history(top)
        self.measure(
            "360 page, short history, admin",
            lambda pk: web.get(reverse("customer-detail", args=[int(pk)])),
            (short * (n // max(len(short), 1) + 1))[:n],
            goal="page",
        )
        self.measure(
            "360 page, 200 timeline entries, admin",
            lambda pk: web.get(reverse("customer-detail", args=[int(pk)])),
            [str(long_id)] * n,
            goal="page",
        )

    def long_history(self, top: int) -> int:
        """A customer with at least 200 timeline entries: notes added through the service."""
        from django.db.models import Count

        from guanxi.core.context import origin
        from guanxi.customers import services
        from guanxi.customers.models import Customer
        from guanxi.users.models import User

        found = (
            Customer.objects.annotate(n=Count("timeline"))
            .filter(pk__gt=top - 1000, n__gte=200)
            .values_list("pk", flat=True)
            .first()
        )
        if found:
            return int(found)
        customer = Customer.objects.get(
            pk=Customer.objects.filter(pk__gt=top - 1000).order_by("id").values_list("pk", flat=True)[0]
        )
        admin = User.objects.get(username="admin")
        with origin("cli"):
            for i in range(200):
                services.note_add(
                    actor=admin, customer=customer, body=f"Bench note {i + 1}: 电话回访，客户满意。"
                )
        return customer.pk

    def measure_duplicates(self, admin: Any, client_class: Any) -> None:
        """The importer's matcher for a batch of 1,000 rows (stored customers' own phones, emails, WeChat
        IDs and names, as a re-import would send them), and the finder page over the stored pairs."""
        from types import SimpleNamespace

        from guanxi.customers.duplicates import customer_duplicates_refresh, customer_matches_many
        from guanxi.customers.models import Customer, CustomerDuplicate, CustomerEmail, CustomerPhone

        top = Customer.objects.order_by("-id").values_list("id", flat=True).first() or 1
        batches = []
        for _ in range(min(20, self.args.queries)):
            ids = [self.random.randint(1, top) for _ in range(1000)]
            rows = list(Customer.objects.filter(pk__in=ids).values("pk", "name", "kind", "wechat_id"))
            pks = [r["pk"] for r in rows]
            phones = dict(
                CustomerPhone.objects.filter(customer_id__in=pks).values_list("customer_id", "number")
            )
            emails = dict(
                CustomerEmail.objects.filter(customer_id__in=pks).values_list("customer_id", "address")
            )
            batches.append(
                [
                    {
                        "name": r["name"],
                        "kind": r["kind"],
                        "phones": [phones[r["pk"]]] if r["pk"] in phones else [],
                        "emails": [emails[r["pk"]].upper()] if r["pk"] in emails else [],
                        "wechat_id": r["wechat_id"],
                    }
                    for r in rows
                ]
            )
        ok = SimpleNamespace(status_code=200)

        def match(index: str, likely: bool) -> Any:
            customer_matches_many(batches[int(index)], actor=None, likely=likely)
            return ok

        numbers = [str(i) for i in range(len(batches))]
        self.measure(
            "duplicates: match 1,000 import rows",
            lambda i: match(i, likely=False),
            numbers,
            goal="match",
        )
        self.measure(
            "duplicates: match 1,000 rows with name rules",
            lambda i: match(i, likely=True),
            numbers,
            goal="match",
        )
        if not CustomerDuplicate.objects.exists() and self.database == "sqlite" and self.size > 100_000:
            # SQLite's refresh at a million customers runs longer than 15 minutes (docs/duplicates.md):
            # a background job's work, not a benchmark's.
            self.notes.append(f"sqlite {self.size:,}: no stored duplicate pairs; finder page not measured")
            return
        if not CustomerDuplicate.objects.exists():
            began = time.perf_counter()
            found = customer_duplicates_refresh()
            self.notes.append(
                f"{self.database} {self.size:,}: duplicates refresh found {found:,} pairs "
                f"in {time.perf_counter() - began:.1f} s (background job)"
            )
        web = client_class()
        web.force_login(admin)
        self.measure(
            "duplicates: finder page, admin",
            lambda _v: web.get("/customers/duplicates"),
            [""] * min(20, self.args.queries),
            goal="page",
        )


if __name__ == "__main__":
    sys.exit(main())
