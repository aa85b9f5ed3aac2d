"""`guanxi export customers`: the same rows, scope and masking as the pages, to a file or stdout."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanxi.audit.models import AuditEvent
from guanxi.customers.models import Customer
from guanxi.customers.tests.test_export import as_dicts, read_csv, read_xlsx
from guanxi.users.models import Team, User

pytestmark = pytest.mark.django_db


def run(*args: str, stdout: Any = None) -> tuple[Any, str]:
    out, err = stdout or io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.StringIO()
    call_command("export", *args, stdout=out, stderr=err)
    return out, err.getvalue()


def stdout_bytes(out: Any) -> bytes:
    out.flush()
    return bytes(out.buffer.getvalue())


def test_csv_to_stdout_with_filters_in_chinese_by_default(
    admin: User, make_customer: Callable[..., Customer]
) -> None:
    # given
    make_customer(admin, name="张伟", stage="loyal", city="深圳市")
    make_customer(admin, name="王芳", stage="lead", city="深圳市")

    # when
    out, err = run("customers", "--as", "admin", "--stage", "loyal", "--city", "深圳市")

    # then
    rows = read_csv(stdout_bytes(out))
    assert rows[0][1] == "名称"
    assert [row[1] for row in rows[1:]] == ["张伟"]
    assert "1 customers written" in err
    event = AuditEvent.objects.get(action="customer.export")
    assert (event.via, event.actor, event.data["format"]) == ("cli", admin, "csv")
    assert event.data["filters"] == {"stage": "loyal", "city": "深圳市"}


def test_xlsx_to_a_file_as_a_masked_user_in_english(
    admin: User, make_user: Callable[..., User], make_customer: Callable[..., Customer], tmp_path: Path
) -> None:
    make_customer(admin, name="张伟", phones=["13800138000"])
    make_customer(admin, name="王芳", phones=["13900139000"])
    make_user("marketing", username="mkt")
    target = tmp_path / "out.xlsx"

    _out, err = run(
        "customers", "--format", "xlsx", "--as", "mkt", "--output", str(target), "--sort", "name",
        "--language", "en", "--q", "zw",
    )  # fmt: skip

    rows = as_dicts(read_xlsx(target.read_bytes()))
    assert [(row["Name"], row["Phones"]) for row in rows] == [("张伟", "138****8000")]
    assert f"1 customers written to {target}" in err


def test_custom_field_filters_and_scope(
    admin: User, make_user: Callable[..., User], make_customer: Callable[..., Customer], team_b: Team
) -> None:
    from guanxi.customers import services

    services.custom_field_create(actor=admin, key="fleet", label="车队", type="number")
    manager = make_user("manager", username="boss")
    make_customer(admin, name="本组5", team=manager.team, custom_fields={"fleet": 5})
    make_customer(admin, name="本组2", team=manager.team, custom_fields={"fleet": 2})
    make_customer(admin, name="别组5", team=team_b, custom_fields={"fleet": 5})

    out, _err = run("customers", "--as", "boss", "--cf", "fleet=5")

    assert [row[1] for row in read_csv(stdout_bytes(out))[1:]] == ["本组5"]


def test_refuses_a_user_without_the_permission_and_an_unknown_user(make_user: Callable[..., User]) -> None:
    make_user("sales", username="seller")

    with pytest.raises(CommandError, match="seller"):
        run("customers", "--as", "seller")
    with pytest.raises(CommandError):
        run("customers", "--as", "nobody")
    with pytest.raises(CommandError, match="KEY=VALUE"):
        run("customers", "--as", "seller", "--cf", "fleet")
    assert not AuditEvent.objects.filter(action="customer.export").exists()


def test_xlsx_is_not_written_to_a_terminal(admin: User) -> None:
    class Terminal(io.TextIOWrapper):
        def isatty(self) -> bool:
            return True

    with pytest.raises(CommandError, match="--output"):
        run("customers", "--format", "xlsx", "--as", "admin", stdout=Terminal(io.BytesIO()))


def test_the_command_writes_an_xlsx_of_any_size(
    admin: User, make_customer: Callable[..., Customer], tmp_path: Path, settings: Any
) -> None:
    settings.GUANXI_EXPORT_XLSX_MAX_ROWS = 0
    make_customer(admin, name="张伟")
    target = tmp_path / "all.xlsx"

    run("customers", "--format", "xlsx", "--as", "admin", "--output", str(target))

    assert [row[1] for row in read_xlsx(target.read_bytes())[1:]] == ["张伟"]
