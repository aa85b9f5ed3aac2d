"""Workbooks of several sheets: listing them cheaply, reading the first that holds anything, choosing
another on the mapping page (while the job is a draft), `--sheet` on the command line and in the API."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from conftest import bearer
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font

from guanxi.audit.models import AuditEvent
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.customers.models import Customer
from guanxi.imports import services, services_sheet
from guanxi.imports.models import ImportJob, ImportTemplate
from guanxi.imports.readers import FileUnreadable
from guanxi.imports.readers.xlsx_sheets import XlsxSheet, xlsx_sheet_default, xlsx_sheets
from guanxi.users.models import User

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def workbook(*, cover: bool = True) -> bytes:
    """A workbook as shops send them: an empty cover sheet (a bold title cell with no text), the
    customers, the stores' contacts with other headers, a chart, and a hidden sheet of old rows."""
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    if cover:
        first.title = "说明"
        first["B2"].font = Font(bold=True)  # styled, but holds nothing
        customers = book.create_sheet("客户")
    else:
        first.title = "客户"
        customers = first
    customers.append(["姓名", "手机", "城市"])
    customers.append(["张伟", 13800138000, "深圳"])
    customers.append(["李娜", 13912345678, "广州"])
    stores = book.create_sheet("门店联系人")
    stores.append(["联系人", "联系电话", "门店", "备注"])
    stores.append(["王芳", "13700137000", "天河店", "店长"])
    chart = book.create_chartsheet("图表")
    bars = BarChart()
    bars.add_data(Reference(customers, min_col=2, min_row=1, max_row=3))
    chart.add_chart(bars)
    old = book.create_sheet("旧数据")
    old.sheet_state = "hidden"
    old.append(["姓名", "手机"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload_job(actor: User, content: bytes | None = None, **kwargs: Any) -> ImportJob:
    return services_sheet.import_job_upload(
        actor=actor, file=io.BytesIO(content or workbook()), file_name="客户资料.xlsx", **kwargs
    )


# --- listing the sheets -------------------------------------------------------------------------------


def test_the_sheets_are_the_readers_in_tab_order_with_what_each_holds() -> None:
    content = workbook()
    sheets = xlsx_sheets(io.BytesIO(content))

    assert sheets == [
        XlsxSheet("说明", filled=False),
        XlsxSheet("客户", filled=True),
        XlsxSheet("门店联系人", filled=True),
        XlsxSheet("旧数据", filled=True, hidden=True),
    ]
    # the chart sheet left out, as openpyxl's worksheets (which the reader opens) leave it out
    opened = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    assert [s.name for s in sheets] == [ws.title for ws in opened.worksheets]


def test_listing_reads_neither_the_shared_strings_nor_a_whole_sheet(monkeypatch: Any) -> None:
    book = openpyxl.Workbook(write_only=True)
    big = book.create_sheet("客户")
    for n in range(20_000):
        big.append([f"客户{n}", f"1380013{n:04d}", f"城市{n % 300}", "x" * 40])
    buffer = io.BytesIO()
    book.save(buffer)
    read: dict[str, int] = {}
    real_open = zipfile.ZipFile.open

    def counting_open(self: zipfile.ZipFile, name: Any, *args: Any, **kwargs: Any) -> Any:
        member = real_open(self, name, *args, **kwargs)
        real_read = member.read
        key = name if isinstance(name, str) else name.filename

        def read_counted(n: int = -1) -> bytes:
            data = real_read(n)
            read[key] = read.get(key, 0) + len(data)
            return data

        member.read = read_counted  # type: ignore[method-assign]
        return member

    monkeypatch.setattr(zipfile.ZipFile, "open", counting_open)

    assert xlsx_sheets(buffer) == [XlsxSheet("客户", filled=True)]

    sheet_size = zipfile.ZipFile(buffer).getinfo("xl/worksheets/sheet1.xml").file_size
    assert "xl/sharedStrings.xml" not in read
    assert sheet_size > 1_000_000 and read["xl/worksheets/sheet1.xml"] <= 1 << 16


def test_a_hand_written_package_with_absolute_targets_and_blank_cells() -> None:
    """Not every writer is openpyxl: absolute part names, a blank inline string, a formula with no cached
    value and a phonetic guide are no value; an inline string with text is."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    kinds = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

    def sheet(cells: str) -> str:
        return f'<worksheet xmlns="{main}"><sheetData><row r="1">{cells}</row></sheetData></worksheet>'

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="r1" Type="{kinds}/officeDocument" Target="/xl/book.xml"/></Relationships>',
        )
        package.writestr(
            "xl/_rels/book.xml.rels",
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="a" Type="{kinds}/worksheet" Target="/xl/sheets/one.xml"/>'
            f'<Relationship Id="b" Type="{kinds}/worksheet" Target="sheets/two.xml"/>'
            f'<Relationship Id="c" Type="{kinds}/styles" Target="styles.xml"/></Relationships>',
        )
        package.writestr(
            "xl/book.xml",
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            f'<sheet name="空白 &amp; 公式" sheetId="1" r:id="a"/><sheet name="名单" sheetId="2" r:id="b"/>'
            "</sheets></workbook>",
        )
        package.writestr(
            "xl/sheets/one.xml",
            sheet(
                '<c r="A1" t="inlineStr"><is><t>  </t></is></c><c r="B1"><f>SUM(C1:C2)</f></c>'
                '<c r="C1" t="inlineStr"><is><t> </t><rPh sb="0" eb="1"><t>ピン</t></rPh></is></c>'
            ),
        )
        package.writestr("xl/sheets/two.xml", sheet('<c r="A1" t="inlineStr"><is><t>张伟</t></is></c>'))

    assert xlsx_sheets(buffer) == [XlsxSheet("空白 & 公式", filled=False), XlsxSheet("名单", filled=True)]


def test_a_file_that_is_no_workbook_is_refused_and_left_where_it_was() -> None:
    file = io.BytesIO("姓名,手机\n张伟,13800138000\n".encode())
    file.seek(3)
    with pytest.raises(FileUnreadable):
        xlsx_sheets(file)
    assert file.tell() == 3


@pytest.mark.parametrize(
    "sheets,default",
    [
        ([XlsxSheet("说明", False), XlsxSheet("客户", True)], "客户"),
        ([XlsxSheet("旧", True, hidden=True), XlsxSheet("新", True)], "新"),
        ([XlsxSheet("空", False), XlsxSheet("旧", True, hidden=True)], "旧"),
        ([XlsxSheet("空一", False), XlsxSheet("空二", False)], "空一"),
        ([], ""),
    ],
)
def test_the_default_sheet_is_the_first_visible_one_that_holds_anything(
    sheets: list[XlsxSheet], default: str
) -> None:
    assert xlsx_sheet_default(sheets) == default


# --- uploading: the first sheet that holds anything -----------------------------------------------


def test_an_upload_skips_an_empty_cover_sheet(manager: User) -> None:
    job = upload_job(manager)

    assert job.sheet == "客户"
    assert job.headers == ["姓名", "手机", "城市"]
    assert job.mapping == ["name", "phones", "city"]
    assert services.import_job_preview(job) == [
        (2, ["张伟", "13800138000", "深圳"]),
        (3, ["李娜", "13912345678", "广州"]),
    ]


def test_an_upload_whose_first_sheet_holds_rows_reads_it_and_a_named_sheet_wins(manager: User) -> None:
    assert upload_job(manager, workbook(cover=False)).sheet == ""  # the first, as before
    named = upload_job(manager, sheet="门店联系人")
    assert (named.sheet, named.headers) == ("门店联系人", ["联系人", "联系电话", "门店", "备注"])


def test_a_csv_upload_is_unchanged(manager: User) -> None:
    content = "姓名,手机\n张伟,13800138000\n".encode("gb18030")
    job = services_sheet.import_job_upload(actor=manager, file=io.BytesIO(content), file_name="a.csv")
    assert (job.sheet, job.encoding, job.headers) == ("", "gb18030", ["姓名", "手机"])
    assert services_sheet.import_job_sheets(job) == []


def test_a_user_who_may_not_import_uploads_nothing(make_user: Callable[..., User]) -> None:
    with pytest.raises(Exception, match="not allowed"):
        upload_job(make_user("sales"))
    assert not ImportJob.objects.exists()


# --- choosing another sheet ---------------------------------------------------------------------------


def test_choosing_another_sheet_reads_its_header_maps_it_and_audits(manager: User) -> None:
    job = upload_job(manager)

    job = services_sheet.import_job_set_sheet(actor=manager, job=job, sheet="门店联系人")

    job.refresh_from_db()
    assert job.sheet == "门店联系人"
    assert job.headers == ["联系人", "联系电话", "门店", "备注"]
    assert job.mapping[1] == "phones" and job.mapping[3] == "notes"
    assert services.import_job_preview(job) == [(2, ["王芳", "13700137000", "天河店", "店长"])]
    event = AuditEvent.objects.get(action="import.sheet")
    assert (event.target_id, event.changes) == (str(job.pk), {"sheet": ["客户", "门店联系人"]})


def test_choosing_a_sheet_applies_a_saved_template_that_fits_it(manager: User) -> None:
    ImportTemplate.objects.create(
        name="门店导出", mapping={"联系人": "name", "联系电话": "phones", "门店": "notes"}, created_by=manager
    )
    job = upload_job(manager)

    job = services_sheet.import_job_set_sheet(actor=manager, job=job, sheet="门店联系人")

    assert job.mapping == ["name", "phones", "notes", None]


@pytest.mark.parametrize(
    "sheet,error,message",
    [
        ("门店", ValidationFailed, "has no sheet “门店”; it has: 说明, 客户, 门店联系人, 旧数据"),
        ("说明", FileUnreadable, "no header row"),
    ],
)
def test_a_sheet_that_is_not_there_or_empty_changes_nothing(
    manager: User, sheet: str, error: type[Exception], message: str
) -> None:
    job = upload_job(manager)

    with pytest.raises(error) as raised:
        services_sheet.import_job_set_sheet(actor=manager, job=job, sheet=sheet)

    assert message in str(raised.value) + str(getattr(raised.value, "details", ""))
    job.refresh_from_db()
    assert (job.sheet, job.headers) == ("客户", ["姓名", "手机", "城市"])
    assert not AuditEvent.objects.filter(action="import.sheet").exists()


def test_another_importers_job_or_a_started_one_keeps_its_sheet(
    manager: User, make_user: Callable[..., User], admin: User
) -> None:
    job = upload_job(manager)
    with pytest.raises(NotFound):
        services_sheet.import_job_set_sheet(actor=make_user("manager"), job=job, sheet="门店联系人")
    services.import_job_start(actor=manager, job=job, queue=False)
    with pytest.raises(ValidationFailed, match="started already"):
        services_sheet.import_job_set_sheet(actor=manager, job=job, sheet="门店联系人")
    job.refresh_from_db()
    assert job.sheet == "客户"

    other = upload_job(manager)  # an administrator may change anyone's draft
    assert (
        services_sheet.import_job_set_sheet(actor=admin, job=other, sheet="门店联系人").sheet == "门店联系人"
    )


def test_a_csv_job_has_no_sheet_to_choose(manager: User) -> None:
    job = services_sheet.import_job_upload(
        actor=manager, file=io.BytesIO("姓名,手机\n张伟,13800138000\n".encode()), file_name="a.csv"
    )
    with pytest.raises(ValidationFailed) as raised:
        services_sheet.import_job_set_sheet(actor=manager, job=job, sheet="Sheet1")
    assert raised.value.details == {"sheet": ["Only an Excel workbook has sheets to choose from."]}


# --- the mapping page ---------------------------------------------------------------------------------


def test_the_mapping_page_offers_the_sheets_with_the_empty_one_disabled(
    client_for: Callable[[User], Client], manager: User
) -> None:
    job = upload_job(manager)

    body = client_for(manager).get(f"/imports/{job.pk}/").content.decode()

    assert f'action="/imports/{job.pk}/sheet"' in body and 'hx-trigger="change"' in body
    assert '<option value="说明" disabled>说明 (empty)</option>' in body
    assert '<option value="客户" selected>客户</option>' in body
    assert '<option value="旧数据">旧数据 (hidden)</option>' in body
    assert "The workbook has 4 sheets." in body


def test_a_single_sheet_workbook_or_a_csv_shows_no_sheet_choice(
    client_for: Callable[[User], Client], manager: User
) -> None:
    book = openpyxl.Workbook()
    assert book.active is not None
    book.active.append(["姓名", "手机"])
    book.active.append(["张伟", "13800138000"])
    buffer = io.BytesIO()
    book.save(buffer)
    job = upload_job(manager, buffer.getvalue())

    body = client_for(manager).get(f"/imports/{job.pk}/").content.decode()

    assert "/sheet" not in body and "Sheet to import" not in body


def test_posting_a_sheet_reloads_the_mapping_step_with_its_columns(
    client_for: Callable[[User], Client], manager: User
) -> None:
    job = upload_job(manager)
    client = client_for(manager)

    response = client.post(f"/imports/{job.pk}/sheet", {"sheet": "门店联系人"})

    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    body = client.get(response["Location"]).content.decode()
    assert "Reading the sheet “门店联系人”: map its columns." in body
    assert 'title="联系电话"' in body and "天河店" in body and "13800138000" not in body
    assert '<option value="门店联系人" selected>门店联系人</option>' in body


def test_posting_a_sheet_with_htmx_asks_for_the_whole_page(
    client_for: Callable[[User], Client], manager: User
) -> None:
    job = upload_job(manager)

    response = client_for(manager).post(f"/imports/{job.pk}/sheet", {"sheet": "门店联系人"}, **HTMX)

    assert response.status_code == 204 and response["HX-Redirect"] == f"/imports/{job.pk}/"
    job.refresh_from_db()
    assert job.sheet == "门店联系人"


def test_posting_an_empty_sheet_says_why_and_keeps_the_columns(
    client_for: Callable[[User], Client], manager: User
) -> None:
    job = upload_job(manager)
    client = client_for(manager)

    response = client.post(f"/imports/{job.pk}/sheet", {"sheet": "说明"}, follow=True)

    body = response.content.decode()
    assert "The sheet “说明” cannot be read: The file is empty: it has no header row." in body
    assert 'title="手机"' in body
    job.refresh_from_db()
    assert job.sheet == "客户"


def test_a_sales_user_cannot_choose_a_sheet(
    client_for: Callable[[User], Client], manager: User, make_user: Callable[..., User]
) -> None:
    job = upload_job(manager)
    assert (
        client_for(make_user("sales")).post(f"/imports/{job.pk}/sheet", {"sheet": "门店联系人"}).status_code
        == 403
    )
    assert (
        client_for(make_user("manager")).post(f"/imports/{job.pk}/sheet", {"sheet": "门店联系人"}).status_code
        == 404
    )
    job.refresh_from_db()
    assert job.sheet == "客户"


# --- the command and the API --------------------------------------------------------------------------


def test_the_command_reads_the_first_sheet_with_rows_and_names_the_others(
    tmp_path: Path, admin: User
) -> None:
    path = tmp_path / "客户资料.xlsx"
    path.write_bytes(workbook())
    out, err = io.StringIO(), io.StringIO()

    call_command("import", "customers", str(path), stdout=out, stderr=err)

    assert "Imported 2 rows of 客户资料.xlsx: 2 created" in out.getvalue()
    assert (
        "Reading the sheet 客户; the workbook also has: 说明 (empty), 门店联系人, 旧数据 "
        "(choose with --sheet NAME)." in err.getvalue()
    )
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["张伟", "李娜"]


def test_the_command_reads_the_sheet_named_and_refuses_one_not_there(tmp_path: Path, admin: User) -> None:
    path = tmp_path / "客户资料.xlsx"
    path.write_bytes(workbook())

    call_command(
        "import", "customers", str(path), "--sheet", "旧数据", stdout=io.StringIO(), stderr=io.StringIO()
    )
    assert ImportJob.objects.get().sheet == "旧数据"
    with pytest.raises(CommandError, match="has no sheet “门店”"):
        call_command(
            "import", "customers", str(path), "--sheet", "门店", stdout=io.StringIO(), stderr=io.StringIO()
        )


def test_the_api_upload_reads_the_first_sheet_with_rows_or_the_one_named(manager: User) -> None:
    client = bearer(manager)

    first = client.post("/api/v1/imports", {"file": SimpleUploadedFile("book.xlsx", workbook())})
    named = client.post(
        "/api/v1/imports", {"file": SimpleUploadedFile("book.xlsx", workbook()), "sheet": "门店联系人"}
    )

    assert first.status_code == 201 and named.status_code == 201
    assert (first.json()["sheet"], first.json()["headers"]) == ("客户", ["姓名", "手机", "城市"])
    assert (named.json()["sheet"], named.json()["headers"][0]) == ("门店联系人", "联系人")
