"""Importing orders: a POS export with its customers, lines, stores and mistakes; never booked twice."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from guanxi.catalog.models import Product, Store
from guanxi.core.errors import PermissionDenied
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.customers.services import customer_create
from guanxi.imports import services as imports
from guanxi.imports.cleaning import BadValue
from guanxi.imports.models import ImportJob
from guanxi.imports.orders import moment_cleaner
from guanxi.sales.models import Order
from guanxi.users.models import Team, User

HEADER = "交易时间,手机号码,会员卡号,客户姓名,实付金额,油品,加油量,门店,支付方式,流水号\n"
ROWS = [
    "2026-11-01 08:15,13800138000,,,300,,,城东站,微信,\n",  # row 2: a known customer by phone, an amount
    '2026/11/2 9:30,,M0007,,"￥1,234.50",,,,支付宝,\n',  # row 3: known by member number
    "2026年11月3日 10:00,13900001111,,新车主,88,,,城东站,现金,\n",  # row 4: unknown, named: created
    "2026-11-04,13900002222,,,66,,,,,\n",  # row 5: unknown and nameless
    "2026-11-05 18:00,13800138000,,,,92#汽油,30,城东站,会员卡,A100\n",  # rows 6–7: one order, two lines
    "2026-11-05 18:00,13800138000,,,,普通洗车,1,城东站,会员卡,A100\n",
    "昨天,13800138000,,,50,,,,,\n",  # row 8: not a date
    "2026-11-06,13800138000,,,,柴油,10,,,\n",  # row 9: no such product
    "2099-01-01,13800138000,,,50,,,,,\n",  # row 10: in the future
    "2026-11-07,13800138000,,,-20,,,,,\n",  # row 11: negative
    "2026-11-08,13800138000,,,20,,,西站,,\n",  # row 12: no such store
]


@pytest.fixture
def shop(manager: User) -> dict[str, Any]:
    return {
        "zhang": customer_create(actor=manager, name="张伟", phones=["13800138000"]),
        "li": customer_create(actor=manager, name="李娜", member_no="M0007"),
        "fuel": Product.objects.create(sku="F92", name="92#汽油", unit="升", price=Decimal("7.45")),
        "wash": Product.objects.create(sku="W01", name="普通洗车", unit="次", price=Decimal("30.00")),
        "east": Store.objects.create(code="S01", name="城东站"),
    }


def orders_file(rows: list[str] = ROWS) -> io.BytesIO:
    return io.BytesIO((HEADER + "".join(rows)).encode("gb18030"))


def run(actor: User, data: io.BytesIO, batch_size: int = 1000, **options: Any) -> ImportJob:
    job = imports.import_job_create(actor=actor, file=data, file_name="流水.csv", target="orders", **options)
    assert job.mapping == [
        "ordered_at",
        "customer_phone",
        "member_no",
        "customer_name",
        "amount",
        "product",
        "quantity",
        "store",
        "payment_method",
        "order_no",
    ]
    imports.import_job_start(actor=actor, job=job, queue=False)
    return imports.import_job_run(job_id=job.pk, batch_size=batch_size)


def test_a_pos_export_is_booked_and_every_row_accounted_for(manager: User, shop: dict[str, Any]) -> None:
    job = run(manager, orders_file())

    assert job.status == "done"
    assert (job.rows_done, job.created, job.skipped, job.rejected) == (11, 5, 0, 6)
    zhang, li = shop["zhang"], shop["li"]
    first = Order.objects.get(customer=zhang, total=Decimal("300.00"))
    assert first.ordered_at == timezone.make_aware(datetime(2026, 11, 1, 8, 15))
    assert (first.store, first.payment_method) == (shop["east"], "wechat_pay")
    assert Order.objects.get(customer=li).total == Decimal("1234.50")
    newcomer = Customer.objects.get(name="新车主")
    assert list(newcomer.phones.values_list("number", flat=True)) == ["+8613900001111"]
    assert newcomer.orders.get().total == Decimal("88.00")
    lines = Order.objects.get(external_ref="A100")
    assert lines.total == Decimal("253.50")  # 30 L × 7.45 + one car wash
    assert sorted(lines.lines.values_list("name", "quantity")) == [
        ("92#汽油", Decimal("30.000")),
        ("普通洗车", Decimal("1.000")),
    ]
    assert TimelineEntry.objects.filter(kind="order.created").count() == 4
    reasons = {r.row_number: (r.column, r.reason) for r in job.rejections.all()}
    assert set(reasons) == {5, 8, 9, 10, 11, 12}
    assert reasons[5][1].startswith("No customer has this phone, member number or customer code")
    assert reasons[8][0] == "交易时间"
    assert reasons[9] == ("油品", "There is no product “柴油”: add it under Products first.")
    assert reasons[10] == ("交易时间", "An order cannot be in the future.")
    assert reasons[11][0] == "实付金额"
    assert reasons[12] == ("门店", "There is no store “西站”.")


def test_importing_the_same_file_again_books_nothing_twice(manager: User, shop: dict[str, Any]) -> None:
    run(manager, orders_file())
    before = Order.objects.count()

    again = run(manager, orders_file())

    assert Order.objects.count() == before == 4
    assert (again.created, again.skipped, again.rejected) == (0, 5, 6)
    assert Customer.objects.filter(name="新车主").count() == 1


def test_an_order_number_booked_before_with_another_amount_is_refused(
    manager: User, shop: dict[str, Any]
) -> None:
    run(manager, orders_file(["2026-11-01 08:15,13800138000,,,300,,,,,B7\n"]))

    job = run(manager, orders_file(["2026-11-01 08:15,13800138000,,,310,,,,,B7\n"]))

    assert job.rejected == 1
    assert "imported before with another customer or amount" in job.rejections.get().reason
    assert Order.objects.get(external_ref="B7").total == Decimal("300.00")


def test_an_orders_lines_stay_together_across_the_batch_size(manager: User, shop: dict[str, Any]) -> None:
    rows = [f"2026-11-05 18:00,13800138000,,,,92#汽油,{n},城东站,,C1\n" for n in (10, 20, 30)]
    rows.append("2026-11-06 18:00,13800138000,,,,普通洗车,1,城东站,,C2\n")

    job = run(manager, orders_file(rows), batch_size=2)

    assert (job.created, job.rejected) == (4, 0)
    assert Order.objects.get(external_ref="C1").lines.count() == 3


def test_a_dry_run_reports_and_books_nothing(manager: User, shop: dict[str, Any]) -> None:
    job = run(manager, orders_file(), dry_run=True)

    assert (job.created, job.rejected) == (5, 6)
    assert not Order.objects.exists()
    assert not Customer.objects.filter(name="新车主").exists()


def test_customers_of_other_teams_are_not_booked_on(
    manager: User, make_user: Callable[..., User], team_b: Team, shop: dict[str, Any]
) -> None:
    other = make_user("manager", team=team_b)
    job = run(other, orders_file(ROWS[:1]))

    assert job.rejected == 1
    assert job.rejections.get().reason == "This customer belongs to another team or owner."
    assert not Order.objects.exists()


def test_only_those_who_may_import_orders_can(make_user: Callable[..., User]) -> None:
    with pytest.raises(PermissionDenied):
        imports.import_job_create(
            actor=make_user("sales"), file=orders_file(), file_name="x.csv", target="orders"
        )


def test_the_command_imports_orders_and_prints_json(
    tmp_path: Path, admin: User, shop: dict[str, Any]
) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(orders_file().getvalue())
    out = io.StringIO()

    call_command("import", "orders", str(path), "--json", stdout=out, stderr=io.StringIO())

    summary = json.loads(out.getvalue())
    assert (summary["rows"], summary["created"], summary["rejected"]) == (11, 5, 6)
    assert Order.objects.count() == 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01 08:15", datetime(2026, 11, 1, 8, 15)),
        ("2026/11/1 8:15:30", datetime(2026, 11, 1, 8, 15, 30)),
        ("2026年11月1日 8时15分", datetime(2026, 11, 1, 8, 15)),
        ("２０２６-１１-０１", datetime(2026, 11, 1)),
        ("20261101081500", datetime(2026, 11, 1, 8, 15)),
        ("46327.5", datetime(2026, 11, 1, 12, 0)),
    ],
)
def test_order_times_are_read_as_people_write_them(text: str, expected: datetime) -> None:
    clean = moment_cleaner(now=timezone.make_aware(datetime(2026, 12, 1)))
    assert clean(text) == timezone.make_aware(expected)


@pytest.mark.parametrize("text", ["2026-02-30", "1989-12-31", "下午三点"])
def test_impossible_order_times_are_refused(text: str) -> None:
    with pytest.raises(BadValue):
        moment_cleaner(now=timezone.make_aware(datetime(2026, 12, 1)))(text)
