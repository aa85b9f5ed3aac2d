"""Which stored customer each row of an import batch is: the importer's hot path of the duplicate rules.

The rules are `customers.duplicates.customer_matches_many(likely=False)`'s, the ones that say "the same
person": the same E.164 number, the same email (whatever its case) or the same WeChat ID, scored as it
scores them (`score_of`), the best score winning and then the oldest customer. The difference is speed: a
batch's values go to the database as plain parameters in three queries (the ORM prepares each of a
thousand values of an `IN` list one by one), the same indexes answer them (the number, lower(address),
the WeChat ID's partial index). `test_matching` checks both agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection

from guanxi.customers.duplicates import EMAIL, PHONE, WECHAT, score_of
from guanxi.customers.models import Customer, CustomerEmail, CustomerPhone
from guanxi.customers.services.bulk import ImportRow

CHUNK = 5000  # values per query at most


def _lookup(sql: str, values: list[str]) -> Iterable[tuple[int, str]]:
    with connection.cursor() as cursor:
        for first in range(0, len(values), CHUNK):
            chunk = values[first : first + CHUNK]
            cursor.execute(sql.format(marks=", ".join(["%s"] * len(chunk))), chunk)
            yield from cursor.fetchall()


def same_customers(rows: Sequence[ImportRow]) -> list[int | None]:
    """For each row, the id of the stored customer it is the same person as, or None. Reads every
    customer, whoever may see it (the caller refuses what the importer may not touch)."""
    phones: dict[str, list[int]] = {}
    emails: dict[str, list[int]] = {}
    wechat: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        for number in row.phones:
            if number := number.strip():
                phones.setdefault(number, []).append(index)
        for address in row.emails:
            if address := address.strip():
                emails.setdefault(address.lower(), []).append(index)
        if wechat_id := str(row.fields.get("wechat_id") or "").strip():
            wechat.setdefault(wechat_id, []).append(index)
    found: list[dict[int, set[str]] | None] = [None] * len(rows)

    def hit(indexes: list[int], customer_id: int, rule: str) -> None:
        for index in indexes:
            matches = found[index]
            if matches is None:
                matches = found[index] = {}
            matches.setdefault(customer_id, set()).add(rule)

    if phones:
        sql = f"SELECT customer_id, number FROM {CustomerPhone._meta.db_table} WHERE number IN ({{marks}})"
        for customer_id, number in _lookup(sql, list(phones)):
            hit(phones[number], customer_id, PHONE)
    if emails:
        sql = (
            f"SELECT customer_id, LOWER(address) FROM {CustomerEmail._meta.db_table} "
            "WHERE LOWER(address) IN ({marks})"
        )
        for customer_id, address in _lookup(sql, list(emails)):
            hit(emails[address], customer_id, EMAIL)
    if wechat:
        # The partial index's own condition is repeated, or neither database would use it.
        sql = (
            f"SELECT id, wechat_id FROM {Customer._meta.db_table} "
            "WHERE wechat_id IN ({marks}) AND NOT (wechat_id = '')"
        )
        for customer_id, wechat_id in _lookup(sql, list(wechat)):
            hit(wechat[wechat_id], customer_id, WECHAT)
    return [
        None if matches is None else min(matches, key=lambda pk: (-score_of(matches[pk]), pk))
        for matches in found
    ]
