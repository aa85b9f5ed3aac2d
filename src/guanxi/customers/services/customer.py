"""Creating, changing, tagging, assigning and deleting customers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record, audit_record_many, changes_between
from guanxi.core.errors import Conflict, NotFound
from guanxi.core.permissions import ensure_can, scope_q
from guanxi.customers.models import (
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomFieldDefinition,
    Tag,
    TimelineEntry,
)
from guanxi.customers.services._common import (
    Errors,
    clean_choice,
    clean_custom_fields,
    clean_emails,
    clean_phones,
    customer_reindex,
    timeline_add,
)
from guanxi.users.models import Team, User

TEXT_FIELDS = {
    "name": 200,
    "wechat_id": 64,
    "province": 30,
    "city": 30,
    "district": 30,
    "street": 200,
    "notes": 5000,
}
FIELDS = {*TEXT_FIELDS, "kind", "gender", "birthday", "member_no", "external_ids", "source", "stage"}


def _clean_fields(fields: dict[str, Any], errors: Errors) -> dict[str, Any]:
    unknown = set(fields) - FIELDS
    for key in sorted(unknown):
        errors.add(key, _("Unknown field."))
    cleaned: dict[str, Any] = {}
    for key, limit in TEXT_FIELDS.items():
        if key in fields:
            value = str(fields[key] or "").strip()
            if "\x00" in value:
                errors.add(key, _("Null characters are not allowed."))
            elif len(value) > limit:
                errors.add(key, _("Enter at most %(limit)d characters.") % {"limit": limit})
            cleaned[key] = value
    if "name" in cleaned and not cleaned["name"]:
        errors.add("name", _("This field is required."))
    choice_fields: list[tuple[str, Any, bool]] = [
        ("kind", Customer.Kind, False),
        ("gender", Customer.Gender, True),
        ("source", Customer.Source, True),
        ("stage", Customer.Stage, False),
    ]
    for key, choices, blank in choice_fields:
        if key in fields:
            cleaned[key] = clean_choice(fields[key], choices, key, errors, blank=blank)
    if "birthday" in fields:
        birthday = fields["birthday"]
        if birthday in (None, ""):
            cleaned["birthday"] = None
        else:
            try:
                birthday = birthday if isinstance(birthday, date) else date.fromisoformat(str(birthday))
            except ValueError:
                errors.add("birthday", _("Enter a date as YYYY-MM-DD."))
            else:
                if birthday > timezone.localdate() or birthday.year < 1900:
                    errors.add("birthday", _("Enter a birthday between 1900 and today."))
                cleaned["birthday"] = birthday
    if "member_no" in fields:
        cleaned["member_no"] = str(fields["member_no"] or "").strip() or None
        if cleaned["member_no"] and len(cleaned["member_no"]) > 40:
            errors.add("member_no", _("Enter at most %(limit)d characters.") % {"limit": 40})
    if "external_ids" in fields:
        codes = fields["external_ids"] or {}
        if not isinstance(codes, dict) or not all(isinstance(v, (str, int)) for v in codes.values()):
            errors.add("external_ids", _("Enter codes as system: code pairs."))
        else:
            cleaned["external_ids"] = {
                str(k).strip(): str(v).strip() for k, v in codes.items() if str(k).strip()
            }
    return cleaned


def _tags_by_name(actor: User, names: Iterable[str | Tag], errors: Errors) -> list[Tag]:
    wanted = list(dict.fromkeys(str(n).strip() for n in names if str(n).strip()))
    if not wanted:
        return []
    ensure_can(actor, "tag.apply")
    found = {t.name: t for t in Tag.objects.filter(name__in=wanted)}
    missing = [n for n in wanted if n not in found]
    for name in missing:
        if len(name) > 50:
            errors.add("tags", _("A tag has at most 50 characters."))
            return []
    if missing:
        ensure_can(actor, "tag.manage")
        for name in missing:
            found[name] = Tag.objects.create(name=name)
            audit_record(actor=actor, action="tag.create", target=found[name])
    return [found[n] for n in wanted]


def _owner_team(actor: User, owner: User | None, team: Team | None, *, default: bool) -> dict[str, Any]:
    if default and owner is None and team is None:
        return {"owner": actor, "team": actor.team}
    if owner is not None and team is None:
        team = owner.team
    if owner != actor or team != actor.team:
        ensure_can(actor, "customer.assign")
    return {"owner": owner, "team": team}


def _snapshot(customer: Customer) -> dict[str, Any]:
    data = {key: getattr(customer, key) for key in FIELDS}
    data["phones"] = list(customer.phones.values_list("number", flat=True))
    data["emails"] = list(customer.emails.values_list("address", flat=True))
    data["tags"] = sorted(customer.tags.values_list("name", flat=True))
    data["owner"] = customer.owner.username if customer.owner else None
    data["team"] = customer.team.name if customer.team else None
    for key, value in customer.custom_fields.items():
        data[f"custom_fields.{key}"] = value
    return data


def _lock(actor: User, customer: Customer) -> Customer:
    """The customer as stored, locked for the transaction; NotFound outside the actor's scope."""
    try:
        return (
            Customer.objects.select_for_update(of=("self",))
            .select_related("owner", "team")
            .filter(scope_q(actor))
            .get(pk=customer.pk)
        )
    except Customer.DoesNotExist as exc:
        raise NotFound(_("Customer not found.")) from exc


def _replace_phones_emails(customer: Customer, phones: list[str] | None, emails: list[str] | None) -> None:
    if phones is not None:
        customer.phones.all().delete()
        CustomerPhone.objects.bulk_create(
            CustomerPhone(customer=customer, number=n, position=i) for i, n in enumerate(phones)
        )
    if emails is not None:
        customer.emails.all().delete()
        CustomerEmail.objects.bulk_create(
            CustomerEmail(customer=customer, address=a, position=i) for i, a in enumerate(emails)
        )


@transaction.atomic
def customer_create(
    *,
    actor: User,
    name: str,
    kind: str = Customer.Kind.PERSON,
    phones: Sequence[str] = (),
    emails: Sequence[str] = (),
    tags: Sequence[str] = (),
    owner: User | None = None,
    team: Team | None = None,
    custom_fields: dict[str, Any] | None = None,
    **fields: Any,
) -> Customer:
    """Create a customer. Phones are stored as E.164; the creator owns it unless they may assign."""
    ensure_can(actor, "customer.create")
    errors = Errors()
    cleaned = _clean_fields({"name": name, "kind": kind, **fields}, errors)
    numbers = clean_phones(phones, errors)
    addresses = clean_emails(emails, errors)
    definitions = list(CustomFieldDefinition.objects.filter(active=True))
    custom = clean_custom_fields(custom_fields or {}, definitions, errors)
    tag_objects = _tags_by_name(actor, tags, errors)
    errors.raise_if_any()
    assignment = _owner_team(actor, owner, team, default=True)
    if cleaned.get("member_no") and Customer.objects.filter(member_no=cleaned["member_no"]).exists():
        raise Conflict(
            _("Member number %(no)s is already used.") % {"no": cleaned["member_no"]},
            details={"member_no": cleaned["member_no"]},
        )
    try:
        with transaction.atomic():
            customer = Customer.objects.create(
                **cleaned, **assignment, custom_fields=custom, created_by=actor
            )
    except IntegrityError as exc:
        raise Conflict(details={"member_no": cleaned.get("member_no")}) from exc
    _replace_phones_emails(customer, numbers, addresses)
    customer.tags.set(tag_objects)
    customer_reindex(customer)
    audit_record(
        actor=actor,
        action="customer.create",
        target=customer,
        changes=changes_between({}, _snapshot(customer)),
    )
    timeline_add(customer=customer, kind="customer.created", actor=actor)
    return customer


@transaction.atomic
def customer_update(
    *,
    actor: User,
    customer: Customer,
    phones: Sequence[str] | None = None,
    emails: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
    custom_fields: dict[str, Any] | None = None,
    **fields: Any,
) -> Customer:
    """Change a customer's fields; lists given replace the stored ones. Records each change, old → new."""
    ensure_can(actor, "customer.change")
    customer = _lock(actor, customer)
    before = _snapshot(customer)
    errors = Errors()
    cleaned = _clean_fields(fields, errors)
    numbers = clean_phones(phones, errors) if phones is not None else None
    addresses = clean_emails(emails, errors) if emails is not None else None
    custom = None
    if custom_fields is not None:
        definitions = list(CustomFieldDefinition.objects.filter(active=True))
        custom = {
            **customer.custom_fields,
            **clean_custom_fields(custom_fields, definitions, errors, partial=True),
        }
        for key, value in custom_fields.items():
            if value in (None, "") and key in custom:
                del custom[key]
    tag_objects = _tags_by_name(actor, tags, errors) if tags is not None else None
    errors.raise_if_any()
    member_no = cleaned.get("member_no")
    if member_no and Customer.objects.filter(member_no=member_no).exclude(pk=customer.pk).exists():
        raise Conflict(
            _("Member number %(no)s is already used.") % {"no": member_no}, details={"member_no": member_no}
        )
    for key, value in cleaned.items():
        setattr(customer, key, value)
    if custom is not None:
        customer.custom_fields = custom
    customer.save()
    _replace_phones_emails(customer, numbers, addresses)
    if tag_objects is not None:
        customer.tags.set(tag_objects)
    changes = changes_between(before, _snapshot(customer))
    if changes:
        customer_reindex(customer)
        audit_record(actor=actor, action="customer.update", target=customer, changes=changes)
        timeline_add(customer=customer, kind="customer.changed", actor=actor, data={"changes": changes})
    return customer


@transaction.atomic
def customer_assign(
    *, actor: User, customers: QuerySet[Customer], owner: User | None, team: Team | None
) -> int:
    """Give customers a new owner and team; `customers` comes from a selector, so it is in scope."""
    ensure_can(actor, "customer.assign")
    customers = customers.filter(scope_q(actor))
    if owner is not None and team is None:
        team = owner.team
    count = 0
    for customer in customers.select_for_update(of=("self",)).select_related("owner", "team"):
        before = {
            "owner": customer.owner.username if customer.owner else None,
            "team": customer.team.name if customer.team else None,
        }
        after = {"owner": owner.username if owner else None, "team": team.name if team else None}
        changes = changes_between(before, after)
        if not changes:
            continue
        Customer.objects.filter(pk=customer.pk).update(owner=owner, team=team, updated_at=timezone.now())
        audit_record(actor=actor, action="customer.assign", target=customer, changes=changes)
        timeline_add(customer=customer, kind="customer.changed", actor=actor, data={"changes": changes})
        count += 1
    return count


@transaction.atomic
def customer_tag(*, actor: User, customers: QuerySet[Customer], tag: Tag, add: bool = True) -> int:
    """Add a tag to (or remove it from) each of the customers; returns how many changed."""
    ensure_can(actor, "tag.apply")
    customers = customers.filter(scope_q(actor))
    through = Customer.tags.through
    ids = list(customers.values_list("pk", flat=True))
    tagged = set(through.objects.filter(tag=tag, customer_id__in=ids).values_list("customer_id", flat=True))
    targets = [pk for pk in ids if (pk not in tagged) == add]
    if add:
        through.objects.bulk_create(through(customer_id=pk, tag=tag) for pk in targets)
    else:
        through.objects.filter(tag=tag, customer_id__in=targets).delete()
    now = timezone.now()
    Customer.objects.filter(pk__in=targets).update(updated_at=now)
    changed = list(Customer.objects.filter(pk__in=targets).only("pk", "name"))
    audit_record_many(
        actor=actor,
        action="customer.tag" if add else "customer.untag",
        targets=changed,
        data={"tag": tag.name},
    )
    TimelineEntry.objects.bulk_create(
        TimelineEntry(
            customer_id=pk,
            occurred_at=now,
            kind="customer.tagged" if add else "customer.untagged",
            actor=actor,
            data={"tag": tag.name},
        )
        for pk in targets
    )
    return len(targets)


@transaction.atomic
def customer_delete(*, actor: User, customer: Customer) -> None:
    """Delete a customer with its contacts, assets, consents and timeline; the audit log keeps a copy."""
    ensure_can(actor, "customer.delete")
    customer = _lock(actor, customer)
    snapshot = _snapshot(customer)
    audit_record(
        actor=actor,
        action="customer.delete",
        target=customer,
        changes=changes_between(snapshot, dict.fromkeys(snapshot)),
    )
    try:
        with transaction.atomic():
            customer.delete()
    except ProtectedError as exc:
        raise Conflict(
            _(
                "This customer has orders, which are kept for the books, so the customer cannot be "
                "deleted. Merge them into another customer instead."
            )
        ) from exc
