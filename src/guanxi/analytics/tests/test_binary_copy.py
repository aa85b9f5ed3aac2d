"""PostgreSQL's binary COPY from numpy columns: the bytes as the format lays them out, and awkward values
read back exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from django.db import connection

from guanxi.analytics.binary_copy import HEADER, TRAILER, Column, copy_data, copy_statement, tuples


def test_a_tuple_is_laid_out_as_the_format_says() -> None:
    # given one row: an int4, a NULL int8, a text, a float8 and a numeric (fen, scale 2)
    columns = [
        Column(np.array([5]), "int4"),
        Column(np.array([7]), "int8", null=np.array([True])),
        Column(np.array(["客户"]), "text"),
        Column(np.array([-0.5]), "float8"),
        Column(np.array([-123456]), "numeric", scale=2),
    ]

    # when
    data = tuples(columns)

    # then field count, then length and big-endian value per field; numeric: 6 digits, weight 4, negative,
    # scale 2, digits 0 0 0 0 1234 5600
    numeric = b"\x00\x06\x00\x04\x40\x00\x00\x02" + b"\x00\x00" * 4 + (1234).to_bytes(2) + (5600).to_bytes(2)
    assert data == (
        b"\x00\x05"
        + b"\x00\x00\x00\x04\x00\x00\x00\x05"
        + b"\xff\xff\xff\xff"
        + b"\x00\x00\x00\x06"
        + "客户".encode()
        + b"\x00\x00\x00\x08\xbf\xe0\x00\x00\x00\x00\x00\x00"
        + b"\x00\x00\x00\x14"
        + numeric
    )


def test_rows_of_different_shapes_keep_their_own_lengths_and_order() -> None:
    # given texts of several lengths and a column NULL in some rows
    texts = np.array(["", "ab", "a", "abc"], dtype=object)
    numbers = Column(np.array([1, 2, 3, 4]), "int2", null=np.array([False, True, False, True]))

    # when
    data = tuples([Column(texts, "text"), numbers])

    # then each row as long as its own values
    assert data == (
        b"\x00\x02\x00\x00\x00\x00\x00\x00\x00\x02\x00\x01"
        + b"\x00\x02\x00\x00\x00\x02ab\xff\xff\xff\xff"
        + b"\x00\x02\x00\x00\x00\x01a\x00\x00\x00\x02\x00\x03"
        + b"\x00\x02\x00\x00\x00\x03abc\xff\xff\xff\xff"
    )


def test_the_data_comes_in_chunks_between_header_and_trailer() -> None:
    column = Column(np.arange(5), "int4")

    chunks = list(copy_data([[column]], rows=2))

    assert chunks[0] == HEADER and chunks[-1] == TRAILER
    assert [len(chunk) for chunk in chunks[1:-1]] == [2 * 10, 2 * 10, 10]
    assert b"".join(chunks[1:-1]) == tuples([column])


def test_a_value_too_large_for_its_type_is_refused() -> None:
    with pytest.raises(ValueError, match="int2"):
        tuples([Column(np.array([1, 40_000]), "int2")])
    # but a NULL row's placeholder is not a value
    assert tuples([Column(np.array([1, 40_000]), "int2", null=np.array([False, True]))])


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="equally long"):
        tuples([Column(np.arange(2), "int4"), Column(np.arange(3), "int4")])


def part(columns: list[Column], rows: slice) -> list[Column]:
    return [
        Column(c.values[rows], c.type, None if c.null is None else c.null[rows], c.scale) for c in columns
    ]


TABLE = (
    "CREATE TEMPORARY TABLE copy_check (id integer, small smallint, big bigint, figure double precision, "
    "day date, moment timestamp with time zone, code varchar(20), note text, money numeric(16, 2), "
    "whole numeric(18, 0))"
)
NAMES = ("id", "small", "big", "figure", "day", "moment", "code", "note", "money", "whole")


@pytest.mark.postgres_only
def test_awkward_values_are_read_back_exactly(db: Any) -> None:
    # given every type with its edge values, NULLs, and rows of several shapes
    moment = datetime(2026, 12, 2, 16, 27, 6, 123456, tzinfo=UTC)
    days = ["1899-12-31", "1999-12-31", "2000-01-01", "2000-01-02", "2038-01-20", "1970-01-01"]
    money = [0, -1, 1, 9_999_999_999_999_999, -9_999_999_999_999_999, 123_456]
    columns = [
        Column(np.arange(6), "int4"),
        Column(np.array([-32768, 32767, 0, -1, 1, 0]), "int2"),
        Column(np.array([-(2**63), 2**63 - 1, 0, -1, 1, 0]), "int8"),
        Column(np.array([0.1, -0.0, np.nan, 1e300, -5e-324, 2.5]), "float8", null=np.arange(6) == 2),
        Column(np.array(days, dtype="datetime64[D]"), "date"),
        Column(
            np.array(
                ["1999-12-31T23:59:59.999999", "2000-01-01T00:00:00", moment.replace(tzinfo=None)] * 2,
                dtype="datetime64[us]",
            ),
            "timestamptz",
        ),
        Column(
            np.array(["重要价值客户", "", "active", "at_risk", "重要价值客户", "x"], dtype=object),
            "text",
            null=np.arange(6) == 5,
        ),
        Column(np.array(["a", "长一点的说明", "", "b", "c", "d"]), "text"),
        Column(np.array(money), "numeric", null=np.arange(6) == 5, scale=2),
        Column(np.array([0, -1, 10**17, -(10**17) + 1, 42, 10_000]), "numeric"),
    ]
    with connection.cursor() as cursor:
        cursor.execute(TABLE)

        # when
        with cursor.cursor.copy(copy_statement("copy_check", NAMES)) as copy:
            for data in copy_data([part(columns, slice(0, 5)), part(columns, slice(5, 6))], rows=4):
                copy.write(data)

        # then
        cursor.execute(f"SELECT {', '.join(NAMES)} FROM copy_check ORDER BY id")
        rows = cursor.fetchall()
    assert [row[1:4] for row in rows] == [
        (-32768, -(2**63), 0.1),
        (32767, 2**63 - 1, -0.0),
        (0, 0, None),
        (-1, -1, 1e300),
        (1, 1, -5e-324),
        (0, 0, 2.5),
    ]
    assert [row[4] for row in rows] == [date.fromisoformat(day) for day in days]
    assert [row[5] for row in rows] == [
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2000, 1, 1, tzinfo=UTC),
        moment,
    ] * 2
    assert [row[6:8] for row in rows] == [
        ("重要价值客户", "a"),
        ("", "长一点的说明"),
        ("active", ""),
        ("at_risk", "b"),
        ("重要价值客户", "c"),
        (None, "d"),
    ]
    assert [row[8] for row in rows] == [
        Decimal("0.00"),
        Decimal("-0.01"),
        Decimal("0.01"),
        Decimal("99999999999999.99"),
        Decimal("-99999999999999.99"),
        None,
    ]
    assert [str(row[8]) for row in rows[:3]] == ["0.00", "-0.01", "0.01"]
    assert [row[9] for row in rows] == [
        Decimal(0),
        Decimal(-1),
        Decimal(10**17),
        Decimal(-(10**17) + 1),
        Decimal(42),
        Decimal(10_000),
    ]


@pytest.mark.postgres_only
def test_money_past_the_columns_precision_is_refused(db: Any) -> None:
    from psycopg.errors import NumericValueOutOfRange

    # given 10¹⁴ yuan: one digit more than numeric(16, 2) holds
    column = Column(np.array([10**16]), "numeric", scale=2)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE copy_check (money numeric(16, 2))")

        # when, then
        with (
            pytest.raises(NumericValueOutOfRange),
            cursor.cursor.copy(copy_statement("copy_check", ["money"])) as copy,
        ):
            for data in copy_data([[column]]):
                copy.write(data)
