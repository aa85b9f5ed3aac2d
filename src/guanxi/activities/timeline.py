"""How activities read on the customer's 360 timeline (registered when the app is ready).

An entry carries the activity as it was logged (services keep it in step when it changes); an email's
delivery state changes after that, so a loader fetches the states of a page's emails in one query.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from guanxi.activities.models import Activity
from guanxi.activities.selectors import activity_may_change
from guanxi.channels.models import EmailMessage
from guanxi.customers.models import TimelineEntry
from guanxi.customers.selectors import TIMELINE_LOADERS
from guanxi.customers.templatetags.customer_tags import (
    TimelineItem,
    TimelineReader,
    format_value,
    register_timeline_kind,
    sentence,
)

KINDS = [f"activity.{kind}" for kind in Activity.Kind.values]

# (kind, direction) → the entry's title; a kind without its direction falls back to (kind, "").
TITLES = {
    ("call", "out"): gettext_lazy("Outgoing call"),
    ("call", "in"): gettext_lazy("Incoming call"),
    ("call", ""): pgettext_lazy("activity type", "Call"),
    ("visit", ""): pgettext_lazy("activity type", "Visit"),
    ("meeting", ""): pgettext_lazy("activity type", "Meeting"),
    ("sms", "out"): gettext_lazy("SMS sent"),
    ("sms", "in"): gettext_lazy("SMS received"),
    ("sms", ""): pgettext_lazy("activity type", "SMS"),
    ("email", "out"): gettext_lazy("Email sent"),
    ("email", "in"): gettext_lazy("Email received"),
    ("email", ""): pgettext_lazy("activity type", "Email"),
    ("wechat", "out"): gettext_lazy("WeChat message sent"),
    ("wechat", "in"): gettext_lazy("WeChat message received"),
    ("wechat", ""): pgettext_lazy("activity type", "WeChat"),
    ("note", ""): pgettext_lazy("activity type", "Note"),
}


def load_email_states(entries: list[TimelineEntry]) -> None:
    """Set `email_state` (the outbox message's status, sent time and error) on the page's email entries."""
    wanted = {
        int(entry.data["email_id"]): entry
        for entry in entries
        if entry.kind == "activity.email" and isinstance(entry.data, dict) and entry.data.get("email_id")
    }
    if not wanted:
        return
    states = EmailMessage.objects.filter(pk__in=list(wanted)).values("id", "status", "sent_at", "last_error")
    by_id = {state["id"]: state for state in states}
    for email_id, entry in wanted.items():
        entry.email_state = by_id.get(email_id)  # type: ignore[attr-defined]


def _title(data: dict[str, Any]) -> Any:
    kind, direction = data["kind"], data.get("direction") or ""
    label = TITLES.get((kind, direction)) or TITLES.get((kind, "")) or kind
    if data.get("subject"):
        return sentence(_("%(what)s: %(subject)s"), what=format_html("{}", label), subject=data["subject"])
    return sentence("%(what)s", what=format_html("{}", label))


def _badge(entry: TimelineEntry) -> tuple[str, str] | None:
    state = getattr(entry, "email_state", None)
    if not state:
        return None
    label = dict(EmailMessage.Status.choices).get(state["status"], state["status"])
    return str(label), f"email-{state['status']}"


@register_timeline_kind(*KINDS)
def activity_entry(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    data: dict[str, Any] = entry.data
    facts: list[tuple[str, str]] = []
    if data.get("outcome"):
        facts.append((_("Outcome"), format_value("outcome", data["outcome"], model=Activity, reader=reader)))
    if data.get("duration_minutes"):
        facts.append((_("Duration"), _("%(minutes)d min") % {"minutes": int(data["duration_minutes"])}))
    if data.get("to"):
        recipient = pgettext("email recipient", "To")
        facts.append((recipient, format_value("email", data["to"], model=None, reader=reader)))
    if data.get("opportunity"):
        facts.append((_("Opportunity"), str(data["opportunity"]["name"])))
    if data.get("lead"):
        facts.append((_("Lead"), str(data["lead"]["name"])))
    state = getattr(entry, "email_state", None)
    if state and state.get("last_error") and state["status"] != EmailMessage.Status.SENT:
        facts.append((_("Error"), str(state["last_error"])))
    links = []
    user = reader.user
    if user is not None and activity_may_change(actor=user, owner_id=entry.actor_id):
        back = reverse("customer-detail", args=[entry.customer_id]) + "#timeline"
        edit = reverse("activity-edit", args=[int(data["activity_id"])])
        links.append((_("Edit"), f"{edit}?{urlencode({'next': back})}"))
    return TimelineItem(
        title=_title(data),
        css=f"act-{data['kind']}",
        body=str(data.get("body") or ""),
        facts=facts,
        badge=_badge(entry),
        links=links,
    )


TIMELINE_LOADERS.append(load_email_states)
