"""A workbook of several sheets in real Chromium: the import opens on the first sheet that holds rows, the
user switches sheet, applies a saved template by hand, deletes another, and imports."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import PASSWORD
from huey.contrib.djhuey import HUEY
from openpyxl.styles import Font

from guanxi.customers.models import Customer
from guanxi.imports.models import ImportJob, ImportTemplate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture(autouse=True)
def tasks_inline() -> Iterator[None]:
    """The started job runs in the live server's request (see test_import_flow.py)."""
    was = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = was


def workbook(path: Path) -> None:
    """A cover sheet with a styled title cell and no text, the customers, and the stores' contacts under
    headers no guess maps whole."""
    book = openpyxl.Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "说明"
    cover["A1"].font = Font(bold=True, size=16)
    customers = book.create_sheet("客户")
    customers.append(["姓名", "手机", "城市"])
    customers.append(["张伟", 13800138000, "深圳"])
    contacts = book.create_sheet("门店联系人")
    contacts.append(["联系人", "号码", "门店", "备注"])
    contacts.append(["王芳", 13700137000, "天河店", "店长"])
    contacts.append(["赵磊", "139 1234 5678", "越秀店", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())


def sign_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_switch_sheet_apply_a_template_delete_another_and_import(
    page: Any, live_server: Any, admin: Any, shot: Any, tmp_path: Path
) -> None:
    # Given a workbook whose first sheet is an empty cover, and two saved templates, the newer one poor
    source = tmp_path / "门店资料.xlsx"
    workbook(source)
    stores = ImportTemplate.objects.create(
        name="门店联系人表", mapping={"联系人": "name", "号码": "phones", "门店": "notes"}, created_by=admin
    )
    old = ImportTemplate.objects.create(name="旧模板", mapping={"号码": "phones"}, created_by=admin)
    sign_in(page, live_server, "admin")

    # When the user uploads it without naming a sheet
    page.goto(f"{live_server.url}/imports/")
    page.set_input_files("input[name=file]", str(source))
    page.click("form button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/imports/*/")
    job = ImportJob.objects.get()

    # Then the mapping step reads 客户, the first sheet with rows, and lists every sheet
    sheet = page.locator("select[name=sheet]")
    assert sheet.input_value() == "客户"
    options = sheet.locator("option")
    assert [options.nth(n).get_attribute("value") for n in range(options.count())] == [
        "说明",
        "客户",
        "门店联系人",
    ]
    assert options.nth(0).is_disabled() and not options.nth(2).is_disabled()
    assert page.locator("th.imp-header").all_inner_texts() == ["姓名", "手机", "城市"]
    shot("import-sheets-first-zh")

    # When they switch to the stores' contacts
    sheet.select_option("门店联系人")
    page.wait_for_url(f"{live_server.url}/imports/{job.pk}/")
    page.locator("th.imp-header[title='联系人']").wait_for()

    # Then the header and rows are that sheet's, mapped afresh as a new file is: by the newest template
    # that maps as many columns as the guess (which maps only 备注), here the old one
    assert page.locator("select[name=sheet]").input_value() == "门店联系人"
    assert page.locator("th.imp-header").all_inner_texts() == ["联系人", "号码", "门店", "备注"]
    assert "天河店" in page.locator("table.imp-map tbody").inner_text()
    assert [page.locator(f"select[name=col_{n}]").input_value() for n in range(4)] == ["", "phones", "", ""]
    assert page.locator("select[name=template]").input_value() == str(old.pk)

    # When they choose the saved template for this file by hand
    choice = page.locator("select[name=template]")
    labels = choice.locator("option").all_inner_texts()[1:]  # best fit first: 3 of 4 columns, then 1
    assert [label.split(":")[0].split("：")[0] for label in labels] == ["门店联系人表", "旧模板"]
    assert "3" in labels[0] and "4" in labels[0] and "1" in labels[1]
    choice.select_option(str(stores.pk))
    page.locator(".imp-template-note.message").wait_for()

    # Then the columns' selects show its mapping, and nothing is saved yet
    assert [page.locator(f"select[name=col_{n}]").input_value() for n in range(4)] == [
        "name",
        "phones",
        "notes",
        "",
    ]
    assert page.url.endswith(f"?template={stores.pk}")
    job.refresh_from_db()
    assert job.mapping == [None, "phones", None, None]
    shot("import-sheets-template-zh")

    # When they pick the old template and delete it, confirming
    page.locator("select[name=template]").select_option(str(old.pk))
    page.locator(f"input[name=template][value='{old.pk}']").wait_for(state="attached")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(".imp-template-note button.danger")
    page.wait_for_url(f"{live_server.url}/imports/{job.pk}/")
    page.locator(".messages .message").wait_for()

    # Then it is gone from the list, and the other stays
    assert list(ImportTemplate.objects.values_list("name", flat=True)) == ["门店联系人表"]
    assert [t for t in page.locator("select[name=template] option").all_inner_texts() if "旧模板" in t] == []

    # When they apply the stores' template again and start
    page.locator("select[name=template]").select_option(str(stores.pk))
    page.locator(".imp-template-note.message").wait_for()
    page.click("form.imp-mapping button[type=submit].primary")
    page.locator(".badge.imp-done").wait_for()

    # Then the contacts of the chosen sheet are imported
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["王芳", "赵磊"]
    assert Customer.objects.get(name="赵磊").phones.get().number == "+8613912345678"
    shot("import-sheets-done-zh")
