"""Importing customers in real Chromium: upload a GBK file, correct the mapping, start, watch it finish,
download the rejected rows."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PASSWORD
from huey.contrib.djhuey import HUEY

from guanxi.customers.models import Customer
from guanxi.imports.models import ImportJob

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# 号码 is not a header the mapping guesses: the user maps it by hand.
FILE = (
    "客户姓名,号码,生日,城市,备注\n"
    "张伟,+86 138-0013-8000,1988年5月1日,深圳,老客户\n"
    "李娜,１３９ １２３４ ５６７８,1990/1/2,广州,\n"
    "王芳,12345,1990-01-02,北京,号码不对\n"
)


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture(autouse=True)
def tasks_inline() -> Iterator[None]:
    """No task consumer runs in the tests. The live server commits for real, so the service's on_commit
    callback fires in the server's request thread, and Huey's immediate mode then runs the job right
    there: the Start request answers when the job is done, and the page it redirects to shows the
    finished job. (The polling of a job still running is tested in imports/tests/test_views.py.)"""
    was = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = was


def sign_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_upload_map_start_and_download_rejected_rows(
    page: Any, live_server: Any, admin: Any, shot: Any, tmp_path: Path
) -> None:
    # Given a GBK file as a Chinese Excel saves it, with a messy phone and one bad row
    source = tmp_path / "老客户.csv"
    source.write_bytes(FILE.encode("gbk"))
    sign_in(page, live_server, "admin")

    # When the user goes from the customer list to Import and uploads it
    page.goto(f"{live_server.url}/customers/")
    page.click(".page-head a[href='/imports/']")
    page.wait_for_url(f"{live_server.url}/imports/")
    page.set_input_files("input[name=file]", str(source))
    page.click("form button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/imports/*/")
    job = ImportJob.objects.get()

    # Then the mapping step shows the guess and the file's rows, read in the right encoding
    assert page.locator("select[name=col_0]").input_value() == "name"
    assert page.locator("select[name=col_1]").input_value() == ""
    assert page.locator("select[name=col_2]").input_value() == "birthday"
    assert page.locator("table.imp-map tbody tr").count() == 3
    assert page.locator("table.imp-map tbody").inner_text().count("张伟") == 1
    assert "+86 138-0013-8000" in page.locator("table.imp-map tbody").inner_text()

    # When they map the phone column by hand and start
    page.select_option("select[name=col_1]", "phones")
    page.fill("input[name=save_as]", "老POS导出")
    page.screenshot(path="/tmp/import-mapping.png", full_page=True)
    shot("import-mapping-zh")
    page.click("form.imp-mapping button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/imports/{job.pk}/")

    # Then the progress bar reaches 100% and the summary accounts for every row
    page.locator(".imp-progress[aria-valuenow='100']").wait_for()
    page.locator(".badge.imp-done").wait_for()
    counts = page.locator(".imp-count .stat").all_inner_texts()
    assert counts == ["2", "0", "0", "0", "1"]  # created, updated, merged, skipped, rejected
    assert page.locator("table.imp-rejected-table tbody tr").count() == 1
    assert "12345" in page.locator("table.imp-rejected-table").inner_text()
    phones = Customer.objects.get(name="李娜").phones.values_list("number", flat=True)
    assert list(phones) == ["+8613912345678"]
    page.screenshot(path="/tmp/import-done.png", full_page=True)
    shot("import-done-zh")

    # And the rejected rows download as a file to fix and import again
    with page.expect_download() as download_info:
        page.click("a[href$='/rejected.csv']")
    download = download_info.value
    assert download.suggested_filename == "老客户-rejected.csv"
    saved = tmp_path / "rejected.csv"
    shutil.copy(download.path(), saved)
    rows = list(csv.reader(io.StringIO(saved.read_bytes().decode("utf-8-sig"))))
    assert rows[0][:5] == ["客户姓名", "号码", "生日", "城市", "备注"]
    assert len(rows) == 2
    assert rows[1][:6] == ["王芳", "12345", "1990-01-02", "北京", "号码不对", "4"]
    assert rows[1][6].startswith("号码")

    # And the list of imports shows the finished job
    page.goto(f"{live_server.url}/imports/")
    assert "老客户.csv" in page.locator(".imp-jobs table").inner_text()
    shot("import-list-zh")
