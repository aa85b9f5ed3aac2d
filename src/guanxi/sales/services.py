"""Booking orders and refunding them. Every way in (counter page, API, later the file import) comes here.

Rules enforced here and nowhere else:
- `order.create` to book, `order.refund` to refund; the customer (and, for a refund, the order's
  customer) must be in the actor's scope, else NotFound, as if it did not exist.
- An order has lines or just an amount. With lines its total is the sum of the line totals
  (quantity × unit price, rounded half up to the cent, minus the line's discount); an amount sent with
  lines must equal that sum. Money has at most 2 decimal places, quantities at most 3.
- An idempotency key books once per user: the same key again returns the first order (`replayed`),
  also when two requests race (a unique constraint decides, caught in a savepoint); the same key for
  another customer or amount is refused with 409 `idempotency_key_reused`.
- A refund is a record of its own; the order's `refunded_total` grows by a conditional UPDATE that
  cannot pass the total, and its status follows (partially refunded, refunded).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record
from guanxi.catalog.models import Product, Store
from guanxi.catalog.money import (
    MAX_MONEY,
    MAX_QUANTITY,
    QUANTITY_PLACES,
    NotANumber,
    money_text,
    places,
    round_money,
    to_decimal,
)
from guanxi.core.errors import Conflict, Errors, NotFound
from guanxi.core.permissions import ensure_can, scope_q
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.sales.models import ZERO, Order, OrderLine, Refund
from guanxi.users.models import User

ORDER_TEXT = {"note": 500, "external_ref": 64}
KEY_MAX_LENGTH = 100
MAX_LINES = 200
# A till's clock may run a little ahead of the server's; beyond this an order time is a typing error.
FUTURE_SLACK = timedelta(minutes=10)
EARLIEST_YEAR = 1990
LINE_FIELDS = {"product_id", "quantity", "unit_price", "discount"}


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    default_message = "This idempotency key was used for another request."


class OrderFullyRefunded(Conflict):
    code = "order_fully_refunded"
    default_message = "This order is refunded in full already."


def _number(value: Any, field: str, errors: Errors, *, max_places: int, maximum: Decimal) -> Decimal | None:
    """A number of 0 or more with at most `max_places` decimals; None (and an error) otherwise."""
    try:
        number = to_decimal(value)
    except NotANumber:
        errors.add(field, _("Enter a number such as 12.50."))
        return None
    if number < 0:
        errors.add(field, _("Enter a number of 0 or more."))
    elif number > maximum:
        errors.add(field, _("Enter a number of at most %(max)s.") % {"max": f"{maximum:,}"})
    elif places(number) > max_places:
        errors.add(field, _("Enter at most %(places)d decimal places.") % {"places": max_places})
    else:
        return number
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _money(value: Any, field: str, errors: Errors) -> Decimal | None:
    number = _number(value, field, errors, max_places=2, maximum=MAX_MONEY)
    return None if number is None else number.quantize(Decimal("0.01"))


def _clean_key(value: str | None, errors: Errors) -> str | None:
    key = (value or "").strip()
    if not key:
        return None
    if len(key) > KEY_MAX_LENGTH or not key.isprintable():
        errors.add(
            "idempotency_key",
            _("Send at most %(limit)d printable characters.") % {"limit": KEY_MAX_LENGTH},
        )
    return key


def _clean_text(fields: Mapping[str, Any], errors: Errors) -> dict[str, str]:
    cleaned = {}
    for key, limit in ORDER_TEXT.items():
        value = str(fields.get(key) or "").strip()
        if len(value) > limit:
            errors.add(key, _("Enter at most %(limit)d characters.") % {"limit": limit})
        cleaned[key] = value
    return cleaned


def _clean_time(value: datetime | None, errors: Errors) -> datetime:
    now = timezone.now()
    if value is None:
        return now
    if timezone.is_naive(value):
        value = timezone.make_aware(value)  # read in the configured time zone (Asia/Shanghai)
    if value > now + FUTURE_SLACK:
        errors.add("ordered_at", _("An order cannot be in the future."))
    elif value.year < EARLIEST_YEAR:
        errors.add("ordered_at", _("Enter a time after %(year)d.") % {"year": EARLIEST_YEAR})
    return value


def _clean_choice(value: Any, choices: Any, field: str, errors: Errors) -> str:
    text = str(value or "")
    if text not in choices.values:
        errors.add(field, _("“%(value)s” is not one of the allowed values.") % {"value": text})
    return text


def _product_ids(raw: Sequence[Mapping[str, Any]]) -> list[int]:
    ids = []
    for line in raw:
        value = line.get("product_id") if isinstance(line, Mapping) else None
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
            ids.append(value)
        elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 19:
            ids.append(int(value))
    return ids


def _clean_line(index: int, line: Any, products: dict[int, Product], errors: Errors) -> OrderLine | None:
    prefix = f"lines.{index}"
    if not isinstance(line, Mapping):
        errors.add(prefix, _("Send each line as an object."))
        return None
    for key in sorted(set(line) - LINE_FIELDS):
        errors.add(f"{prefix}.{key}", _("Unknown field."))
    ids = _product_ids([line])
    product = products.get(ids[0]) if ids else None
    if _blank(line.get("product_id")):
        errors.add(f"{prefix}.product_id", _("Choose a product."))
    elif product is None:
        errors.add(f"{prefix}.product_id", _("There is no such product."))
    elif not product.active:
        errors.add(f"{prefix}.product_id", _("“%(name)s” is not for sale any more.") % {"name": product.name})
    quantity = None
    if _blank(line.get("quantity")):
        errors.add(f"{prefix}.quantity", _("This field is required."))
    else:
        quantity = _number(
            line["quantity"], f"{prefix}.quantity", errors, max_places=QUANTITY_PLACES, maximum=MAX_QUANTITY
        )
        if quantity is not None and quantity == 0:
            errors.add(f"{prefix}.quantity", _("Enter a quantity greater than 0."))
            quantity = None
    unit_price = (
        _money(line["unit_price"], f"{prefix}.unit_price", errors)
        if not _blank(line.get("unit_price"))
        else (product.price if product is not None else None)
    )
    discount = (
        ZERO if _blank(line.get("discount")) else _money(line["discount"], f"{prefix}.discount", errors)
    )
    if product is None or not product.active or quantity is None or unit_price is None or discount is None:
        return None
    gross = round_money(quantity * unit_price)
    if discount > gross:
        errors.add(f"{prefix}.discount", _("The discount cannot be more than the line's amount."))
        return None
    return OrderLine(
        position=index,
        product=product,
        sku=product.sku,
        name=product.name,
        unit=product.unit,
        quantity=quantity,
        unit_price=unit_price,
        discount=discount,
        total=gross - discount,
    )


def _clean_lines(raw: Sequence[Any], errors: Errors) -> list[OrderLine]:
    if len(raw) > MAX_LINES:
        errors.add("lines", _("Send at most %(limit)d lines.") % {"limit": MAX_LINES})
        return []
    products = Product.objects.in_bulk(_product_ids(raw))
    lines = [_clean_line(i, line, products, errors) for i, line in enumerate(raw)]
    return [line for line in lines if line is not None]


def _visible_customer(actor: User, customer: Customer) -> Customer:
    try:
        return Customer.objects.filter(scope_q(actor)).get(pk=customer.pk)
    except Customer.DoesNotExist as exc:
        raise NotFound(_("Customer not found.")) from exc


def _actor_or_none(actor: User) -> User | None:
    return actor if getattr(actor, "is_authenticated", False) else None


def _replayed_order(actor: User, key: str, customer: Customer, total: Decimal | None) -> Order | None:
    """The order this user booked with `key` before, or None; 409 when the key was for another sale."""
    order = Order.objects.filter(created_by=actor, idempotency_key=key).first()
    if order is None:
        return None
    if order.customer_id != customer.pk or (total is not None and order.total != total):
        raise IdempotencyKeyReused(
            _("This idempotency key booked another order (#%(id)s).") % {"id": order.pk},
            details={"order_id": order.pk},
        )
    order.replayed = True
    return order


def _timeline_items(lines: list[OrderLine]) -> list[dict[str, str]]:
    return [
        {"name": line.name, "quantity": f"{line.quantity.normalize():f}", "unit": line.unit}
        for line in lines[:5]
    ]


@transaction.atomic
def order_create(
    *,
    actor: User,
    customer: Customer,
    amount: Any = None,
    lines: Sequence[Mapping[str, Any]] = (),
    store: Store | None = None,
    ordered_at: datetime | None = None,
    channel: str = Order.Channel.STORE,
    payment_method: str = Order.PaymentMethod.CASH,
    note: str = "",
    external_ref: str = "",
    idempotency_key: str | None = None,
) -> Order:
    """Book a completed purchase for `customer`, with lines (`product_id`, `quantity`, optional
    `unit_price` (else the product's price) and `discount`) or just an `amount`. See the module's rules.
    """
    ensure_can(actor, "order.create")
    customer = _visible_customer(actor, customer)
    errors = Errors()
    key = _clean_key(idempotency_key, errors)
    texts = _clean_text({"note": note, "external_ref": external_ref}, errors)
    when = _clean_time(ordered_at, errors)
    channel = _clean_choice(channel, Order.Channel, "channel", errors)
    payment_method = _clean_choice(payment_method, Order.PaymentMethod, "payment_method", errors)
    if store is not None and not store.active:
        errors.add("store", _("The store “%(name)s” is inactive.") % {"name": store.name})
    order_lines = _clean_lines(list(lines), errors)
    stated = None if _blank(amount) else _money(amount, "amount", errors)
    total: Decimal | None = None
    if lines:
        if not errors.details:
            total = sum((line.total for line in order_lines), ZERO)
            if stated is not None and stated != total:
                errors.add(
                    "amount",
                    _("The amount (%(amount)s) differs from the lines' total (%(total)s).")
                    % {"amount": stated, "total": total},
                )
            elif total > MAX_MONEY:
                errors.add("amount", _("The lines add up to more than %(max)s.") % {"max": f"{MAX_MONEY:,}"})
    elif _blank(amount):
        errors.add("amount", _("Enter the amount, or add lines."))
    elif stated is not None and stated == 0:
        errors.add("amount", _("Enter an amount greater than 0."))
    else:
        total = stated
    errors.raise_if_any()
    assert total is not None

    if key and (earlier := _replayed_order(actor, key, customer, total)):
        return earlier
    order = Order(
        customer=customer,
        store=store,
        ordered_at=when,
        channel=channel,
        payment_method=payment_method,
        total=total,
        created_by=_actor_or_none(actor),
        idempotency_key=key or "",
        **texts,
    )
    try:
        with transaction.atomic():  # a savepoint: a lost race on the key leaves the transaction usable
            order.save()
    except IntegrityError:
        earlier = _replayed_order(actor, key, customer, total) if key else None
        if earlier is None:
            raise
        return earlier
    for line in order_lines:
        line.order = order
    OrderLine.objects.bulk_create(order_lines)
    audit_record(
        actor=actor,
        action="order.create",
        target=order,
        data={
            "customer": customer.pk,
            "total": str(total),
            "store": store.code if store else None,
            "lines": len(order_lines),
            "payment_method": payment_method,
            "channel": channel,
            "external_ref": texts["external_ref"] or None,
        },
    )
    TimelineEntry.objects.create(
        customer=customer,
        occurred_at=when,
        kind="order.created",
        actor=_actor_or_none(actor),
        data={
            "order_id": order.pk,
            "total": str(total),
            "store": store.name if store else "",
            "payment_method": payment_method,
            "channel": channel,
            "items": _timeline_items(order_lines),
            "lines": len(order_lines),
        },
    )
    return order


def _lock_order(actor: User, order: Order) -> Order:
    """The order locked, or NotFound when its customer is outside the actor's scope."""
    visible = scope_q(actor, owner="customer__owner", team="customer__team")
    try:
        return (
            Order.objects.select_for_update(of=("self",))
            .select_related("customer")
            .filter(visible)
            .get(pk=order.pk)
        )
    except Order.DoesNotExist as exc:
        raise NotFound(_("Order not found.")) from exc


def _replayed_refund(actor: User, key: str, order: Order, amount: Decimal | None) -> Refund | None:
    refund = Refund.objects.filter(created_by=actor, idempotency_key=key).first()
    if refund is None:
        return None
    if refund.order_id != order.pk or (amount is not None and refund.amount != amount):
        raise IdempotencyKeyReused(
            _("This idempotency key made another refund (#%(id)s).") % {"id": refund.pk},
            details={"refund_id": refund.pk},
        )
    refund.replayed = True
    return refund


@transaction.atomic
def order_refund(
    *,
    actor: User,
    order: Order,
    reason: str,
    amount: Any = None,
    idempotency_key: str | None = None,
) -> Refund:
    """Give back `amount` of the order (all that is left of it when None), for a stated reason.

    The refund is a record of its own; the order keeps its total and lines, its `refunded_total` grows
    and its status becomes partially refunded or refunded. The customer's net spend falls by `amount`.
    """
    ensure_can(actor, "order.refund")
    order = _lock_order(actor, order)
    errors = Errors()
    key = _clean_key(idempotency_key, errors)
    reason = " ".join(str(reason or "").split())
    if not reason:
        errors.add("reason", _("Say why the money is given back."))
    elif len(reason) > 300:
        errors.add("reason", _("Enter at most %(limit)d characters.") % {"limit": 300})
    stated = None if _blank(amount) else _money(amount, "amount", errors)
    errors.raise_if_any()
    if key and (earlier := _replayed_refund(actor, key, order, stated)):
        return earlier
    left = order.total - order.refunded_total
    if left <= 0:
        raise OrderFullyRefunded(_("This order is refunded in full already."))
    refund_amount = left if stated is None else stated
    if refund_amount <= 0:
        errors.add("amount", _("Enter an amount greater than 0."))
    elif refund_amount > left:
        errors.add(
            "amount", _("At most %(left)s is left to refund on this order.") % {"left": money_text(left)}
        )
    errors.raise_if_any()

    refund = Refund(
        order=order,
        amount=refund_amount,
        reason=reason,
        refunded_at=timezone.now(),
        created_by=_actor_or_none(actor),
        idempotency_key=key or "",
    )
    refunded = order.refunded_total + refund_amount
    status = Order.Status.REFUNDED if refunded == order.total else Order.Status.PARTIALLY_REFUNDED
    try:
        with transaction.atomic():
            # The guard: the UPDATE matches only the refunded total read above (the row is locked on
            # PostgreSQL; on SQLite writers take turns), so two refunds can never both count. The sums are
            # made here in Decimal: SQLite would compute them in floating point.
            updated = Order.objects.filter(pk=order.pk, refunded_total=order.refunded_total).update(
                refunded_total=refunded, status=status
            )
            if not updated:
                raise Conflict(_("The order changed meanwhile; reload it and try again."))
            refund.save()
    except IntegrityError:
        earlier = _replayed_refund(actor, key, order, stated) if key else None
        if earlier is None:
            raise
        return earlier
    before = order.refunded_total
    order.refunded_total, order.status = refunded, status
    audit_record(
        actor=actor,
        action="order.refund",
        target=order,
        changes={"refunded_total": [str(before), str(refunded)]},
        data={"refund": refund.pk, "amount": str(refund_amount), "reason": reason, "status": order.status},
    )
    TimelineEntry.objects.create(
        customer=order.customer,
        occurred_at=refund.refunded_at,
        kind="order.refunded",
        actor=_actor_or_none(actor),
        data={
            "order_id": order.pk,
            "refund_id": refund.pk,
            "amount": str(refund_amount),
            "reason": reason,
            "full": order.status == Order.Status.REFUNDED,
        },
    )
    return refund
