"""Readers over messy files as real offices produce them, generated here."""

from __future__ import annotations

import io
import tracemalloc
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from guanxi.imports.readers import VCARD_COLUMNS, FileUnreadable, open_table, xlsx_sheet_names
from guanxi.imports.readers.delimited import detect_encoding, sniff_delimiter
from guanxi.imports.readers.xlsx import sheet_rows

HEADER = "姓名,手机号码,城市,备注\n"


ROWS = "张三,138 0013 8000,广州,老客户，VIP\n欧阳娜娜,+86 139-0013-9000,深圳,\n"


def read_all(path: Path | io.BytesIO, **kwargs: object) -> tuple[list[str], list[tuple[int, list[object]]]]:
    with open_table(path, **kwargs) as reader:  # type: ignore[arg-type]
        return reader.header, list(reader.rows())


def test_gbk_csv_from_chinese_excel_reads_names_intact(tmp_path: Path) -> None:
    path = tmp_path / "客户.csv"
    path.write_bytes((HEADER + ROWS).encode("gbk"))

    with open_table(path) as reader:
        assert reader.encoding == "gb18030"
        assert reader.delimiter == ","
        rows = list(reader.rows())

    assert reader.header == ["姓名", "手机号码", "城市", "备注"]
    assert rows == [
        (2, ["张三", "138 0013 8000", "广州", "老客户，VIP"]),
        (3, ["欧阳娜娜", "+86 139-0013-9000", "深圳", ""]),
    ]


def test_gbk_file_whose_first_megabyte_is_ascii_is_still_read_as_gbk(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    body = "Name,Phone\n" + "Zhang San,13800138000\n" * 60_000 + "张三,13800138000\n"
    path.write_bytes(body.encode("gbk"))

    with open_table(path) as reader:
        assert reader.encoding == "gb18030"
        *_rest, last = reader.rows()

    assert last == (60_002, ["张三", "13800138000"])


def test_file_that_changes_encoding_half_way_stops_at_the_line(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(("姓名,手机\n" + "张三,13800138000\n" * 60_000).encode() + "李四,1\n".encode("gbk"))

    with pytest.raises(FileUnreadable) as failure:
        read_all(path)

    assert "UTF-8 text, but line 60002 holds bytes" in failure.value.message


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8-sig", "utf-8"), ("utf-8", "utf-8"), ("utf-16", "utf-16-le"), ("gb18030", "gb18030")],
)
def test_each_encoding_reads_the_same_rows(tmp_path: Path, encoding: str, expected: str) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes((HEADER + ROWS + "𠮷野家,13800138001,北京,生僻字\n").encode(encoding))

    with open_table(path) as reader:
        assert reader.encoding == expected
        rows = list(reader.rows())

    assert reader.header[0] == "姓名"  # no BOM left on the first header
    assert [cells[0] for _n, cells in rows] == ["张三", "欧阳娜娜", "𠮷野家"]


def test_utf8_file_with_one_bad_byte_stops_at_that_line_instead_of_garbling(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes((HEADER + ROWS).encode() + "李四,13800138002,".encode() + b"\xff\xfe\n")

    with pytest.raises(FileUnreadable) as failure:
        read_all(path)

    assert failure.value.message == (
        "The file is read as UTF-8 text, but line 4 holds bytes that are not (FF FE 0A). "
        "Save the file again as “CSV UTF-8” and upload it again."
    )


def test_detect_encoding_rules() -> None:
    assert detect_encoding(b"\xef\xbb\xbfa,b") == ("utf-8", 3)
    assert detect_encoding(b"\xff\xfea\x00") == ("utf-16-le", 2)
    assert detect_encoding("姓名,手机\n张三,13800138000\n".encode("utf-16-le")) == ("utf-16-le", 0)
    assert detect_encoding("张三".encode()) == ("utf-8", 0)
    assert detect_encoding("张三".encode("gbk")) == ("gb18030", 0)
    # A sample cut inside a character is fine unless it is the whole file.
    assert detect_encoding("张三".encode()[:-1]) == ("utf-8", 0)


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("姓名;手机;地址\n张三;138;广州市,天河区\n李四;139;深圳\n", ";"),
        ("姓名\t手机\n张三\t138\n", "\t"),
        ('姓名,手机,标签\n张三,138,"VIP;老客户"\n李四,139,新客\n', ","),
        ("姓名，手机\n张三，138\n", ","),  # a full-width comma is text: one column
        ("name|phone\na|1\n", "|"),
    ],
)
def test_delimiter_is_sniffed(text: str, delimiter: str) -> None:
    assert sniff_delimiter(text.splitlines(keepends=True)) == delimiter


def test_semicolon_file_with_blank_lines_keeps_the_row_numbers_excel_shows(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_text('Name;Phone\r\n\r\nAnna;0151 2345678\r\n;;\r\n\r\n"Bo\nBo";123\r\nCy;9\r\n', "utf-8")

    header, rows = read_all(path)

    assert header == ["Name", "Phone"]
    assert rows == [(3, ["Anna", "0151 2345678"]), (6, ["Bo\nBo", "123"]), (7, ["Cy", "9"])]


def test_title_row_above_the_header_and_blank_header_cells(tmp_path: Path) -> None:
    path = tmp_path / "title.csv"
    path.write_text("客户资料表 2024,,,\n\n姓名,,电话,\n张三,男,138,\n李四,,139,x\n", "utf-8-sig")

    with open_table(path) as reader:
        rows = list(reader.rows())

    assert reader.header_row == 3
    assert reader.header == ["姓名", "Column B", "电话", "Column D"]
    assert rows == [(4, ["张三", "男", "138", ""]), (5, ["李四", "", "139", "x"])]


def test_rows_are_padded_and_cut_to_the_header(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1\n1,2,3,,\n", "utf-8")

    assert read_all(path)[1] == [(2, ["1", "", ""]), (3, ["1", "2", "3"])]


def test_unclosed_quote_is_named_not_swallowed(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text('a,b\n1,"oops\n' + "x" * 200_000 + "\n", "utf-8")

    with pytest.raises(FileUnreadable) as failure:
        read_all(path)

    assert failure.value.message.startswith("Row 2 cannot be read (")


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"\xef\xbb\xbf\r\n\r\n")

    with pytest.raises(FileUnreadable, match="no header row"):
        read_all(path)


def test_file_object_is_read_and_left_open() -> None:
    upload = io.BytesIO((HEADER + ROWS).encode("utf-8-sig"))

    header, rows = read_all(upload, filename="upload.csv")

    assert header[0] == "姓名" and len(rows) == 2
    assert not upload.closed


class Pipe(io.RawIOBase):
    """An upload that can only be read forward."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_a_stream_that_cannot_seek_is_read_too() -> None:
    header, rows = read_all(Pipe((HEADER + ROWS).encode("gbk")), filename="pipe.csv")  # type: ignore[arg-type]

    assert header[0] == "姓名" and rows[1][1][0] == "欧阳娜娜"


def test_progress_counts_bytes(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(HEADER + ROWS * 5000, "utf-8")
    with open_table(path) as reader:
        assert reader.progress().unit == "bytes"
        assert reader.progress().total == path.stat().st_size
        for _row in reader.rows():
            pass
        assert reader.progress().fraction == 1.0
        assert reader.rows_read == 10_000


def test_old_excel_files_are_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)

    with pytest.raises(FileUnreadable, match=r"save it as \.xlsx or CSV"):
        read_all(path)


def write_workbook(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "客户"
    sheet.append(["客户姓名", "手机", "座机", "生日", "入会日期", "积分", None, None])
    sheet.append(["张三", 13800138000, "021-62345678", datetime(1990, 1, 2), "1990/1/2", 12.5, None, None])
    sheet.append(["李四", 13900139000.0, None, date(1985, 12, 31), 32874, 0.1 + 0.2])
    sheet.append([None, None, None])  # a formatted but empty row
    sheet.append(["王五", 8613800138000, None, datetime(2001, 5, 6, 14, 30), None, True])
    for _ in range(3):
        sheet.append([None] * 8)  # trailing empty rows
    other = workbook.create_sheet("门店")
    other.append(["门店", "城市"])
    other.append(["天河店", "广州"])
    workbook.save(path)


def test_xlsx_numbers_come_back_as_exact_digits_and_dates_as_dates(tmp_path: Path) -> None:
    path = tmp_path / "客户.xlsx"
    write_workbook(path)

    with open_table(path) as reader:
        assert reader.kind == "xlsx"
        rows = list(reader.rows())
        progress = reader.progress()

    assert reader.header == ["客户姓名", "手机", "座机", "生日", "入会日期", "积分"]
    assert rows == [
        (2, ["张三", "13800138000", "021-62345678", date(1990, 1, 2), "1990/1/2", "12.5"]),
        (3, ["李四", "13900139000", "", date(1985, 12, 31), "32874", "0.3"]),
        (5, ["王五", "8613800138000", "", datetime(2001, 5, 6, 14, 30), "", "TRUE"]),
    ]
    assert progress.unit == "rows"


def test_xlsx_named_sheet_and_sheet_names(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    write_workbook(path)

    with path.open("rb") as upload:
        assert xlsx_sheet_names(upload) == ["客户", "门店"]
    header, rows = read_all(path, sheet="门店")
    assert header == ["门店", "城市"] and rows == [(2, ["天河店", "广州"])]
    with pytest.raises(FileUnreadable, match="has no sheet “客户2”; it has: 客户, 门店"):
        read_all(path, sheet="客户2")


def test_xlsx_renamed_csv_is_read_as_xlsx_and_a_broken_one_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    write_workbook(path)
    renamed = tmp_path / "book.csv"
    renamed.write_bytes(path.read_bytes())
    assert read_all(renamed)[0][0] == "客户姓名"

    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(path.read_bytes()[:500])
    with pytest.raises(FileUnreadable, match=r"not an Excel \.xlsx file, or it is damaged"):
        read_all(broken)


SHEET_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:F4"/>
<sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row>
<row r="3"><c r="A3" t="inlineStr"><is><r><t>张</t></r><r><t xml:space="preserve">三 </t></r>
<rPh sb="0" eb="1"><t>ZHANG</t></rPh></is></c><c r="B3"><v>13800138000</v></c><c r="C3" s="1"><v>32875</v></c>
<c r="D3" t="b"><v>1</v></c><c r="E3" t="e"><v>#N/A</v></c>
<c r="F3" t="str"><f>A3&amp;B3</f><v>x</v></c></row>
<row><c><v>1.5</v></c><c t="d"><v>1990-01-02T00:00:00</v></c><c/><c r="D4"><v>1.38001E+10</v></c></row>
</sheetData></worksheet>""".encode()


def test_sheet_xml_cell_kinds() -> None:
    rows = list(sheet_rows(io.BytesIO(SHEET_XML), shared_strings=["姓名", "生日"], date_styles={1}))

    assert rows == [
        (1, ["姓名", None, "生日"]),
        (3, ["张三 ", 13800138000, datetime(1990, 1, 2), True, "#N/A", "x"]),
        (4, [1.5, datetime(1990, 1, 2), None, 13800100000.0]),
    ]


def test_strict_ooxml_namespace_reads_too() -> None:
    transitional = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    strict = SHEET_XML.replace(transitional, b"http://purl.oclc.org/ooxml/spreadsheetml/main")

    assert len(list(sheet_rows(io.BytesIO(strict), shared_strings=["a", "b"]))) == 3


def test_xlsx_merged_title_header_and_grouped_rows(tmp_path: Path) -> None:
    path = tmp_path / "merged.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["车主资料 2024", None, None, None])
    sheet.merge_cells("A1:D1")  # a title over the table
    sheet.append(["姓名", "电话", None, "车牌号"])
    sheet.merge_cells("B2:C2")  # one header over two phone columns
    sheet.append(["张三", 13800138000, 13900139000, "粤B12345"])
    sheet.append([None, None, None, "粤B67890"])  # 张三's second car: the name is merged down
    sheet.merge_cells("A3:A4")
    sheet.append(["李四", 13700137000, None, "粤A11111"])
    sheet.append([None, None, None, None])
    sheet.merge_cells("A5:A6")  # merged down into a blank row: that row stays blank
    workbook.save(path)

    with open_table(path) as reader:
        rows = list(reader.rows())

    assert reader.header_row == 2
    assert reader.header == ["姓名", "电话", "电话 (2)", "车牌号"]
    assert rows == [
        (3, ["张三", "13800138000", "13900139000", "粤B12345"]),
        (4, ["张三", "", "", "粤B67890"]),
        (5, ["李四", "13700137000", "", "粤A11111"]),
    ]


IPHONE_VCF = (
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "PRODID:-//Apple Inc.//iPhone OS 17.0//EN\r\n"
    "N:张;伟;;;\r\n"
    "FN:张伟\r\n"
    "ORG:广州某某汽车服务有限公司;售后部\r\n"
    "TITLE:经理\r\n"
    "item1.TEL;type=pref:+86 138 0013 8000\r\n"
    "TEL;type=CELL;type=VOICE:139-0013-9000\r\n"
    "item2.EMAIL;type=INTERNET;type=pref:zhangwei@example.com\r\n"
    "item3.ADR;type=HOME;type=pref:;;天河路1号;广州市;广东省;510000;中国\r\n"
    "NOTE:老客户\\, 喜欢周末来\\nVIP\r\n"
    "BDAY;value=date:1988-08-08\r\n"
    "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8U\r\n"
    " HRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgy\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "N:Smith;John;;;\r\n"
    "ORG:Acme\\, Inc.\r\n"
    "EMAIL;type=INTERNET:john@example.com\r\n"
    "EMAIL;type=INTERNET:js@example.org\r\n"
    "NOTE:a long note that an iPhone folds over more than one line because it is longer than se\r\n"
    " venty-five octets\r\n"
    "END:VCARD\r\n"
)

ANDROID_VCF = (
    "BEGIN:VCARD\r\n"
    "VERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E6=AC=A7=E9=98=B3;=E5=A8=9C=E5=A8=9C;;;\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E6=AC=A7=E9=98=B3=E5=A8=9C=E5=A8=9C\r\n"
    "TEL;CELL:13800138000\r\n"
    "TEL;HOME:020-8765 4321\r\n"
    "EMAIL;HOME:nana@example.cn\r\n"
    "NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=9C=A8=E4=B8=80=E6=AC=A1=E5=B1=95=E4=BC=9A=E4=B8=8A=\r\n"
    "=E8=AE=A4=E8=AF=86=E7=9A=84\r\n"
    "BDAY:19950315\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E6=9D=8E;=E5=9B=9B;;;\r\n"
    "TEL;CELL;PREF:+8613900139000\r\n"
    "X-ANDROID-CUSTOM:vnd.android.cursor.item/nickname;LS;1;;;;;;;;;;;;;\r\n"
    "END:VCARD\r\n"
)


def test_iphone_vcard_3_export(tmp_path: Path) -> None:
    path = tmp_path / "iPhone.vcf"
    path.write_text(IPHONE_VCF, "utf-8")

    header, rows = read_all(path)

    assert header == VCARD_COLUMNS
    assert rows[0] == (
        1,
        [
            "张伟",
            "+86 138 0013 8000; 139-0013-9000",
            "zhangwei@example.com",
            "广州某某汽车服务有限公司 售后部",
            "经理",
            "老客户, 喜欢周末来\nVIP",
            "1988-08-08",
            "中国广东省广州市天河路1号",
            "",
        ],
    )
    name, _phones, emails, organisation, *_rest, note, _birthday, _address, _categories = rows[1][1]
    assert (rows[1][0], name, emails, organisation) == (
        17,
        "John Smith",
        "john@example.com; js@example.org",
        "Acme, Inc.",
    )
    assert note.endswith("longer than seventy-five octets")


def test_android_vcard_2_1_quoted_printable_export() -> None:
    upload = io.BytesIO(ANDROID_VCF.encode())

    _header, rows = read_all(upload, filename="contacts.vcf")

    assert rows == [
        (
            1,
            [
                "欧阳娜娜",
                "13800138000; 020-8765 4321",
                "nana@example.cn",
                "",
                "",
                "在一次展会上认识的",
                "1995-03-15",
                "",
                "",
            ],
        ),
        (12, ["李四", "+8613900139000", "", "", "", "", "", "", ""]),
    ]


def test_vcard_4_0_with_uri_phones_and_no_name_but_an_organisation() -> None:
    card = (
        "BEGIN:VCARD\nVERSION:4.0\nORG:广州某某物流有限公司\nTEL;VALUE=uri;TYPE=work:tel:+86-20-8765-4321\n"
        "EMAIL:info@example.cn\nCATEGORIES:物流,大客户\nEND:VCARD\n"
    )

    _header, rows = read_all(io.BytesIO(card.encode()), filename="org.vcf")

    assert rows == [
        (
            1,
            [
                "",
                "+86-20-8765-4321",
                "info@example.cn",
                "广州某某物流有限公司",
                "",
                "",
                "",
                "",
                "物流; 大客户",
            ],
        )
    ]


def test_vcard_is_recognised_by_its_content_whatever_its_name() -> None:
    with open_table(io.BytesIO(b"\xef\xbb\xbf" + ANDROID_VCF.encode()), filename="export.txt") as reader:
        assert reader.kind == "vcard"
        assert len(list(reader.rows())) == 2


def test_reading_200k_rows_keeps_memory_flat(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    line = (
        "欧阳娜娜,13800138000,nana@example.cn,广东省,广州市,天河区,天河路100号1201室,VIP，老客户,备注文字\n"
    )
    with path.open("w", encoding="gb18030") as out:
        out.write("姓名,手机,邮箱,省份,城市,区县,地址,标签,备注\n")
        for _ in range(200):
            out.write(line * 1000)
    assert path.stat().st_size > 15_000_000

    tracemalloc.start()
    try:
        with open_table(path) as reader:
            count = sum(1 for _row in reader.rows())
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert count == 200_000
    assert peak < 4_000_000  # the sample (1 MB) and its decoded text, not the file
