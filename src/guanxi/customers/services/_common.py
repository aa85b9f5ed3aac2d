"""Helpers shared by the customer services: validation, search reindexing, timeline entries."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import Errors, ValidationFailed
from guanxi.core.phone import phone_normalize
from guanxi.core.search import SearchParts, search_document
from guanxi.customers.models import Asset, Customer, CustomFieldDefinition, TimelineEntry

# The email columns (CustomerEmail.address, Contact.email) hold 254 characters, the longest address SMTP
# can deliver to; validate_email accepts up to 320.
EMAIL_MAX_LENGTH = 254


def clean_phones(raw: Iterable[str], errors: Errors, field: str = "phones") -> list[str]:
    numbers: list[str] = []
    for item in raw:
        if not str(item).strip():
            continue
        try:
            number = phone_normalize(str(item))
        except ValidationFailed:
            errors.add(field, _("“%(value)s” is not a valid phone number.") % {"value": item})
            continue
        if number not in numbers:
            numbers.append(number)
    return numbers


def clean_emails(raw: Iterable[str], errors: Errors, field: str = "emails") -> list[str]:
    addresses: list[str] = []
    for item in raw:
        address = str(item).strip()
        if not address:
            continue
        local, _sep, domain = address.rpartition("@")
        address = f"{local}@{domain.lower()}" if local else address
        if len(address) > EMAIL_MAX_LENGTH:
            errors.add(field, _("Enter at most %(limit)d characters.") % {"limit": EMAIL_MAX_LENGTH})
            continue
        try:
            validate_email(address)
        except DjangoValidationError:
            errors.add(field, _("“%(value)s” is not a valid email address.") % {"value": item})
            continue
        if address not in addresses:
            addresses.append(address)
    return addresses


@functools.cache
def _choice_values(choices: Any) -> frozenset[str]:
    return frozenset(choices.values)


def clean_choice(value: Any, choices: Any, field: str, errors: Errors, *, blank: bool = False) -> str:
    value = "" if value is None else str(value)
    if (blank and value == "") or value in _choice_values(choices):
        return value
    errors.add(field, _("“%(value)s” is not one of the allowed values.") % {"value": value})
    return ""


def clean_custom_fields(
    values: dict[str, Any], definitions: list[CustomFieldDefinition], errors: Errors, *, partial: bool = False
) -> dict[str, Any]:
    """Validate custom field values against their definitions; returns JSON-safe values."""
    by_key = {d.key: d for d in definitions}
    cleaned: dict[str, Any] = {}
    for key in values:
        if key not in by_key:
            errors.add(f"custom_fields.{key}", _("There is no custom field “%(key)s”.") % {"key": key})
    for d in definitions:
        field = f"custom_fields.{d.key}"
        if d.key not in values:
            if d.required and not partial:
                errors.add(field, _("This field is required."))
            continue
        value = values[d.key]
        if value in (None, ""):
            if d.required:
                errors.add(field, _("This field is required."))
            continue
        try:
            cleaned[d.key] = _custom_value(d, value)
        except (ValueError, TypeError):
            errors.add(field, _custom_error(d))
    return cleaned


def _custom_value(d: CustomFieldDefinition, value: Any) -> Any:
    if d.type == CustomFieldDefinition.Type.NUMBER:
        if isinstance(value, bool):
            raise ValueError
        number = float(str(value).replace(",", ""))
        if not math.isfinite(number):  # nan, inf and 1e400: JSON has no way to write them
            raise ValueError
        return int(number) if number.is_integer() else number
    if d.type == CustomFieldDefinition.Type.DATE:
        return (value if isinstance(value, date) else date.fromisoformat(str(value))).isoformat()
    if d.type == CustomFieldDefinition.Type.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "y", "on", "是"}:
            return True
        if text in {"0", "false", "no", "n", "off", "否"}:
            return False
        raise ValueError
    if d.type == CustomFieldDefinition.Type.CHOICE:
        if str(value) not in [str(c) for c in d.choices]:
            raise ValueError
        return str(value)
    text = str(value).strip()
    if len(text) > 500:
        raise ValueError
    return text


def _custom_error(d: CustomFieldDefinition) -> str:
    messages: dict[str, str] = {
        CustomFieldDefinition.Type.NUMBER: _("Enter a number."),
        CustomFieldDefinition.Type.DATE: _("Enter a date as YYYY-MM-DD."),
        CustomFieldDefinition.Type.BOOLEAN: _("Enter yes or no."),
        CustomFieldDefinition.Type.CHOICE: _("Choose one of: %(choices)s.")
        % {"choices": ", ".join(map(str, d.choices))},
    }
    return messages.get(str(d.type), _("Enter at most 500 characters."))


def customer_search_parts(customer: Customer) -> SearchParts:
    person = customer.kind == Customer.Kind.PERSON
    parts = SearchParts(names=[(customer.name, person)])
    parts.phones = list(customer.phones.values_list("number", flat=True))
    parts.emails = list(customer.emails.values_list("address", flat=True))
    parts.codes = [
        c
        for c in [customer.member_no or "", customer.wechat_id, *map(str, customer.external_ids.values())]
        if c
    ]
    for plate, vin in Asset.objects.filter(customer=customer).values_list("plate", "vin"):
        parts.plates.append(plate)
        parts.codes.append(vin)
    for name, phone, email in customer.contacts.values_list("name", "phone", "email"):
        parts.names.append((name, True))
        if phone:
            parts.phones.append(phone)
        if email:
            parts.emails.append(email)
    return parts


def customer_reindex(customer: Customer) -> None:
    """Rebuild the customer's search columns from what is stored now."""
    text, keys = search_document(customer_search_parts(customer))
    Customer.objects.filter(pk=customer.pk).update(search_text=text, search_keys=keys)
    customer.search_text, customer.search_keys = text, keys


def timeline_add(
    *, customer: Customer, kind: str, actor: Any, data: dict[str, Any] | None = None
) -> TimelineEntry:
    return TimelineEntry.objects.create(
        customer=customer,
        occurred_at=timezone.now(),
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        data=data or {},
    )
