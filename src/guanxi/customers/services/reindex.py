"""Rebuilding every customer's search columns, batch by batch (`guanxi reindex`, docs/adr/0003-search.md).

The columns are derived data: when the normalisation changes (a new pinyin reading, a new kind of code),
the stored rows keep the old form until they are rebuilt. One batch reads its customers and all their
phones, emails, assets and contacts in five queries, then writes back only the rows whose columns differ.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from guanxi.audit.services import audit_record
from guanxi.core.search import SearchParts, search_document
from guanxi.customers.models import Asset, Contact, Customer, CustomerEmail, CustomerPhone


@dataclass
class ReindexStats:
    customers: int = 0
    changed: int = 0
    seconds: float = 0.0


def customer_search_parts_many(customers: list[Customer]) -> dict[int, SearchParts]:
    """The searchable values of each customer, by id, in four queries whatever their number."""
    parts: dict[int, SearchParts] = {}
    for customer in customers:
        codes = [customer.member_no or "", customer.wechat_id, *map(str, customer.external_ids.values())]
        parts[customer.pk] = SearchParts(
            names=[(customer.name, customer.kind == Customer.Kind.PERSON)], codes=[c for c in codes if c]
        )
    ids = list(parts)
    for customer_id, number in CustomerPhone.objects.filter(customer_id__in=ids).values_list(
        "customer_id", "number"
    ):
        parts[customer_id].phones.append(number)
    for customer_id, address in CustomerEmail.objects.filter(customer_id__in=ids).values_list(
        "customer_id", "address"
    ):
        parts[customer_id].emails.append(address)
    assets: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for customer_id, plate, vin in Asset.objects.filter(customer_id__in=ids).values_list(
        "customer_id", "plate", "vin"
    ):
        assets[customer_id].append((plate, vin))
    for customer_id, pairs in assets.items():
        parts[customer_id].plates += [plate for plate, _vin in pairs]
        parts[customer_id].codes += [vin for _plate, vin in pairs]
    for customer_id, name, phone, email in Contact.objects.filter(customer_id__in=ids).values_list(
        "customer_id", "name", "phone", "email"
    ):
        part = parts[customer_id]
        part.names.append((name, True))
        if phone:
            part.phones.append(phone)
        if email:
            part.emails.append(email)
    return parts


def customer_reindex_all(
    *,
    actor: Any,
    batch_size: int = 2000,
    progress: Callable[[int, int, float], None] | None = None,
) -> ReindexStats:
    """Rebuild the search columns of every customer; write only the rows that change.

    A maintenance job of the system (the `guanxi reindex` command, `actor` None), not of a user: it reads
    every customer whatever anyone's scope. Each batch is its own transaction, so a stop halfway leaves
    every row either as it was or rebuilt; running it again finishes the job. One audit event says what
    it did.
    """
    stats = ReindexStats()
    started = time.monotonic()
    total = Customer.objects.count()
    last_id = 0
    fields = ["id", "kind", "name", "member_no", "wechat_id", "external_ids", "search_text", "search_keys"]
    while True:
        batch = list(Customer.objects.filter(pk__gt=last_id).order_by("pk").only(*fields)[:batch_size])
        if not batch:
            break
        last_id = batch[-1].pk
        parts = customer_search_parts_many(batch)
        changed = []
        for customer in batch:
            text, keys = search_document(parts[customer.pk])
            if (text, keys) != (customer.search_text, customer.search_keys):
                customer.search_text, customer.search_keys = text, keys
                changed.append(customer)
        if changed:
            with transaction.atomic():
                Customer.objects.bulk_update(changed, ["search_text", "search_keys"])
        stats.customers += len(batch)
        stats.changed += len(changed)
        if progress:
            progress(stats.customers, total, time.monotonic() - started)
    stats.seconds = time.monotonic() - started
    audit_record(
        actor=actor,
        action="customer.reindex",
        data={"customers": stats.customers, "changed": stats.changed, "seconds": round(stats.seconds, 1)},
    )
    return stats
