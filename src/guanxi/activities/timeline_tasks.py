"""How a done task reads on the customer's 360 timeline.

Imported by ActivitiesConfig.ready (until then by views_tasks, which every URL configuration loads).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from guanxi.customers.models import TimelineEntry
from guanxi.customers.templatetags.customer_tags import (
    TimelineItem,
    TimelineReader,
    register_timeline_kind,
    sentence,
)


@register_timeline_kind("task.done")
def task_done(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    data: dict[str, Any] = entry.data
    task_id = data.get("task_id")
    title: Any = str(data.get("title", ""))
    if isinstance(task_id, int):
        title = format_html(
            '<a href="{}"><strong>{}</strong></a>', reverse("task-detail", args=[task_id]), title
        )
    return TimelineItem(
        title=sentence(_("Task done: %(title)s"), title=title),
        css="task",
        body=str(data.get("note") or ""),
    )
