"""Importing orders (issue 4): a POS or card system's export, one row an order or an order's line.

The "orders" target: the customer (by phone, member number or the old system's customer code; a name
too, so a customer not yet known is created), when, the amount or a product with its quantity, the store,
payment method, channel and the order number. Rows with the same order number are one order with several
lines (a batch never splits them). Each order is booked by `sales.services.order_create`, the service the
counter and the API use, so the same rules apply and each booking has its audit event and timeline entry.

Running the same file again books nothing twice: each order carries an idempotency key, "import:" and
its order number, or, without one, a digest of the row's customer, time, amount, product and store.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.catalog.models import Product, Store
from guanxi.catalog.money import MAX_MONEY, MAX_QUANTITY, QUANTITY_PLACES, NotANumber, places, to_decimal
from guanxi.core.errors import DomainError
from guanxi.core.permissions import can, scope_q
from guanxi.customers.models import Customer, CustomerPhone
from guanxi.customers.services.bulk import ImportRow, RowOutcome, customer_import_rows
from guanxi.imports.cleaning import (
    BadValue,
    ValueCleaner,
    cell_text,
    choice_cleaner,
    code_cleaner,
    first_phone_cleaner,
    text_cleaner,
)
from guanxi.imports.mapping import Target, TargetField, target_register
from guanxi.imports.readers import Cell
from guanxi.sales.models import Order
from guanxi.sales.services import IdempotencyKeyReused, order_create
from guanxi.users.models import User

EARLIEST = date(1990, 1, 1)  # as order_create: older purchases are typing mistakes
KEY_PREFIX = "import:"
EXTERNAL_SYSTEM = "import"  # the customer code's key in Customer.external_ids, as the customers import

# --- cleaning ---------------------------------------------------------------------------------------------


def money_cleaner(*, allow_zero: bool = True) -> ValueCleaner:
    """An amount in CNY as people and tills write it: ¥1,234.50, 1234.5元, full-width digits."""

    def clean(value: Cell) -> Decimal:
        try:
            number = to_decimal(value)
        except NotANumber:
            raise BadValue(
                _("“%(value)s” is not an amount of money.") % {"value": cell_text(value)}
            ) from None
        if number < 0:
            raise BadValue(_("An amount cannot be negative: book refunds on the order instead."))
        if number == 0 and not allow_zero:
            raise BadValue(_("Enter an amount above zero."))
        if places(number) > 2:
            raise BadValue(_("“%(value)s” has more than two decimal places.") % {"value": cell_text(value)})
        if number > MAX_MONEY:
            raise BadValue(_("“%(value)s” is too large an amount.") % {"value": cell_text(value)})
        return number.quantize(Decimal("0.01"))

    return clean


def clean_quantity(value: Cell) -> Decimal:
    try:
        number = to_decimal(value)
    except NotANumber:
        raise BadValue(_("“%(value)s” is not a quantity.") % {"value": cell_text(value)}) from None
    if number <= 0:
        raise BadValue(_("A quantity is more than zero."))
    if places(number) > QUANTITY_PLACES or number > MAX_QUANTITY:
        raise BadValue(
            _("“%(value)s” is not a quantity this system can hold (at most three decimal places).")
            % {"value": cell_text(value)}
        )
    return number


_MOMENT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[T\s]*(\d{1,2})\s*[:：时点]\s*(\d{1,2})\s*分?(?:\s*[:：]?\s*(\d{1,2})(?:\.\d+)?\s*秒?)?)?$"
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?$")
_SERIAL = re.compile(r"^(\d{5})(?:\.(\d+))?$")
_EXCEL_EPOCH = datetime(1899, 12, 30)


def _parse_moment(text: str) -> datetime | None:
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.strip()
    match = _MOMENT.match(text) or _COMPACT.match(text)
    if match:
        year, month, day, hour, minute, second = (int(p) if p else 0 for p in match.groups())
        try:
            return datetime(year, month, day, hour, minute, second)
        except ValueError:
            return None
    if _SERIAL.match(text):  # an Excel date-time as its day count and fraction
        return _EXCEL_EPOCH + timedelta(days=float(text))
    return None


def moment_cleaner(*, now: datetime | None = None) -> ValueCleaner:
    """When an order was made: a date with or without a time (2024-05-01 14:30, 2024/5/1, 2024年5月1日
    14时30分, an Excel date), read in the business's time zone; not in the future, not before 1990."""
    zone = timezone.get_current_timezone()
    latest = (now or timezone.now()) + timedelta(minutes=10)

    def clean(value: Cell) -> datetime:
        if isinstance(value, datetime):
            moment: datetime | None = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time.min)
        else:
            moment = _parse_moment(cell_text(value))
        if moment is None:
            raise BadValue(
                _("“%(value)s” is not a date and time: write it like 2024-05-01 14:30.")
                % {"value": cell_text(value)}
            )
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, zone)
        if moment > latest:
            raise BadValue(_("An order cannot be in the future."))
        if moment.date() < EARLIEST:
            raise BadValue(_("Enter a time after %(year)d.") % {"year": EARLIEST.year})
        return moment

    return clean


PAYMENT_WORDS = {
    "cash": ("现金", "现钞", "cash"),
    "card": ("银行卡", "刷卡", "信用卡", "借记卡", "pos", "unionpay", "银联"),
    "wechat_pay": ("微信", "微信支付", "wechat", "weixin", "wx"),
    "alipay": ("支付宝", "zfb", "alipay"),
    "member_card": ("会员卡", "储值卡", "充值卡", "油卡", "加油卡", "储值", "membercard"),
    "other": ("其他", "其它"),
}
CHANNEL_WORDS = {
    "store": ("门店", "到店", "店内", "线下", "柜台", "instore"),
    "phone": ("电话", "电话订购", "call"),
    "online": ("线上", "网店", "网上", "商城", "淘宝", "京东", "web"),
    "wechat": ("微信", "小程序", "公众号", "weixin"),
    "other": ("其他", "其它"),
}


def _orders_finish(values: dict[str, Any]) -> None:
    """A row says who bought (phone, member number or customer code) and what: an amount or a product."""
    if not (values.get("customer_phone") or values.get("member_no") or values.get("customer_code")):
        values["customer"] = None  # reported by the writer, with what to add
    if values.get("product") is None and values.get("amount") is None:
        values["what"] = None


ORDERS = target_register(
    Target(
        key="orders",
        label=gettext_lazy("Orders"),
        finish=_orders_finish,
        extra={"permission": "order.import", "group_by": "order_no"},
        fields=(
            TargetField(
                "customer_phone",
                gettext_lazy("Customer's phone"),
                first_phone_cleaner,
                headers=(
                    "手机",
                    "手机号",
                    "手机号码",
                    "联系电话",
                    "电话",
                    "客户手机",
                    "会员手机",
                    "mobile",
                    "phone",
                ),
            ),
            TargetField(
                "member_no",
                gettext_lazy("Member number"),
                lambda: code_cleaner(40),
                headers=(
                    "会员号",
                    "会员编号",
                    "会员卡号",
                    "卡号",
                    "memberno",
                    "membernumber",
                    "cardno",
                    "card",
                ),
            ),
            TargetField(
                "customer_code",
                gettext_lazy("Customer code"),
                lambda: code_cleaner(64),
                headers=(
                    "客户编号",
                    "客户编码",
                    "客户代码",
                    "客户号",
                    "customerid",
                    "customercode",
                    "customerno",
                ),
            ),
            TargetField(
                "customer_name",
                gettext_lazy("Customer's name (to create one not yet known)"),
                lambda: text_cleaner(200),
                headers=(
                    "姓名",
                    "客户姓名",
                    "客户名称",
                    "会员姓名",
                    "车主",
                    "name",
                    "customername",
                    "customer",
                ),
            ),
            TargetField(
                "ordered_at",
                gettext_lazy("Date and time"),
                moment_cleaner,
                required=True,
                headers=(
                    "日期",
                    "时间",
                    "消费时间",
                    "交易时间",
                    "下单时间",
                    "订单时间",
                    "购买日期",
                    "消费日期",
                    "交易日期",
                    "date",
                    "time",
                    "datetime",
                    "orderdate",
                    "ordertime",
                ),
            ),
            TargetField(
                "amount",
                gettext_lazy("Amount"),
                money_cleaner,
                headers=(
                    "金额",
                    "消费金额",
                    "实付金额",
                    "实收金额",
                    "订单金额",
                    "交易金额",
                    "合计",
                    "amount",
                    "total",
                ),
            ),
            TargetField(
                "product",
                gettext_lazy("Product (SKU or name)"),
                lambda: text_cleaner(200),
                repeats=True,
                headers=(
                    "商品",
                    "商品名称",
                    "产品",
                    "产品名称",
                    "品名",
                    "油品",
                    "sku",
                    "商品编码",
                    "product",
                ),
            ),
            TargetField(
                "quantity",
                gettext_lazy("Quantity"),
                lambda: clean_quantity,
                headers=("数量", "升数", "加油量", "件数", "quantity", "qty", "litres", "liters"),
            ),
            TargetField(
                "unit_price",
                gettext_lazy("Unit price"),
                lambda: money_cleaner(),
                headers=("单价", "价格", "unitprice", "price"),
            ),
            TargetField(
                "store",
                gettext_lazy("Store (code or name)"),
                lambda: text_cleaner(100),
                repeats=True,
                headers=("门店", "站点", "油站", "店铺", "门店名称", "门店编码", "store", "site", "shop"),
            ),
            TargetField(
                "payment_method",
                gettext_lazy("Payment method"),
                lambda: choice_cleaner(Order.PaymentMethod.choices, PAYMENT_WORDS),
                repeats=True,
                headers=("支付方式", "付款方式", "结算方式", "payment", "paymentmethod", "paidby"),
            ),
            TargetField(
                "channel",
                gettext_lazy("Channel"),
                lambda: choice_cleaner(Order.Channel.choices, CHANNEL_WORDS),
                repeats=True,
                headers=("渠道", "销售渠道", "channel"),
            ),
            TargetField(
                "order_no",
                gettext_lazy("Order number"),
                lambda: code_cleaner(64),
                headers=(
                    "订单号",
                    "订单编号",
                    "单号",
                    "流水号",
                    "小票号",
                    "orderno",
                    "ordernumber",
                    "orderid",
                    "receipt",
                ),
            ),
            TargetField(
                "note",
                gettext_lazy("Note"),
                lambda: text_cleaner(500),
                headers=("备注", "说明", "note", "notes", "remark"),
            ),
        ),
    )
)


# --- writing a batch --------------------------------------------------------------------------------------


@dataclass
class _Order:
    """The rows of one order: the first row's header values, a line per row that names a product."""

    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    @property
    def first(self) -> dict[str, Any]:
        return self.rows[0][1]


def _group(rows: list[tuple[int, dict[str, Any]]]) -> list[_Order]:
    orders: dict[str, _Order] = {}
    grouped: list[_Order] = []
    for number, values in rows:
        key = values.get("order_no")
        if key and key in orders:
            orders[key].rows.append((number, values))
            continue
        order = _Order([(number, values)])
        grouped.append(order)
        if key:
            orders[key] = order
    return grouped


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def _lookup(model: Any, code_field: str, names: set[str]) -> dict[str, Any]:
    """Products by SKU or name, stores by code or name, whatever the case and width."""
    if not names:
        return {}
    found: dict[str, Any] = {}
    for item in model.objects.filter(Q(**{f"{code_field}__in": names}) | Q(name__in=names)):
        found.setdefault(_fold(getattr(item, code_field)), item)
        found.setdefault(_fold(item.name), item)
    missing = {n for n in names if _fold(n) not in found}
    if missing:  # written in another case or width than stored: one more pass over the active few
        for item in model.objects.filter(active=True):
            found.setdefault(_fold(getattr(item, code_field)), item)
            found.setdefault(_fold(item.name), item)
    return found


def _key(order: _Order, customer: str) -> str:
    first = order.first
    if first.get("order_no"):
        return f"{KEY_PREFIX}{first['order_no']}"[:100]
    parts = [customer, first["ordered_at"].isoformat(), str(first.get("store") or "")]
    for _number, values in order.rows:
        parts += [
            str(values.get("amount") or ""),
            str(values.get("product") or ""),
            str(values.get("quantity") or ""),
        ]
    return KEY_PREFIX + "#" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


class _Customers:
    """Finds each row's customer by member number, customer code or phone, and creates the unknown."""

    def __init__(self, actor: User, orders: list[_Order]) -> None:
        self.actor = actor
        firsts = [o.first for o in orders]
        members = {v["member_no"] for v in firsts if v.get("member_no")}
        codes = {v["customer_code"] for v in firsts if v.get("customer_code")}
        phones = {v["customer_phone"] for v in firsts if v.get("customer_phone")}
        self.by_member = dict(Customer.objects.filter(member_no__in=members).values_list("member_no", "pk"))
        self.by_code = {
            str(code): pk
            for pk, code in Customer.objects.filter(
                **{f"external_ids__{EXTERNAL_SYSTEM}__in": list(codes)}
            ).values_list("pk", f"external_ids__{EXTERNAL_SYSTEM}")
        }
        self.by_phone: dict[str, int] = {}
        for number, pk in (
            CustomerPhone.objects.filter(number__in=phones)
            .order_by("customer_id")
            .values_list("number", "customer_id")
        ):
            self.by_phone.setdefault(number, pk)

    def key(self, values: dict[str, Any]) -> str:
        return "|".join(str(values.get(k) or "") for k in ("member_no", "customer_code", "customer_phone"))

    def find(self, values: dict[str, Any]) -> int | None:
        for found, key in (
            (self.by_member, "member_no"),
            (self.by_code, "customer_code"),
            (self.by_phone, "customer_phone"),
        ):
            if values.get(key) and values[key] in found:
                return found[values[key]]
        return None

    def create(self, wanted: dict[str, tuple[int, dict[str, Any]]]) -> dict[str, RowOutcome]:
        """New customers for the keys in `wanted` (key → the first row that names them), by the customer
        importer's rules; their outcomes by key."""
        rows = [
            ImportRow(
                number,
                {
                    "name": values["customer_name"],
                    **({"member_no": values["member_no"]} if values.get("member_no") else {}),
                    **(
                        {"external_ids": {EXTERNAL_SYSTEM: values["customer_code"]}}
                        if values.get("customer_code")
                        else {}
                    ),
                },
                phones=[values["customer_phone"]] if values.get("customer_phone") else [],
            )
            for number, values in wanted.values()
        ]
        outcomes = customer_import_rows(actor=self.actor, rows=rows) if rows else []
        made = dict(zip(wanted, outcomes, strict=True))
        for key, outcome in made.items():
            if outcome.result == "created":
                _number, values = wanted[key]
                for found, field_key in (
                    (self.by_member, "member_no"),
                    (self.by_code, "customer_code"),
                    (self.by_phone, "customer_phone"),
                ):
                    if values.get(field_key):
                        found[values[field_key]] = outcome.customer_id  # type: ignore[assignment]
        return made


def _reject(order: _Order, errors: dict[str, list[str]]) -> list[RowOutcome]:
    return [RowOutcome(number, "rejected", None, errors) for number, _values in order.rows]


def orders_import_rows(*, actor: User, rows: list[tuple[int, dict[str, Any]]]) -> list[RowOutcome]:
    """Book the orders of a batch of cleaned rows; every row ends created, skipped (booked before) or
    rejected with its reasons. The caller holds the transaction; each order is booked in a savepoint."""
    orders = _group(rows)
    customers = _Customers(actor, orders)
    outcomes: list[RowOutcome] = []
    customer_of: dict[int, int] = {}
    unknown: dict[str, tuple[int, dict[str, Any]]] = {}
    may_create = can(actor, "customer.import")
    for order in orders:
        first = order.first
        if "customer" in first:
            outcomes += _reject(
                order,
                {"customer": [_("Say who bought: a phone, member number or customer code.")]},
            )
            continue
        if "what" in first:
            outcomes += _reject(order, {"amount": [_("Give the amount, or a product and its quantity.")]})
            continue
        found = customers.find(first)
        if found is not None:
            customer_of[id(order)] = found
        elif first.get("customer_name") and may_create:
            unknown.setdefault(customers.key(first), order.rows[0])
    made = customers.create(unknown)
    visible = set(
        Customer.objects.filter(
            scope_q(actor),
            pk__in=set(customer_of.values()) | {o.customer_id for o in made.values() if o.customer_id},
        ).values_list("pk", flat=True)
    )
    products = _lookup(Product, "sku", {v["product"] for _n, v in rows if v.get("product")})
    stores = _lookup(Store, "code", {v["store"] for _n, v in rows if v.get("store")})
    instances = Customer.objects.in_bulk(visible)
    done = {o.row_number for o in outcomes}
    for order in orders:
        if order.rows[0][0] in done:
            continue
        first = order.first
        customer_id = customer_of.get(id(order))
        if customer_id is None:
            outcome = made.get(customers.key(first))
            if outcome is None:
                outcomes += _reject(
                    order,
                    {
                        "customer": [
                            _(
                                "No customer has this phone, member number or customer code; map a column "
                                "with the customer's name to create new customers."
                            )
                            if may_create
                            else _("No customer has this phone, member number or customer code.")
                        ]
                    },
                )
                continue
            if outcome.result != "created" and outcome.customer_id is None:
                outcomes += _reject(order, outcome.errors)
                continue
            customer_id = outcome.customer_id
        if customer_id not in visible:
            outcomes += _reject(order, {"customer": [_("This customer belongs to another team or owner.")]})
            continue
        outcomes += _book(actor, order, instances[customer_id], customers.key(first), products, stores)
    by_row = {o.row_number: o for o in outcomes}
    return [by_row[number] for number, _values in rows]


def _book(
    actor: User,
    order: _Order,
    customer: Customer,
    customer_key: str,
    products: dict[str, Product],
    stores: dict[str, Store],
) -> list[RowOutcome]:
    first = order.first
    errors: dict[str, list[str]] = defaultdict(list)
    store = None
    if first.get("store"):
        store = stores.get(_fold(first["store"]))
        if store is None:
            errors["store"].append(_("There is no store “%(name)s”.") % {"name": first["store"]})
    lines: list[dict[str, Any]] = []
    amount = Decimal(0)
    for _number, values in order.rows:
        if values.get("product"):
            product = products.get(_fold(values["product"]))
            if product is None:
                errors["product"].append(
                    _("There is no product “%(name)s”: add it under Products first.")
                    % {"name": values["product"]}
                )
                continue
            line: dict[str, Any] = {
                "product_id": product.pk,
                "quantity": values.get("quantity") or Decimal(1),
            }
            if values.get("unit_price") is not None:
                line["unit_price"] = values["unit_price"]
            elif values.get("amount") is not None and values.get("quantity") is None:
                line["quantity"] = Decimal(1)
                line["unit_price"] = values["amount"]
            lines.append(line)
        elif values.get("amount") is not None:
            amount += values["amount"]
    if lines and amount:
        errors["amount"].append(
            _("An order has product lines or an amount, not both: give every row a product.")
        )
    if errors:
        return _reject(order, dict(errors))
    try:
        booked = order_create(
            actor=actor,
            customer=customer,
            amount=None if lines else amount,
            lines=lines,
            store=store,
            ordered_at=first["ordered_at"],
            channel=first.get("channel") or Order.Channel.STORE,
            payment_method=first.get("payment_method") or Order.PaymentMethod.OTHER,
            note=first.get("note", ""),
            external_ref=first.get("order_no", ""),
            idempotency_key=_key(order, customer_key),
        )
    except IdempotencyKeyReused as exc:
        message = _("This order number was imported before with another customer or amount (order #%(id)s).")
        return _reject(order, {"order_no": [message % {"id": (exc.details or {}).get("order_id", "?")}]})
    except DomainError as exc:
        return _reject(
            order, {k: [str(m) for m in v] for k, v in (exc.details or {"order": [exc.message]}).items()}
        )
    result = "skipped" if booked.replayed else "created"
    return [RowOutcome(number, result, customer.pk) for number, _values in order.rows]
