"""Tags and custom field definitions: the customer data model an administrator shapes."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record, changes_between
from guanxi.core.errors import Conflict
from guanxi.core.permissions import ensure_can
from guanxi.customers.models import CustomFieldDefinition, Tag
from guanxi.customers.services._common import Errors, clean_choice
from guanxi.users.models import User


def _clean_tag(name: str, color: str, errors: Errors) -> tuple[str, str]:
    name = (name or "").strip()
    if not name:
        errors.add("name", _("This field is required."))
    elif "\x00" in name:
        errors.add("name", _("Null characters are not allowed."))
    elif len(name) > 50:
        errors.add("name", _("Enter at most %(limit)d characters.") % {"limit": 50})
    color = (color or "#2563eb").strip()
    if (
        len(color) != 7
        or not color.startswith("#")
        or any(c not in "0123456789abcdefABCDEF" for c in color[1:])
    ):
        errors.add("color", _("Enter a colour such as #2563eb."))
    return name, color


@transaction.atomic
def tag_create(*, actor: User, name: str, color: str = "#2563eb") -> Tag:
    ensure_can(actor, "tag.manage")
    errors = Errors()
    name, color = _clean_tag(name, color, errors)
    errors.raise_if_any()
    if Tag.objects.filter(name=name).exists():
        raise Conflict(_("The tag “%(name)s” exists already.") % {"name": name}, details={"name": name})
    tag = Tag.objects.create(name=name, color=color)
    audit_record(
        actor=actor,
        action="tag.create",
        target=tag,
        changes=changes_between({}, {"name": name, "color": color}),
    )
    return tag


@transaction.atomic
def tag_update(*, actor: User, tag: Tag, name: str, color: str) -> Tag:
    ensure_can(actor, "tag.manage")
    errors = Errors()
    name, color = _clean_tag(name, color, errors)
    errors.raise_if_any()
    if Tag.objects.filter(name=name).exclude(pk=tag.pk).exists():
        raise Conflict(_("The tag “%(name)s” exists already.") % {"name": name}, details={"name": name})
    changes = changes_between({"name": tag.name, "color": tag.color}, {"name": name, "color": color})
    tag.name, tag.color = name, color
    tag.save()
    if changes:
        audit_record(actor=actor, action="tag.update", target=tag, changes=changes)
    return tag


@transaction.atomic
def tag_delete(*, actor: User, tag: Tag) -> None:
    """Delete a tag; it leaves every customer that had it."""
    ensure_can(actor, "tag.manage")
    audit_record(actor=actor, action="tag.delete", target=tag, data={"customers": tag.customers.count()})
    tag.delete()


FIELD_ATTRS = ("label", "type", "choices", "required", "help_text", "position", "active")
MAX_POSITION = 9999


def _clean_definition(fields: dict[str, Any], errors: Errors) -> dict[str, Any]:
    for key in sorted(set(fields) - set(FIELD_ATTRS)):
        errors.add(key, _("Unknown field."))
    cleaned: dict[str, Any] = {}
    if "label" in fields:
        cleaned["label"] = str(fields["label"] or "").strip()
        if not cleaned["label"]:
            errors.add("label", _("This field is required."))
        elif len(cleaned["label"]) > 100:
            errors.add("label", _("Enter at most %(limit)d characters.") % {"limit": 100})
    if "type" in fields:
        cleaned["type"] = clean_choice(fields["type"], CustomFieldDefinition.Type, "type", errors)
    if "choices" in fields:
        raw = fields["choices"] or []
        if isinstance(raw, str):
            raw = raw.replace("，", ",").replace("\n", ",").split(",")
        cleaned["choices"] = list(dict.fromkeys(str(c).strip() for c in raw if str(c).strip()))
    for key in ("required", "active"):
        if key in fields:
            cleaned[key] = bool(fields[key])
    if "help_text" in fields:
        cleaned["help_text"] = str(fields["help_text"] or "").strip()[:200]
    if "position" in fields:
        try:
            cleaned["position"] = max(int(fields["position"] or 0), 0)
        except (TypeError, ValueError):
            errors.add("position", _("Enter a whole number."))
        else:
            if cleaned["position"] > MAX_POSITION:
                errors.add(
                    "position", _("Enter a whole number from 0 to %(limit)d.") % {"limit": MAX_POSITION}
                )
    return cleaned


def _free_key() -> str:
    """The first key field_<n> no definition has, n counting up from the number of definitions + 1."""
    taken = set(CustomFieldDefinition.objects.filter(key__startswith="field_").values_list("key", flat=True))
    n = CustomFieldDefinition.objects.count() + 1
    while f"field_{n}" in taken:
        n += 1
    return f"field_{n}"


@transaction.atomic
def custom_field_create(
    *, actor: User, key: str = "", label: str, type: str, **fields: Any
) -> CustomFieldDefinition:
    """Define a custom customer field. Its key is fixed once made, so stored values keep their meaning."""
    ensure_can(actor, "customfield.manage")
    errors = Errors()
    cleaned = _clean_definition({"label": label, "type": type, **fields}, errors)
    key = slugify(key or "").replace("-", "_") or _free_key()
    if len(key) > 50:
        errors.add("key", _("Enter at most %(limit)d characters.") % {"limit": 50})
    if cleaned.get("type") == CustomFieldDefinition.Type.CHOICE and not cleaned.get("choices"):
        errors.add("choices", _("A choice field needs at least one choice."))
    errors.raise_if_any()
    if CustomFieldDefinition.objects.filter(key=key).exists():
        raise Conflict(
            _("A custom field with the key “%(key)s” exists already.") % {"key": key}, details={"key": key}
        )
    definition = CustomFieldDefinition.objects.create(key=key, **cleaned)
    audit_record(
        actor=actor,
        action="customfield.create",
        target=definition,
        changes=changes_between({}, {"key": key, **cleaned}),
    )
    return definition


@transaction.atomic
def custom_field_update(
    *, actor: User, definition: CustomFieldDefinition, **fields: Any
) -> CustomFieldDefinition:
    ensure_can(actor, "customfield.manage")
    errors = Errors()
    cleaned = _clean_definition(fields, errors)
    if cleaned.get("type", definition.type) == CustomFieldDefinition.Type.CHOICE and not cleaned.get(
        "choices", definition.choices
    ):
        errors.add("choices", _("A choice field needs at least one choice."))
    errors.raise_if_any()
    before = {key: getattr(definition, key) for key in cleaned}
    for key, value in cleaned.items():
        setattr(definition, key, value)
    definition.save()
    changes = changes_between(before, cleaned)
    if changes:
        audit_record(actor=actor, action="customfield.update", target=definition, changes=changes)
    return definition
