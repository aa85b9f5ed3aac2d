"""`guanxi import customers FILE`, the rejected-rows file, and an import killed halfway."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from openpyxl import Workbook

from guanxi.customers.models import Customer
from guanxi.imports import services
from guanxi.imports.models import ImportJob
from guanxi.imports.selectors import rejected_rows_csv
from guanxi.users.models import User

PROJECT = Path(__file__).resolve().parents[4]
ROWS = 6000  # in the killed import


def test_the_command_imports_an_xlsx_with_numeric_phones_and_reports(tmp_path: Path, admin: User) -> None:
    # given a workbook as Excel writes it: phones stored as numbers, a real date, a bad row
    book = Workbook()
    sheet = book.active
    sheet.append(["客户姓名", "手机", "出生日期", "标签"])
    sheet.append(["张伟", 13800138000, "1988-05-01", "VIP"])
    sheet.append(["李娜", 13912345678.0, None, "VIP，新客"])
    sheet.append(["王芳", 12345, None, None])
    path = tmp_path / "客户.xlsx"
    book.save(path)
    rejected = tmp_path / "rejected.csv"
    out, err = io.StringIO(), io.StringIO()

    # when
    call_command("import", "customers", str(path), "--rejected", str(rejected), stdout=out, stderr=err)

    # then
    assert (
        "Imported 3 rows of 客户.xlsx: 2 created, 0 updated, 0 merged, 0 skipped, 1 rejected."
        in out.getvalue()
    )
    assert "100%" in err.getvalue()
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["张伟", "李娜"]
    assert Customer.objects.get(name="李娜").phones.get().number == "+8613912345678"
    rows = list(csv.reader(io.StringIO(rejected.read_text(encoding="utf-8-sig"))))
    assert rows[0][:4] == ["客户姓名", "手机", "出生日期", "标签"]
    assert rows[1][:2] == ["王芳", "12345"]
    assert rows[1][4] == "4"


def test_the_command_prints_json_and_a_dry_run_writes_nothing(tmp_path: Path, admin: User) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes("姓名,手机\n张伟,13800138000\n李娜,1\n".encode("gbk"))
    out = io.StringIO()
    call_command("import", "customers", str(path), "--dry-run", "--json", stdout=out, stderr=io.StringIO())
    data = json.loads(out.getvalue())
    assert (data["dry_run"], data["created"], data["rejected"]) == (True, 1, 1)
    assert data["rejections"][0]["row"] == 3
    assert Customer.objects.count() == 0


def test_the_command_refuses_what_it_cannot_do(tmp_path: Path, make_user: Callable[..., User]) -> None:
    with pytest.raises(CommandError, match="No file"):
        call_command("import", "customers", str(tmp_path / "missing.csv"))
    path = tmp_path / "a.csv"
    path.write_text("姓名\n张伟\n", encoding="utf-8")
    make_user("sales", username="li")
    with pytest.raises(CommandError, match=r"not allowed|permission"):
        call_command(
            "import", "customers", str(path), "--as", "li", stdout=io.StringIO(), stderr=io.StringIO()
        )
    assert ImportJob.objects.count() == 0


def test_rejected_rows_are_grouped_by_row_with_every_reason(admin: User) -> None:
    data = io.BytesIO("姓名,手机,生日,备注\n,+86 12345,1990-13-01,=1+1\n".encode())
    job = services.import_job_create(actor=admin, file=data, file_name="a.csv")
    services.import_job_start(actor=admin, job=job)
    job = services.import_job_run(job_id=job.pk)
    [header, row] = list(csv.reader(io.StringIO("".join(rejected_rows_csv(job)).lstrip("\ufeff"))))
    assert header[:4] == ["姓名", "手机", "生日", "备注"]
    # written so no spreadsheet runs a formula; read back as it was when imported again
    assert row[:4] == ["", "'+86 12345", "1990-13-01", "'=1+1"] and row[4] == "2"
    assert row[5].count(";") == 2  # name required, bad phone, bad date


def test_a_fixed_rejected_rows_file_imports(admin: User) -> None:
    data = io.BytesIO("姓名,手机\n,+86 138 0013 8000\n".encode())
    job = services.import_job_create(actor=admin, file=data, file_name="a.csv")
    services.import_job_start(actor=admin, job=job)
    rejected = "".join(rejected_rows_csv(services.import_job_run(job_id=job.pk)))
    fixed = rejected.replace("\n,'+86", "\n张伟,'+86").encode("utf-8")
    again = services.import_job_create(actor=admin, file=io.BytesIO(fixed), file_name="fixed.csv")
    assert again.mapping[:2] == ["name", "phones"]
    services.import_job_start(actor=admin, job=again)
    assert services.import_job_run(job_id=again.pk).created == 1
    assert Customer.objects.get().phones.get().number == "+8613800138000"


# A real process, killed with SIGKILL in the middle of a large import, then run again.


def _guanxi(env: dict[str, str], *args: str, **options: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "guanxi.config.cli", *args],
        env=env,
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **options,
    )


@pytest.fixture
def separate_database(tmp_path: Path) -> Iterator[tuple[dict[str, str], Callable[[str], tuple[Any, ...]]]]:
    """A database of its own (the test database is in this process's transaction), on the suite's
    engine: (environment for `guanxi` processes, a function that runs one SELECT and returns its row)."""
    env = {**os.environ, "GUANXI_DATA_DIR": str(tmp_path / "var")}
    if connection.vendor == "sqlite":
        env.pop("DATABASE_URL", None)
        path = tmp_path / "var" / "guanxi.sqlite3"

        def select(sql: str) -> tuple[Any, ...]:
            with sqlite3.connect(path, timeout=30) as database:
                return tuple(database.execute(sql).fetchone())

        yield env, select
        return
    import psycopg

    server = {**connection.settings_dict, "NAME": "postgres"}
    url = "postgresql://{USER}@{HOST}:{PORT}/".format(
        **{k: server[k] or "" for k in ("USER", "HOST", "PORT")}
    )
    name = f"guanxi_kill_test_{os.getpid()}"
    with psycopg.connect(url + "postgres", autocommit=True) as admin_connection:
        admin_connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin_connection.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    env["DATABASE_URL"] = url.replace("postgresql://", "postgres://") + name

    def select_pg(sql: str) -> tuple[Any, ...]:
        with psycopg.connect(url + name) as database:
            row = database.execute(sql).fetchone()
            assert row is not None
            return tuple(row)

    yield env, select_pg
    with psycopg.connect(url + "postgres", autocommit=True) as admin_connection:
        admin_connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_an_import_killed_halfway_leaves_whole_batches_and_resumes(
    tmp_path: Path, separate_database: tuple[dict[str, str], Callable[[str], tuple[Any, ...]]]
) -> None:
    env, select = separate_database
    assert _guanxi(env, "migrate", "--no-input").wait(180) == 0
    made = _guanxi(env, "createsuperuser", "--no-input", "--username", "admin", "--email", "a@b.cn")
    assert made.wait(60) == 0
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as file:
        file.write("姓名,手机,标签\n")
        for i in range(ROWS):
            file.write(f"客户{i},139{i:08d},批量\n")

    # when: killed while it writes
    process = _guanxi(env, "import", "customers", str(path), "--batch", "200")
    ends = time.monotonic() + 180
    while time.monotonic() < ends and process.poll() is None:
        if select("SELECT COALESCE(MAX(rows_done), 0) FROM imports_importjob")[0] >= 1000:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(30)

    # then: every committed batch is whole, and the resume point counts exactly those rows
    customers, phones, links, done = select(
        "SELECT (SELECT COUNT(*) FROM customers_customer), (SELECT COUNT(*) FROM customers_customerphone),"
        " (SELECT COUNT(*) FROM customers_customer_tags), (SELECT MAX(rows_done) FROM imports_importjob)"
    )
    assert 0 < customers < ROWS
    assert customers == phones == links == done
    assert done % 200 == 0

    # and: running the file again finishes it without making anyone twice
    again = _guanxi(env, "import", "customers", str(path))
    assert again.wait(600) == 0, again.stderr.read() if again.stderr else ""
    assert select("SELECT COUNT(*), COUNT(DISTINCT name) FROM customers_customer") == (ROWS, ROWS)
