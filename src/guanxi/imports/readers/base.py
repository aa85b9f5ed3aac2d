"""What every reader shares: the cell type, the error, progress, and how the header row is found."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import BinaryIO

from django.utils.translation import gettext as _

from guanxi.core.errors import DomainError

# A cell as a reader returns it: text, or a real date where the file holds one (an Excel date cell).
# Numbers come back as text: the exact digits of a phone number stored as a number, never 1.38001E+10.
Cell = str | date | datetime

# How many rows after the first non-blank one may still hold the header (above it: a title like
# "客户资料表 2024" in one merged cell, a blank line or two).
HEADER_LOOKAHEAD = 10


class FileUnreadable(DomainError):
    """The file cannot be read at all, or stops being readable at some line (named in the message)."""

    code = "import_file_unreadable"
    status = 422
    default_message = "The file cannot be read."


@dataclass(frozen=True)
class Progress:
    """How far a reader has got: `done` of `total` `unit`s ("bytes" or "rows"); total None if unknown."""

    done: int
    total: int | None
    unit: str

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(self.done / self.total, 1.0)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the column names a spreadsheet user sees."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def is_blank(cells: list[Cell]) -> bool:
    return all(isinstance(cell, str) and not cell.strip() for cell in cells)


def _filled(cells: list[Cell]) -> int:
    return sum(1 for cell in cells if not isinstance(cell, str) or cell.strip())


class TableReader(ABC):
    """Rows of one table. `header` is known as soon as the reader is made; `rows()` streams the rest.

    Data rows are padded with "" or cut to the header's width, blank rows are skipped (their numbers are
    not reused), and `row_number` is the row as the user sees it in a spreadsheet (the header's is
    `header_row`, usually 1).
    """

    kind: str = ""
    header: list[str]
    header_row: int
    encoding: str | None = None
    delimiter: str | None = None

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream  # the reader's own: closing it never closes a file the caller passed in
        self._pending: list[tuple[int, list[Cell]]] = []
        self._source: Iterator[tuple[int, list[Cell]]] = iter(())
        self.rows_read = 0

    def _start(self, numbered: Iterable[tuple[int, list[Cell]]]) -> None:
        """Find the header among the first non-blank rows and keep the rows read past it for rows()."""
        source = iter(numbered)
        seen: list[tuple[int, list[Cell]]] = []
        for number, cells in source:
            if is_blank(cells):
                continue
            seen.append((number, cells))
            if len(seen) > HEADER_LOOKAHEAD:
                break
        at = next((i for i, (_n, cells) in enumerate(seen) if _filled(cells) >= 2), 0)
        if not seen:
            raise FileUnreadable(_("The file is empty: it has no header row."))
        self.header_row, raw = seen[at]
        after = seen[at + 1 :]
        width = max([_last_filled(raw)] + [_last_filled(cells) for _n, cells in after])
        self.header = [
            str(cell).strip() or _("Column %(letter)s") % {"letter": column_letter(i)}
            for i, cell in enumerate((list(raw) + [""] * width)[:width])
        ]
        self._pending = after
        self._source = source

    def rows(self) -> Iterator[tuple[int, list[Cell]]]:
        """(row_number, cells) for every non-blank row after the header, each `len(header)` cells long."""
        width = len(self.header)
        pad = [""] * width
        for number, cells in self._chain():
            if is_blank(cells):
                continue
            self.rows_read += 1
            if len(cells) != width:
                cells = (list(cells) + pad)[:width]
            yield number, cells

    def _chain(self) -> Iterator[tuple[int, list[Cell]]]:
        pending, self._pending = self._pending, []
        yield from pending
        yield from self._source

    @abstractmethod
    def progress(self) -> Progress: ...

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> TableReader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _last_filled(cells: list[Cell]) -> int:
    for i in range(len(cells) - 1, -1, -1):
        cell = cells[i]
        if not isinstance(cell, str) or cell.strip():
            return i + 1
    return 0
