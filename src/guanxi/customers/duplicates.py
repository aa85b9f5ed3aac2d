"""Finding duplicate customers: pairs in the stored data, and matches for incoming records (imports).

The rules (docs/duplicates.md):

- the SAME person when a mobile number (E.164), an email (case-insensitive) or a WeChat ID matches;
- LIKELY the same when the name matches — as written or in full pinyin (张伟 / 章伟: zhangwei) — together
  with a phone that ends in the same 4 digits, or the same city, district and street.

Each rule has a score; a pair scores its best rule plus 5 for every further rule it meets, at most 100.

Both are set-based: `customer_duplicates_refresh` finds all pairs in one SQL statement (self-joins on the
phone number, the lower-cased email, the WeChat ID and the name key, each blocked by an index) and stores
them, in the background, as it reads every customer; `duplicate_pairs` pages through the stored pairs;
`customer_matches_many` takes a fixed four queries (index lookups) for a whole batch. Neither loops over
customers in Python.

The name key is the customer's full pinyin (its plain name when pinyin adds nothing, as for Latin
letters), read from the search column every service keeps (`search_text` starts with the normalised name
and its full pinyin, see core.search.search_document) through `name_key_sql`, which an expression index
of the same text answers (migration 0004).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, Count, Exists, Max, OuterRef, Prefetch, QuerySet, Value
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from guanxi.audit.services import audit_record
from guanxi.core.permissions import ALL, ensure_can, scope_of, scope_q, sees_pii
from guanxi.core.pinyin import name_pinyin
from guanxi.core.search import normalize
from guanxi.core.tasks import task_enqueue_on_commit
from guanxi.customers.models import (
    Asset,
    Consent,
    Contact,
    Customer,
    CustomerDuplicate,
    CustomerEmail,
    CustomerMerge,
    CustomerPhone,
    TimelineEntry,
)
from guanxi.customers.selectors import customer_scope
from guanxi.users.models import User

PHONE, EMAIL, WECHAT, NAME_PHONE, NAME_ADDRESS = "phone", "email", "wechat", "name_phone", "name_address"
# Rule → score, strongest first. The first three say "the same person", the others "likely the same".
RULE_SCORES: dict[str, int] = {PHONE: 100, EMAIL: 95, WECHAT: 95, NAME_PHONE: 75, NAME_ADDRESS: 65}
SAME_RULES = frozenset({PHONE, EMAIL, WECHAT})
RULE_BONUS = 5
REASON_LABELS: dict[str, Promise] = {
    PHONE: _("Same mobile number"),
    EMAIL: _("Same email"),
    WECHAT: _("Same WeChat ID"),
    NAME_PHONE: _("Same name, phone ends alike"),
    NAME_ADDRESS: _("Same name and address"),
}
SUFFIX_DIGITS = 4
REFRESH_TASK = "customers.duplicates_refresh"
# A number, email or WeChat ID shared by more customers than this is a shop's, not one person's.
MAX_GROUP = 20

CUSTOMERS = Customer._meta.db_table
PHONES = CustomerPhone._meta.db_table
EMAILS = CustomerEmail._meta.db_table


def score_of(reasons: Iterable[str]) -> int:
    """The score of a pair meeting these rules: its best rule's, plus a bonus per further rule."""
    scores = sorted((RULE_SCORES[r] for r in set(reasons)), reverse=True)
    if not scores:
        return 0
    return min(100, scores[0] + RULE_BONUS * (len(scores) - 1))


def name_key(name: str, *, person: bool = True) -> str:
    """The key names are compared by: the full pinyin, or the plain name where pinyin is no longer.

    The same value `name_key_sql` reads from a customer's search column.
    """
    plain = normalize(name)
    if not plain:
        return ""
    full, _initials = name_pinyin(name, person=person)
    return full if len(full) > len(plain) else plain


def name_key_sql(column: str = "search_text", vendor: str | None = None) -> str:
    """SQL for the name key of `column` (a customer's search_text): its first or second "|" piece.

    The index of migration 0004 is built on exactly this text; change both together.
    """
    vendor = vendor or connection.vendor
    t = column
    if vendor == "postgresql":
        first, second = f"split_part({t}, '|', 1)", f"split_part({t}, '|', 2)"
    else:
        rest = f"substr({t}, instr({t}, '|') + 1)"
        first = f"(CASE WHEN instr({t}, '|') > 0 THEN substr({t}, 1, instr({t}, '|') - 1) ELSE {t} END)"
        second = (
            f"(CASE WHEN instr({t}, '|') = 0 THEN '' WHEN instr({rest}, '|') > 0 "
            f"THEN substr({rest}, 1, instr({rest}, '|') - 1) ELSE {rest} END)"
        )
    return f"(CASE WHEN length({second}) > length({first}) THEN {second} ELSE {first} END)"


def _suffix_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"right({column}, {SUFFIX_DIGITS})"
    return f"substr({column}, -{SUFFIX_DIGITS})"


def _scope_sql(actor: User | None, column: str) -> tuple[str, list[Any]]:
    """`AND column IN (customers in scope)`, or nothing for readers who see all (and for actor None)."""
    if actor is None:
        return "", []
    ensure_can(actor, "customer.view")
    if scope_of(actor) == ALL:
        return "", []
    sql, params = Customer.objects.filter(scope_q(actor)).values("id").query.sql_with_params()
    return f" AND {column} IN ({sql})", list(params)


# ---------------------------------------------------------------------------------------------------
# Pairs in the stored data


@dataclass
class DuplicatePair:
    """Two customers that are (likely) one: `a` the older record, `b` the newer."""

    a: Customer
    b: Customer
    score: int
    reasons: list[str]

    @property
    def same(self) -> bool:
        return any(r in SAME_RULES for r in self.reasons)

    @property
    def reason_labels(self) -> list[str]:
        return [str(REASON_LABELS[r]) for r in self.reasons]


@dataclass
class DuplicatePage:
    items: list[DuplicatePair]
    offset: int
    limit: int
    next_offset: int | None
    computed_at: datetime | None = None


def _pairs_sql(actor: User | None) -> tuple[str, list[Any]]:
    key = name_key_sql
    sfx = _suffix_sql
    rules = list(RULE_SCORES)
    params: list[Any] = []

    def scoped(column: str) -> str:
        sql, scope_params = _scope_sql(actor, column)
        params.extend(scope_params)
        return sql

    flags = {rule: ", ".join(f"{1 if r == rule else 0} AS r_{r}" for r in rules) for rule in rules}
    parts = [
        # the same mobile number: numbers held by 2..MAX_GROUP customers in scope, then their pairs
        f"""SELECT p1.customer_id AS a, p2.customer_id AS b, {flags[PHONE]}
            FROM (SELECT number FROM {PHONES} WHERE 1 = 1{scoped("customer_id")}
                  GROUP BY number HAVING COUNT(*) BETWEEN 2 AND {MAX_GROUP}) d
            JOIN {PHONES} p1 ON p1.number = d.number
            JOIN {PHONES} p2 ON p2.number = d.number AND p2.customer_id > p1.customer_id
            WHERE 1 = 1{scoped("p1.customer_id")}{scoped("p2.customer_id")}""",
        f"""SELECT e1.customer_id, e2.customer_id, {flags[EMAIL]}
            FROM (SELECT lower(address) AS address FROM {EMAILS} WHERE 1 = 1{scoped("customer_id")}
                  GROUP BY lower(address) HAVING COUNT(*) BETWEEN 2 AND {MAX_GROUP}) d
            JOIN {EMAILS} e1 ON lower(e1.address) = d.address
            JOIN {EMAILS} e2 ON lower(e2.address) = d.address AND e2.customer_id > e1.customer_id
            WHERE 1 = 1{scoped("e1.customer_id")}{scoped("e2.customer_id")}""",
        f"""SELECT c1.id, c2.id, {flags[WECHAT]}
            FROM (SELECT wechat_id FROM {CUSTOMERS} WHERE wechat_id <> ''{scoped("id")}
                  GROUP BY wechat_id HAVING COUNT(*) BETWEEN 2 AND {MAX_GROUP}) d
            JOIN {CUSTOMERS} c1 ON c1.wechat_id = d.wechat_id
            JOIN {CUSTOMERS} c2 ON c2.wechat_id = d.wechat_id AND c2.id > c1.id
            WHERE 1 = 1{scoped("c1.id")}{scoped("c2.id")}""",
        f"""SELECT c1.id, c2.id, {flags[NAME_PHONE]}
            FROM {CUSTOMERS} c1
            JOIN {PHONES} p1 ON p1.customer_id = c1.id
            JOIN {CUSTOMERS} c2 ON {key("c2.search_text")} = {key("c1.search_text")} AND c2.id > c1.id
            JOIN {PHONES} p2 ON p2.customer_id = c2.id AND {sfx("p2.number")} = {sfx("p1.number")}
                AND p2.number <> p1.number
            WHERE {key("c1.search_text")} <> ''{scoped("c1.id")}{scoped("c2.id")}""",
        f"""SELECT c1.id, c2.id, {flags[NAME_ADDRESS]}
            FROM {CUSTOMERS} c1
            JOIN {CUSTOMERS} c2 ON {key("c2.search_text")} = {key("c1.search_text")} AND c2.id > c1.id
                AND c2.city = c1.city AND c2.district = c1.district AND c2.street = c1.street
            WHERE {key("c1.search_text")} <> '' AND c1.street <> ''{scoped("c1.id")}{scoped("c2.id")}""",
    ]
    columns = ", ".join(f"MAX(r_{r}) AS {r}" for r in rules)
    best = " ".join(f"WHEN {r} = 1 THEN {score}" for r, score in RULE_SCORES.items())
    bonus = " + ".join(rules)
    score = f"(CASE {best} ELSE 0 END) + {RULE_BONUS} * ({bonus} - 1)"
    union = "\nUNION ALL\n".join(parts)
    sql = f"""SELECT a, b, {", ".join(rules)}, CASE WHEN {score} > 100 THEN 100 ELSE {score} END AS score
        FROM (SELECT a, b, {columns} FROM ({union}) pairs GROUP BY a, b) g
        ORDER BY score DESC, b DESC, a DESC
        LIMIT %s OFFSET %s"""
    return sql, params


def _with_phones(actor: User, customers: QuerySet[Customer]) -> QuerySet[Customer]:
    clear = Value(sees_pii(actor), output_field=BooleanField())
    lookups: list[Any] = [
        Prefetch("phones", queryset=CustomerPhone.objects.annotate(pii_clear=clear)),
        Prefetch("emails", queryset=CustomerEmail.objects.annotate(pii_clear=clear)),
    ]
    lookups.append("tags")
    customers = customers.select_related("owner", "team").prefetch_related(*lookups)
    return customers.annotate(pii_clear=clear)


def duplicate_pairs(*, actor: User, limit: int = 50, offset: int = 0) -> DuplicatePage:
    """The duplicate pairs found by the last run of `customer_duplicates_refresh`, best first (by score,
    then the newest pair), among the customers `actor` may see (both of each pair).

    Finding the pairs reads every customer (30 s at a million), so a background run stores them and this
    reads them: a pair whose customer was merged or deleted since drops out, one made since appears after
    the next run. `DuplicatePage.computed_at` says when that was (None when no run found any pair).
    One query for the page of pairs (the rank index, each pair's customers checked by primary key), four
    more for the page's customers with their owner and team, phones, emails and tags: five queries.
    """
    ensure_can(actor, "customer.merge")
    limit, offset = max(1, min(limit, 500)), max(0, offset)
    pairs = CustomerDuplicate.objects.filter(
        Exists(Customer.objects.filter(pk=OuterRef("a_id"))),
        Exists(Customer.objects.filter(pk=OuterRef("b_id"))),
    )
    if scope_of(actor) != ALL:
        in_scope = Customer.objects.filter(scope_q(actor)).values("id")
        pairs = pairs.filter(a_id__in=in_scope, b_id__in=in_scope)
    rows = list(pairs.order_by("-score", "-b_id", "-a_id")[offset : offset + limit + 1])
    found = rows[:limit]
    ids = {pk for row in found for pk in (row.a_id, row.b_id)}
    customers = {}
    if ids:
        customers = {c.pk: c for c in _with_phones(actor, customer_scope(actor=actor).filter(pk__in=ids))}
    items = []
    for row in found:
        a, b = customers.get(row.a_id), customers.get(row.b_id)
        if a is None or b is None:  # deleted since the pairs were read
            continue
        reasons = [rule for rule in RULE_SCORES if rule in row.reasons]
        items.append(DuplicatePair(a=a, b=b, score=row.score, reasons=reasons))
    return DuplicatePage(
        items=items,
        offset=offset,
        limit=limit,
        next_offset=offset + limit if len(rows) > limit else None,
        computed_at=max((row.computed_at for row in found), default=None),
    )


def duplicate_pairs_computed_at() -> datetime | None:
    """When the stored pairs were found (None before the first run that found any)."""
    return CustomerDuplicate.objects.aggregate(at=Max("computed_at"))["at"]


def customer_duplicates_refresh(*, batch_size: int = 2000) -> int:
    """Find every duplicate pair among all customers and replace the stored ones; return how many.

    Run by the task consumer (customers.tasks) and `guanxi duplicates refresh`, never in a request.
    The pairs are read first, outside any transaction (one statement, ~30 s at a million customers, so
    SQLite's writer lock is not held meanwhile); then one short transaction swaps the stored pairs, so
    readers see either the old set or the new one.
    """
    sql, params = _pairs_sql(None)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, 2**62, 0])
        rows = cursor.fetchall()
    rules = list(RULE_SCORES)
    now = timezone.now()
    pairs = (
        CustomerDuplicate(
            a_id=row[0],
            b_id=row[1],
            score=int(row[-1]),
            reasons=[rule for rule, flag in zip(rules, row[2:-1], strict=True) if flag],
            computed_at=now,
        )
        for row in rows
    )
    with transaction.atomic():
        CustomerDuplicate.objects.all().delete()
        while batch := list(islice(pairs, batch_size)):
            CustomerDuplicate.objects.bulk_create(batch)
        # Remembers the search even when it found nothing (selectors.duplicates_searched_at).
        audit_record(actor=None, action="customer.duplicates_refresh", data={"pairs": len(rows)})
    return len(rows)


def customer_duplicates_refresh_request(*, actor: User) -> None:
    """Queue a run of `customer_duplicates_refresh` once the caller's transaction commits ("find again").

    Needs `customer.merge`, as the finder does. Runs may overlap harmlessly: the last one's pairs stay.
    """
    ensure_can(actor, "customer.merge")
    task_enqueue_on_commit(REFRESH_TASK)


# ---------------------------------------------------------------------------------------------------
# Matches for incoming records


@dataclass(frozen=True)
class Match:
    """An existing customer an incoming record matches: `same` when a phone, email or WeChat ID does."""

    customer_id: int
    score: int
    reasons: tuple[str, ...]

    @property
    def same(self) -> bool:
        return any(r in SAME_RULES for r in self.reasons)


@dataclass
class _Wanted:
    phones: dict[str, set[int]] = field(default_factory=dict)
    emails: dict[str, set[int]] = field(default_factory=dict)
    wechat: dict[str, set[int]] = field(default_factory=dict)
    key_suffix: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    key_address: dict[tuple[str, str, str, str], set[int]] = field(default_factory=dict)


def _text(value: Any) -> str:
    return str(value or "").strip()


def customer_matches_many(
    candidates: Sequence[Mapping[str, Any]], *, actor: User | None, likely: bool = True
) -> list[list[Match]]:
    """The existing customers each incoming record matches, for a whole batch in four queries at most.

    `candidates`: one mapping per incoming record (an import row), with any of these keys:
      - `name` (str) and `kind` ("person" default, or "company": a company's pinyin is read word by word);
      - `phones`: numbers already normalised to E.164 (core.phone.phone_normalize), as the importer
        cleans them; other spellings do not match;
      - `emails` (compared case-insensitively), `wechat_id` (exact);
      - `city`, `district`, `street` (exact after trimming; an address matches only with a street).
    `actor`: match only customers this user may see (the user who runs the import); None reads every
    customer — for trusted system callers only, which then must not reveal what they found to a user.

    Returns one list per candidate, in the same order: `Match(customer_id, score, reasons)`, best score
    first (then the oldest customer), each customer at most once. `Match.same` is true for a phone, email
    or WeChat match (score 95–100: the same person), false for the "likely" name rules (65–85).
    An importer in mode `merge` or `update` acts on `matches[0]` when it is `same` (or its score meets
    the importer's own threshold) and creates a customer otherwise; `skip` skips a row with any `same`
    match. Rows of one batch that match each other are not reported here: the importer deduplicates
    within its batch itself.

    `likely=False` leaves out the name rules: only `same` matches (phone, email, WeChat ID), for callers
    that act on nothing else (the importer). Those three rules are index lookups of the batch's values;
    the name rules read every stored customer with one of the batch's names (some 50 per common Chinese
    name at a million customers), so they cost more than the other three together.

    Queries: one each for phones, emails, WeChat IDs and names (skipped when the batch has none), whatever
    the batch size; keep batches to about 1,000 records, as each query lists the batch's values. Each is
    answered by an index (migrations 0004, 0005): the number, lower(address), the WeChat ID's partial index
    (the query repeats its `wechat_id <> ''` condition, or neither database would use it) and the name key.
    """
    if actor is not None:
        ensure_can(actor, "customer.view")
    wanted = _Wanted()
    for index, candidate in enumerate(candidates):
        for number in candidate.get("phones") or ():
            if _text(number):
                wanted.phones.setdefault(_text(number), set()).add(index)
        for email in candidate.get("emails") or ():
            if _text(email):
                wanted.emails.setdefault(_text(email).lower(), set()).add(index)
        if _text(candidate.get("wechat_id")):
            wanted.wechat.setdefault(_text(candidate.get("wechat_id")), set()).add(index)
        if not likely:
            continue  # pinyin costs ~80 ms per 1,000 names: only for the name rules
        person = _text(candidate.get("kind")) != Customer.Kind.COMPANY
        key = name_key(_text(candidate.get("name")), person=person)
        if not key:
            continue
        for number in candidate.get("phones") or ():
            if len(_text(number)) >= SUFFIX_DIGITS:
                wanted.key_suffix.setdefault((key, _text(number)[-SUFFIX_DIGITS:]), set()).add(index)
        street = _text(candidate.get("street"))
        if street:
            address = (key, _text(candidate.get("city")), _text(candidate.get("district")), street)
            wanted.key_address.setdefault(address, set()).add(index)

    found: list[dict[int, set[str]]] = [{} for _ in candidates]

    def hit(indexes: Iterable[int], customer_id: int, rule: str) -> None:
        for index in indexes:
            found[index].setdefault(customer_id, set()).add(rule)

    scope = _scope_filter(actor)
    if wanted.phones:
        phones = CustomerPhone.objects.filter(number__in=list(wanted.phones), **scope("customer")).order_by()
        for customer_id, number in phones.values_list("customer_id", "number"):
            hit(wanted.phones[number], customer_id, PHONE)
    if wanted.emails:
        emails = (
            CustomerEmail.objects.annotate(lower=Lower("address"))
            .filter(lower__in=list(wanted.emails), **scope("customer"))
            .order_by()
        )
        for customer_id, address in emails.values_list("customer_id", "lower"):
            hit(wanted.emails[address], customer_id, EMAIL)
    if wanted.wechat:
        customers = (
            Customer.objects.filter(wechat_id__in=list(wanted.wechat), **scope(""))
            .exclude(wechat_id="")  # the partial index's own condition: without it no index is used
            .order_by()
        )
        for customer_id, wechat_id in customers.values_list("id", "wechat_id"):
            hit(wanted.wechat[wechat_id], customer_id, WECHAT)
    if wanted.key_suffix or wanted.key_address:
        for row in _name_rows(actor, wanted):
            customer_id, key, city, district, street, number = row
            if number:
                # the very same number is the PHONE rule; this one is for numbers that only end alike
                indexes = wanted.key_suffix.get((key, number[-SUFFIX_DIGITS:]), set())
                hit(indexes - wanted.phones.get(number, set()), customer_id, NAME_PHONE)
            if street:
                hit(wanted.key_address.get((key, city, district, street), ()), customer_id, NAME_ADDRESS)

    results = []
    for matches in found:
        ranked = [Match(pk, score_of(rules), _ordered(rules)) for pk, rules in matches.items()]
        ranked.sort(key=lambda m: (-m.score, m.customer_id))
        results.append(ranked)
    return results


def _ordered(rules: set[str]) -> tuple[str, ...]:
    return tuple(r for r in RULE_SCORES if r in rules)


def _scope_filter(actor: User | None) -> Any:
    """filter() keywords restricting a related customer (`via`, "" for Customer itself) to the scope."""

    def make(via: str) -> dict[str, Any]:
        if actor is None or scope_of(actor) == ALL:
            return {}
        field_name = f"{via}__in" if via else "pk__in"
        return {field_name: Customer.objects.filter(scope_q(actor)).values("id")}

    return make


def _name_rows(actor: User | None, wanted: _Wanted) -> list[tuple[Any, ...]]:
    """Customers whose name key is one of the batch's, with each phone whose last digits or the street
    one of the batch has: (id, key, city, district, street, number or None). The key's index finds them."""
    key = name_key_sql("c.search_text")
    keys = sorted({k for k, _s in wanted.key_suffix} | {a[0] for a in wanted.key_address})
    suffixes = sorted({s for _k, s in wanted.key_suffix}) or [""]
    streets = sorted({a[3] for a in wanted.key_address}) or [""]
    scope, scope_params = _scope_sql(actor, "c.id")

    def marks(values: list[str]) -> str:
        return ", ".join(["%s"] * len(values))

    sql = f"""SELECT c.id, {key}, c.city, c.district, c.street, p.number
        FROM {CUSTOMERS} c
        LEFT JOIN {PHONES} p ON p.customer_id = c.id AND {_suffix_sql("p.number")} IN ({marks(suffixes)})
        WHERE {key} IN ({marks(keys)}){scope}
          AND (p.number IS NOT NULL OR c.street IN ({marks(streets)}))"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*suffixes, *keys, *scope_params, *streets])
        return list(cursor.fetchall())


# ---------------------------------------------------------------------------------------------------
# Reads for the merge screen and for merged ids


def customer_merge_counts(*, actor: User, customers: Sequence[Customer]) -> dict[int, dict[str, int]]:
    """For each customer (already read through a selector), how many of each attached thing it has:
    what a merge moves. One query per kind, whatever the number of customers."""
    ensure_can(actor, "customer.view")
    ids = [c.pk for c in customers]
    counts: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    kinds: dict[str, Any] = {
        "phones": CustomerPhone.objects,
        "emails": CustomerEmail.objects,
        "contacts": Contact.objects,
        "assets": Asset.objects,
        "consents": Consent.objects,
        "timeline": TimelineEntry.objects,
    }
    for kind, manager in kinds.items():
        rows = (
            manager.filter(customer_id__in=ids).order_by().values_list("customer_id").annotate(n=Count("id"))
        )
        for customer_id, n in rows:
            counts[customer_id][kind] = n
    tags = Customer.tags.through.objects.filter(customer_id__in=ids).order_by()
    for customer_id, n in tags.values_list("customer_id").annotate(n=Count("id")):
        counts[customer_id]["tags"] = n
    return {pk: {kind: c.get(kind, 0) for kind in [*kinds, "tags"]} for pk, c in counts.items()}


def customer_merged_into(*, actor: User, customer_id: int) -> CustomerMerge | None:
    """The merge that deleted customer `customer_id`, when the actor may see the customer it went into."""
    try:
        merge = CustomerMerge.objects.select_related("survivor").get(merged_id=customer_id)
    except (CustomerMerge.DoesNotExist, ValueError, TypeError, OverflowError):
        return None
    if merge.survivor_id is None or not customer_scope(actor=actor).filter(pk=merge.survivor_id).exists():
        return None
    return merge


def customer_merges(*, actor: User, customer: Customer) -> QuerySet[CustomerMerge]:
    """The customers merged into `customer` (read through a selector, so in scope), newest first."""
    ensure_can(actor, "customer.view")
    return CustomerMerge.objects.filter(survivor=customer).select_related("actor")
