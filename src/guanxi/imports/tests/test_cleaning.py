"""Every cleaning rule, with good values, bad values and the exact reason a clerk reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pytest
from django.utils import translation

from guanxi.imports.cleaning import (
    BadValue,
    CellError,
    RowCleaner,
    clean_emails,
    clean_gender,
    clean_mileage,
    clean_plate,
    clean_vin,
    code_cleaner,
    custom_field_cleaner,
    date_cleaner,
    memoized,
    phone_cleaner,
    tags_cleaner,
    text_cleaner,
)
from guanxi.imports.mapping import CUSTOMERS, mapping_guess


def reason(clean: Any, value: Any) -> str:
    with pytest.raises(BadValue) as failure:
        clean(value)
    return failure.value.reason


@dataclass
class Definition:
    key: str
    label: str
    type: str = "text"
    choices: list[str] = field(default_factory=list)
    required: bool = False


# --- phones -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "numbers"),
    [
        ("13800138000", ["+8613800138000"]),
        ("138 0013 8000", ["+8613800138000"]),
        ("138-0013-8000", ["+8613800138000"]),
        ("138.0013.8000", ["+8613800138000"]),
        ("+86 138 0013 8000", ["+8613800138000"]),
        ("86 13800138000", ["+8613800138000"]),
        ("8613800138000", ["+8613800138000"]),
        ("0086-138-0013-8000", ["+8613800138000"]),
        ("１３８００１３８０００", ["+8613800138000"]),
        ("＋８６　１３８－００１３－８０００", ["+8613800138000"]),
        ("手机：13800138000", ["+8613800138000"]),
        ("(021) 6234 5678", ["+862162345678"]),
        ("021-62345678", ["+862162345678"]),
        ("+1 650-253-0000", ["+16502530000"]),
        ("13800138000/13900139000", ["+8613800138000", "+8613900139000"]),
        ("13800138000，13900139000", ["+8613800138000", "+8613900139000"]),
        ("13800138000；13900139000; 13700137000", ["+8613800138000", "+8613900139000", "+8613700137000"]),
        ("13800138000、13900139000", ["+8613800138000", "+8613900139000"]),
        ("13800138000 13900139000", ["+8613800138000", "+8613900139000"]),
        ("13800138000 / 138-0013-8000", ["+8613800138000"]),
    ],
)
def test_phones_as_people_write_them(written: str, numbers: list[str]) -> None:
    assert phone_cleaner("CN")(written) == numbers


def test_phone_errors_name_the_bad_part() -> None:
    clean = phone_cleaner("CN")
    assert reason(clean, "12345") == "“12345” is not a valid phone number."
    assert reason(clean, "13800138000/2345") == "“2345” is not a valid phone number."
    assert reason(clean, "call me") == "“call me” is not a valid phone number."


@pytest.mark.parametrize("written", ["1.38001E+10", "1.38E+10", "1,38001E+10"])
def test_phone_in_scientific_notation_has_lost_digits_and_is_not_guessed(written: str) -> None:
    assert reason(phone_cleaner("CN"), written) == (
        f"“{written}” has lost digits: a spreadsheet saved the number in scientific notation. "
        "Format the column as text in the original file, type the full number and export again."
    )


def test_fast_path_agrees_with_libphonenumber() -> None:
    # 11 digits that look mobile but are not allotted: the fast path must not accept what core refuses.
    assert reason(phone_cleaner("CN"), "10000000000") == "“10000000000” is not a valid phone number."


# --- emails -------------------------------------------------------------------------------------------


def test_emails() -> None:
    assert clean_emails("Zhang.San@Example.COM") == ["Zhang.San@example.com"]
    assert clean_emails("a@x.cn; b@x.cn，a@x.cn / mailto:c@x.cn") == ["a@x.cn", "b@x.cn", "c@x.cn"]
    assert clean_emails("ｚｓ＠ｅｘａｍｐｌｅ．ｃｎ") == ["zs@example.cn"]
    assert reason(clean_emails, "zhangsan@") == "“zhangsan@” is not a valid email address."
    assert reason(clean_emails, "a" * 250 + "@x.cn") == "Enter at most 254 characters; this has 255."


# --- dates --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "1990-01-02",
        "1990/1/2",
        "1990-1-2",
        "1990年1月2日",
        "1990 年 1 月 2 日",
        "1990.01.02",
        "19900102",
        "1990-01-02 00:00:00",
        "1990/01/02 14:30",
        "1990-01-02T00:00:00Z",
        "１９９０－０１－０２",
        "32875",  # an Excel serial number
        "32875.0",
        date(1990, 1, 2),
        datetime(1990, 1, 2, 9, 30),
    ],
)
def test_dates_as_people_write_them(written: Any) -> None:
    assert date_cleaner()(written) == date(1990, 1, 2)


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("1990-02-30", "There is no such date as “1990-02-30”."),
        ("1990-13-01", "There is no such date as “1990-13-01”."),
        ("19901301", "There is no such date as “19901301”."),
        ("02/01/1990", "“02/01/1990” is not a date: write the year first, for example 1990-01-02."),
        ("90-1-2", "“90-1-2” is not a date: write the year first, for example 1990-01-02."),
        ("1990", "“1990” is not a date: write the year first, for example 1990-01-02."),
        ("yesterday", "“yesterday” is not a date: write the year first, for example 1990-01-02."),
    ],
)
def test_impossible_and_ambiguous_dates_are_refused(written: str, why: str) -> None:
    assert reason(date_cleaner(), written) == why


def test_birthdays_are_not_in_the_future_nor_before_1900() -> None:
    clean = date_cleaner(birthday=True, today=date(2026, 12, 2))
    assert clean("2026-12-02") == date(2026, 12, 2)
    assert reason(clean, "2026-12-03") == "A birthday cannot be in the future."
    assert reason(clean, "1899-12-31") == "A birthday before 1900 cannot be right."


# --- choices ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "code"),
    [("男", "male"), ("先生", "male"), ("M", "male"), ("Male", "male"), ("女", "female"), ("女士", "female"),
     ("f", "female"), ("FEMALE", "female"), ("小姐", "female"), ("未知", ""), ("保密", "")],
)  # fmt: skip
def test_gender_words(written: str, code: str) -> None:
    assert clean_gender(written) == code


def test_gender_error() -> None:
    assert reason(clean_gender, "男女") == "“男女” is not a gender: write 男 or 女 (male or female)."


def test_stage_and_source_by_chinese_or_english_label_or_code() -> None:
    stage = CUSTOMERS.field("stage").make_cleaner()
    source = CUSTOMERS.field("source").make_cleaner()

    written = ("意向客户", "Prospect", "prospect", "AT_RISK", "At risk", "流失风险", "老客户")
    assert [stage(v) for v in written] == [
        "prospect", "prospect", "prospect", "at_risk", "at_risk", "at_risk", "repeat"
    ]  # fmt: skip
    assert [source(v) for v in ("转介绍", "referral", "Walk-in", "到店", "朋友介绍", "网页表单", "微信")] == [
        "referral", "referral", "walk_in", "walk_in", "referral", "web", "wechat"
    ]  # fmt: skip
    assert reason(stage, "VIP") == (
        "Choose one of: Lead, Prospect, Customer, Repeat customer, Loyal customer, At risk, Churned."
    )


def test_choice_error_lists_the_labels_in_the_users_language() -> None:
    stage = CUSTOMERS.field("stage").make_cleaner()
    with translation.override("zh-hans"):
        assert (
            reason(stage, "VIP")
            == "请从以下选项中选择一个：线索, 意向客户, 成交客户, 复购客户, 忠诚客户, 流失风险, 已流失。"
        )


def test_kind_words() -> None:
    kind = CUSTOMERS.field("kind").make_cleaner()
    assert [kind(v) for v in ("企业", "公司", "个人", "Company", "person")] == [
        "company", "company", "person", "company", "person"
    ]  # fmt: skip


# --- text, tags, codes, vehicles ----------------------------------------------------------------------


def test_text_is_trimmed_and_loses_control_characters() -> None:
    clean = text_cleaner(10)
    assert clean("  张三  ") == "张三"
    assert clean("张\x00三\u200b") == "张三"
    assert clean("张\t三\r\n") == "张 三"
    assert clean("张\u3000\u3000三") == "张 三"
    assert reason(clean, "一二三四五六七八九十一") == "Enter at most 10 characters; this has 11."


def test_multiline_text_keeps_its_lines() -> None:
    clean = text_cleaner(100, multiline=True)
    assert clean(" 第一行 \r\n\r\n  第二行\x07 ") == "第一行\n第二行"


def test_tags_split_trimmed_and_deduplicated() -> None:
    clean = tags_cleaner(50)
    assert clean("VIP, 老客户，ＶＩＰ；周末;洗车 、 VIP|新能源") == [
        "VIP",
        "老客户",
        "周末",
        "洗车",
        "新能源",
    ]
    assert reason(clean, "VIP," + "长" * 51) == f"A tag has at most 50 characters: “{'长' * 51}”."


def test_codes_keep_digits_and_refuse_scientific_notation() -> None:
    clean = code_cleaner(40)
    assert clean(" 00012345 ") == "00012345"
    assert reason(clean, "1.23457E+11").startswith("“1.23457E+11” has lost digits")


def test_plates() -> None:
    assert clean_plate("粤b·12345") == "粤B12345"
    assert clean_plate("粤B D12345") == "粤BD12345"
    assert clean_plate("京A-1234学") == "京A1234学"
    assert reason(clean_plate, "??") == "“??” is not a licence plate."


def test_vins() -> None:
    assert clean_vin("lsv ag2180-n2123456") == "LSVAG2180N2123456"
    assert clean_vin("123456") == "123456"  # shops often keep the last six
    assert reason(clean_vin, "LSVAG2180N21234567") == (
        "“LSVAG2180N21234567” is not a VIN: at most 17 letters and digits."
    )


@pytest.mark.parametrize(("written", "km"), [("12345", 12345), ("12,345 km", 12345), ("1.2万公里", 12000),
                                              ("８８８８", 8888), ("12345.6", 12346)])  # fmt: skip
def test_mileage(written: str, km: int) -> None:
    assert clean_mileage(written) == km


def test_mileage_error() -> None:
    assert (
        reason(clean_mileage, "-5")
        == "“-5” is not a mileage: write the kilometres as a number, for example 12345."
    )
    assert reason(clean_mileage, "很多").startswith("“很多” is not a mileage")


# --- custom fields ------------------------------------------------------------------------------------


def test_custom_fields_by_their_type() -> None:
    number = custom_field_cleaner(Definition("size", "尺码", "number"))
    when = custom_field_cleaner(Definition("since", "入会日期", "date"))
    yes = custom_field_cleaner(Definition("vip", "是否VIP", "boolean"))
    pick = custom_field_cleaner(Definition("fuel", "油品", "choice", ["92#", "95#", "Diesel"]))
    text = custom_field_cleaner(Definition("hobby", "爱好"))

    assert [number("42"), number("1,234.5"), number("４２")] == [42, 1234.5, 42]
    assert reason(number, "abc") == "Enter a number." and reason(number, "nan") == "Enter a number."
    assert when("2020年5月1日") == "2020-05-01"
    assert reason(when, "2020-02-31") == "There is no such date as “2020-02-31”."
    assert [yes("是"), yes("否"), yes("Y"), yes("√"), yes("FALSE")] == [True, False, True, True, False]
    assert reason(yes, "maybe") == "Enter yes or no."
    assert [pick("95#"), pick("diesel"), pick("９５＃")] == ["95#", "Diesel", "95#"]
    assert reason(pick, "98#") == "Choose one of: 92#, 95#, Diesel."
    assert text(" 钓鱼 ") == "钓鱼"
    assert reason(text, "x" * 501) == "Enter at most 500 characters; this has 501."


# --- rows ---------------------------------------------------------------------------------------------

HEADER = [
    "姓名",
    "手机",
    "电话",
    "邮箱",
    "性别",
    "生日",
    "标签",
    "备注",
    "备注2",
    "来源",
    "车牌号",
    "公司",
    "鞋码",
]


def cleaner(*definitions: Definition) -> RowCleaner:
    target = CUSTOMERS.with_custom_fields(definitions)
    return RowCleaner(target, HEADER, mapping_guess(HEADER, target).mapping)


def test_a_clean_row() -> None:
    row = ["张三", "138 0013 8000", "021-62345678/13800138000", "zs@example.cn", "男", "1990/1/2",
           "VIP，老客户", "第一次来", "喜欢洗车", "转介绍", "粤b12345", "", "42"]  # fmt: skip

    values, errors = cleaner(Definition("shoe", "鞋码", "number")).clean(2, row)

    assert errors == ()
    assert values == {
        "name": "张三",
        "phones": ["+8613800138000", "+862162345678"],
        "emails": ["zs@example.cn"],
        "gender": "male",
        "birthday": date(1990, 1, 2),
        "tags": ["VIP", "老客户"],
        "notes": "第一次来\n喜欢洗车",
        "source": "referral",
        "plate": "粤B12345",
        "custom_fields": {"shoe": 42},
    }


def test_a_bad_row_reports_every_column_with_row_header_value_and_reason() -> None:
    row = ["", "1.38001E+10", "无", "zs@", "x", "1990-02-30", "", "", "", "", "", "", "big"]

    values, errors = cleaner(Definition("shoe", "鞋码", "number", required=True)).clean(7, row)

    assert values == {}
    assert list(errors) == [
        CellError(7, "手机", "1.38001E+10", reason(phone_cleaner("CN"), "1.38001E+10")),
        CellError(7, "邮箱", "zs@", "“zs@” is not a valid email address."),
        CellError(7, "性别", "x", "“x” is not a gender: write 男 or 女 (male or female)."),
        CellError(7, "生日", "1990-02-30", "There is no such date as “1990-02-30”."),
        CellError(7, "鞋码", "big", "Enter a number."),
        CellError(7, "姓名", "", "This field is required."),
    ]


def test_a_company_without_a_persons_name_becomes_a_company_customer() -> None:
    row = ["", "", "", "", "", "", "", "", "", "", "", "广州某某物流有限公司", ""]

    values, errors = cleaner().clean(3, row)

    assert errors == ()
    assert values == {"company": "广州某某物流有限公司", "name": "广州某某物流有限公司", "kind": "company"}


def test_empty_words_count_as_empty_cells() -> None:
    row = ["李四", "无", " - ", "N/A", "", "暂无", "", "", "", "", "无", "", ""]

    assert cleaner().clean(4, row) == ({"name": "李四"}, ())


def test_unknown_field_in_a_mapping_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="No field 'nope'"):
        RowCleaner(CUSTOMERS, ["a"], ["nope"])


def test_columns_whose_values_repeat_are_cleaned_once_per_value_and_rows_do_not_share_lists() -> None:
    calls: list[str] = []

    def count(value: Any) -> list[str]:
        calls.append(value)
        if value == "bad":
            raise BadValue("no")
        return [value]

    clean = memoized(count)
    first, second = clean("VIP"), clean("VIP")
    first.append("changed")

    assert second == ["VIP"] and clean("VIP") == ["VIP"]
    assert reason(clean, "bad") == "no" and reason(clean, "bad") == "no"
    assert calls == ["VIP", "bad"]


def test_tags_from_two_columns_are_joined_without_touching_the_next_row() -> None:
    header = ["姓名", "标签", "客户标签"]
    rows = RowCleaner(CUSTOMERS, header, mapping_guess(header, CUSTOMERS).mapping)

    first, _errors = rows.clean(2, ["张三", "VIP", "洗车，VIP"])
    second, _errors = rows.clean(3, ["李四", "VIP", ""])

    assert first["tags"] == ["VIP", "洗车"]
    assert second["tags"] == ["VIP"]


def test_cleaning_speed_script_runs() -> None:
    from guanxi.imports.tests.bench_cleaning import HEADER, generate

    rows = RowCleaner(CUSTOMERS, HEADER, mapping_guess(HEADER, CUSTOMERS).mapping)
    results = [rows.clean(n, cells) for n, cells in enumerate(generate(500), 2)]

    assert sum(1 for _values, errors in results if errors) == 10  # one bad birthday in fifty


def test_files_read_mapped_and_cleaned_end_to_end(tmp_path: Any) -> None:
    from guanxi.imports.readers import open_table
    from guanxi.imports.tests.test_readers import ANDROID_VCF, write_workbook

    path = tmp_path / "book.xlsx"
    write_workbook(path)
    (tmp_path / "contacts.vcf").write_text(ANDROID_VCF, "utf-8")

    cleaned = []
    for name in ("book.xlsx", "contacts.vcf"):
        with open_table(tmp_path / name) as reader:
            rows = RowCleaner(CUSTOMERS, reader.header, mapping_guess(reader.header, CUSTOMERS).mapping)
            cleaned += [rows.clean(number, cells) for number, cells in reader.rows()]

    assert [
        (values.get("name"), values.get("phones"), values.get("birthday"), errors)
        for values, errors in cleaned
    ] == [
        ("张三", ["+8613800138000", "+862162345678"], date(1990, 1, 2), ()),
        ("李四", ["+8613900139000"], date(1985, 12, 31), ()),
        ("王五", ["+8613800138000"], date(2001, 5, 6), ()),
        ("欧阳娜娜", ["+8613800138000", "+862087654321"], date(1995, 3, 15), ()),
        ("李四", ["+8613900139000"], None, ()),
    ]
