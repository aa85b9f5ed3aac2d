"""The two-process import (a worker prepares the batches, the main process matches and writes) and the
importer's own duplicate lookup: the same results as the one-process import and customers.duplicates."""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
from django.db import transaction

from guanxi.audit.models import AuditEvent
from guanxi.customers import selectors, services
from guanxi.customers.duplicates import customer_matches_many
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.customers.services.bulk import ImportRow
from guanxi.imports import pipeline
from guanxi.imports import services as imports
from guanxi.imports.matching import same_customers
from guanxi.imports.models import ImportJob
from guanxi.users.models import User

COUNTS = ("rows_done", "created", "merged", "updated", "skipped", "rejected")
HEADER = "姓名,手机,邮箱,微信,生日,标签,车牌号,会员号\n"


def messy_file(rows: int = 120, seed: int = 3) -> bytes:
    """Rows with repeats within a batch and across batches, bad values and stored people."""
    r = random.Random(seed)
    lines = []
    for i in range(rows):
        n = r.randrange(rows // 2)  # about half the rows are someone seen before
        phone = f"139{n:08d}"
        spelt = r.choice((phone, f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}", f"86{phone}"))
        email = f"u{n}@Example.com" if n % 3 == 0 else ""
        wechat = f"wx{n}" if n % 4 == 0 else ""
        birthday = r.choice(("1990-01-02", "1990年1月2日", "1985-13-45", ""))
        bad_phone = "12345" if i % 17 == 0 else spelt
        member = f"M{n}" if n % 5 == 0 else ""
        lines.append(f"客户{n},{bad_phone},{email},{wechat},{birthday},VIP、老客户,粤B{n:05d},{member}\n")
    return (HEADER + "".join(lines)).encode("utf-8")


def _run(actor: User, data: bytes, *, parallel: bool, batch_size: int = 7) -> ImportJob:
    job = imports.import_job_create(actor=actor, file=io.BytesIO(data), file_name="客户.csv")
    imports.import_job_start(actor=actor, job=job, queue=False)
    return imports.import_job_run(job_id=job.pk, batch_size=batch_size, parallel=parallel)


def _outcome(job: ImportJob) -> dict[str, Any]:
    customers = Customer.objects.order_by("name")
    return {
        "counts": [
            getattr(job, k) for k in ("rows_done", "created", "merged", "updated", "skipped", "rejected")
        ],
        "rejections": sorted(job.rejections.values_list("row_number", "column", "value", "reason", "cells")),
        "customers": [
            (
                c.name,
                c.birthday,
                c.member_no,
                c.wechat_id,
                c.search_text,
                c.search_keys,
                sorted(c.phones.values_list("number", flat=True)),
                sorted(c.emails.values_list("address", flat=True)),
                sorted(c.tags.values_list("name", flat=True)),
                sorted(c.assets.values_list("plate", flat=True)),
            )
            for c in customers
        ],
        "events": AuditEvent.objects.filter(action__startswith="customer.").count(),
        "entries": TimelineEntry.objects.count(),
    }


def test_the_worker_process_imports_exactly_what_one_process_does(manager: User) -> None:
    services.customer_create(actor=manager, name="老客户", phones=["13900000004"], wechat_id="wx8")
    data = messy_file()
    with transaction.atomic():
        alone = _outcome(_run(manager, data, parallel=False))
        transaction.set_rollback(True)

    job = _run(manager, data, parallel=True)

    assert job.status == "done"
    assert _outcome(job) == alone
    counts = alone["counts"]
    assert counts[0] == 120 and sum(counts[1:]) == 120
    assert counts[1] and counts[2] and counts[5]
    assert selectors.customer_list(actor=manager, q="kh").exists()


def test_a_failing_worker_fails_the_job_and_keeps_the_committed_batches(
    manager: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pipeline.prepare_batch
    calls = 0

    def second_fails(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ValueError("the disk went away")
        return real(*args)

    monkeypatch.setattr(pipeline, "prepare_batch", second_fails)  # the forked worker has it too

    with pytest.raises(ValueError, match="the disk went away"):
        _run(manager, messy_file(30), parallel=True, batch_size=10)

    job = ImportJob.objects.get()
    assert (job.status, job.rows_done) == ("failed", 10)
    assert "the disk went away" in job.error
    assert Customer.objects.count() == job.created > 0


def test_a_daemonic_process_prepares_the_batches_itself(
    manager: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A huey process worker is daemonic, and multiprocessing lets no daemonic process have children."""

    class Daemonic:
        daemon = True

    def no_pipe() -> tuple[int, int]:
        raise AssertionError("a worker process was started")

    monkeypatch.setattr(pipeline.multiprocessing, "current_process", Daemonic)
    monkeypatch.setattr(pipeline.os, "pipe", no_pipe)

    job = _run(manager, messy_file(30), parallel=True)

    assert (job.status, job.rows_done, job.created) == ("done", 30, Customer.objects.count())


def test_the_importers_lookup_agrees_with_the_duplicate_rules(manager: User) -> None:
    a = services.customer_create(actor=manager, name="张伟", phones=["13800138000"], emails=["ZW@qq.com"])
    b = services.customer_create(actor=manager, name="李娜", phones=["13900139000"], wechat_id="lina88")
    c = services.customer_create(actor=manager, name="王芳", emails=["wf@163.com"], wechat_id="wangfang")
    rows = [
        ImportRow(2, {"name": "x"}, phones=["+8613800138000"]),
        ImportRow(3, {"name": "x"}, emails=["zw@QQ.com"]),
        ImportRow(4, {"name": "x", "wechat_id": "lina88"}),
        ImportRow(5, {"name": "x"}, phones=["+8613900139000"], emails=["wf@163.com"]),  # two people
        ImportRow(6, {"name": "x", "wechat_id": "wangfang"}, emails=["wf@163.com"]),
        ImportRow(7, {"name": "x"}, phones=["+8613700000000"], emails=["nobody@qq.com"]),
        ImportRow(8, {"name": "x"}),
    ]

    found = same_customers(rows)

    expected = [
        matches[0].customer_id if matches and matches[0].same else None
        for matches in customer_matches_many(
            [
                {"phones": r.phones, "emails": r.emails, "wechat_id": r.fields.get("wechat_id", "")}
                for r in rows
            ],
            actor=None,
            likely=False,
        )
    ]
    assert found == expected == [a.pk, a.pk, b.pk, b.pk, c.pk, None, None]
