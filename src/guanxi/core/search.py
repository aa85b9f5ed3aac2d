"""Search that understands Chinese names, pinyin, initials, phone fragments and licence plates.

Each searchable record keeps two normalised columns (see docs/adr/0003-search.md):

- `search_text`: every searchable value, normalised and joined by "|": names, their full pinyin and
  initials, phone digits (national and E.164), emails, WeChat IDs, member numbers, codes, plates, VINs.
  Queries of 3+ characters match any substring of it through a trigram index (SQLite FTS5 `trigram`,
  PostgreSQL `pg_trgm`).
- `search_keys`: the 1- and 2-character pieces a trigram index cannot answer (most Chinese names are
  2–3 characters): every 1–2 character piece of the name and of its initials, every 2-letter piece of its
  pinyin. Queries of 1–2 characters must equal one key (SQLite FTS5 token, PostgreSQL GIN array).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from django.db import connection
from django.db.models import BooleanField, Model, Q, QuerySet
from django.db.models.expressions import RawSQL

from guanxi.core.phone import phone_national_digits
from guanxi.core.pinyin import name_pinyin

_SPACE = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_PHONEISH = re.compile(r"^[\d\s+\-()（）]+$")
_PLATEISH = re.compile(r"^[\u4e00-\u9fa5]?[A-Za-z][\s\-·•]?[A-Za-z0-9]{4,6}$")
SEPARATOR = "|"

M = TypeVar("M", bound=Model)


def normalize(text: str) -> str:
    """NFKC (full-width to half-width), lower case, no white space."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text or "")).lower().replace(SEPARATOR, "")


def normalize_plate(plate: str) -> str:
    """粤b·12345 → 粤B12345."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", plate or "")).replace("_", "").upper()


def normalize_query(q: str) -> str:
    """A query as it is matched: a phone-like query keeps only its digits."""
    q = unicodedata.normalize("NFKC", q or "").replace("\x00", "").replace("·", "").replace("•", "").strip()
    if _PHONEISH.match(q) and sum(ch.isdigit() for ch in q) >= 3:
        return re.sub(r"\D", "", q)
    if _PLATEISH.match(q):  # 粤B-12345 as painted → 粤b12345
        return normalize_plate(q).lower()
    return normalize(q)


@dataclass
class SearchParts:
    """The searchable values of one record, as plain values so bulk loaders need no model instances."""

    names: list[tuple[str, bool]] = field(default_factory=list)  # (name, is a person)
    phones: list[str] = field(default_factory=list)  # E.164
    emails: list[str] = field(default_factory=list)
    plates: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # member number, WeChat ID, VIN, codes of other systems


def _pieces(text: str, sizes: Iterable[int]) -> set[str]:
    return {text[i : i + n] for n in sizes for i in range(len(text) - n + 1)}


def search_document(parts: SearchParts) -> tuple[str, str]:
    """Return (search_text, search_keys) for one record."""
    values: list[str] = []
    keys: set[str] = set()
    for name, person in parts.names:
        plain = normalize(name)
        if not plain:
            continue
        full, initials = name_pinyin(name, person=person)
        values += [plain, full, initials]
        word = _NON_WORD.sub("", plain).replace("_", "")
        keys |= _pieces(word[:24], (1, 2)) | _pieces(initials, (1, 2)) | _pieces(full[:24], (2,))
    for e164 in parts.phones:
        national = phone_national_digits(e164)
        values += [national, e164.lstrip("+")]
        if e164.startswith("+86") and not national.startswith("1"):
            values.append("0" + national)  # a landline as written at home: 021 6234 5678
    values += [normalize(e) for e in parts.emails]
    values += [normalize_plate(p).lower() for p in parts.plates]
    values += [normalize(c) for c in parts.codes]
    text = SEPARATOR.join(dict.fromkeys(v for v in values if v))
    return text, " ".join(sorted(keys))


def _fts_phrase(q: str) -> str:
    return '"' + q.replace('"', '""') + '"'


def search_filter(
    queryset: QuerySet[M], q: str, *, fts_prefix: str, window: int | None = None
) -> QuerySet[M]:
    """Narrow `queryset` to the records whose search columns match `q`.

    `fts_prefix` names the SQLite FTS5 tables `<prefix>_tri` and `<prefix>_keys` that index the
    queryset's table (created by the app's migration); PostgreSQL uses the indexes on the columns.

    `window`: the caller reads at most the first `window` rows, newest (highest id) first. On PostgreSQL
    the newest matches are then found here (`_pg_newest`) and the queryset narrowed to their ids, because
    the planner cannot tell a rare term from a common one and picks a slow plan for either.
    """
    term = normalize_query(q)
    if not term:
        return queryset
    if connection.vendor == "sqlite":
        if len(term) >= 3:
            table, match = f"{fts_prefix}_tri", _fts_phrase(term)
        else:
            table, match = f"{fts_prefix}_keys", _fts_phrase(term)
        return queryset.filter(pk__in=RawSQL(f"SELECT rowid FROM {table} WHERE {table} MATCH %s", [match]))
    if window is not None and window <= PG_MAX_WINDOW:
        return queryset.filter(pk__in=_pg_newest(queryset, term, window))
    return queryset.filter(_pg_condition(term, indexed=True))


# PostgreSQL: how the newest matches are found (docs/adr/0004-postgres-search-plans.md).
PG_FIRST_WALK = 4000  # rows read newest first before judging how common the term is (about 2 ms)
PG_MAX_WALK = 50_000  # the most rows one more walk may read (about 25 ms)
PG_MAX_WALKS = 4
PG_MAX_WINDOW = 5000  # deeper pages use the plain filter and the planner's plan
PG_INDEX_COST = 25  # reading one match through the index costs about as much as walking this many rows


def _pg_condition(term: str, *, indexed: bool) -> Q:
    """The match as SQL: `indexed` in the form the GIN indexes answer, else a form no index answers, so
    that a walk reads the rows in id order (and cheaply: strpos costs a tenth of string_to_array)."""
    if len(term) >= 3 and indexed:
        return Q(search_text__contains=term)
    if len(term) >= 3:
        sql, params = "strpos(search_text, %s) > 0", [term]
    elif indexed:
        sql, params = "string_to_array(search_keys, ' ') @> ARRAY[%s]::text[]", [term]
    else:
        sql, params = "strpos(' ' || search_keys || ' ', %s) > 0", [f" {term} "]
    return Q(RawSQL(sql, params, output_field=BooleanField()))


def _pg_newest(queryset: QuerySet[M], term: str, need: int) -> list[int]:
    """The ids of the newest `need` records of `queryset` that match `term`, newest first (all, if fewer).

    First walk the newest rows by id: a common term fills the page within a few thousand rows. What the
    walk found tells how common the term is; a rare one is cheaper to read whole through the GIN index
    (then sorted here) than to walk for. Every step reads a bounded number of rows.
    """
    ids = queryset.order_by("-pk").values_list("pk", flat=True)
    all_ids = queryset.model._default_manager.order_by("-pk").values_list("pk", flat=True)
    walk_match = _pg_condition(term, indexed=False)
    found: list[int] = []
    upper: int | None = None  # rows with ids below this are not read yet
    walked, size = 0, PG_FIRST_WALK
    # Digit trigrams are few and common: a 4-digit phone fragment (two trigrams) has 6 index candidates a
    # match; from 5 digits on the trigrams narrow it like any other term.
    index_cost = PG_INDEX_COST * (4 if term.isdigit() and len(term) <= 4 else 1)
    for _ in range(PG_MAX_WALKS):
        rows = all_ids if upper is None else all_ids.filter(pk__lt=upper)
        lowest = list(rows[size - 1 : size])  # the id `size` rows down: the walk reads down to it
        window = ids.filter(walk_match)
        window = window if upper is None else window.filter(pk__lt=upper)
        if lowest:
            window = window.filter(pk__gte=lowest[0])
        found += window[: need - len(found)]
        if len(found) >= need or not lowest:
            return found
        walked, upper = walked + size, lowest[0]
        share = len(found) / walked
        if not share:
            break
        rest = (need - len(found)) / share  # rows still to walk, at the share seen so far
        if rest > index_cost * share * upper:  # ids are dense: about `upper` rows are left below
            break
        size = min(int(rest * 1.25) + 1, PG_MAX_WALK)
    older = (
        queryset.filter(_pg_condition(term, indexed=True), pk__lt=upper)
        .order_by()
        .values_list("pk", flat=True)
    )
    return found + sorted(older, reverse=True)[: need - len(found)]


def sqlite_fts_sql(table: str, prefix: str) -> list[str]:
    """FTS5 external-content tables over `table`'s search columns, kept in step by triggers."""
    return [
        f"CREATE VIRTUAL TABLE {prefix}_tri USING fts5(search_text, content='{table}', content_rowid='id', "
        "tokenize='trigram')",
        f"CREATE VIRTUAL TABLE {prefix}_keys USING fts5(search_keys, content='{table}', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 0')",
        f"""CREATE TRIGGER {prefix}_ai AFTER INSERT ON {table} BEGIN
  INSERT INTO {prefix}_tri(rowid, search_text) VALUES (new.id, new.search_text);
  INSERT INTO {prefix}_keys(rowid, search_keys) VALUES (new.id, new.search_keys);
END""",
        f"""CREATE TRIGGER {prefix}_ad AFTER DELETE ON {table} BEGIN
  INSERT INTO {prefix}_tri({prefix}_tri, rowid, search_text) VALUES ('delete', old.id, old.search_text);
  INSERT INTO {prefix}_keys({prefix}_keys, rowid, search_keys) VALUES ('delete', old.id, old.search_keys);
END""",
        f"""CREATE TRIGGER {prefix}_au AFTER UPDATE OF search_text, search_keys ON {table} BEGIN
  INSERT INTO {prefix}_tri({prefix}_tri, rowid, search_text) VALUES ('delete', old.id, old.search_text);
  INSERT INTO {prefix}_keys({prefix}_keys, rowid, search_keys) VALUES ('delete', old.id, old.search_keys);
  INSERT INTO {prefix}_tri(rowid, search_text) VALUES (new.id, new.search_text);
  INSERT INTO {prefix}_keys(rowid, search_keys) VALUES (new.id, new.search_keys);
END""",
    ]


@contextmanager
def sqlite_fts_batch(table: str, prefix: str, first_id: int, last_id: int) -> Iterator[None]:
    """Rows with ids first_id..last_id inserted into `table` within are indexed at the end, at once.

    The insert trigger feeds the FTS5 tables one statement a row; two INSERT … SELECT over the batch do
    the same work six to eight times faster (bench/import_bench.py). The trigger is dropped for the block
    and made again at its end: SQLite's DDL is part of the caller's transaction, which holds the write
    lock, so no other writer can insert meanwhile and a rollback brings the trigger back with the rest.
    Every id in the range must be a new row (ids reserved by the caller). Does nothing on PostgreSQL.
    """
    if connection.vendor != "sqlite":
        yield
        return
    trigger = sqlite_fts_sql(table, prefix)[2]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {prefix}_ai")
        try:
            yield
        finally:
            cursor.execute(trigger)
        for column, fts in (("search_text", f"{prefix}_tri"), ("search_keys", f"{prefix}_keys")):
            cursor.execute(
                f"INSERT INTO {fts}(rowid, {column}) SELECT id, {column} FROM {table} "
                "WHERE id BETWEEN %s AND %s",
                [first_id, last_id],
            )


def postgres_index_sql(table: str, prefix: str) -> list[str]:
    return [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        f"CREATE INDEX {prefix}_text_trgm ON {table} USING gin (search_text gin_trgm_ops)",
        f"CREATE INDEX {prefix}_keys_gin ON {table} USING gin (string_to_array(search_keys, ' '))",
    ]
