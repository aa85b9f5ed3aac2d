"""Guessing which column fills which field, from headers as shops write them."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from guanxi.imports.mapping import (
    CUSTOMERS,
    TARGETS,
    Target,
    TargetField,
    header_key,
    mapping_from_template,
    mapping_guess,
    mapping_missing,
    target_get,
    target_register,
)
from guanxi.imports.readers import VCARD_COLUMNS


@dataclass
class Definition:
    key: str
    label: str
    type: str = "text"
    choices: list[str] = field(default_factory=list)
    required: bool = False


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("手机号码（必填）", "手机号码"),
        ("手机号码(必填)*", "手机号码"),
        ("＊姓名", "姓名"),
        (" E-mail ", "email"),
        ("Ｍｅｍｂｅｒ　Ｎｏ．", "memberno"),
        ("【备注】", "备注"),
        ("Date of Birth [optional]", "dateofbirth"),
    ],
)
def test_header_key_drops_markers_width_case_and_punctuation(header: str, key: str) -> None:
    assert header_key(header) == key


def test_chinese_headers_of_a_pos_export() -> None:
    header = [
        "客户姓名",
        "手机号",
        "联系电话",
        "电子邮件",
        "微信号",
        "性别",
        "出生日期",
        "会员卡号",
        "省份",
        "城市",
        "区县",
        "详细地址",
        "客户来源",
        "阶段",
        "标签",
        "备注",
        "车牌号",
        "车架号",
        "车型",
        "里程",
        "工作单位",
        "消费金额",
    ]

    guess = mapping_guess(header, CUSTOMERS)

    assert guess.mapping == [
        "name",
        "phones",
        "phones",
        "emails",
        "wechat_id",
        "gender",
        "birthday",
        "member_no",
        "province",
        "city",
        "district",
        "street",
        "source",
        "stage",
        "tags",
        "notes",
        "plate",
        "vin",
        "vehicle_model",
        "mileage_km",
        "company",
        None,
    ]
    assert guess.unmapped == ["消费金额"]


def test_english_headers_in_any_case() -> None:
    header = ["Customer Name", "MOBILE", "Tel", "E-Mail", "WeChat", "Gender", "Birthday", "Member No.",
              "Province", "City", "Address", "Customer Source", "Stage", "Tags", "Remark", "Plate", "VIN",
              "Company"]  # fmt: skip

    guess = mapping_guess(header, CUSTOMERS)

    assert guess.mapping == ["name", "phones", "phones", "emails", "wechat_id", "gender", "birthday",
                             "member_no", "province", "city", "street", "source", "stage", "tags", "notes",
                             "plate", "vin", "company"]  # fmt: skip
    assert guess.unmapped == []


def test_odd_headers_by_the_words_they_contain() -> None:
    header = ["序号", "车主姓名(必填)", "手机号码1", "手机号码2", "客户生日", "所在城市", "收货地址", "备注2",
              "Column F", "身份证号"]  # fmt: skip

    guess = mapping_guess(header, CUSTOMERS)

    assert guess.mapping == [
        None,
        "name",
        "phones",
        "phones",
        "birthday",
        "city",
        "street",
        "notes",
        None,
        None,
    ]
    assert guess.unmapped == ["序号", "Column F", "身份证号"]


def test_a_field_that_takes_one_column_takes_the_first() -> None:
    guess = mapping_guess(["姓名", "名字", "生日", "出生日期"], CUSTOMERS)

    assert guess.mapping == ["name", None, "birthday", None]
    assert guess.unmapped == ["名字", "出生日期"]


def test_vcard_columns_map() -> None:
    guess = mapping_guess(VCARD_COLUMNS, CUSTOMERS)

    assert dict(zip(VCARD_COLUMNS, guess.mapping, strict=True)) == {
        "name": "name",
        "phones": "phones",
        "emails": "emails",
        "organisation": "company",
        "title": None,
        "note": "notes",
        "birthday": "birthday",
        "address": "street",
        "categories": "tags",
    }


def test_custom_fields_by_label_or_key_and_before_built_in_words() -> None:
    target = CUSTOMERS.with_custom_fields(
        [
            Definition("shoe_size", "鞋码", "number"),
            Definition("car_series", "车型", "choice", ["轿车", "SUV"]),
        ]
    )

    guess = mapping_guess(["姓名", "鞋码", "车型", "shoe_size"], target)

    # The administrator's own "车型" wins over the built-in vehicle model; a field takes one column.
    assert guess.mapping == ["name", "custom_fields.shoe_size", "custom_fields.car_series", None]


def test_required_fields_that_no_column_fills() -> None:
    target = CUSTOMERS.with_custom_fields([Definition("level", "等级", required=True)])

    missing = mapping_missing(target, ["phones", None])

    assert [f.key for f in missing] == ["name", "custom_fields.level"]
    assert mapping_missing(target, ["name", "custom_fields.level"]) == []


def test_a_saved_template_applies_to_a_new_file_with_loosely_equal_headers() -> None:
    template = {"手机号码": "phones", "姓名（必填）": "name", "旧列": "no_such_field"}

    mapping = mapping_from_template(["姓名", "手机号码 ", "旧列", "新列"], template, CUSTOMERS)

    assert mapping == ["name", "phones", None, None]


def test_targets_are_data_so_another_import_registers_its_own() -> None:
    orders = target_register(
        Target(
            key="test_orders",
            label="Orders",
            fields=(
                TargetField("order_no", "Order number", lambda: str, required=True, headers=("订单号",)),
            ),
        )
    )

    try:
        assert target_get("test_orders") is orders
        assert target_get("customers") is CUSTOMERS
        assert mapping_guess(["订单号", "姓名"], orders).mapping == ["order_no", None]
    finally:
        del TARGETS["test_orders"]
