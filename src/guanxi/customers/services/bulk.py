"""Writing a batch of imported customers at once: the importer's write step (issue 3).

The rules are the single-record services' own (the same field, phone, email, custom field and asset checks,
the same owner rules), applied row by row; the writes are batched (a handful of bulk inserts and updates a
batch, whatever its size). A row either lands whole or is rejected with its reasons.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from phonenumbers import PhoneMetadata

from guanxi.audit.models import AuditEvent
from guanxi.audit.services import audit_event, changes_between
from guanxi.core.permissions import ensure_can, scope_q
from guanxi.core.search import SearchParts, search_document, sqlite_fts_batch
from guanxi.customers.models import (
    SEARCH_INDEX,
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
from guanxi.customers.services.rows import (
    CUSTOMER_COLUMNS,
    db_json,
    db_time,
    reserve_ids,
    update_rows,
    write_rows,
)
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
    # For a row that makes a new customer: its columns from kind to custom_fields (CUSTOMER_COLUMNS),
    # its name, search document and audit changes (JSON), all worked out without the database (_new).
    new: tuple[tuple[Any, ...], str, str, str, str] | None = None


@dataclass
class PreparedRow:
    """A row checked against the customer services' rules, with what creating it needs worked out.

    Made by `customer_import_prepare` without touching the database (the importer makes them in a
    worker process while the main one writes); written by `customer_import_write`.
    """

    row: ImportRow
    clean: _Clean | None
    errors: dict[str, list[str]]


@functools.cache
def _e164_mobile() -> re.Pattern[str]:
    metadata = PhoneMetadata.metadata_for_region("CN")
    pattern = metadata.mobile.national_number_pattern if metadata and metadata.mobile else None
    return re.compile(rf"\+86(?:{pattern})" if pattern else r"(?!)")  # (?!): matches nothing


def _clean_phones(raw: list[str], errors: Errors) -> list[str]:
    """clean_phones, with a shortcut for what the importer's cleaner hands over: Chinese mobiles already in
    E.164 that phonenumbers' own pattern accepts come out of phone_normalize as they went in."""
    match = _e164_mobile().fullmatch
    if all(isinstance(number, str) and match(number) for number in raw):
        return list(dict.fromkeys(raw))
    return clean_phones(raw, errors)


def _clean_row(row: ImportRow, definitions: list[CustomFieldDefinition]) -> tuple[_Clean | None, Errors]:
    errors = Errors()
    fields = _clean_fields(row.fields, errors)
    if not row.match and "name" not in row.fields:
        errors.add("name", _("This field is required."))
    phones = _clean_phones(row.phones, errors)
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


def customer_import_prepare(
    rows: list[ImportRow], definitions: list[CustomFieldDefinition]
) -> list[PreparedRow]:
    """The rules of `customer_import_rows` that need no database, applied to each row; for the rows that
    match no one yet, the new customer's columns, search document and audit changes too.

    `definitions`: the active custom field definitions. A row rejected here may still be written when
    it turns out to match a customer (a merge needs no name): `customer_import_write` checks it again.
    """
    prepared = []
    for row in rows:
        cleaned, errors = _clean_row(row, definitions)
        if cleaned is not None and not row.match:
            cleaned.new = _new(cleaned)
        prepared.append(PreparedRow(row, cleaned, errors.details))
    return prepared


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
    definitions = list(CustomFieldDefinition.objects.filter(active=True))
    return customer_import_write(
        actor=actor, rows=customer_import_prepare(rows, definitions), on_duplicate=on_duplicate
    )


def customer_import_write(
    *, actor: User, rows: list[PreparedRow], on_duplicate: str = MERGE
) -> list[RowOutcome]:
    """`customer_import_rows` for rows prepared by `customer_import_prepare` (their `row.match` may have
    been set since)."""
    ensure_can(actor, "customer.import")
    if on_duplicate not in (MERGE, SKIP, UPDATE):
        raise ValueError(on_duplicate)
    definitions: list[CustomFieldDefinition] | None = None
    outcomes: dict[int, RowOutcome] = {}
    clean: list[_Clean] = []
    for prepared in rows:
        row, cleaned, details = prepared.row, prepared.clean, prepared.errors
        if cleaned is None and row.match:  # checked as a new customer; a merge asks less
            if definitions is None:
                definitions = list(CustomFieldDefinition.objects.filter(active=True))
            cleaned, errors = _clean_row(row, definitions)
            details = errors.details
        if cleaned is None:
            outcomes[row.row_number] = RowOutcome(row.row_number, "rejected", row.match, details)
        else:
            clean.append(cleaned)
    with transaction.atomic():
        matched_ids = {c.row.match for c in clean if c.row.match}
        visible = set(
            Customer.objects.filter(scope_q(actor), pk__in=matched_ids).values_list("pk", flat=True)
            if matched_ids
            else ()
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
    return [outcomes[p.row.row_number] for p in rows]


def _refuse_taken_member_numbers(clean: list[_Clean], outcomes: dict[int, RowOutcome]) -> list[_Clean]:
    wanted = list({c.fields["member_no"] for c in clean if c.fields.get("member_no")})
    owners: dict[str, int] = {}
    with connection.cursor() as cursor:  # plain parameters: the ORM would prepare each of them
        for first in range(0, len(wanted), 5000):
            chunk = wanted[first : first + 5000]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"SELECT member_no, id FROM {_CUSTOMER_TABLE} WHERE member_no IN ({marks})", chunk)
            owners.update(cursor.fetchall())
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


_CUSTOMER_TABLE = Customer._meta.db_table
_CUSTOMER_COLUMNS = CUSTOMER_COLUMNS
_ASSET_COLUMNS = tuple(
    f.column for f in Asset._meta.concrete_fields if f.column not in ("id", "customer_id", "created_at")
)
_ASSET_DEFAULTS = {f.column: f.get_default() for f in Asset._meta.concrete_fields}
_AUDIT_COLUMNS = (
    "occurred_at",
    "actor_id",
    "actor_label",
    "via",
    "ip",
    "user_agent",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "changes",
    "data",
)
_IMPORT_DATA = db_json({"import": True})
_ENTRY_COLUMNS = ("customer_id", "occurred_at", "kind", "actor_id", "data")


class _Writer:
    """The rows of a batch's child tables and events, written at once (rows.write_rows)."""

    def __init__(self, actor: User) -> None:
        self.now = timezone.now()
        self.stamp = db_time(self.now)
        self.actor_id = actor.pk
        # Who and from where, the same for every event of the batch.
        template = audit_event(actor=actor, action="")
        self.who = (template.actor_id, template.actor_label, template.via, template.ip, template.user_agent)
        self.target_type = Customer._meta.label_lower
        self.phones: list[tuple[Any, ...]] = []
        self.emails: list[tuple[Any, ...]] = []
        self.links: list[tuple[Any, ...]] = []
        self.assets: list[tuple[Any, ...]] = []
        self.entries: list[tuple[Any, ...]] = []
        self.events: list[tuple[Any, ...]] = []

    def phone(self, customer_id: int, number: str, position: int) -> None:
        self.phones.append((customer_id, number, "", position))

    def email(self, customer_id: int, address: str, position: int) -> None:
        self.emails.append((customer_id, address, position))

    def asset(self, customer_id: int, asset: dict[str, Any]) -> None:
        values = {**_ASSET_DEFAULTS, **asset}
        self.assets.append((customer_id, self.stamp, *(values[c] for c in _ASSET_COLUMNS)))

    def entry(self, customer_id: int, kind: str, data: str) -> None:
        """`data`: the entry's JSON, as db_json writes it."""
        self.entries.append((customer_id, self.stamp, kind, self.actor_id, data))

    def event(self, action: str, customer_id: int, label: str, changes: dict[str, Any]) -> None:
        self.event_json(action, customer_id, label, db_json(changes))

    def event_json(self, action: str, customer_id: int, label: str, changes: str) -> None:
        """`changes`: the event's changes as JSON already (db_json)."""
        self.events.append(
            (
                self.stamp,
                *self.who,
                action,
                self.target_type,
                str(customer_id),
                label[:200],
                changes,
                _IMPORT_DATA,
            )
        )

    def flush(self) -> None:
        write_rows(CustomerPhone._meta.db_table, ("customer_id", "number", "label", "position"), self.phones)
        write_rows(CustomerEmail._meta.db_table, ("customer_id", "address", "position"), self.emails)
        write_rows(Customer.tags.through._meta.db_table, ("customer_id", "tag_id"), self.links)
        write_rows(Asset._meta.db_table, ("customer_id", "created_at", *_ASSET_COLUMNS), self.assets)
        write_rows(TimelineEntry._meta.db_table, _ENTRY_COLUMNS, self.entries)
        write_rows(AuditEvent._meta.db_table, _AUDIT_COLUMNS, self.events)


_JSON_TYPES = frozenset((str, int, float, bool, dict, list, type(None)))


def _plain(value: Any) -> Any:
    """A field's value as the audit log writes it (audit.services.changes_between's JSON-safe form)."""
    return value if type(value) in _JSON_TYPES else str(value)


_DEFAULTS: dict[str, Any] = {
    "kind": Customer.Kind.PERSON.value,
    "gender": "",
    "birthday": None,
    "wechat_id": "",
    "member_no": None,
    "external_ids": {},
    "province": "",
    "city": "",
    "district": "",
    "street": "",
    "source": Customer.Source.IMPORT.value,
    "stage": Customer.Stage.LEAD.value,
    "notes": "",
}
_EMPTY: tuple[Any, ...] = ("", None, {}, [])


def _new(c: _Clean) -> tuple[tuple[Any, ...], str, str, str, str]:
    """A new customer's columns kind … custom_fields, its name, search_text, search_keys and the JSON of
    its audit changes: no database, no actor (so a worker process can make them)."""
    # The model's defaults, then the row's non-empty values (as Customer(**fields) would have them).
    values = _DEFAULTS.copy()
    values.update((k, v) for k, v in c.fields.items() if v != "" and v is not None)
    name = values["name"]
    text, keys = search_document(_parts(c, name, values["kind"]))
    birthday = values["birthday"]
    columns = (
        values["kind"],
        name,
        values["gender"],
        None if birthday is None else birthday.isoformat(),
        values["wechat_id"],
        values["member_no"],
        db_json(values["external_ids"]),
        values["province"],
        values["city"],
        values["district"],
        values["street"],
        values["source"],
        values["stage"],
        values["notes"],
        db_json(c.custom),
    )
    # changes_between({}, fields): every field and custom field that is not empty, as [None, value].
    changes = {
        key: [None, _plain(value)] for key, value in values.items() if key in FIELDS and value not in _EMPTY
    }
    changes.update(
        (f"custom_fields.{key}", [None, _plain(value)])
        for key, value in c.custom.items()
        if value not in _EMPTY
    )
    return columns, name, text, keys, db_json(changes)


def _create(actor: User, rows: list[_Clean]) -> list[int]:
    if not rows:
        return []
    tags = _tags(actor, {name for c in rows for name in c.row.tags})
    ids = reserve_ids(_CUSTOMER_TABLE, len(rows))
    out = _Writer(actor)
    who = (actor.pk, actor.team_id, actor.pk, out.stamp, out.stamp)
    customers = []
    for customer_id, c in zip(ids, rows, strict=True):
        columns, name, text, keys, changes = c.new or _new(c)
        customers.append((customer_id, *columns, *who, text, keys))
        for i, number in enumerate(c.phones):
            out.phone(customer_id, number, i)
        for i, address in enumerate(c.emails):
            out.email(customer_id, address, i)
        for tag in dict.fromkeys(c.row.tags):
            out.links.append((customer_id, tags[tag].pk))
        for asset in c.assets:
            out.asset(customer_id, asset)
        out.entry(customer_id, "customer.created", _IMPORT_DATA)
        out.event_json("customer.create", customer_id, name, changes)
    with sqlite_fts_batch(_CUSTOMER_TABLE, SEARCH_INDEX, ids[0], ids[-1]):
        write_rows(_CUSTOMER_TABLE, _CUSTOMER_COLUMNS, customers)
    out.flush()
    return ids


def _fields(customer: Customer) -> dict[str, Any]:
    """The customer's own fields and custom fields, as the audit log names them (no query)."""
    data = {key: getattr(customer, key) for key in FIELDS}
    data.update({f"custom_fields.{key}": value for key, value in customer.custom_fields.items()})
    return data


# What a customer's search columns are made of (reindex.customer_search_parts_many), as the audit log
# names its changes: a change to one of these, or a new asset, makes the search document again.
_SEARCHED = frozenset({"name", "kind", "member_no", "wechat_id", "external_ids", "phones", "emails"})


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
    searched: set[int] = set()  # customers whose search columns may change
    out = _Writer(actor)
    for c in rows:
        customer = customers[c.row.match]
        fill = {
            key: value
            for key, value in c.fields.items()
            if value not in ("", None) and (overwrite or getattr(customer, key) in ("", None, {}))
        }
        fill_custom = {
            key: value
            for key, value in c.custom.items()
            if overwrite or customer.custom_fields.get(key) in ("", None)
        }
        # A repeat that brings nothing new (most do) needs no before-and-after comparison.
        before = _fields(customer) if fill or fill_custom else {}
        if fill_custom:
            customer.custom_fields = {**customer.custom_fields, **fill_custom}
        for key, value in fill.items():
            setattr(customer, key, value)
        added_phones = [n for n in c.phones if n not in phones[customer.pk]]
        for i, n in enumerate(added_phones):
            out.phone(customer.pk, n, len(phones[customer.pk]) + i)
        phones[customer.pk] += added_phones
        added_emails = [a for a in c.emails if a not in emails[customer.pk]]
        for i, a in enumerate(added_emails):
            out.email(customer.pk, a, len(emails[customer.pk]) + i)
        emails[customer.pk] += added_emails
        for name in dict.fromkeys(c.row.tags):
            if (customer.pk, tags[name].pk) not in tagged:
                tagged.add((customer.pk, tags[name].pk))
                out.links.append((customer.pk, tags[name].pk))
        for asset in c.assets:
            if not asset.get("plate") or (customer.pk, asset["plate"]) not in plates:
                plates.add((customer.pk, asset.get("plate", "")))
                out.asset(customer.pk, asset)
                searched.add(customer.pk)
        changes = changes_between(before, _fields(customer)) if before else {}
        for key, added in (("phones", added_phones), ("emails", added_emails)):
            if added:
                changes[key] = [None, added]
        if not _SEARCHED.isdisjoint(changes):
            searched.add(customer.pk)
        if changes:
            customer.updated_at = out.now
            changed.append(customer)
            out.event("customer.update", customer.pk, str(customer), changes)
            out.entry(customer.pk, "customer.changed", db_json({"changes": changes}))
    if changed:
        names = {*FIELDS, "custom_fields", "updated_at"}
        fields = [f for f in Customer._meta.concrete_fields if f.name in names]
        update_rows(
            _CUSTOMER_TABLE,
            [f.column for f in fields],
            [
                (*(f.get_db_prep_save(getattr(customer, f.attname), connection) for f in fields), customer.pk)
                for customer in changed
            ],
        )
    out.flush()
    # Only a customer whose searchable values changed is indexed again, and written when it differs
    # (SQLite's FTS5 update trigger deletes and inserts both documents: about 0.2 ms a customer).
    touched = [customers[pk] for pk in searched]
    parts = customer_search_parts_many(touched) if touched else {}
    documents = [(*search_document(parts[customer.pk]), customer) for customer in touched]
    update_rows(
        _CUSTOMER_TABLE,
        ["search_text", "search_keys"],
        [
            (text, keys, customer.pk)
            for text, keys, customer in documents
            if (text, keys) != (customer.search_text, customer.search_keys)
        ],
    )
    return rows
