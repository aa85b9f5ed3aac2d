"""How a lead's conversion reads on the customer's 360 timeline (registered when the app is ready)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from guanxi.customers.models import Customer, TimelineEntry
from guanxi.customers.templatetags.customer_tags import (
    TimelineItem,
    TimelineReader,
    register_timeline_kind,
    sentence,
)


@register_timeline_kind("lead.converted")
def lead_converted(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    data: dict[str, Any] = entry.data
    link = format_html(
        '<a href="{}">#{} {}</a>',
        reverse("lead-detail", args=[int(data["lead_id"])]),
        data["lead_id"],
        data.get("name", ""),
    )
    if data.get("new_customer"):
        title = sentence(_("Converted from lead %(lead)s, as a new customer"), lead=link)
    else:
        title = sentence(_("Converted from lead %(lead)s"), lead=link)
    facts = []
    source = data.get("source")
    if source:
        facts.append((_("Source"), str(dict(Customer.Source.choices).get(source, source))))
    if data.get("opportunity_id"):
        facts.append((_("Opportunity"), str(data.get("opportunity_name") or f"#{data['opportunity_id']}")))
    return TimelineItem(title=title, css="lead", facts=facts)
