"""Writing many rows at once, below the ORM: the demo loader's and the importer's write step.

Django's bulk_create spends most of its time compiling one huge INSERT and preparing every value; these
helpers hand plain tuples to SQLite's executemany or PostgreSQL's COPY instead. The caller passes values
as the database stores them (`db_time`, `db_json`, dates as ISO text), so nothing is converted per value
here. Triggers still fire (SQLite's FTS5 tables follow the customers through their insert and update
triggers) and PostgreSQL keeps its indexes itself. Callers run inside their own transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection

Row = Sequence[Any]


# The customer table's columns in the order the bulk writers (demo loader, importer) write them.
CUSTOMER_COLUMNS = (
    "id",
    "kind",
    "name",
    "gender",
    "birthday",
    "wechat_id",
    "member_no",
    "external_ids",
    "province",
    "city",
    "district",
    "street",
    "source",
    "stage",
    "notes",
    "custom_fields",
    "owner_id",
    "team_id",
    "created_by_id",
    "created_at",
    "updated_at",
    "search_text",
    "search_keys",
)


def highest_id(table: str) -> int:
    """The highest id the table ever handed out (a deleted row's id included)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        top = int(cursor.fetchone()[0])
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            cursor.execute(f"SELECT last_value FROM {cursor.fetchone()[0]}")
        else:
            cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = %s", [table])
        return max(top, int(cursor.fetchone()[0]))


def reserve_ids(table: str, count: int) -> list[int]:
    """Ids for `count` new rows of `table`, taken inside the caller's transaction."""
    if count <= 0:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return sorted(row[0] for row in cursor.fetchall())
    # SQLite: the transaction holds the write lock (BEGIN IMMEDIATE), so no one takes these in between.
    top = highest_id(table)
    return list(range(top + 1, top + 1 + count))


def write_rows(table: str, columns: Sequence[str], rows: Iterable[Row]) -> int:
    """Insert `rows` (tuples in the order of `columns`) into `table`; returns how many."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return 0
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
    return len(rows)


def update_rows(table: str, columns: Sequence[str], rows: Iterable[Row]) -> None:
    """UPDATE `table` SET each of `columns` WHERE id: each row holds the columns' values, then the id."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return
    sets = ", ".join(f"{name} = %s" for name in columns)
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {sets} WHERE id = %s", rows)


def db_time(moment: datetime) -> Any:
    """An aware datetime as the database takes it: itself for PostgreSQL, Django's UTC text for SQLite."""
    if connection.vendor == "postgresql":
        return moment
    return str(moment.astimezone(UTC).replace(tzinfo=None))


def db_json(value: Any) -> str:
    """A JSON column's value as Django's JSONField writes it."""
    return json.dumps(value)
