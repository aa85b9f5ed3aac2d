"""What a file can be imported into, described as data, and the guess of which column fills which field.

A `Target` lists its fields: key, label for the UI, required or not, whether several columns may fill it,
the header words it is guessed from, and how its values are cleaned. The first target is "customers";
orders and assets imports add theirs with `target_register`. Custom fields join a target at run time
(`Target.with_custom_fields`), so cleaning stays testable without a database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Asset, Customer
from guanxi.imports.cleaning import (
    CUSTOM_PREFIX,
    FieldDefinition,
    ValueCleaner,
    choice_cleaner,
    clean_emails,
    clean_gender,
    clean_mileage,
    clean_plate,
    clean_vin,
    code_cleaner,
    custom_field_cleaner,
    date_cleaner,
    phone_cleaner,
    tags_cleaner,
    text_cleaner,
)


@dataclass(frozen=True)
class TargetField:
    """One field an import can fill. `make_cleaner` is called once per import (cleaners may read the
    settings, today's date, the labels in each language); `multiple`: several columns may fill it (their
    lists are joined, their texts put on separate lines); `headers`: the words a column is guessed by."""

    key: str
    label: str | Promise
    make_cleaner: Callable[[], ValueCleaner]
    required: bool = False
    multiple: bool = False
    headers: tuple[str, ...] = ()
    repeats: bool = False  # its values repeat from row to row (a city, a stage): clean each once


@dataclass(frozen=True)
class Target:
    key: str
    label: str | Promise
    fields: tuple[TargetField, ...]
    # Runs on each cleaned row before the required fields are checked, to derive one value from others.
    finish: Callable[[dict[str, Any]], None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def field(self, key: str) -> TargetField:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    def with_custom_fields(self, definitions: Iterable[FieldDefinition]) -> Target:
        """This target plus one field per custom field definition (key "custom_fields.<key>"), guessed
        from the definition's label and key."""
        added = tuple(
            TargetField(
                key=f"{CUSTOM_PREFIX}{d.key}",
                label=d.label,
                make_cleaner=lambda d=d: custom_field_cleaner(d),  # type: ignore[misc]
                required=bool(d.required),
                headers=(d.label, d.key),
                repeats=str(d.type) in {"choice", "boolean"},
            )
            for d in definitions
        )
        return replace(self, fields=self.fields + added)


TARGETS: dict[str, Target] = {}


def target_register(target: Target) -> Target:
    TARGETS[target.key] = target
    return target


def target_get(key: str) -> Target:
    return TARGETS[key]


# --- guessing the mapping -----------------------------------------------------------------------------

_BRACKETED = re.compile(r"[(\[<{【《〔][^)\]>}】》〕]*[)\]>}】》〕]")
_MARKERS = re.compile(r"必填|选填|必须|可选|required|optional")
_NOT_WORD = re.compile(r"[\W_]+")
_PREFIXES = ("客户", "customer")  # 客户手机 is 手机, Customer Source is Source; 客户 alone stays


def header_key(header: str) -> str:
    """A header as it is matched: full-width to half-width, case folded, without "(必填)", "*", spaces
    or punctuation. "手机号码（必填）*" → "手机号码"; " E-mail " → "email"."""
    text = unicodedata.normalize("NFKC", header or "").casefold()
    plain = _NOT_WORD.sub("", _MARKERS.sub("", _BRACKETED.sub("", text)))
    return plain or _NOT_WORD.sub("", _MARKERS.sub("", text))


def _stem(key: str) -> str:
    for prefix in _PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix):
            return key[len(prefix) :]
    return key


@dataclass(frozen=True)
class MappingGuess:
    """`mapping`: one entry per column, the field key it fills or None; `unmapped`: the headers of the
    columns that fill nothing, for the user to map by hand or leave out."""

    mapping: list[str | None]
    unmapped: list[str]


def mapping_guess(header: Sequence[str], target: Target) -> MappingGuess:
    """Guess which column fills which field from the headers, Chinese or English.

    In order: a custom field's label or key said exactly (the administrator's own words win), then a
    field's header word said exactly, then the longest header word the header contains ("联系手机" holds
    "手机"; a tie between two fields guesses nothing). A field that takes one column takes the first.
    """
    keys = [_stem(header_key(h)) for h in header]
    mapping: list[str | None] = [None] * len(header)
    taken: set[str] = set()

    def assign(column: int, f: TargetField) -> None:
        mapping[column] = f.key
        if not f.multiple:
            taken.add(f.key)

    words = {f.key: {_stem(header_key(w)) for w in f.headers} for f in target.fields}
    custom = [f for f in target.fields if f.key.startswith(CUSTOM_PREFIX)]
    builtin = [f for f in target.fields if not f.key.startswith(CUSTOM_PREFIX)]
    for candidates in (custom, builtin):
        for column, key in enumerate(keys):
            if mapping[column] is not None or not key:
                continue
            for f in candidates:
                if f.key not in taken and key in words[f.key]:
                    assign(column, f)
                    break
    for column, key in enumerate(keys):
        if mapping[column] is not None or not key:
            continue
        best: list[tuple[int, TargetField]] = []
        for f in builtin:
            if f.key in taken:
                continue
            length = max((len(w) for w in words[f.key] if len(w) >= 2 and w in key), default=0)
            if length:
                best.append((length, f))
        best.sort(key=lambda pair: -pair[0])
        if best and (len(best) == 1 or best[0][0] > best[1][0]):
            assign(column, best[0][1])
    unmapped = [header[i] for i, key in enumerate(mapping) if key is None]
    return MappingGuess(mapping=mapping, unmapped=unmapped)


def mapping_missing(target: Target, mapping: Sequence[str | None]) -> list[TargetField]:
    """The required fields no column fills: the import cannot start until the user maps them."""
    mapped = set(mapping)
    return [f for f in target.fields if f.required and f.key not in mapped]


def mapping_from_template(
    header: Sequence[str], template: dict[str, str], target: Target
) -> list[str | None]:
    """Apply a saved mapping (header → field key) to a new file's header, matching headers loosely;
    fields the target no longer has are dropped."""
    known = {f.key for f in target.fields}
    by_key = {header_key(h): key for h, key in template.items() if key in known}
    return [by_key.get(header_key(h)) for h in header]


# --- the customers target -----------------------------------------------------------------------------


def _length(model: Any, name: str) -> int:
    return int(model._meta.get_field(name).max_length)


KIND_WORDS = {
    "person": ("个人", "个人客户", "散客", "私人", "individual", "private"),
    "company": (
        "企业",
        "企业客户",
        "公司",
        "单位",
        "机构",
        "团体",
        "business",
        "organisation",
        "organization",
    ),
}
STAGE_WORDS = {
    "lead": ("潜在客户", "新线索"),
    "prospect": ("意向", "有意向"),
    "customer": ("成交", "已成交", "客户"),
    "repeat": ("复购", "回头客", "老客户"),
    "loyal": ("忠诚", "忠实客户", "铁粉"),
    "at_risk": ("流失预警", "风险", "risk"),
    "churned": ("流失", "已流失", "lost"),
}
SOURCE_WORDS = {
    "walk_in": ("进店", "自然进店", "自来客", "门店", "到店客户", "walkin", "store"),
    "referral": ("介绍", "朋友介绍", "老带新", "推荐", "转介"),
    "phone": ("电话", "电话咨询", "call"),
    "web": ("网站", "官网", "网络", "网页", "线上", "online", "website", "internet"),
    "wechat": ("公众号", "小程序", "微信群", "朋友圈", "weixin"),
    "campaign": ("营销", "广告", "推广", "ad", "ads"),
    "event": ("活动", "展会", "会展", "fair"),
    "partner": ("合作", "渠道", "代理"),
    "import": ("导入",),
    "other": ("其它",),
}


def _customers_finish(values: dict[str, Any]) -> None:
    """A row with a company and no person's name is the company itself (a business customer)."""
    company = values.get("company")
    if company and not values.get("name"):
        values["name"] = company
        values.setdefault("kind", Customer.Kind.COMPANY.value)


CUSTOMERS = target_register(
    Target(
        key="customers",
        label=_("Customers"),
        finish=_customers_finish,
        fields=(
            TargetField(
                "name",
                _("Name"),
                lambda: text_cleaner(_length(Customer, "name")),
                required=True,
                headers=(
                    "姓名",
                    "客户姓名",
                    "客户名称",
                    "名称",
                    "名字",
                    "客户",
                    "车主",
                    "车主姓名",
                    "会员姓名",
                    "name",
                    "customer",
                    "customername",
                    "fullname",
                    "contactname",
                ),
            ),
            TargetField(
                "kind",
                _("Kind"),
                lambda: choice_cleaner(Customer.Kind.choices, KIND_WORDS),
                repeats=True,
                headers=("类型", "客户类型", "客户类别", "kind", "customertype", "type"),
            ),
            TargetField(
                "phones",
                _("Phones"),
                phone_cleaner,
                multiple=True,
                headers=(
                    "手机",
                    "手机号",
                    "手机号码",
                    "联系电话",
                    "电话",
                    "电话号码",
                    "移动电话",
                    "联系方式",
                    "座机",
                    "固话",
                    "mobile",
                    "phone",
                    "phones",
                    "tel",
                    "telephone",
                    "cell",
                    "cellphone",
                    "mobilephone",
                    "phonenumber",
                ),
            ),
            TargetField(
                "emails",
                _("Emails"),
                lambda: clean_emails,
                multiple=True,
                headers=("邮箱", "电子邮件", "电子邮箱", "邮件", "email", "emails", "mail", "emailaddress"),
            ),
            TargetField(
                "wechat_id",
                _("WeChat ID"),
                lambda: text_cleaner(_length(Customer, "wechat_id")),
                headers=("微信", "微信号", "微信id", "wechat", "wechatid", "weixin", "wx"),
            ),
            TargetField(
                "gender",
                _("Gender"),
                lambda: clean_gender,
                repeats=True,
                headers=("性别", "gender", "sex"),
            ),
            TargetField(
                "birthday",
                _("Birthday"),
                lambda: date_cleaner(birthday=True),
                headers=(
                    "生日",
                    "出生日期",
                    "出生年月日",
                    "出生年月",
                    "birthday",
                    "dateofbirth",
                    "birthdate",
                    "dob",
                ),
            ),
            TargetField(
                "member_no",
                _("Member number"),
                lambda: code_cleaner(_length(Customer, "member_no")),
                headers=(
                    "会员号",
                    "会员卡号",
                    "卡号",
                    "会员编号",
                    "会员卡",
                    "memberno",
                    "membernumber",
                    "memberid",
                    "cardno",
                    "cardnumber",
                ),
            ),
            TargetField(
                "external_id",
                _("Number in the old system"),
                lambda: code_cleaner(100),
                headers=(
                    "客户编号",
                    "客户编码",
                    "编号",
                    "客户id",
                    "客户号",
                    "id",
                    "code",
                    "customerid",
                    "customerno",
                    "customernumber",
                    "customercode",
                ),
            ),
            TargetField(
                "province",
                _("Province"),
                lambda: text_cleaner(_length(Customer, "province")),
                repeats=True,
                headers=("省份", "省", "所在省", "province", "state"),
            ),
            TargetField(
                "city",
                _("City"),
                lambda: text_cleaner(_length(Customer, "city")),
                repeats=True,
                headers=("城市", "市", "所在城市", "city"),
            ),
            TargetField(
                "district",
                _("District"),
                lambda: text_cleaner(_length(Customer, "district")),
                repeats=True,
                headers=("区县", "区", "县", "区域", "district", "county"),
            ),
            TargetField(
                "street",
                _("Address"),
                lambda: text_cleaner(_length(Customer, "street")),
                headers=(
                    "地址",
                    "详细地址",
                    "街道地址",
                    "联系地址",
                    "通讯地址",
                    "住址",
                    "address",
                    "street",
                    "streetaddress",
                ),
            ),
            TargetField(
                "source",
                _("Source"),
                lambda: choice_cleaner(Customer.Source.choices, SOURCE_WORDS),
                repeats=True,
                headers=("来源", "客户来源", "来源渠道", "source", "channel", "leadsource"),
            ),
            TargetField(
                "stage",
                _("Lifecycle stage"),
                lambda: choice_cleaner(Customer.Stage.choices, STAGE_WORDS),
                repeats=True,
                headers=("阶段", "客户阶段", "生命周期阶段", "生命周期", "stage", "lifecyclestage", "status"),
            ),
            TargetField(
                "tags",
                _("Tags"),
                lambda: tags_cleaner(50),
                multiple=True,
                repeats=True,
                headers=("标签", "客户标签", "tags", "tag", "categories", "labels"),
            ),
            TargetField(
                "notes",
                _("Notes"),
                lambda: text_cleaner(10_000, multiline=True),
                multiple=True,
                headers=(
                    "备注",
                    "说明",
                    "备注信息",
                    "note",
                    "notes",
                    "remark",
                    "remarks",
                    "comment",
                    "comments",
                    "memo",
                ),
            ),
            TargetField(
                "company",
                _("Company"),
                lambda: text_cleaner(_length(Customer, "name")),
                headers=(
                    "公司",
                    "单位",
                    "工作单位",
                    "公司名称",
                    "单位名称",
                    "company",
                    "companyname",
                    "organisation",
                    "organization",
                    "employer",
                ),
            ),
            TargetField(
                "plate",
                _("Licence plate"),
                lambda: clean_plate,
                headers=(
                    "车牌号",
                    "车牌",
                    "车牌号码",
                    "plate",
                    "licenceplate",
                    "licenseplate",
                    "platenumber",
                ),
            ),
            TargetField(
                "vin",
                _("VIN"),
                lambda: clean_vin,
                headers=("vin", "车架号", "车辆识别代号", "车辆识别号", "vinnumber"),
            ),
            TargetField(
                "vehicle_model",
                _("Vehicle model"),
                lambda: text_cleaner(_length(Asset, "model")),
                repeats=True,
                headers=("车型", "车辆型号", "品牌车型", "车系", "carmodel", "vehiclemodel", "model"),
            ),
            TargetField(
                "mileage_km",
                _("Mileage (km)"),
                lambda: clean_mileage,
                headers=("里程", "公里数", "行驶里程", "里程数", "mileage", "odometer"),
            ),
        ),
    )
)
