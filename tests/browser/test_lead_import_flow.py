"""Importing leads in real Chromium: choose "Leads", upload a GBK sign-up sheet, start, read the summary."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSWORD
from huey.contrib.djhuey import HUEY

from guanxi.imports.models import ImportJob
from guanxi.leads.models import Lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FILE = (
    "客户姓名,手机号码,邮箱,微信号,城市,来源,意向产品,留言\n"
    "王芳,+86 139 0013 9000,,,深圳,官网,试驾,想周末试驾\n"
    "王芳,139 0013 9000,wangfang@example.com,,深圳,官网,,价格多少？\n"
    "赵敏,,,,北京,展会,,\n"
    "吴磊,,,wulei_88,,抖音,,\n"
)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture(autouse=True)
def tasks_inline() -> Iterator[None]:
    """The job runs in the Start request (see test_import_flow.py)."""
    was = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = was


def test_choose_leads_upload_start_and_read_the_summary(
    page: Any, live_server: Any, admin: Any, shot: Any, tmp_path: Path
) -> None:
    source = tmp_path / "展会名单.csv"
    source.write_bytes(FILE.encode("gbk"))
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    # When the user picks "Leads" as what the file holds and uploads it
    page.goto(f"{live_server.url}/imports/")
    page.check("input[name=target][value=leads]")
    shot("lead-import-upload-zh")
    page.set_input_files("input[name=file]", str(source))
    page.click("form button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/imports/*/")
    job = ImportJob.objects.get()
    assert job.target == "leads"

    # Then every column is guessed from its Chinese header
    assert [page.locator(f"select[name=col_{i}]").input_value() for i in range(8)] == [
        "name",
        "phone",
        "email",
        "wechat_id",
        "city",
        "source",
        "interest",
        "message",
    ]
    shot("lead-import-mapping-zh")
    page.click("form.imp-mapping button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/imports/{job.pk}/")

    # And the summary accounts for every row: two new, the repeat merged, the one without contact rejected
    page.locator(".badge.imp-done").wait_for()
    counts = page.locator(".imp-count .stat").all_inner_texts()
    assert counts == ["2", "0", "1", "0", "1"]  # created, updated, merged, skipped, rejected
    shot("lead-import-done-zh")
    rejected = page.locator("table.imp-rejected-table tbody").inner_text()
    assert "手机号码" in rejected and "4" in rejected  # the row of 赵敏, with the reason
    assert "客户已存在" not in page.locator(".imp-sub").inner_text()  # customers' duplicate mode: not here
    assert Lead.objects.get(name="王芳").email == "wangfang@example.com"
