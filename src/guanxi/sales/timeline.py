"""How orders and refunds read on the customer's 360 timeline (registered when the app is ready)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from guanxi.catalog.money import NotANumber, money_text, to_decimal
from guanxi.customers.models import TimelineEntry
from guanxi.customers.templatetags.customer_tags import (
    TimelineItem,
    TimelineReader,
    register_timeline_kind,
    sentence,
)
from guanxi.sales.models import Order


def _money(value: Any) -> str:
    try:
        return money_text(to_decimal(value))
    except NotANumber:
        return str(value)


def _order_link(order_id: Any) -> Any:
    return format_html('<a href="{}">#{}</a>', reverse("order-detail", args=[int(order_id)]), order_id)


def _label(choices: Any, value: Any) -> str:
    return str(dict(choices.choices).get(value, value))


@register_timeline_kind("order.created")
def order_created(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    data: dict[str, Any] = entry.data
    if data.get("store"):
        title = sentence(
            _("Bought for %(amount)s at %(store)s (order %(order)s)"),
            amount=_money(data["total"]),
            store=data["store"],
            order=_order_link(data["order_id"]),
        )
    else:
        title = sentence(
            _("Bought for %(amount)s (order %(order)s)"),
            amount=_money(data["total"]),
            order=_order_link(data["order_id"]),
        )
    items = [f"{item['name']} × {item['quantity']}{item.get('unit') or ''}" for item in data.get("items", [])]
    more = int(data.get("lines", 0)) - len(items)
    if more > 0:
        items.append(_("and %(count)d more") % {"count": more})
    facts = [(_("Items"), "; ".join(items))] if items else []
    facts.append((_("Payment"), _label(Order.PaymentMethod, data.get("payment_method"))))
    if data.get("channel") and data["channel"] != Order.Channel.STORE:
        facts.append((_("Channel"), _label(Order.Channel, data["channel"])))
    return TimelineItem(title=title, css="order", facts=facts)


@register_timeline_kind("order.refunded")
def order_refunded(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    data: dict[str, Any] = entry.data
    message = (
        _("Refunded %(amount)s, the whole of order %(order)s")
        if data.get("full")
        else _("Refunded %(amount)s of order %(order)s")
    )
    title = sentence(message, amount=_money(data["amount"]), order=_order_link(data["order_id"]))
    return TimelineItem(title=title, css="refund", facts=[(_("Reason"), str(data.get("reason", "")))])
