"""The export writers (customers.exports): what a CSV, an XLSX and a vCard hold, for whom, at what cost."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from guanxi.audit.models import AuditEvent
from guanxi.core.errors import PermissionDenied
from guanxi.customers import selectors, services
from guanxi.customers.exports import CustomerExport, guard_text, vcard_escape, vcard_fold
from guanxi.customers.exports.rows import customer_chunks
from guanxi.customers.exports.xlsx import SheetWriter
from guanxi.customers.models import Customer
from guanxi.users.models import Team, User

pytestmark = pytest.mark.django_db


# ---- Helpers shared by the interface tests ---------------------------------------------------------


def read_csv(content: bytes) -> list[list[str]]:
    """A CSV export read as Excel would: it must start with the UTF-8 byte order mark."""
    assert content.startswith(b"\xef\xbb\xbf"), "no byte order mark"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def read_xlsx(content: bytes) -> list[list[Any]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def as_dicts(rows: list[list[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def parse_vcards(text: str) -> list[dict[str, list[tuple[str, str]]]]:
    """vCards unfolded and unescaped: for each card, {property: [(parameters, value), …]}."""
    assert "\n" not in text.replace("\r\n", ""), "a bare line feed"
    unfolded = re.sub(r"\r\n[ \t]", "", text)
    cards: list[dict[str, list[tuple[str, str]]]] = []
    for line in unfolded.split("\r\n"):
        if not line:
            continue
        head, _sep, value = line.partition(":")
        name, _sep, params = head.partition(";")
        if name == "BEGIN":
            cards.append({})
            continue
        if name == "END":
            continue
        cards[-1].setdefault(name, []).append((params, value))
    return cards


def unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def split_unescaped(value: str, separator: str) -> list[str]:
    return [unescape(part) for part in re.split(r"(?<!\\)" + re.escape(separator), value)]


def export_bytes(actor: User, format: str = "csv", **options: Any) -> bytes:
    buffer = io.BytesIO()
    CustomerExport(actor=actor, format=format, **options).write(buffer)
    return buffer.getvalue()


@pytest.fixture
def en() -> Any:
    with translation.override("en"):
        yield


# ---- CSV --------------------------------------------------------------------------------------------


def test_csv_has_every_column_with_values_as_people_read_them(
    admin: User, make_customer: Callable[..., Customer], en: Any
) -> None:
    # given a customer with every field filled and a custom field
    services.custom_field_create(actor=admin, key="plate_count", label="车辆数", type="number")
    services.custom_field_create(actor=admin, key="vip", label="重要客户", type="boolean")
    customer = make_customer(
        admin,
        name="张伟",
        phones=["13800138000", "+852 6123 4567"],
        emails=["zhang.wei@example.com"],
        wechat_id="wxid_zw",
        gender="male",
        birthday=date(1990, 1, 2),
        member_no="M001",
        province="广东省",
        city="深圳市",
        district="南山区",
        street="科技园1号",
        source="referral",
        stage="customer",
        notes="第一行\n第二行",
        tags=["VIP", "车主"],
        custom_fields={"plate_count": 3, "vip": True},
    )

    # when
    rows = read_csv(export_bytes(admin))

    # then
    assert rows[0] == [
        "ID", "Name", "Kind", "Phones", "Emails", "WeChat ID", "Gender", "Birthday", "Member number",
        "Province", "City", "District", "Street address", "Source", "Lifecycle stage", "Tags", "Owner",
        "Team", "Notes", "车辆数", "重要客户", "Created at", "Updated at",
    ]  # fmt: skip
    row = as_dicts(rows)[0]
    created = customer.created_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert row == {
        "ID": str(customer.pk),
        "Name": "张伟",
        "Kind": "Person",
        "Phones": "138 0013 8000; +852 6123 4567",
        "Emails": "zhang.wei@example.com",
        "WeChat ID": "wxid_zw",
        "Gender": "Male",
        "Birthday": "1990-01-02",
        "Member number": "M001",
        "Province": "广东省",
        "City": "深圳市",
        "District": "南山区",
        "Street address": "科技园1号",
        "Source": "Referral",
        "Lifecycle stage": "Customer",
        "Tags": "VIP; 车主",
        "Owner": "admin",
        "Team": admin.team.name,
        "Notes": "第一行\n第二行",
        "车辆数": "3",
        "重要客户": "Yes",
        "Created at": created.strftime("%Y-%m-%d %H:%M:%S"),
        "Updated at": row["Updated at"],
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row["Updated at"])


def test_headers_and_labels_are_in_the_readers_language(
    admin: User, make_customer: Callable[..., Customer]
) -> None:
    make_customer(admin, name="李娜", stage="loyal", kind="company")

    with translation.override("zh-hans"):
        rows = read_csv(export_bytes(admin))

    assert rows[0][:3] == ["ID", "名称", "类型"]
    assert rows[1][2] == "企业"


def test_a_reader_who_sees_masked_data_exports_masked_data(
    admin: User, make_user: Callable[..., User], make_customer: Callable[..., Customer], en: Any
) -> None:
    # given
    make_customer(
        admin,
        name="张伟",
        phones=["13800138000"],
        emails=["zhang.wei@example.com"],
        wechat_id="wxid_zw",
        birthday=date(1990, 1, 2),
        street="科技园1号",
    )
    marketing = make_user("marketing")

    # when
    csv_row = as_dicts(read_csv(export_bytes(marketing)))[0]
    xlsx_row = as_dicts(read_xlsx(export_bytes(marketing, "xlsx")))[0]

    # then
    for row in (csv_row, xlsx_row):
        assert row["Phones"] == "138****8000"
        assert row["Emails"] == "z***@example.com"
        assert row["WeChat ID"] == "w***"
        assert row["Birthday"] == "****-01-02"
        assert row["Street address"] == "科***"
    body = export_bytes(marketing).decode("utf-8-sig")
    assert "13800138000" not in body and "0013" not in body and "zhang.wei" not in body


def test_an_export_holds_only_the_readers_scope(
    admin: User, make_user: Callable[..., User], make_customer: Callable[..., Customer], team_b: Team
) -> None:
    # given a manager of team A, a customer of the team, and one of team B
    manager = make_user("manager")
    mate = make_user("sales")
    stranger = make_user("sales", team=team_b)
    mine = make_customer(admin, name="我的客户", owner=mate, team=mate.team)
    make_customer(admin, name="别组客户", owner=stranger, team=team_b)

    # when
    rows = read_csv(export_bytes(manager))

    # then
    assert [row[1] for row in rows[1:]] == ["我的客户"]
    assert rows[1][0] == str(mine.pk)


def test_roles_without_the_export_permission_are_refused(
    make_user: Callable[..., User], make_customer: Callable[..., Customer], admin: User
) -> None:
    make_customer(admin, name="张伟")
    for role in ("sales", "service", "viewer"):
        with pytest.raises(PermissionDenied):
            CustomerExport(actor=make_user(role), format="csv")
    assert not AuditEvent.objects.filter(action="customer.export").exists()


def test_filters_and_sort_are_those_of_the_list(
    admin: User, make_customer: Callable[..., Customer], en: Any
) -> None:
    # given
    services.custom_field_create(actor=admin, key="fleet", label="车队", type="number")
    make_customer(admin, name="张伟", stage="lead", city="深圳市", custom_fields={"fleet": 5})
    make_customer(admin, name="王芳", stage="loyal", city="深圳市", custom_fields={"fleet": 5}, tags=["VIP"])
    make_customer(admin, name="李强", stage="loyal", city="深圳市", custom_fields={"fleet": 2})
    make_customer(admin, name="赵敏", stage="loyal", city="广州市", custom_fields={"fleet": 5})

    def names(**filters: Any) -> list[str]:
        sort = filters.pop("sort", "newest")
        return [row[1] for row in read_csv(export_bytes(admin, filters=filters, sort=sort))[1:]]

    # then
    assert names(stage="loyal", city="深圳市") == ["李强", "王芳"]
    assert names(stage="loyal", custom={"fleet": "5"}) == ["赵敏", "王芳"]
    assert names(q="wangfang") == ["王芳"]
    assert names(q="zw") == ["张伟"]
    tag = services.tag_create(actor=admin, name="无人")
    assert names(tag=tag.pk) == []
    assert names(sort="name", city="深圳市") == sorted(["张伟", "王芳", "李强"])
    assert names(sort="oldest") == ["张伟", "王芳", "李强", "赵敏"]


def test_a_formula_is_written_as_text(admin: User, make_customer: Callable[..., Customer], en: Any) -> None:
    # given values that a spreadsheet would run
    payloads = {
        '=HYPERLINK("http://evil","x")': "equals",
        "+1+cmd|' /C calc'!A0": "plus",
        "-2+3": "minus",
        "@SUM(A1)": "at",
    }
    for payload, name in payloads.items():
        make_customer(admin, name=name, notes=payload, city=payload[:30])
    services.custom_field_create(actor=admin, key="formula", label="=1+2", type="text")

    # when
    csv_rows = as_dicts(read_csv(export_bytes(admin)))
    xlsx = openpyxl.load_workbook(io.BytesIO(export_bytes(admin, "xlsx"))).worksheets[0]

    # then CSV cells start with a quote, and read back as the text after it
    for row in csv_rows:
        original = next(p for p, name in payloads.items() if name == row["Name"])
        assert row["Notes"] == "'" + original
        assert row["City"] == "'" + original[:30]
    assert "'=1+2" in read_csv(export_bytes(admin))[0]
    # and XLSX cells are strings, never formulas, with their text unchanged
    header = [cell.value for cell in xlsx[1]]
    assert "=1+2" in header and xlsx.cell(1, header.index("=1+2") + 1).data_type == "s"
    notes = header.index("Notes") + 1
    for row in range(2, xlsx.max_row + 1):
        cell = xlsx.cell(row, notes)
        assert cell.data_type == "s" and cell.value in payloads
        assert cell.quotePrefix


def test_a_phone_that_begins_with_plus_stays_readable(
    admin: User, make_customer: Callable[..., Customer], en: Any
) -> None:
    # given a foreign number (shown in international form, +…) and a note holding an E.164 number
    make_customer(admin, name="Chan", phones=["+85261234567"], notes="+8613800138000")

    # when
    csv_row = as_dicts(read_csv(export_bytes(admin)))[0]
    xlsx = openpyxl.load_workbook(io.BytesIO(export_bytes(admin, "xlsx"))).worksheets[0]

    # then in CSV the quote keeps every digit (no 8.6E+12) and the number is still plain to read
    assert csv_row["Phones"] == "'+852 6123 4567"
    assert csv_row["Notes"] == "'+8613800138000"
    # and in XLSX the cell is the number as text, unchanged, with no visible quote
    header = [cell.value for cell in xlsx[1]]
    phone = xlsx.cell(2, header.index("Phones") + 1)
    note = xlsx.cell(2, header.index("Notes") + 1)
    assert (phone.value, phone.data_type) == ("+852 6123 4567", "s")
    assert (note.value, note.data_type) == ("+8613800138000", "s")


def test_guard_text_leaves_ordinary_text_alone() -> None:
    assert guard_text("张伟") == "张伟"
    assert guard_text("138 0013 8000") == "138 0013 8000"
    assert guard_text("a=b") == "a=b"
    assert guard_text("") == ""
    assert guard_text("-") == "'-"
    # the services trim what they store, but a tab or CR first is guarded wherever it comes from
    assert guard_text("\t=1+1") == "'\t=1+1"
    assert guard_text("\r=1+1") == "'\r=1+1"


# ---- XLSX -------------------------------------------------------------------------------------------


def test_xlsx_reads_back_with_typed_cells(
    admin: User, make_customer: Callable[..., Customer], en: Any
) -> None:
    # given
    services.custom_field_create(actor=admin, key="fleet", label="车队", type="number")
    customer = make_customer(
        admin, name="张伟", birthday=date(1990, 1, 2), notes="bad\x01char", custom_fields={"fleet": 12}
    )

    # when
    rows = read_xlsx(export_bytes(admin, "xlsx"))

    # then
    row = as_dicts(rows)[0]
    assert row["ID"] == customer.pk
    assert row["Name"] == "张伟"
    assert row["Birthday"] == datetime(1990, 1, 2)  # an Excel date
    assert row["车队"] == 12
    assert row["Notes"] == "badchar"  # a control character Excel refuses is dropped
    local = customer.created_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert row["Created at"] == local.replace(tzinfo=None, microsecond=0)
    assert openpyxl.load_workbook(io.BytesIO(export_bytes(admin, "xlsx"))).sheetnames == ["Customers"]


# ---- Cost and audit ---------------------------------------------------------------------------------


@pytest.mark.parametrize("format", ["csv", "xlsx", "vcf"])
def test_the_number_of_queries_does_not_grow_with_the_rows(
    admin: User, make_customer: Callable[..., Customer], format: str
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            export_bytes(admin, format) if format != "vcf" else export_bytes(
                admin, format, ids=Customer.objects.values_list("pk", flat=True)
            )
        return len(captured)

    make_customer(admin, name="张伟", phones=["13800138000"], tags=["VIP"], emails=["a@example.com"])
    few = queries()
    for n in range(12):
        make_customer(
            admin, name=f"客户{n}", phones=[f"1380013{n:04d}"], tags=[f"T{n}"], emails=[f"{n}@x.cn"]
        )
    assert queries() == few


def test_each_export_records_one_audit_event(
    admin: User, make_user: Callable[..., User], make_customer: Callable[..., Customer]
) -> None:
    # given
    make_customer(admin, name="张伟", stage="loyal")
    make_customer(admin, name="王芳", stage="loyal")
    make_customer(admin, name="李强", stage="lead")
    marketing = make_user("marketing")

    # when
    export_bytes(marketing, "xlsx", filters={"stage": "loyal", "q": "", "custom": {}}, sort="name")

    # then
    event = AuditEvent.objects.get(action="customer.export")
    assert event.actor == marketing
    assert event.data == {
        "format": "xlsx",
        "filters": {"stage": "loyal", "sort": "name"},
        "rows": 2,
        "complete": True,
        "masked": True,
    }


def test_an_export_stopped_early_is_recorded_as_incomplete(
    admin: User, make_customer: Callable[..., Customer]
) -> None:
    for n in range(3):
        make_customer(admin, name=f"客户{n}")
    export = CustomerExport(actor=admin, format="csv")
    rows = export.rows()

    next(rows), next(rows)
    rows.close()

    event = AuditEvent.objects.get(action="customer.export")
    assert event.data["complete"] is False and event.data["rows"] == 1


# ---- vCard ------------------------------------------------------------------------------------------


def test_vcards_parse_back_with_names_phones_and_company(
    admin: User, make_customer: Callable[..., Customer], en: Any
) -> None:
    # given a person and a company with text that needs escaping and a note long enough to fold
    person = make_customer(
        admin,
        name="欧阳娜娜",
        phones=["13800138000", "02162345678"],
        emails=["nana@example.com"],
        birthday=date(1990, 1, 2),
        city="上海市",
        province="上海市",
        street="淮海路1号",
        tags=["VIP", "A,B"],
        notes="喜欢;咖啡, 不要茶\n周末来店 " + "很长的备注" * 20,
    )
    company = make_customer(admin, name="深圳建材有限公司", kind="company", phones=["075588886666"])
    make_customer(admin, name="不导出")

    # when
    text = export_bytes(admin, "vcf", ids=[person.pk, company.pk]).decode("utf-8")

    # then
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    cards = {unescape(card["FN"][0][1]): card for card in parse_vcards(text)}
    assert set(cards) == {"欧阳娜娜", "深圳建材有限公司"}
    nana = cards["欧阳娜娜"]
    assert nana["VERSION"] == [("", "3.0")]
    assert split_unescaped(nana["N"][0][1], ";") == ["欧阳", "娜娜", "", "", ""]
    assert nana["TEL"] == [("TYPE=CELL", "+8613800138000"), ("TYPE=VOICE", "+862162345678")]
    assert nana["EMAIL"] == [("TYPE=INTERNET", "nana@example.com")]
    assert nana["BDAY"] == [("", "1990-01-02")]
    assert split_unescaped(nana["CATEGORIES"][0][1], ",") == ["A,B", "VIP"]
    assert unescape(nana["NOTE"][0][1]) == "喜欢;咖啡, 不要茶\n周末来店 " + "很长的备注" * 20
    assert split_unescaped(nana["ADR"][0][1], ";") == ["", "", "淮海路1号", "上海市", "上海市", "", ""]
    assert "ORG" not in nana
    firm = cards["深圳建材有限公司"]
    assert firm["ORG"] == [("", "深圳建材有限公司")]
    assert firm["N"] == [("", ";;;;")]


def test_vcards_for_a_masked_reader_hold_masked_data(
    admin: User, make_user: Callable[..., User], make_customer: Callable[..., Customer]
) -> None:
    customer = make_customer(
        admin, name="张伟", phones=["13800138000"], emails=["zw@example.com"], birthday=date(1990, 1, 2)
    )

    text = export_bytes(make_user("marketing"), "vcf", ids=[customer.pk]).decode("utf-8")

    card = parse_vcards(text)[0]
    assert card["TEL"] == [("TYPE=VOICE", "138****8000")]
    assert card["EMAIL"] == [("TYPE=INTERNET", "z***@example.com")]
    assert "BDAY" not in card and "13800138000" not in text


def test_vcards_leave_out_customers_outside_the_scope(
    admin: User, make_user: Callable[..., User], make_customer: Callable[..., Customer], team_b: Team
) -> None:
    manager = make_user("manager")
    other = make_customer(admin, name="别组客户", team=team_b, owner=make_user("sales", team=team_b))
    mine = make_customer(admin, name="本组客户", team=manager.team)

    cards = parse_vcards(export_bytes(manager, "vcf", ids=[other.pk, mine.pk]).decode())

    assert [card["FN"][0][1] for card in cards] == ["本组客户"]


def test_vcard_escape_and_fold() -> None:
    assert vcard_escape("a\\b;c,d\r\ne\nf") == "a\\\\b\\;c\\,d\\ne\\nf"
    line = "NOTE:" + "备" * 40
    folded = vcard_fold(line)
    parts = folded.split("\r\n")
    assert all(len(part.encode()) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert "".join(part[1:] if i else part for i, part in enumerate(parts)) == line
    assert vcard_fold("FN:short") == "FN:short"


def test_xlsx_cells_that_begin_with_tab_or_cr_are_text() -> None:
    # given a sheet written with text a spreadsheet would run or trim, and plain values
    buffer = io.BytesIO()
    sheet = SheetWriter(buffer, title="Customers", columns=8)
    sheet.append(["\t=1+1", "\r=1+1", "=1+1", "张伟", 3, " a<b&c ", None, "x" * 40000])
    sheet.close()

    # when
    cells = next(openpyxl.load_workbook(buffer).worksheets[0].iter_rows())

    # then the guarded cells are text marked quotePrefix, the others unchanged and unmarked
    assert [(cell.data_type, cell.quotePrefix) for cell in cells[:3]] == [("s", True)] * 3
    assert [cell.value for cell in cells[:3]] == ["\t=1+1", "\n=1+1", "=1+1"]  # XML reads a CR as LF
    assert [cell.value for cell in cells[3:7]] == ["张伟", 3, " a<b&c ", None]
    assert not cells[3].quotePrefix and not cells[4].quotePrefix
    assert cells[7].value == "x" * 32767  # Excel's limit of one cell


@pytest.mark.parametrize("sort", ["newest", "oldest", "name", "-name", "updated", "stage"])
def test_keyset_chunks_read_every_row_once_in_the_lists_order(
    admin: User, make_customer: Callable[..., Customer], sort: str
) -> None:
    # given names and stages shared by several customers, so the chunks split inside ties
    for n in range(7):
        make_customer(admin, name=["张伟", "王芳", "张伟"][n % 3], stage=["lead", "loyal"][n % 2])
    customers = selectors.customer_list(actor=admin, sort=sort)

    # when
    chunks = list(customer_chunks(customers, size=2))

    # then
    assert [row[0] for chunk in chunks for row in chunk.rows] == [c.pk for c in customers]
    assert [len(chunk.rows) for chunk in chunks] == [2, 2, 2, 1]
