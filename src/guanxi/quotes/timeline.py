"""How quotes read on the customer's 360 timeline (registered when the app is ready)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from guanxi.catalog.money import NotANumber, money_text, to_decimal
from guanxi.customers.models import TimelineEntry
from guanxi.customers.templatetags.customer_tags import (
    TimelineItem,
    TimelineReader,
    register_timeline_kind,
    sentence,
)


def _money(value: Any) -> str:
    try:
        return money_text(to_decimal(value))
    except NotANumber:
        return str(value)


def _quote_link(data: dict[str, Any]) -> Any:
    return format_html(
        '<a href="{}">{}</a>',
        reverse("quote-detail", args=[int(data["quote_id"])]),
        data.get("reference", ""),
    )


@register_timeline_kind("quote.created")
def quote_created(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    data: dict[str, Any] = entry.data
    if int(data.get("version", 1)) > 1:
        message = _("Quote %(quote)s drafted as a new version (%(amount)s)")
    else:
        message = _("Quote %(quote)s drafted (%(amount)s)")
    title = sentence(message, quote=_quote_link(data), amount=_money(data.get("total", "0")))
    return TimelineItem(title=title, css="quote")


@register_timeline_kind("quote.sent")
def quote_sent(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    data: dict[str, Any] = entry.data
    title = sentence(
        _("Quote %(quote)s sent (%(amount)s)"), quote=_quote_link(data), amount=_money(data["total"])
    )
    facts = [(pgettext("addressee of a letter", "To"), ", ".join(data.get("to", [])))] if reader.clear else []
    return TimelineItem(title=title, css="quote", facts=facts)


@register_timeline_kind("quote.accepted")
def quote_accepted(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    data: dict[str, Any] = entry.data
    order = format_html(
        '<a href="{}">#{}</a>', reverse("order-detail", args=[int(data["order_id"])]), data["order_id"]
    )
    title = sentence(
        _("Quote %(quote)s accepted: order %(order)s for %(amount)s"),
        quote=_quote_link(data),
        order=order,
        amount=_money(data["total"]),
    )
    return TimelineItem(title=title, css="order")


@register_timeline_kind("quote.rejected")
def quote_rejected(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    data: dict[str, Any] = entry.data
    title = sentence(_("Quote %(quote)s rejected"), quote=_quote_link(data))
    facts = [(_("Reason"), str(data["reason"]))] if data.get("reason") else []
    return TimelineItem(title=title, css="quote-rejected", facts=facts)
