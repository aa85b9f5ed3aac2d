"""How opportunities read on the customer's 360 timeline (registered when the app is ready). The dots
reuse the timeline's colours: created, changed, consent (won) and withdrawn (lost)."""

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
from guanxi.opportunities.models import Opportunity


def _money(value: Any) -> str:
    try:
        return money_text(to_decimal(value))
    except NotANumber:
        return str(value)


def _link(data: dict[str, Any]) -> Any:
    return format_html(
        '<a href="{}">{}</a>',
        reverse("opportunity-detail", args=[int(data["opportunity_id"])]),
        data.get("name", ""),
    )


@register_timeline_kind("opportunity.created")
def opportunity_created(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    data: dict[str, Any] = entry.data
    title = sentence(
        _("New opportunity %(opportunity)s in %(stage)s"),
        opportunity=_link(data),
        stage=data.get("stage", ""),
    )
    facts = (
        [(_("Amount"), _money(data["amount"]))] if data.get("amount") not in (None, "", "0", "0.00") else []
    )
    return TimelineItem(title=title, css="created", facts=facts)


@register_timeline_kind("opportunity.stage_changed", "opportunity.reopened")
def opportunity_stage_changed(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    data: dict[str, Any] = entry.data
    message = (
        _("Opportunity %(opportunity)s reopened in %(to)s")
        if entry.kind == "opportunity.reopened"
        else _("Opportunity %(opportunity)s moved from %(from)s to %(to)s")
    )
    parts = {"opportunity": _link(data), "to": data.get("to_stage", "")}
    if entry.kind != "opportunity.reopened":
        parts["from"] = data.get("from_stage", "")
    return TimelineItem(title=sentence(message, **parts), css="changed")


@register_timeline_kind("opportunity.won")
def opportunity_won(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    data: dict[str, Any] = entry.data
    title = sentence(
        _("Opportunity %(opportunity)s won: %(amount)s"),
        opportunity=_link(data),
        amount=_money(data.get("amount", "0")),
    )
    facts = [(_("Note"), str(data["note"]))] if data.get("note") else []
    return TimelineItem(title=title, css="consent", facts=facts)


@register_timeline_kind("opportunity.lost")
def opportunity_lost(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    data: dict[str, Any] = entry.data
    title = sentence(_("Opportunity %(opportunity)s lost"), opportunity=_link(data))
    code = str(data.get("lost_reason") or "")
    labels: dict[str, Any] = dict(Opportunity.LostReason.choices)
    reason = str(labels.get(code, code))
    facts = [(_("Reason"), reason)] if reason else []
    if data.get("note"):
        facts.append((_("Note"), str(data["note"])))
    return TimelineItem(title=title, css="withdrawn", facts=facts)
