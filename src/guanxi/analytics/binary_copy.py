"""PostgreSQL's binary COPY format, assembled from numpy columns without a Python object per value.

A text COPY of a million rows spends most of its time in Python: every value becomes an object, then text,
one row at a time (psycopg's write_row). Here each column stays a numpy array, converted at once to its
big-endian binary form, and the rows are laid out by one numpy structured array. A binary tuple has no
fixed width (a NULL has no value bytes, a text value its own length), so every row is laid out at the
widest, and the bytes that are not there are squeezed out by a mask.

Layout (PostgreSQL's "COPY … (FORMAT BINARY)"): the header, then per tuple an int16 field count and per
field an int32 length (-1 for NULL, no bytes follow) and the value's bytes, then an int16 -1 trailer.
Values as the types' send/recv functions read them:

- int2, int4, int8, float8: big-endian;
- date: int32 days since 2000-01-01; timestamptz: int64 microseconds since 2000-01-01 UTC;
- text (and varchar): the UTF-8 bytes;
- numeric: int16 digit count, int16 weight, uint16 sign (0 or 0x4000 negative), int16 display scale,
  then base-10,000 digits. Scaled integers (fen, scale 2) are written with 5 integer digits (any int64)
  and, for a scale above 0, one fractional digit, whatever their size: numeric_recv strips the zero
  digits and checks the column's precision as for any other input.

The type named for a column must be the column's own: a binary COPY does not convert (an int4 sent to a
bigint column is an error).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)
CHUNK = 50_000

_FIXED = {"int2": ">i2", "int4": ">i4", "int8": ">i8", "float8": ">f8", "date": ">i4", "timestamptz": ">i8"}
_RANGE = {"int2": (-(2**15), 2**15 - 1), "int4": (-(2**31), 2**31 - 1)}
_TYPES = {*_FIXED, "numeric", "text"}
_EPOCH_DAYS = 10_957  # 1970-01-01 to 2000-01-01
_EPOCH_MICROSECONDS = _EPOCH_DAYS * 86_400 * 1_000_000
# numeric: 5 integer digits cover any int64; one fractional digit covers a scale of up to 4.
_NUMERIC_INTEGER_DIGITS = 5
_NEGATIVE = 0x4000


@dataclass(frozen=True)
class Column:
    """One column's values (a numpy array), its PostgreSQL type and the rows where it is NULL.

    Values by type: integers for int2/int4/int8; floats for float8 (NaN is stored as NaN: pass it as
    `null` to store NULL); datetime64 (days) for date; datetime64 (microseconds, UTC) for timestamptz;
    strings for text; integers scaled by 10^scale for numeric (fen with scale 2). A NULL row's value is
    ignored.
    """

    values: NDArray
    type: str
    null: NDArray[np.bool_] | None = None
    scale: int = 0

    def __post_init__(self) -> None:
        if self.type not in _TYPES:
            raise ValueError(f"Unknown column type {self.type!r}.")
        if self.type == "numeric" and not 0 <= self.scale <= 4:
            raise ValueError("A numeric column's scale must be between 0 and 4.")
        if self.null is not None and self.null.shape != self.values.shape:
            raise ValueError("A column's null mask must be as long as its values.")


def copy_statement(table: str, names: Sequence[str]) -> str:
    return f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)"


def copy_data(chunks: Iterable[Sequence[Column]], rows: int = CHUNK) -> Iterator[bytes]:
    """The data of one COPY of the rows of every chunk of columns: the header, the tuples in blocks of at
    most `rows` rows (bounded memory), the trailer."""
    yield HEADER
    for columns in chunks:
        for start in range(0, _length(columns), rows):
            yield tuples([_slice(column, slice(start, start + rows)) for column in columns])
    yield TRAILER


def tuples(columns: Sequence[Column]) -> bytes:
    """The binary tuples of the columns' rows, without header or trailer.

    Every row is laid out at the widest (each value present, each text as long as the column's longest),
    then the bytes that are not there (a NULL's value, a shorter text's padding) are squeezed out."""
    count = _length(columns)
    if count == 0:
        return b""
    fields = [_Field(column) for column in columns]
    layout: list[tuple[str, str | np.dtype]] = [("count", ">i2")]
    for i, field in enumerate(fields):
        layout += [(f"l{i}", ">i4"), (f"v{i}", field.binary.dtype)]
    rows = np.empty(count, dtype=np.dtype(layout))
    rows["count"] = len(fields)
    keep: NDArray[np.bool_] | None = None
    for i, field in enumerate(fields):
        rows[f"l{i}"] = field.lengths
        rows[f"v{i}"] = field.binary
        offset, width = rows.dtype.fields[f"v{i}"][1], field.binary.dtype.itemsize  # type: ignore[index]
        for length in field.shorter:
            if keep is None:
                keep = np.ones((count, rows.dtype.itemsize), dtype=bool)
            keep[field.lengths == length, offset + max(length, 0) : offset + width] = False
    if keep is None:
        return rows.tobytes()
    return rows.view(np.uint8).reshape(count, rows.dtype.itemsize)[keep].tobytes()


class _Field:
    """A column ready to lay out: its values in binary form, at one width, each row's field length (-1 for
    NULL), and the lengths that some rows have below that width."""

    def __init__(self, column: Column) -> None:
        null = column.null if column.null is not None and column.null.any() else None
        if column.type == "text":
            distinct, codes = np.unique(column.values.astype(str), return_inverse=True)
            encoded = [value.encode() for value in distinct.tolist()]
            lengths = np.array([len(value) for value in encoded], dtype=np.int32)
            self.binary: NDArray = np.array(encoded, dtype=f"S{lengths.max(initial=1)}")[codes]
            self.lengths = lengths[codes]
            self.shorter = sorted(set(lengths.tolist()) - {self.binary.dtype.itemsize})
        else:
            self.binary = _binary(column, null)
            self.lengths = np.full(len(column.values), self.binary.dtype.itemsize, dtype=np.int32)
            self.shorter = []
        if null is not None:
            self.lengths[null] = -1
            self.shorter.append(-1)


def _binary(column: Column, null: NDArray[np.bool_] | None) -> NDArray:
    values = column.values
    if column.type in _RANGE:
        low, high = _RANGE[column.type]
        checked = values if null is None else values[~null]
        if checked.size and (checked.min() < low or checked.max() > high):
            raise ValueError(f"A value does not fit the column's type {column.type}.")
    if column.type == "date":
        days = values.astype("datetime64[D]").astype(np.int64) - _EPOCH_DAYS
        return days.astype(">i4")
    if column.type == "timestamptz":
        return (values.astype("datetime64[us]").astype(np.int64) - _EPOCH_MICROSECONDS).astype(">i8")
    if column.type == "numeric":
        return _numeric(values.astype(np.int64), column.scale)
    return values.astype(_FIXED[column.type])


def _numeric(scaled: NDArray[np.int64], scale: int) -> NDArray:
    """Scaled integers as numeric values: 5 integer base-10,000 digits (weight 4) and, for a scale above
    0, one fractional digit."""
    fractional = 1 if scale else 0
    out = np.zeros(len(scaled), dtype=_numeric_dtype(_NUMERIC_INTEGER_DIGITS + fractional))
    magnitude = np.abs(scaled).astype(np.uint64)  # int64's minimum stays exact as uint64
    unit = np.uint64(10**scale)
    whole = magnitude // unit
    out["ndigits"] = _NUMERIC_INTEGER_DIGITS + fractional
    out["weight"] = _NUMERIC_INTEGER_DIGITS - 1
    out["sign"] = np.where(scaled < 0, _NEGATIVE, 0)
    out["dscale"] = scale
    digits = out["digits"]  # a view: rows × digits
    for i in range(_NUMERIC_INTEGER_DIGITS):
        digits[:, _NUMERIC_INTEGER_DIGITS - 1 - i] = (whole // np.uint64(10_000**i)) % np.uint64(10_000)
    if scale:
        digits[:, _NUMERIC_INTEGER_DIGITS] = (magnitude % unit) * np.uint64(10 ** (4 - scale))
    return out


def _numeric_dtype(digits: int) -> np.dtype:
    header = [("ndigits", ">i2"), ("weight", ">i2"), ("sign", ">u2"), ("dscale", ">i2")]
    return np.dtype([*header, ("digits", ">i2", (digits,))])


def _slice(column: Column, part: slice) -> Column:
    null = None if column.null is None else column.null[part]
    return Column(column.values[part], column.type, null, column.scale)


def _length(columns: Sequence[Column]) -> int:
    lengths = {len(column.values) for column in columns}
    if len(lengths) > 1:
        raise ValueError("The columns must be equally long.")
    return lengths.pop() if lengths else 0
