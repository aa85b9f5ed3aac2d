"""Contacts, assets, consent and notes of a customer."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record, changes_between
from guanxi.core.errors import NotFound
from guanxi.core.permissions import ensure_can, scope_q
from guanxi.core.search import normalize_plate
from guanxi.customers.models import Asset, Consent, Contact, Customer
from guanxi.customers.services._common import (
    Errors,
    clean_choice,
    clean_emails,
    clean_phones,
    customer_reindex,
    timeline_add,
)
from guanxi.users.models import User

CONTACT_TEXT = {"name": 100, "title": 100, "wechat_id": 64, "notes": 500}
ASSET_TEXT = {"name": 100, "vin": 17, "model": 100, "address": 200, "notes": 500}
MAX_MILEAGE_KM = 9_999_999  # more than any vehicle runs; the column holds up to 2,147,483,647
CONSENT_EARLIEST_YEAR = 1900  # before it a date is a typing error, and year 1 overflows in UTC


def _in_scope(actor: User, customer: Customer) -> Customer:
    """The customer locked, or NotFound when the actor may not see it."""
    try:
        return Customer.objects.select_for_update(of=("self",)).filter(scope_q(actor)).get(pk=customer.pk)
    except Customer.DoesNotExist as exc:
        raise NotFound(_("Customer not found.")) from exc


def _texts(fields: dict[str, Any], limits: dict[str, int], errors: Errors) -> dict[str, Any]:
    cleaned = {}
    for key, limit in limits.items():
        if key in fields:
            value = str(fields[key] or "").strip()
            if len(value) > limit:
                errors.add(key, _("Enter at most %(limit)d characters.") % {"limit": limit})
            cleaned[key] = value
    return cleaned


def _clean_contact(fields: dict[str, Any], errors: Errors, *, creating: bool) -> dict[str, Any]:
    for key in sorted(set(fields) - {*CONTACT_TEXT, "phone", "email", "is_primary"}):
        errors.add(key, _("Unknown field."))
    cleaned = _texts(fields, CONTACT_TEXT, errors)
    if (creating or "name" in fields) and not cleaned.get("name"):
        errors.add("name", _("This field is required."))
    if "phone" in fields:
        phones = clean_phones([fields["phone"] or ""], errors, "phone")
        cleaned["phone"] = phones[0] if phones else ""
    if "email" in fields:
        emails = clean_emails([fields["email"] or ""], errors, "email")
        cleaned["email"] = emails[0] if emails else ""
    if "is_primary" in fields:
        cleaned["is_primary"] = bool(fields["is_primary"])
    return cleaned


@transaction.atomic
def contact_create(*, actor: User, customer: Customer, **fields: Any) -> Contact:
    """Add a contact person to a company customer."""
    ensure_can(actor, "customer.change")
    customer = _in_scope(actor, customer)
    errors = Errors()
    if customer.kind != Customer.Kind.COMPANY:
        errors.add("customer", _("Contacts belong to company customers."))
    cleaned = _clean_contact(fields, errors, creating=True)
    errors.raise_if_any()
    if cleaned.get("is_primary"):
        customer.contacts.update(is_primary=False)
    contact = Contact.objects.create(customer=customer, **cleaned)
    customer_reindex(customer)
    audit_record(
        actor=actor,
        action="contact.create",
        target=contact,
        changes=changes_between({}, cleaned),
        data={"customer": customer.pk},
    )
    timeline_add(customer=customer, kind="contact.added", actor=actor, data={"name": contact.name})
    return contact


@transaction.atomic
def contact_update(*, actor: User, contact: Contact, **fields: Any) -> Contact:
    ensure_can(actor, "customer.change")
    customer = _in_scope(actor, contact.customer)
    contact = Contact.objects.get(pk=contact.pk, customer=customer)
    errors = Errors()
    cleaned = _clean_contact(fields, errors, creating=False)
    errors.raise_if_any()
    before = {key: getattr(contact, key) for key in cleaned}
    if cleaned.get("is_primary"):
        customer.contacts.exclude(pk=contact.pk).update(is_primary=False)
    for key, value in cleaned.items():
        setattr(contact, key, value)
    contact.save()
    changes = changes_between(before, cleaned)
    if changes:
        customer_reindex(customer)
        audit_record(
            actor=actor,
            action="contact.update",
            target=contact,
            changes=changes,
            data={"customer": customer.pk},
        )
        timeline_add(
            customer=customer,
            kind="contact.changed",
            actor=actor,
            data={"name": contact.name, "changes": changes},
        )
    return contact


@transaction.atomic
def contact_delete(*, actor: User, contact: Contact) -> None:
    ensure_can(actor, "customer.change")
    customer = _in_scope(actor, contact.customer)
    contact = Contact.objects.get(pk=contact.pk, customer=customer)
    audit_record(actor=actor, action="contact.delete", target=contact, data={"customer": customer.pk})
    timeline_add(customer=customer, kind="contact.removed", actor=actor, data={"name": contact.name})
    contact.delete()
    customer_reindex(customer)


def _clean_asset(fields: dict[str, Any], errors: Errors) -> dict[str, Any]:
    for key in sorted(
        set(fields) - {*ASSET_TEXT, "kind", "plate", "mileage_km", "site_stage", "next_service_on"}
    ):
        errors.add(key, _("Unknown field."))
    cleaned = _texts(fields, ASSET_TEXT, errors)
    if "kind" in fields:
        cleaned["kind"] = clean_choice(fields["kind"], Asset.Kind, "kind", errors)
    if "plate" in fields:
        plate = normalize_plate(str(fields["plate"] or ""))
        if plate and not 5 <= len(plate) <= 10:
            errors.add("plate", _("Enter a licence plate such as 粤B12345."))
        cleaned["plate"] = plate
    if "vin" in cleaned:
        cleaned["vin"] = cleaned["vin"].upper()
        if cleaned["vin"] and (len(cleaned["vin"]) != 17 or any(ch in "IOQ" for ch in cleaned["vin"])):
            errors.add("vin", _("A VIN has 17 letters and digits, without I, O and Q."))
    if "mileage_km" in fields:
        value = fields["mileage_km"]
        if value in (None, ""):
            cleaned["mileage_km"] = None
        else:
            try:
                cleaned["mileage_km"] = int(str(value).replace(",", ""))
                if cleaned["mileage_km"] < 0:
                    raise ValueError
            except ValueError:
                errors.add("mileage_km", _("Enter a whole number of kilometres."))
            else:
                if cleaned["mileage_km"] > MAX_MILEAGE_KM:
                    errors.add(
                        "mileage_km",
                        _("Enter a whole number from 0 to %(limit)d.") % {"limit": MAX_MILEAGE_KM},
                    )
    if "next_service_on" in fields:
        cleaned["next_service_on"] = _service_date(fields["next_service_on"], errors)
    if "site_stage" in fields:
        cleaned["site_stage"] = clean_choice(
            fields["site_stage"], Asset.SiteStage, "site_stage", errors, blank=True
        )
    return cleaned


def _service_date(value: Any, errors: Errors) -> date | None:
    """A vehicle's next service date (the follow-up rules remind its owner before it): a date or None."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip())
        except ValueError:
            errors.add("next_service_on", _("Enter a date such as 2026-12-31."))
            return None
    if not 2000 <= value.year <= 2100:
        errors.add("next_service_on", _("Enter a date such as 2026-12-31."))
        return None
    return value


def _check_asset(stored: dict[str, Any], cleaned: dict[str, Any], errors: Errors) -> None:
    """Rules across fields, on the asset as it will be: the stored values with the cleaned ones over them.

    A rule is checked only when a field it reads is sent, so an older asset that breaks one can still have
    its other fields changed.
    """
    asset = {**stored, **cleaned}
    kind = asset.get("kind")
    sent = [key for key in ("plate", "vin", "kind") if key in cleaned]
    if kind == Asset.Kind.VEHICLE and sent and not asset.get("plate") and not asset.get("vin"):
        errors.add(sent[0], _("A vehicle needs a licence plate or a VIN."))
    if kind == Asset.Kind.SITE and ("address" in cleaned or "kind" in cleaned) and not asset.get("address"):
        errors.add("address", _("A building site needs an address."))


@transaction.atomic
def asset_create(*, actor: User, customer: Customer, kind: str = Asset.Kind.VEHICLE, **fields: Any) -> Asset:
    """Add an asset (a vehicle, a building site) to a customer."""
    ensure_can(actor, "customer.change")
    customer = _in_scope(actor, customer)
    errors = Errors()
    defaults = {"plate": "", "vin": ""} if kind == Asset.Kind.VEHICLE else {}
    if kind == Asset.Kind.SITE:
        defaults["address"] = ""
    cleaned = _clean_asset({**defaults, **fields, "kind": kind}, errors)
    _check_asset({}, cleaned, errors)
    errors.raise_if_any()
    asset = Asset.objects.create(customer=customer, **cleaned)
    customer_reindex(customer)
    audit_record(
        actor=actor,
        action="asset.create",
        target=asset,
        changes=changes_between({}, cleaned),
        data={"customer": customer.pk},
    )
    timeline_add(
        customer=customer, kind="asset.added", actor=actor, data={"asset": str(asset), "kind": asset.kind}
    )
    return asset


@transaction.atomic
def asset_update(*, actor: User, asset: Asset, **fields: Any) -> Asset:
    ensure_can(actor, "customer.change")
    customer = _in_scope(actor, asset.customer)
    asset = Asset.objects.get(pk=asset.pk, customer=customer)
    errors = Errors()
    cleaned = _clean_asset(fields, errors)
    stored = {key: getattr(asset, key) for key in ("kind", "plate", "vin", "address")}
    _check_asset(stored, cleaned, errors)
    errors.raise_if_any()
    before = {key: getattr(asset, key) for key in cleaned}
    for key, value in cleaned.items():
        setattr(asset, key, value)
    asset.save()
    changes = changes_between(before, cleaned)
    if changes:
        customer_reindex(customer)
        audit_record(
            actor=actor, action="asset.update", target=asset, changes=changes, data={"customer": customer.pk}
        )
        timeline_add(
            customer=customer,
            kind="asset.changed",
            actor=actor,
            data={"asset": str(asset), "changes": changes},
        )
    return asset


@transaction.atomic
def asset_delete(*, actor: User, asset: Asset) -> None:
    ensure_can(actor, "customer.change")
    customer = _in_scope(actor, asset.customer)
    asset = Asset.objects.get(pk=asset.pk, customer=customer)
    audit_record(actor=actor, action="asset.delete", target=asset, data={"customer": customer.pk})
    timeline_add(customer=customer, kind="asset.removed", actor=actor, data={"asset": str(asset)})
    asset.delete()
    customer_reindex(customer)


@transaction.atomic
def consent_record(
    *,
    actor: User,
    customer: Customer,
    purpose: str,
    channel: str = Consent.Channel.ANY,
    granted: bool,
    method: str,
    recorded_at: datetime | None = None,
    note: str = "",
) -> Consent:
    """Record a consent decision: who recorded it, how and when. Earlier decisions stay as history."""
    ensure_can(actor, "consent.change")
    customer = _in_scope(actor, customer)
    errors = Errors()
    purpose = clean_choice(purpose, Consent.Purpose, "purpose", errors)
    channel = clean_choice(channel, Consent.Channel, "channel", errors)
    method = clean_choice(method, Consent.Method, "method", errors)
    when = recorded_at or timezone.now()
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    if when > timezone.now() + timedelta(minutes=5):
        errors.add("recorded_at", _("Consent cannot be recorded in the future."))
    elif when.year < CONSENT_EARLIEST_YEAR:
        errors.add(
            "recorded_at",
            _("Consent cannot be recorded before %(year)d.") % {"year": CONSENT_EARLIEST_YEAR},
        )
    if len(note) > 300:
        errors.add("note", _("Enter at most %(limit)d characters.") % {"limit": 300})
    errors.raise_if_any()
    consent = Consent.objects.create(
        customer=customer,
        purpose=purpose,
        channel=channel,
        granted=bool(granted),
        method=method,
        recorded_at=when,
        recorded_by=actor,
        note=note.strip(),
    )
    data = {"purpose": purpose, "channel": channel, "granted": consent.granted, "method": method}
    audit_record(actor=actor, action="consent.record", target=customer, data=data)
    timeline_add(customer=customer, kind="consent.recorded", actor=actor, data=data)
    return consent


@transaction.atomic
def note_add(*, actor: User, customer: Customer, body: str) -> None:
    """A free-text note on the customer's timeline."""
    ensure_can(actor, "customer.note")
    customer = _in_scope(actor, customer)
    body = (body or "").strip()
    errors = Errors()
    if not body:
        errors.add("body", _("This field is required."))
    elif len(body) > 5000:
        errors.add("body", _("Enter at most %(limit)d characters.") % {"limit": 5000})
    errors.raise_if_any()
    audit_record(actor=actor, action="customer.note", target=customer, data={"length": len(body)})
    timeline_add(customer=customer, kind="note", actor=actor, data={"body": body})
