"""Merging two customers who are one: the survivor keeps the chosen values and everything attached."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.db import models, transaction
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record, changes_between
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.permissions import ensure_can, scope_q
from guanxi.customers.models import (
    Asset,
    Consent,
    Contact,
    Customer,
    CustomerEmail,
    CustomerMerge,
    CustomerPhone,
    TimelineEntry,
)
from guanxi.customers.services._common import customer_reindex, timeline_add
from guanxi.customers.services.customer import _snapshot
from guanxi.users.models import User

SURVIVOR, OTHER = "survivor", "other"
# The fields whose surviving value the user picks; owner and team travel as one choice each.
MERGE_FIELDS = (
    "name",
    "kind",
    "gender",
    "birthday",
    "wechat_id",
    "member_no",
    "province",
    "city",
    "district",
    "street",
    "source",
    "stage",
    "notes",
    "owner",
    "team",
)
CUSTOM_PREFIX = "custom_fields."


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def merge_value_fields(survivor: Customer, other: Customer) -> list[str]:
    """The fields (custom fields as custom_fields.<key>) on which the two customers differ."""
    fields = [f for f in MERGE_FIELDS if _field_value(survivor, f) != _field_value(other, f)]
    custom = sorted(set(survivor.custom_fields or {}) | set(other.custom_fields or {}))
    fields += [
        CUSTOM_PREFIX + key
        for key in custom
        if (survivor.custom_fields or {}).get(key) != (other.custom_fields or {}).get(key)
    ]
    return fields


def _field_value(customer: Customer, name: str) -> Any:
    if name in ("owner", "team"):
        return getattr(customer, f"{name}_id")
    if name.startswith(CUSTOM_PREFIX):
        return (customer.custom_fields or {}).get(name.removeprefix(CUSTOM_PREFIX))
    return getattr(customer, name)


def _lock_pair(actor: User, survivor: Customer, other: Customer) -> tuple[Customer, Customer]:
    """Both customers as stored, locked in id order (two merges of the same pair cannot deadlock)."""
    rows = (
        Customer.objects.select_for_update(of=("self",))
        .select_related("owner", "team")
        .filter(scope_q(actor), pk__in=[survivor.pk, other.pk])
        .order_by("pk")
    )
    locked = {c.pk: c for c in rows}
    if survivor.pk not in locked or other.pk not in locked:
        raise NotFound(_("Customer not found."))
    return locked[survivor.pk], locked[other.pk]


def _clean_choose(choose: Mapping[str, str], survivor: Customer, other: Customer) -> dict[str, str]:
    """Every differing field's side: as chosen, else the survivor's value unless only the other has one."""
    details: dict[str, list[str]] = {}
    custom_keys = set(survivor.custom_fields or {}) | set(other.custom_fields or {})
    for key, side in choose.items():
        known = key in MERGE_FIELDS or (
            key.startswith(CUSTOM_PREFIX) and key.removeprefix(CUSTOM_PREFIX) in custom_keys
        )
        if not known:
            details.setdefault(f"choose.{key}", []).append(_("Unknown field."))
        elif side not in (SURVIVOR, OTHER):
            details.setdefault(f"choose.{key}", []).append(_("Choose “survivor” or “other”."))
    if details:
        raise ValidationFailed(_("Some fields are not valid."), details=details)
    sides: dict[str, str] = {}
    for name in merge_value_fields(survivor, other):
        default = OTHER if _empty(_field_value(survivor, name)) else SURVIVOR
        sides[name] = choose.get(name, default)
    return sides


def _child_snapshot(customer: Customer) -> dict[str, Any]:
    return {
        "phones": list(customer.phones.values("number", "label", "position")),
        "emails": list(customer.emails.values("address", "position")),
        "tags": sorted(customer.tags.values_list("name", flat=True)),
        "contact_ids": list(Contact.objects.filter(customer=customer).values_list("pk", flat=True)),
        "asset_ids": list(Asset.objects.filter(customer=customer).values_list("pk", flat=True)),
        "consent_ids": list(Consent.objects.filter(customer=customer).values_list("pk", flat=True)),
    }


def _union_phones_emails(survivor: Customer, other: Customer) -> dict[str, int]:
    """Other's phones and emails join the survivor's after them; numbers and addresses both had go."""
    have = set(survivor.phones.values_list("number", flat=True))
    start = len(have)
    phones = [p for p in other.phones.all() if p.number not in have]
    other.phones.all().delete()
    CustomerPhone.objects.bulk_create(
        CustomerPhone(customer=survivor, number=p.number, label=p.label, position=start + i)
        for i, p in enumerate(phones)
    )
    have_emails = {a.lower() for a in survivor.emails.values_list("address", flat=True)}
    start = len(have_emails)
    emails = [e for e in other.emails.all() if e.address.lower() not in have_emails]
    other.emails.all().delete()
    CustomerEmail.objects.bulk_create(
        CustomerEmail(customer=survivor, address=e.address, position=start + i) for i, e in enumerate(emails)
    )
    return {"phones": len(phones), "emails": len(emails)}


def _move_children(survivor: Customer, other: Customer) -> dict[str, int]:
    """Contacts, assets, consent records, timeline entries and earlier merges go to the survivor."""
    moved = {
        "contacts": Contact.objects.filter(customer=other).update(customer=survivor),
        "assets": Asset.objects.filter(customer=other).update(customer=survivor),
        "consents": Consent.objects.filter(customer=other).update(customer=survivor),
        "timeline": TimelineEntry.objects.filter(customer=other).update(customer=survivor),
    }
    CustomerMerge.objects.filter(survivor=other).update(survivor=survivor)
    # Every record of another app that points at the customer (orders, opportunities, leads, activities,
    # tasks, emails) goes along; what other apps derive one-to-one from a customer (analytics metrics)
    # goes with the merged record and is computed again for the survivor.
    for relation in Customer._meta.related_objects:
        model = cast(type[models.Model], relation.related_model)
        if relation.one_to_many and model._meta.app_label != Customer._meta.app_label:
            name = relation.field.name
            if rows := model._base_manager.filter(**{name: other}).update(**{name: survivor}):
                moved[model._meta.label_lower] = rows
    tags = list(other.tags.all())
    had = set(survivor.tags.values_list("pk", flat=True))
    survivor.tags.add(*tags)
    moved["tags"] = sum(1 for t in tags if t.pk not in had)
    return moved


def _apply_values(survivor: Customer, other: Customer, sides: dict[str, str]) -> None:
    numbers = {survivor.pk: survivor.member_no, other.pk: other.member_no}
    custom = dict(survivor.custom_fields or {})
    for name, side in sides.items():
        if side != OTHER:
            continue
        if name.startswith(CUSTOM_PREFIX):
            key = name.removeprefix(CUSTOM_PREFIX)
            value = (other.custom_fields or {}).get(key)
            if _empty(value):
                custom.pop(key, None)
            else:
                custom[key] = value
        elif name in ("owner", "team"):
            setattr(survivor, f"{name}_id", getattr(other, f"{name}_id"))
        else:
            setattr(survivor, name, getattr(other, name))
    survivor.custom_fields = custom
    # Codes in other systems: the survivor's win, the other's are added; a member number that loses is
    # kept among them, so a card that still carries it can be traced.
    codes = {**(other.external_ids or {}), **(survivor.external_ids or {})}
    for pk, number in numbers.items():
        if number and number != survivor.member_no:
            codes[f"member_no#{pk}"] = number
    survivor.external_ids = codes


@transaction.atomic
def customer_merge(
    *, actor: User, survivor: Customer, other: Customer, choose: Mapping[str, str] | None = None
) -> Customer:
    """Merge `other` into `survivor`, then delete `other`; nothing is lost and all happens or nothing.

    Rules: the actor needs `customer.merge` and must see both customers (else NotFound); a customer cannot
    be merged with itself. `choose` maps a field (see MERGE_FIELDS, custom fields as
    "custom_fields.<key>") to "survivor" or "other": whose value survives. A field not named keeps the
    survivor's value, or takes the other's when the survivor has none. Phones, emails and tags are
    unioned (the survivor's first); contacts, assets, consent records and timeline entries move to the
    survivor. A CustomerMerge row keeps the merged record's id, name and data; the audit log gets one
    `customer.merge` event and the survivor's timeline one `customer.merged` entry.
    """
    ensure_can(actor, "customer.merge")
    if survivor.pk == other.pk:
        raise ValidationFailed(
            _("A customer cannot be merged with itself."),
            details={"other_id": [_("Choose two different customers.")]},
        )
    survivor, other = _lock_pair(actor, survivor, other)
    sides = _clean_choose(choose or {}, survivor, other)
    if sides.get("owner") == OTHER or sides.get("team") == OTHER:
        ensure_can(actor, "customer.assign")
    before = _snapshot(survivor)
    other_fields = _snapshot(other)
    snapshot = {**other_fields, **_child_snapshot(other), "id": other.pk, "created_at": other.created_at}
    _apply_values(survivor, other, sides)
    # The member number is unique: the other record gives its number up before the survivor takes it.
    Customer.objects.filter(pk=other.pk).update(member_no=None)
    survivor.save()
    moved = {**_union_phones_emails(survivor, other), **_move_children(survivor, other)}
    merge = CustomerMerge.objects.create(
        survivor=survivor,
        merged_id=other.pk,
        merged_name=other.name,
        snapshot=_json(snapshot),
        actor=actor if actor.is_authenticated else None,
    )
    merged_id, merged_name = other.pk, other.name
    other.delete()
    customer_reindex(survivor)
    changes = changes_between(before, _snapshot(survivor))
    data = {"merged_id": merged_id, "merged_name": merged_name, "moved": moved, "merge_id": merge.pk}
    audit_record(actor=actor, action="customer.merge", target=survivor, changes=changes, data=data)
    timeline_add(
        customer=survivor,
        kind="customer.merged",
        actor=actor,
        data={"merged_id": merged_id, "merged_name": merged_name, "moved": moved, "changes": changes},
    )
    return survivor


def _json(value: Any) -> Any:
    """Dates and other values as JSON can hold them."""
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
