"""Reading many rows of whole numbers into numpy without a Python object a row.

On PostgreSQL the server packs the rows itself: for each range of STEP ids of the table, one value
holding the range's rows as big-endian bigints back to back (`string_agg(int8send(…) || …)`), with the
number of rows beside it, sent as a binary COPY and read by numpy as it comes. psycopg hands a COPY over
one message a row, and that Python loop alone cost about 2 µs a row (20 s for ten million orders); the
packing costs the server a fraction of that, and the ranges are read through the primary key's index,
so the server holds one range at a time. SQLite's rows come through fetchmany, a batch at a time.

The expressions must be non-null integers (COALESCE where a value may be missing): a NULL is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
from django.db import connection
from numpy.typing import NDArray

BATCH = 20_000
STEP = 65_536  # ids a packed range covers: at most a few MB a value
_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_HEADER = len(_SIGNATURE) + 8  # signature, flags, header extension length (0)


class Sent(str):
    """An expression whose value is already 8 bytes in PostgreSQL's binary form (`timestamptz_send(…)`:
    microseconds since 2000-01-01 UTC), packed as it is."""


PARTS = 2  # connections reading at once on PostgreSQL (int_chunks' `part`, in_parallel)
T = TypeVar("T")


def in_parallel(tasks: Sequence[Callable[[], object]]) -> None:
    """Run the tasks, on PostgreSQL PARTS at a time in threads, each on a connection of its own, so the
    server packs several streams on several cores. In a transaction (another connection would not see its
    uncommitted rows) and on SQLite, one after the other in the caller's thread."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        for task in tasks:
            task()
        return
    with ThreadPoolExecutor(max_workers=PARTS) as pool:
        for done in [pool.submit(_on_own_connection, task) for task in tasks]:
            done.result()  # the first failure is raised once every task has ended


def _on_own_connection(function: Callable[[], T]) -> T:
    try:
        return function()
    finally:
        connection.close()  # the thread's own


def int_rows(
    table: str, expressions: Sequence[str], where: str = "", params: Sequence[Any] = ()
) -> NDArray[np.int64]:
    """The rows as one (rows × expressions) int64 array (int_chunks)."""
    chunks = list(int_chunks(table, expressions, where, params))
    return np.concatenate(chunks) if chunks else np.zeros((0, len(expressions)), dtype=np.int64)


def int_chunks(
    table: str,
    expressions: Sequence[str],
    where: str = "",
    params: Sequence[Any] = (),
    *,
    part: tuple[int, int] = (0, 1),
) -> Iterator[NDArray[np.int64]]:
    """`SELECT expressions FROM table WHERE where` as (rows × expressions) int64 arrays of a few MB each,
    for a reader that folds them in one at a time. `params` fill the expressions', then the condition's
    placeholders; the table needs an integer primary key `id`. Rows come in no particular order.
    `part` (k, n) reads the k-th of n interleaved shares of the id ranges, for n readers at once."""
    columns = len(expressions)
    share, shares = part
    condition = f" AND ({where})" if where else ""
    if connection.vendor == "postgresql":
        packed = " || ".join(
            e if isinstance(e, Sent) else f"int8send(CAST({e} AS BIGINT))" for e in expressions
        )
        sql = f"""
            SELECT rows, packed
            FROM generate_series(
                (SELECT COALESCE(MIN(id) / {STEP} * {STEP}, 0) FROM {table}) + {share * STEP},
                (SELECT COALESCE(MAX(id), -1) FROM {table}),
                {shares * STEP}
            ) AS low,
            LATERAL (
                SELECT COUNT(*) AS rows, string_agg({packed}, ''::bytea) AS packed
                FROM {table} WHERE id >= low AND id < low + {STEP}{condition}
            ) AS range_rows
            WHERE rows > 0
        """
        yield from _copy_chunks(sql, params, columns)
        return
    conditions = [f"({where})"] if where else []
    if shares > 1:
        conditions.append(f"(id / {STEP}) %% {shares} = {share}")  # %%: the placeholders are %s
    where_sql = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    with connection.chunked_cursor() as cursor:
        # NOT INDEXED: reading (nearly) every row, a scan of the table beats an index's row-by-row lookups,
        # which SQLite picks for a condition such as `ordered_at < …` (measured 3 s instead of 10 s).
        cursor.execute(f"SELECT {', '.join(expressions)} FROM {table} NOT INDEXED{where_sql}", params)
        while rows := cursor.fetchmany(BATCH):
            try:
                chunk = np.array(rows, dtype=np.int64).reshape(len(rows), columns)
            except TypeError as exc:  # None has no int()
                raise RuntimeError("A row holds a NULL where a whole number was expected.") from exc
            yield chunk


def _copy_chunks(sql: str, params: Sequence[Any], columns: int) -> Iterator[NDArray[np.int64]]:
    """Each COPY row (count, packed bytes) as a (count × columns) array."""
    pending = b""
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own, for its COPY
        query = cursor.mogrify(sql, list(params))
        with cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT BINARY)") as copy:
            for block in copy:
                pending += bytes(block)
                if pending.startswith(_SIGNATURE):
                    pending = pending[_HEADER:]
                while (parsed := _row(pending, columns)) is not None:
                    chunk, pending = parsed
                    yield chunk
    if pending not in (b"", b"\xff\xff"):
        raise RuntimeError("A binary COPY stream ended inside a row.")


def _row(data: bytes, columns: int) -> tuple[NDArray[np.int64], bytes] | None:
    """The first whole row of `data` (field count 2, the row count as a bigint, the packed bytes) and the
    bytes after it; None if `data` holds no whole row."""
    if len(data) < 20 or data[:2] == b"\xff\xff":
        return None
    fields, count_size, count = int.from_bytes(data[:2], "big"), data[2:6], int.from_bytes(data[6:14], "big")
    size = int.from_bytes(data[14:18], "big", signed=True)
    if fields != 2 or count_size != b"\x00\x00\x00\x08":
        raise RuntimeError("A packed row is not (count, bytes).")
    if size < 0 or size != count * columns * 8:
        raise RuntimeError("A packed range lost rows: a NULL among the values?")
    end = 18 + size
    if len(data) < end:
        return None
    values = np.frombuffer(data, dtype=">i8", count=count * columns, offset=18)
    return values.astype(np.int64).reshape(count, columns), data[end:]
