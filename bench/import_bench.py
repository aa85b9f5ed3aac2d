"""Guanxi import benchmark: import messy customer files of N rows, beside the raw speed of the database.

For each size and format a file is generated once (streamed to disk, kept under --data-dir): Chinese names,
mobiles in many spellings, emails, WeChat IDs, birthdays, cities, tags and plates, about 3% of the rows the
same person again later in the file, 2% already stored (a preload file of those people is imported first,
not timed) and about 1% bad values (a phone, email or birthday that cannot be read). CSV is written in
GB18030, XLSX through openpyxl's write-only mode.

Each (database, size, format) runs in a child process with a fresh database (SQLite: a file under the data
dir; PostgreSQL: guanxi_importbench_<n>, created and dropped through psycopg) and imports the file with the
real service (guanxi.imports.services, the same as `guanxi import customers FILE`), validation, pinyin and
duplicate matching on. It reports rows/s and the child's peak resident memory during the import (VmHWM,
reset through /proc/self/clear_refs before the import; ru_maxrss where that is not possible).

In the same child, the ceiling: the same file read by the same reader and its cells loaded into a plain
table of text columns (PostgreSQL COPY; SQLite executemany in one transaction), and the import's share of it.

    .venv/bin/python bench/import_bench.py --rows 100000 --formats csv,xlsx --databases sqlite,postgres
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PROJECT = BENCH_DIR.parent
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_DATA = BENCH_DIR / "results" / "import"
GOALS = {"sqlite": 25_000, "postgres": 50_000}  # rows/s with validation, pinyin and dedup on
HEADER = [
    *("姓名", "手机", "邮箱", "微信", "性别", "生日", "会员号"),
    *("省份", "城市", "地址", "标签", "车牌", "备注"),
]
STORED_SHARE = 50  # every 50th person is stored before the import
REPEAT_SHARE = 0.03
BAD_SHARE = 0.01


def _args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="100000,1000000", help="Row counts, comma separated.")
    parser.add_argument("--formats", default="csv,xlsx", help="csv, xlsx or both.")
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite, postgres or both.")
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA), help="Where the files and SQLite go.")
    parser.add_argument("--postgres-url", default=os.environ.get("GUANXI_BENCH_POSTGRES", DEFAULT_PG))
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--batch", type=int, default=0, help="Rows per batch (default: the service's).")
    parser.add_argument("--worker", nargs=3, metavar=("DATABASE", "ROWS", "FORMAT"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


# -- the parent: make the files, one child per run, one table -------------------------------------------


def main() -> int:
    args = _args()
    if args.worker:
        database, rows, fmt = args.worker
        return worker(args, database, int(rows), fmt)
    data = Path(args.data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    notes: list[str] = []
    for size in [int(s) for s in _split(args.rows)]:
        for fmt in _split(args.formats):
            make_files(data, size, fmt, args.seed)
            for database in _split(args.databases):
                print(f"== {database}, {size:,} rows, {fmt}", file=sys.stderr, flush=True)
                env = {**os.environ, **_environment(args, data, database, size)}
                if database == "sqlite":
                    env.pop("DATABASE_URL", None)
                command = [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    *sys.argv[1:],
                    "--worker",
                    database,
                    str(size),
                    fmt,
                ]
                done = subprocess.run(
                    command, env=env, cwd=PROJECT, stdout=subprocess.PIPE, text=True, check=False
                )
                if done.returncode != 0:
                    notes.append(f"{database} {size:,} {fmt}: the run failed (exit {done.returncode}).")
                    continue
                results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    table = render(results, notes)
    print(table)
    (data / "latest.txt").write_text(table + "\n", encoding="utf-8")
    return 0


def _environment(args: argparse.Namespace, data: Path, database: str, size: int) -> dict[str, str]:
    data_dir = data / f"{database}-{size}"
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
    env = {
        "GUANXI_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "guanxi.config.settings",
        "GUANXI_LOG_LEVEL": "WARNING",
        "GUANXI_DEBUG": "0",
    }
    if database == "postgres":
        base, _slash, _old = args.postgres_url.rpartition("/")
        env["DATABASE_URL"] = f"{base}/{_pg_name(size)}"
    elif database != "sqlite":
        raise SystemExit(f"Unknown database {database!r}: use sqlite or postgres.")
    return env


def _pg_name(size: int) -> str:
    return f"guanxi_importbench_{size}"


def render(results: list[dict[str, Any]], notes: list[str]) -> str:
    header = (
        "database",
        "format",
        "rows",
        "import s",
        "rows/s",
        "peak MB",
        "worker MB",
        "CPU us/row",
        "worker us/row",
        "server us/row",
        "ceiling rows/s",
        "ratio",
        "created",
        "merged",
        "rejected",
        "goal rows/s",
    )
    lines = [header]
    for r in results:
        lines.append(
            (
                r["database"],
                r["format"],
                f"{r['rows']:,}",
                f"{r['seconds']:.1f}",
                f"{r['rate']:,.0f}",
                f"{r['peak_mb']:.0f}",
                f"{r['worker_mb']:.0f}",
                f"{r['cpu_us']:.0f}",
                f"{r['worker_us']:.0f}",
                "" if math.isnan(r.get("server_us", math.nan)) else f"{r['server_us']:.0f}",
                f"{r['ceiling']:,.0f}",
                f"{r['rate'] / r['ceiling']:.2f}" if r["ceiling"] else "",
                f"{r['created']:,}",
                f"{r['merged']:,}",
                f"{r['rejected']:,}",
                f"{GOALS[r['database']]:,}",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    left = {0, 1}
    out = [
        "  ".join(
            cell.ljust(widths[i]) if i in left else cell.rjust(widths[i]) for i, cell in enumerate(line)
        ).rstrip()
        for line in lines
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    title = (
        f"Guanxi import bench {time.strftime('%Y-%m-%d %H:%M')}: {os.cpu_count()} CPUs, load average "
        f"{load:.1f} at the end; peak MB is the importing process's peak RSS (VmHWM) during the import,\n"
        "worker MB the peak RSS of the process that prepares its batches; CPU us/row: the importing\n"
        "process's CPU time a row (SQLite's work included), worker us/row the worker's, server us/row the\n"
        "PostgreSQL server process's (read from /proc when the server runs on this machine)"
    )
    return "\n".join([title, "", *out, *(["", "Notes:"] + [f"- {n}" for n in notes] if notes else [])])


# -- the files ------------------------------------------------------------------------------------------


def make_files(data: Path, size: int, fmt: str, seed: int) -> tuple[Path, Path]:
    """The file of `size` rows and the preload file of the people stored before it (made once)."""
    path = data / f"customers-{size}.{fmt}"
    preload = data / f"stored-{size}.csv"
    if path.exists() and preload.exists():
        return path, preload
    print(f"-- writing {path.name}", file=sys.stderr, flush=True)
    part = path.with_suffix(f".part.{fmt}")
    stored: list[list[str]] = []
    rows = _rows(size, seed, stored)
    if fmt == "csv":
        with part.open("w", encoding="gb18030", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(HEADER)
            writer.writerows(rows)
    elif fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("客户")
        sheet.append(HEADER)
        for row in rows:
            sheet.append(row)
        book.save(part)
    else:
        raise SystemExit(f"Unknown format {fmt!r}: use csv or xlsx.")
    with preload.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(stored)
    part.rename(path)
    return path, preload


SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强海燕红梅玉兰子涵浩然欣怡梓轩雨桐宇航思远"
)
CITIES = [
    ("广东省", "广州市"),
    ("广东省", "深圳市"),
    ("上海市", "上海市"),
    ("北京市", "北京市"),
    ("浙江省", "杭州市"),
    ("江苏省", "南京市"),
    ("四川省", "成都市"),
    ("湖北省", "武汉市"),
]
PREFIXES = ["138", "139", "137", "136", "150", "151", "152", "158", "159", "186", "187", "188", "135", "177"]
TAGS = ["VIP", "老客户", "转介绍", "加油卡", "洗车", "保养", "团购", ""]
DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "gmail.com"]
PLATE_AREAS = "粤沪京浙苏川鄂"


def _mobile(r: random.Random) -> str:
    return r.choice(PREFIXES) + f"{r.randrange(10**8):08d}"


def _spell(r: random.Random, mobile: str) -> str:
    """A mobile as people type it."""
    pick = r.random()
    if pick < 0.5:
        return mobile
    if pick < 0.65:
        return f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
    if pick < 0.75:
        return f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"
    if pick < 0.85:
        return f"86{mobile}"
    if pick < 0.92:
        return mobile.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return f"(+86){mobile}"


def _person(r: random.Random, serial: int) -> list[str]:
    name = r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2, 2))))
    mobile = _mobile(r)
    phones = _spell(r, mobile)
    if r.random() < 0.1:
        phones += "；" + _spell(r, _mobile(r))
    province, city = r.choice(CITIES)
    year, month, day = r.randrange(1950, 2005), r.randrange(1, 13), r.randrange(1, 29)
    birthday = (
        r.choice((f"{year}-{month:02d}-{day:02d}", f"{year}/{month}/{day}", f"{year}年{month}月{day}日"))
        if r.random() < 0.6
        else ""
    )
    plate = f"{r.choice(PLATE_AREAS)}A{r.randrange(10**5):05d}" if r.random() < 0.3 else ""
    return [
        name,
        phones,
        f"user{serial}@{r.choice(DOMAINS)}" if r.random() < 0.3 else "",
        f"wx_{serial:x}{r.randrange(1000)}" if r.random() < 0.2 else "",
        r.choice(("男", "女", "")),
        birthday,
        f"M{serial:09d}" if r.random() < 0.4 else "",
        province,
        city,
        f"{city}{r.choice('东西南北')}路{r.randrange(1, 999)}号" if r.random() < 0.5 else "",
        "，".join(t for t in {r.choice(TAGS), r.choice(TAGS)} if t),
        plate,
        "从旧系统导入" if r.random() < 0.05 else "",
    ]


def _spoil(r: random.Random, row: list[str]) -> None:
    column = r.choice((1, 2, 5))
    row[column] = {1: "12345", 2: "nobody@", 5: "1985-13-45"}[column]


def _rows(size: int, seed: int, stored: list[list[str]]) -> Iterator[list[str]]:
    r = random.Random(seed)
    recent: list[list[str]] = []
    for serial in range(size):
        if recent and r.random() < REPEAT_SHARE:
            # The same person again: the same mobile, spelt another way, maybe a new value.
            again = list(r.choice(recent))
            again[1] = _spell(r, _digits(again[1])) if _digits(again[1]) else again[1]
            again[4] = again[4] or r.choice(("男", "女"))
            again[6] = ""  # a second member number would be refused as taken
            yield again
            continue
        row = _person(r, serial)
        if serial % STORED_SHARE == 0:
            stored.append(list(row))
            row[0] = row[0] if r.random() < 0.7 else row[0] + "先生"
        if r.random() < BAD_SHARE:
            _spoil(r, row)
        elif len(recent) < 5000:
            recent.append(row)
        else:
            recent[r.randrange(5000)] = row
        yield row


def _digits(spelt: str) -> str:
    first = spelt.split("；")[0].translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    digits = "".join(ch for ch in first if ch.isdigit())
    return digits[-11:] if len(digits) >= 11 else ""


# -- the child: a fresh database, the preload, the timed import, the ceiling ----------------------------


def worker(args: argparse.Namespace, database: str, size: int, fmt: str) -> int:
    data = Path(args.data_dir).resolve()
    if database == "postgres":
        _pg_database(args.postgres_url, _pg_name(size), create=True)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(os.environ["GUANXI_DATA_DIR"], f"guanxi.sqlite3{suffix}").unlink(missing_ok=True)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from guanxi.core.context import origin
    from guanxi.imports import services
    from guanxi.users.models import User

    call_command("migrate", verbosity=0, interactive=False)
    actor = User.objects.create_user(username="importer", password="x", role=User.Role.ADMIN)
    path, preload = data / f"customers-{size}.{fmt}", data / f"stored-{size}.csv"

    def run(file: Path) -> Any:
        with origin("cli"), file.open("rb") as handle:
            job = services.import_job_create(actor=actor, file=handle, file_name=file.name)
            services.import_job_start(actor=actor, job=job, queue=False)
            options = {"batch_size": args.batch} if args.batch else {}
            return services.import_job_run(job_id=job.pk, **options)

    run(preload)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    reset = _reset_peak()
    server = _server_cpu()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time()
    began = time.perf_counter()
    job = run(path)
    seconds = time.perf_counter() - began
    cpu = time.process_time() - cpu
    peak = _peak_mb(reset)
    worker = resource.getrusage(resource.RUSAGE_CHILDREN)
    server = _server_cpu() - server if server >= 0 else math.nan
    worker_cpu = (worker.ru_utime + worker.ru_stime) - (children.ru_utime + children.ru_stime)
    ceiling = _ceiling(path)
    if database == "postgres":
        connection.close()
        _pg_database(args.postgres_url, _pg_name(size), create=False)
    result = {
        "database": database,
        "format": fmt,
        "rows": size,
        "seconds": seconds,
        "rate": size / seconds,
        "peak_mb": peak,
        # The worker process that prepares the batches (imports.pipeline): its peak resident set and CPU.
        "worker_mb": worker.ru_maxrss / 1024 if worker_cpu else 0.0,
        "cpu_us": cpu / size * 1e6,
        "worker_us": worker_cpu / size * 1e6,
        "server_us": server / size * 1e6,
        "ceiling": ceiling,
        **{key: getattr(job, key) for key in ("created", "merged", "updated", "skipped", "rejected")},
    }
    print(json.dumps(result))
    return 0


def _server_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL server process so far; -1 when it cannot be read
    (SQLite, or a server on another machine)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return -1.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_mb(reset: bool) -> float:
    if reset:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ceiling(path: Path) -> float:
    """Rows/s of reading the file with the importer's reader and loading its cells into a plain table."""
    from django.db import connection, transaction

    from guanxi.imports.readers import open_table

    columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
    names = ", ".join(f"c{i}" for i in range(len(HEADER)))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_plain")
        cursor.execute(f"CREATE TABLE bench_plain ({columns})")
    began = time.perf_counter()
    count = 0
    with (
        open_table(str(path), filename=path.name) as reader,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        rows = (
            tuple("" if c is None else str(c) for c in cells[: len(HEADER)])
            + ("",) * (len(HEADER) - len(cells))
            for _number, cells in reader.rows()
        )
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY bench_plain ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            marks = ", ".join(["%s"] * len(HEADER))
            chunk: list[tuple[str, ...]] = []
            for row in rows:
                chunk.append(row)
                if len(chunk) >= 10_000:
                    cursor.executemany(f"INSERT INTO bench_plain ({names}) VALUES ({marks})", chunk)
                    count += len(chunk)
                    chunk = []
            cursor.executemany(f"INSERT INTO bench_plain ({names}) VALUES ({marks})", chunk)
            count += len(chunk)
    return count / (time.perf_counter() - began)


def _pg_database(url: str, name: str, *, create: bool) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")


if __name__ == "__main__":
    raise SystemExit(main())
