"""Template helpers of the customer 360 page: timeline entries as sentences, diffs with field labels.

Each timeline entry becomes a `TimelineItem` through the renderer registered for its `kind` in
`TIMELINE_KINDS`. Apps that add kinds later (orders, tickets, points) register theirs with
`@register_timeline_kind("order.placed")`; a kind nobody registered still shows, generically (its kind
and data), so a new kind never breaks the page.

Personal data inside entries (a phone in a diff, say) reads as it does on the rest of the page: in clear
only for readers whose selector marked the customer `clear`, masked for everyone else.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core.masking import mask_email, mask_text
from guanxi.core.phone import phone_display, phone_mask
from guanxi.customers.models import (
    Asset,
    Consent,
    Contact,
    Customer,
    CustomFieldDefinition,
    TimelineEntry,
)

register = template.Library()
logger = logging.getLogger(__name__)

EMPTY = "—"
CUSTOM_PREFIX = "custom_fields."
DIFF_CHARS = 200  # a long text (the notes field) shows its start in a diff; the audit log keeps it whole

# Keys of a customer's or contact's changes that are not model fields (or read better by another name).
EXTRA_LABELS = {
    "phones": gettext_lazy("Phones"),
    "emails": gettext_lazy("Emails"),
    "tags": gettext_lazy("Tags"),
    "owner": gettext_lazy("Owner"),
    "team": gettext_lazy("Team"),
}


def _mask_birthday(value: str) -> str:
    return f"****-{value[5:]}" if len(value) == 10 else "****"


def _same(value: str) -> str:
    return value


# Personal data by the key it is stored under: (as a reader with clear access sees it, masked).
PII_FORMATS: dict[str, tuple[Callable[[str], str], Callable[[str], str]]] = {
    "phones": (phone_display, phone_mask),
    "phone": (phone_display, phone_mask),
    "emails": (_same, mask_email),
    "email": (_same, mask_email),
    "wechat_id": (_same, mask_text),
    "street": (_same, mask_text),
    "birthday": (_same, _mask_birthday),
}


@dataclass(frozen=True)
class TimelineReader:
    """Who reads the timeline: whether they see personal data in clear, and the custom fields' labels."""

    clear: bool
    custom_fields: Mapping[str, CustomFieldDefinition] = field(default_factory=dict)
    # The signed-in reader, for renderers that offer actions only some may take (edit an activity).
    user: Any = None


@dataclass
class DiffRow:
    label: str
    old: str
    new: str

    @property
    def has_old(self) -> bool:
        return self.old != EMPTY


@dataclass
class TimelineItem:
    """One entry as the page shows it."""

    title: SafeString  # one sentence, already escaped
    css: str = "generic"  # modifier for the dot's colour: tl-<css>
    body: str = ""  # free text shown with its line breaks (a note)
    diff: list[DiffRow] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)
    badge: tuple[str, str] | None = None  # (text, css modifier): a state shown beside the title
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, URL): actions on the entry


Renderer = Callable[[TimelineEntry, TimelineReader], TimelineItem]
TIMELINE_KINDS: dict[str, Renderer] = {}


def register_timeline_kind(*kinds: str) -> Callable[[Renderer], Renderer]:
    """Register the function that renders entries of these kinds."""

    def decorate(renderer: Renderer) -> Renderer:
        for kind in kinds:
            TIMELINE_KINDS[kind] = renderer
        return renderer

    return decorate


# ---------------------------------------------------------------------------------------------------
# Values and labels


def sentence(message: str, **parts: Any) -> SafeString:
    """A translated `message` with %(name)s placeholders; parts are escaped and set in bold."""
    safe = {
        key: value if isinstance(value, SafeString) else format_html("<strong>{}</strong>", value)
        for key, value in parts.items()
    }
    # Safe: the message is escaped here and every part above.
    return mark_safe(conditional_escape(message) % safe)


def yes_no(value: Any) -> str:
    return _("Yes") if value else _("No")


def custom_field_display(definition: CustomFieldDefinition | None, value: Any) -> str:
    """A custom field's stored value as people read it."""
    if value is None or value == "":
        return EMPTY
    if definition is not None and definition.type == CustomFieldDefinition.Type.BOOLEAN:
        return yes_no(value)
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def field_label(model: type[Model], key: str, reader: TimelineReader) -> str:
    if key.startswith(CUSTOM_PREFIX):
        custom_key = key.removeprefix(CUSTOM_PREFIX)
        definition = reader.custom_fields.get(custom_key)
        return definition.label if definition else custom_key
    if model is Customer and key in EXTRA_LABELS:
        return str(EXTRA_LABELS[key])
    try:
        model_field = model._meta.get_field(key)
    except FieldDoesNotExist:
        return key
    return str(capfirst(getattr(model_field, "verbose_name", key)))


def _choices(model: type[Model] | None, key: str) -> dict[Any, Any]:
    if model is None:
        return {}
    try:
        model_field = model._meta.get_field(key)
    except FieldDoesNotExist:
        return {}
    return dict(getattr(model_field, "flatchoices", None) or [])


def format_value(key: str, value: Any, *, model: type[Model] | None, reader: TimelineReader) -> str:
    """One stored value (from a diff or an entry's data) as text for this reader."""
    if value is None or value in ("", [], {}):
        return EMPTY
    if isinstance(value, list):
        return ", ".join(format_value(key, item, model=model, reader=reader) for item in value)
    if key in PII_FORMATS:
        clear, masked = PII_FORMATS[key]
        return clear(str(value)) if reader.clear else masked(str(value))
    if key.startswith(CUSTOM_PREFIX):
        return custom_field_display(reader.custom_fields.get(key.removeprefix(CUSTOM_PREFIX)), value)
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, dict):
        return ", ".join(
            f"{k}: {format_value(str(k), v, model=None, reader=reader)}" for k, v in value.items()
        )
    choices = _choices(model, key)
    if value in choices:
        return str(choices[value])
    return str(value)


def diff_rows(changes: Any, *, model: type[Model] | None, reader: TimelineReader) -> list[DiffRow]:
    """{field: [old, new]} as labelled rows; anything not of that shape is skipped."""
    if not isinstance(changes, dict):
        return []
    rows = []
    for key, pair in changes.items():
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            continue
        label = field_label(model, key, reader) if model is not None else str(key)
        old, new = (
            Truncator(format_value(key, value, model=model, reader=reader)).chars(DIFF_CHARS)
            for value in pair
        )
        rows.append(DiffRow(label=label, old=old, new=new))
    return rows


def _data(entry: TimelineEntry) -> dict[str, Any]:
    return entry.data if isinstance(entry.data, dict) else {}


# ---------------------------------------------------------------------------------------------------
# The kinds the customers app writes


@register_timeline_kind("customer.created")
def _customer_created(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    return TimelineItem(title=sentence(_("Created the customer")), css="created")


@register_timeline_kind("customer.changed")
def _customer_changed(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    return TimelineItem(
        title=sentence(_("Changed the customer's details")),
        css="changed",
        diff=diff_rows(_data(entry).get("changes"), model=Customer, reader=reader),
    )


def _tag(name: Any) -> SafeString:
    return format_html('<span class="tag">{}</span>', name)


@register_timeline_kind("customer.tagged")
def _customer_tagged(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    return TimelineItem(title=sentence(_("Added the tag %(tag)s"), tag=_tag(_data(entry)["tag"])), css="tag")


@register_timeline_kind("customer.untagged")
def _customer_untagged(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    return TimelineItem(
        title=sentence(_("Removed the tag %(tag)s"), tag=_tag(_data(entry)["tag"])), css="tag"
    )


@register_timeline_kind("note")
def _note(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    return TimelineItem(title=sentence(_("Added a note")), css="note", body=str(_data(entry)["body"]))


@register_timeline_kind("consent.recorded")
def _consent_recorded(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    data = _data(entry)
    purpose = format_value("purpose", data["purpose"], model=Consent, reader=reader)
    channel = format_value("channel", data.get("channel", Consent.Channel.ANY), model=Consent, reader=reader)
    if data["granted"]:
        title = sentence(_("Consent granted: %(purpose)s, %(channel)s"), purpose=purpose, channel=channel)
    else:
        title = sentence(_("Consent withdrawn: %(purpose)s, %(channel)s"), purpose=purpose, channel=channel)
    facts = []
    if data.get("method"):
        facts.append((_("How"), format_value("method", data["method"], model=Consent, reader=reader)))
    return TimelineItem(title=title, css="consent" if data["granted"] else "withdrawn", facts=facts)


@register_timeline_kind("contact.added", "contact.changed", "contact.removed")
def _contact(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    data = _data(entry)
    messages = {
        "contact.added": _("Added the contact %(name)s"),
        "contact.changed": _("Changed the contact %(name)s"),
        "contact.removed": _("Removed the contact %(name)s"),
    }
    return TimelineItem(
        title=sentence(messages[entry.kind], name=data["name"]),
        css="contact",
        diff=diff_rows(data.get("changes"), model=Contact, reader=reader),
    )


@register_timeline_kind("asset.added", "asset.changed", "asset.removed")
def _asset(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    data = _data(entry)
    if entry.kind == "asset.added" and data.get("kind"):
        kind = format_value("kind", data["kind"], model=Asset, reader=reader)
        title = sentence(_("Added the asset %(asset)s (%(kind)s)"), asset=data["asset"], kind=kind)
    else:
        messages = {
            "asset.added": _("Added the asset %(asset)s"),
            "asset.changed": _("Changed the asset %(asset)s"),
            "asset.removed": _("Removed the asset %(asset)s"),
        }
        title = sentence(messages[entry.kind], asset=data["asset"])
    return TimelineItem(
        title=title, css="asset", diff=diff_rows(data.get("changes"), model=Asset, reader=reader)
    )


MERGE_MOVED_LABELS = {
    "phones": gettext_lazy("Phones"),
    "emails": gettext_lazy("Emails"),
    "contacts": gettext_lazy("Contacts"),
    "assets": gettext_lazy("Assets"),
    "consents": gettext_lazy("Consent records"),
    "timeline": gettext_lazy("Timeline entries"),
    "tags": gettext_lazy("Tags"),
}


@register_timeline_kind("customer.merged")
def _customer_merged(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    data = _data(entry)
    moved: dict[str, Any] = data["moved"] if isinstance(data.get("moved"), dict) else {}
    facts = [(_("Earlier id"), f"#{data['merged_id']}")]
    facts += [(str(label), str(moved[key])) for key, label in MERGE_MOVED_LABELS.items() if moved.get(key)]
    return TimelineItem(
        title=sentence(_("Merged the customer %(name)s into this one"), name=data["merged_name"]),
        css="changed",
        diff=diff_rows(data.get("changes"), model=Customer, reader=reader),
        facts=facts,
    )


def generic_item(entry: TimelineEntry, reader: TimelineReader) -> TimelineItem:
    """Any kind without a renderer: its kind, a diff when it carries `changes`, and its other data."""
    data = _data(entry)
    facts = []
    for key, value in data.items():
        if key == "changes":
            continue
        text = format_value(str(key), value, model=None, reader=reader)
        if isinstance(value, dict) and str(key) not in PII_FORMATS:
            text = json.dumps(value, ensure_ascii=False, default=str)[:300]
        facts.append((str(key), text))
    return TimelineItem(
        title=format_html("<code>{}</code>", entry.kind),
        facts=facts,
        diff=diff_rows(data.get("changes"), model=None, reader=reader),
    )


# ---------------------------------------------------------------------------------------------------
# Tags and filters


@register.simple_tag
def timeline_item(
    entry: TimelineEntry,
    customer: Customer,
    custom_fields: Mapping[str, CustomFieldDefinition] | None = None,
    user: Any = None,
) -> TimelineItem:
    """{% timeline_item entry customer custom_fields request.user as item %}: the entry rendered for this
    page's reader."""
    reader = TimelineReader(clear=customer.clear, custom_fields=custom_fields or {}, user=user)
    renderer = TIMELINE_KINDS.get(entry.kind, generic_item)
    try:
        return renderer(entry, reader)
    except (KeyError, TypeError, ValueError, AttributeError):
        # An entry written by an older version in another shape: show it rather than break the page.
        logger.warning("Timeline entry %s (%s) does not fit its renderer", entry.pk, entry.kind)
        return generic_item(entry, reader)


@register.filter
def custom_value(value: Any, definition: CustomFieldDefinition | None) -> str:
    """{{ value|custom_value:definition }}: yes/no translated, numbers without a trailing .0."""
    return custom_field_display(definition, value)


@register.filter
def yesno_label(value: Any) -> str:
    return yes_no(value)
