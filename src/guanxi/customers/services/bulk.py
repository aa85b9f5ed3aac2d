"""Writing a batch of imported customers at once: the importer's write step (issue 3).

The rules are the single-record services' own (the same field, phone, email, custom field and asset checks,
the same owner rules), applied row by row; the writes are batched (a handful of bulk inserts and updates a
batch, whatever its size). A row either lands whole or is rejected with its reasons.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.audit.models import AuditEvent
from guanxi.audit.services import audit_event, changes_between
from guanxi.core.permissions import ensure_can, scope_q
from guanxi.core.search import SearchParts, search_document
from guanxi.customers.models import (
    Asset,
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomFieldDefinition,
    Tag,
    TimelineEntry,
)
from guanxi.customers.services._common import Errors, clean_custom_fields, clean_emails, clean_phones
from guanxi.customers.services.customer import FIELDS, _clean_fields
from guanxi.customers.services.details import _check_asset, _clean_asset
from guanxi.customers.services.reindex import customer_search_parts_many
from guanxi.users.models import User

MERGE, SKIP, UPDATE = "merge", "skip", "update"


@dataclass
class ImportRow:
    """One row as the importer read and mapped it.

    `fields`: customer fields by key (services.customer.FIELDS); `match`: the id of the existing customer
    this row is the same person as (found by the importer's duplicate check), or None.
    """

    row_number: int
    fields: dict[str, Any] = field(default_factory=dict)
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    assets: list[dict[str, Any]] = field(default_factory=list)
    match: int | None = None


@dataclass
class RowOutcome:
    row_number: int
    result: str  # created | merged | updated | skipped | rejected
    customer_id: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class _Clean:
    row: ImportRow
    fields: dict[str, Any]
    phones: list[str]
    emails: list[str]
    custom: dict[str, Any]
    assets: list[dict[str, Any]]


def _clean_row(row: ImportRow, definitions: list[CustomFieldDefinition]) -> tuple[_Clean | None, Errors]:
    errors = Errors()
    fields = _clean_fields(row.fields, errors)
    if not row.match and "name" not in row.fields:
        errors.add("name", _("This field is required."))
    phones = clean_phones(row.phones, errors)
    emails = clean_emails(row.emails, errors)
    custom = clean_custom_fields(row.custom_fields, definitions, errors, partial=bool(row.match))
    for name in row.tags:
        if len(name) > 50:
            errors.add("tags", _("A tag has at most 50 characters."))
    assets = []
    for raw in row.assets:
        asset = _clean_asset({"kind": Asset.Kind.VEHICLE, **raw}, errors)
        _check_asset({}, asset, errors)
        assets.append(asset)
    if errors.details:
        return None, errors
    return _Clean(row, fields, phones, emails, custom, assets), errors


def customer_import_rows(
    *, actor: User, rows: list[ImportRow], on_duplicate: str = MERGE
) -> list[RowOutcome]:
    """Create the new customers of a batch and merge, update or skip the rows that match one.

    - `merge` fills the existing customer's empty fields and adds phones, emails, tags and assets it lacks;
      `update` lets the file's non-empty values win; `skip` leaves it as it is.
    - A matched customer outside the actor's scope is not touched and the row is rejected (a duplicate the
      actor may not see is not made again either).
    - A member number already used by another customer, or twice in the batch, rejects the later row.
    - New customers belong to the actor and the actor's team. Every created or changed customer gets its
      audit event and timeline entry, as with the single-record services.
    One transaction: the whole batch lands or none of it.
    """
    ensure_can(actor, "customer.import")
    if on_duplicate not in (MERGE, SKIP, UPDATE):
        raise ValueError(on_duplicate)
    definitions = list(CustomFieldDefinition.objects.filter(active=True))
    outcomes: dict[int, RowOutcome] = {}
    clean: list[_Clean] = []
    for row in rows:
        cleaned, errors = _clean_row(row, definitions)
        if cleaned is None:
            outcomes[row.row_number] = RowOutcome(row.row_number, "rejected", row.match, errors.details)
        else:
            clean.append(cleaned)
    with transaction.atomic():
        matched_ids = {c.row.match for c in clean if c.row.match}
        visible = set(
            Customer.objects.filter(scope_q(actor), pk__in=matched_ids).values_list("pk", flat=True)
        )
        clean = _refuse_taken_member_numbers(clean, outcomes)
        new = [c for c in clean if not c.row.match]
        existing = []
        for c in clean:
            if not c.row.match:
                continue
            if c.row.match not in visible:
                outcomes[c.row.row_number] = RowOutcome(
                    c.row.row_number,
                    "rejected",
                    None,
                    {"customer": [_("This customer exists already and belongs to another team or owner.")]},
                )
            elif on_duplicate == SKIP:
                outcomes[c.row.row_number] = RowOutcome(c.row.row_number, "skipped", c.row.match)
            else:
                existing.append(c)
        for c, customer_id in zip(new, _create(actor, new), strict=True):
            outcomes[c.row.row_number] = RowOutcome(c.row.row_number, "created", customer_id)
        result = "updated" if on_duplicate == UPDATE else "merged"
        for c in _change(actor, existing, overwrite=on_duplicate == UPDATE):
            outcomes[c.row.row_number] = RowOutcome(c.row.row_number, result, c.row.match)
    return [outcomes[row.row_number] for row in rows]


def _refuse_taken_member_numbers(clean: list[_Clean], outcomes: dict[int, RowOutcome]) -> list[_Clean]:
    wanted = [c.fields["member_no"] for c in clean if c.fields.get("member_no")]
    owners = dict(Customer.objects.filter(member_no__in=wanted).values_list("member_no", "pk"))
    kept = []
    for c in clean:
        number = c.fields.get("member_no")
        if number and owners.setdefault(number, c.row.match or -c.row.row_number) not in (
            c.row.match,
            -c.row.row_number,
        ):
            message = _("Member number %(no)s is already used.") % {"no": number}
            outcomes[c.row.row_number] = RowOutcome(
                c.row.row_number, "rejected", None, {"member_no": [message]}
            )
        else:
            kept.append(c)
    return kept


def _tags(actor: User, names: set[str]) -> dict[str, Tag]:
    if not names:
        return {}
    ensure_can(actor, "tag.apply")
    found = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=n) for n in sorted(names - set(found))]
    if missing:
        ensure_can(actor, "tag.manage")
        Tag.objects.bulk_create(missing)
        found.update({t.name: t for t in Tag.objects.filter(name__in=[t.name for t in missing])})
        AuditEvent.objects.bulk_create(
            audit_event(actor=actor, action="tag.create", target=t) for t in missing
        )
    return found


def _parts(c: _Clean, name: str, kind: str) -> SearchParts:
    codes = [
        c.fields.get("member_no") or "",
        c.fields.get("wechat_id", ""),
        *map(str, c.fields.get("external_ids", {}).values()),
    ]
    codes += [a.get("vin", "") for a in c.assets]
    return SearchParts(
        names=[(name, kind == Customer.Kind.PERSON)],
        phones=c.phones,
        emails=c.emails,
        plates=[a.get("plate", "") for a in c.assets],
        codes=[code for code in codes if code],
    )


def _create(actor: User, rows: list[_Clean]) -> list[int]:
    if not rows:
        return []
    tags = _tags(actor, {name for c in rows for name in c.row.tags})
    customers = []
    for c in rows:
        fields = {
            "source": Customer.Source.IMPORT,
            **{k: v for k, v in c.fields.items() if v not in ("", None)},
        }
        text, keys = search_document(_parts(c, fields["name"], fields.get("kind", Customer.Kind.PERSON)))
        customers.append(
            Customer(
                **fields,
                custom_fields=c.custom,
                owner=actor,
                team=actor.team,
                created_by=actor,
                search_text=text,
                search_keys=keys,
            )
        )
    Customer.objects.bulk_create(customers)
    now = timezone.now()
    CustomerPhone.objects.bulk_create(
        CustomerPhone(customer=customer, number=number, position=i)
        for customer, c in zip(customers, rows, strict=True)
        for i, number in enumerate(c.phones)
    )
    CustomerEmail.objects.bulk_create(
        CustomerEmail(customer=customer, address=address, position=i)
        for customer, c in zip(customers, rows, strict=True)
        for i, address in enumerate(c.emails)
    )
    Customer.tags.through.objects.bulk_create(
        Customer.tags.through(customer_id=customer.pk, tag_id=tags[name].pk)
        for customer, c in zip(customers, rows, strict=True)
        for name in dict.fromkeys(c.row.tags)
    )
    Asset.objects.bulk_create(
        Asset(customer=customer, **asset)
        for customer, c in zip(customers, rows, strict=True)
        for asset in c.assets
    )
    TimelineEntry.objects.bulk_create(
        TimelineEntry(
            customer=customer, occurred_at=now, kind="customer.created", actor=actor, data={"import": True}
        )
        for customer in customers
    )
    AuditEvent.objects.bulk_create(
        audit_event(
            actor=actor,
            action="customer.create",
            target=customer,
            changes=changes_between({}, _fields(customer)),
            data={"import": True},
        )
        for customer in customers
    )
    return [customer.pk for customer in customers]


def _fields(customer: Customer) -> dict[str, Any]:
    """The customer's own fields and custom fields, as the audit log names them (no query)."""
    data = {key: getattr(customer, key) for key in FIELDS}
    data.update({f"custom_fields.{key}": value for key, value in customer.custom_fields.items()})
    return data


def _change(actor: User, rows: list[_Clean], *, overwrite: bool) -> list[_Clean]:
    """Merge (fill the empty) or update (the file wins) the matched customers; returns the rows applied."""
    if not rows:
        return []
    customers = Customer.objects.select_for_update().in_bulk([c.row.match for c in rows])
    phones: dict[int, list[str]] = defaultdict(list)
    for customer_id, number in CustomerPhone.objects.filter(customer_id__in=customers).values_list(
        "customer_id", "number"
    ):
        phones[customer_id].append(number)
    emails: dict[int, list[str]] = defaultdict(list)
    for customer_id, address in CustomerEmail.objects.filter(customer_id__in=customers).values_list(
        "customer_id", "address"
    ):
        emails[customer_id].append(address)
    plates = set(
        Asset.objects.filter(customer_id__in=customers).exclude(plate="").values_list("customer_id", "plate")
    )
    tags = _tags(actor, {name for c in rows for name in c.row.tags})
    tagged = set(
        Customer.tags.through.objects.filter(customer_id__in=customers).values_list("customer_id", "tag_id")
    )
    changed: list[Customer] = []
    new_phones, new_emails, new_links, new_assets, events, entries = [], [], [], [], [], []
    now = timezone.now()
    for c in rows:
        customer = customers[c.row.match]
        before = _fields(customer)
        customer.custom_fields = dict(customer.custom_fields)
        for key, value in c.fields.items():
            if value not in ("", None) and (overwrite or getattr(customer, key) in ("", None, {})):
                setattr(customer, key, value)
        for key, value in c.custom.items():
            if overwrite or customer.custom_fields.get(key) in ("", None):
                customer.custom_fields[key] = value
        added_phones = [n for n in c.phones if n not in phones[customer.pk]]
        new_phones += [
            CustomerPhone(customer=customer, number=n, position=len(phones[customer.pk]) + i)
            for i, n in enumerate(added_phones)
        ]
        phones[customer.pk] += added_phones
        added_emails = [a for a in c.emails if a not in emails[customer.pk]]
        new_emails += [
            CustomerEmail(customer=customer, address=a, position=len(emails[customer.pk]) + i)
            for i, a in enumerate(added_emails)
        ]
        emails[customer.pk] += added_emails
        for name in dict.fromkeys(c.row.tags):
            if (customer.pk, tags[name].pk) not in tagged:
                tagged.add((customer.pk, tags[name].pk))
                new_links.append(Customer.tags.through(customer_id=customer.pk, tag_id=tags[name].pk))
        for asset in c.assets:
            if not asset.get("plate") or (customer.pk, asset["plate"]) not in plates:
                plates.add((customer.pk, asset.get("plate", "")))
                new_assets.append(Asset(customer=customer, **asset))
        changes = changes_between(before, _fields(customer))
        for key, added in (("phones", added_phones), ("emails", added_emails)):
            if added:
                changes[key] = [None, added]
        if changes:
            customer.updated_at = now
            changed.append(customer)
            events.append(
                audit_event(
                    actor=actor,
                    action="customer.update",
                    target=customer,
                    changes=changes,
                    data={"import": True},
                )
            )
            entries.append(
                TimelineEntry(
                    customer=customer,
                    occurred_at=now,
                    kind="customer.changed",
                    actor=actor,
                    data={"changes": changes},
                )
            )
    if changed:
        Customer.objects.bulk_update(changed, [*FIELDS, "custom_fields", "updated_at"])
    CustomerPhone.objects.bulk_create(new_phones)
    CustomerEmail.objects.bulk_create(new_emails)
    Customer.tags.through.objects.bulk_create(new_links)
    Asset.objects.bulk_create(new_assets)
    AuditEvent.objects.bulk_create(events)
    TimelineEntry.objects.bulk_create(entries)
    touched = list(customers.values())
    parts = customer_search_parts_many(touched)
    for customer in touched:
        customer.search_text, customer.search_keys = search_document(parts[customer.pk])
    Customer.objects.bulk_update(touched, ["search_text", "search_keys"])
    return rows
