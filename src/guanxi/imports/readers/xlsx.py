"""Excel .xlsx files, read streaming: one row in memory at a time.

openpyxl (read-only mode) opens the workbook: the sheets, the shared strings, which cell styles are dates.
The rows of the sheet are then parsed here with expat, five times as fast as openpyxl's own row reader
(which builds an object per cell): at a million rows that is minutes saved. The parse reads what the
file stores, as openpyxl with data_only=True does: a formula's cached value, never the formula.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import IO, Any, BinaryIO
from xml.parsers import expat

from django.utils.translation import gettext as _

from guanxi.imports.readers.base import Cell, FileUnreadable, Progress, TableReader, column_letter, is_blank

# Excel keeps 15 significant digits; an integral number below this is written out digit for digit.
_EXACT_INTEGER = 10**15


def xlsx_cell(value: Any) -> Cell:
    """One cell as the importer wants it: numbers as their exact digits, date cells as dates."""
    kind = type(value)
    if kind is str:
        return value
    if value is None:
        return ""
    if kind is int:
        return str(value)
    if kind is float:
        if value.is_integer() and abs(value) < _EXACT_INTEGER:
            return str(int(value))  # 13800138000.0 → "13800138000"
        return format(value, ".15g")  # as Excel shows it: 0.1 + 0.2 → "0.3"
    if kind is datetime:
        if value.hour == value.minute == value.second == value.microsecond == 0:
            return value.date()
        return value
    if kind is date:
        return value
    if kind is bool:
        return "TRUE" if value else "FALSE"
    if kind is time:
        return value.isoformat()
    if kind is timedelta:
        return str(value)
    return str(value)


_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + letter - 64
    return index - 1


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="[A-Z]+\d+:[A-Z]+(\d+)"')


def stated_rows(archive: zipfile.ZipFile, path: str) -> int | None:
    """The last row the sheet says it uses, from the <dimension> at its start: for progress only (some
    writers state none, or A1). Read here because openpyxl, finding none, parses the whole sheet."""
    with archive.open(path) as xml:
        found = _DIMENSION.search(xml.read(4096))
    return int(found[1]) if found and int(found[1]) > 1 else None


def merged_ranges(archive: zipfile.ZipFile, path: str) -> list[tuple[int, int, int, int]]:
    """The sheet's merged ranges as (first row, first column, last row, last column), rows from 1 and
    columns from 0. openpyxl's read-only mode does not read them; they follow the rows in the sheet's XML,
    so this is one pass over it that searches bytes and parses nothing (well under a second a million
    rows)."""
    tail, section = b"", None
    with archive.open(path) as xml:
        while chunk := xml.read(1 << 20):
            if section is not None:
                section.append(chunk)
                continue
            data = tail + chunk
            at = data.find(b"mergeCells")
            if at >= 0:
                section = [data[at:]]
            else:
                tail = data[-64:]
    if section is None:
        return []
    return [
        (int(r1), _column_index(c1), int(r2), _column_index(c2))
        for c1, r1, c2, r2 in _MERGE_REF.findall(b"".join(section))
    ]


_MAIN = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_ROW, _CELL, _VALUE, _TEXT, _PHONETIC = range(5)
_TAGS = {
    f"{namespace}}}{name}": tag
    for namespace in _MAIN
    for name, tag in (("row", _ROW), ("c", _CELL), ("v", _VALUE), ("t", _TEXT), ("rPh", _PHONETIC))
}
_DIGITS = "0123456789"


def sheet_rows(
    source: IO[bytes],
    *,
    shared_strings: Any,
    date_styles: Any = frozenset(),
    timedelta_styles: Any = frozenset(),
    epoch: datetime = datetime(1899, 12, 30),
) -> Iterator[tuple[int, list[Any]]]:
    """(row number, values) for each row the sheet XML `source` stores, values as openpyxl gives them
    (str, int, float, bool, datetime, timedelta; None for a gap), without its per-cell objects."""
    from openpyxl.utils.datetime import from_excel

    ready: list[tuple[int, list[Any]]] = []
    row: list[Any] = []
    text: list[str] = []
    columns: dict[str, int] = {}
    row_number, column, kind, style, collect, phonetic = 0, 0, "n", 0, False, False

    def value_of(raw: str) -> Any:
        if kind == "s":
            return shared_strings[int(raw)]
        if kind in ("inlineStr", "str", "e"):
            return raw
        if kind == "b":
            return raw.strip() == "1"
        if kind == "d":
            try:
                return datetime.fromisoformat(raw)
            except ValueError:
                return raw
        try:
            number: int | float = int(raw) if raw.isdigit() else float(raw)
        except ValueError:
            return raw
        if style in date_styles:
            return from_excel(number, epoch)
        if style in timedelta_styles:
            return from_excel(number, epoch, timedelta=True)
        return number

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal row_number, column, kind, style, collect, phonetic
        tag = _TAGS.get(name)
        if tag == _CELL:
            ref = attrs.get("r")
            if ref:
                letters = ref.rstrip(_DIGITS)
                found = columns.get(letters)
                if found is None:
                    found = columns[letters] = _column_index(letters.encode())
                column = found
            kind = attrs.get("t", "n")
            number_style = attrs.get("s")
            style = int(number_style) if number_style else 0
            text.clear()
        elif tag == _VALUE or (tag == _TEXT and not phonetic):
            collect = True
        elif tag == _ROW:
            number = attrs.get("r")
            row_number = int(number) if number else row_number + 1
            column = 0
            row.clear()
        elif tag == _PHONETIC:
            phonetic = True

    def end(name: str) -> None:
        nonlocal column, collect, phonetic
        tag = _TAGS.get(name)
        if tag == _CELL:
            if text:
                value = value_of("".join(text))
                if column >= len(row):
                    row.extend([None] * (column - len(row)))
                    row.append(value)
                else:
                    row[column] = value
            column += 1
        elif tag in (_VALUE, _TEXT):
            collect = False
        elif tag == _ROW:
            ready.append((row_number, row.copy()))
        elif tag == _PHONETIC:
            phonetic = False

    def characters(data: str) -> None:
        if collect:
            text.append(data)

    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    while chunk := source.read(1 << 16):
        parser.Parse(chunk, False)
        yield from ready
        ready.clear()
    parser.Parse(b"", True)
    yield from ready


def _load(stream: BinaryIO) -> Any:
    import openpyxl  # imported here: a CSV import does not pay for it

    try:
        return openpyxl.load_workbook(stream, read_only=True, data_only=True, keep_links=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileUnreadable(
            _("This is not an Excel .xlsx file, or it is damaged (%(reason)s).") % {"reason": exc}
        ) from None


def xlsx_sheet_names(stream: BinaryIO) -> list[str]:
    """The worksheets of an .xlsx, in order, for the user to pick one."""
    workbook = _load(stream)
    try:
        return [ws.title for ws in workbook.worksheets]
    finally:
        workbook.close()


class XlsxReader(TableReader):
    kind = "xlsx"

    def __init__(self, stream: BinaryIO, *, sheet: str | None = None) -> None:
        super().__init__(stream)
        self._workbook = _load(stream)
        names = [ws.title for ws in self._workbook.worksheets]
        if not names:
            raise FileUnreadable(_("The workbook has no worksheet."))
        if sheet is not None and sheet not in names:
            raise FileUnreadable(
                _("The workbook has no sheet “%(sheet)s”; it has: %(sheets)s.")
                % {"sheet": sheet, "sheets": ", ".join(names)}
            )
        self.sheet = sheet if sheet is not None else names[0]
        worksheet = self._workbook[self.sheet]
        self.total = stated_rows(self._workbook._archive, worksheet._worksheet_path)
        self._worksheet = worksheet
        self._source_file: IO[bytes] | None = None
        self._done = 0
        try:
            self._merged = merged_ranges(self._workbook._archive, worksheet._worksheet_path)
        except (zipfile.BadZipFile, KeyError, OSError, AttributeError):
            self._merged = []
        self._start(self._records())
        self._name_merged_header()

    def _name_merged_header(self) -> None:
        """A header merged over several columns ("电话" over two columns) names each: 电话, 电话 (2)."""
        for first_row, first, last_row, last in self._merged:
            if not first_row <= self.header_row <= last_row or last == first or first >= len(self.header):
                continue
            for n, column in enumerate(range(first + 1, min(last + 1, len(self.header))), 2):
                if self.header[column] == _("Column %(letter)s") % {"letter": column_letter(column)}:
                    self.header[column] = f"{self.header[first]} ({n})"

    def _records(self) -> Iterator[tuple[int, list[Cell]]]:
        """Rows as cells. A cell merged down over several rows (one customer's name beside each of their
        cars) gives its value to each of those rows that holds anything else."""
        convert = xlsx_cell
        starting: dict[int, list[tuple[int, int]]] = {}
        for first_row, first, last_row, _last in self._merged:
            if last_row > first_row:
                starting.setdefault(first_row, []).append((first, last_row))
        down: list[tuple[int, int, Cell]] = []  # (column, last row, value)
        workbook = self._workbook
        try:
            source = self._source_file = workbook._archive.open(self._worksheet._worksheet_path)
            numbered = sheet_rows(
                source,
                shared_strings=workbook.shared_strings,
                date_styles=frozenset(getattr(workbook, "_date_formats", ())),
                timedelta_styles=frozenset(getattr(workbook, "_timedelta_formats", ())),
                epoch=workbook.epoch,
            )
            for number, values in numbered:
                self._done = number
                cells = [convert(v) for v in values]
                if starting or down:
                    if down and not is_blank(cells):
                        for column, _last_row, value in down:
                            if column >= len(cells):
                                cells.extend([""] * (column + 1 - len(cells)))
                            if cells[column] == "":
                                cells[column] = value
                    down = [d for d in down if d[1] > number]
                    for column, last_row in starting.pop(number, ()):
                        down.append((column, last_row, cells[column] if column < len(cells) else ""))
                yield number, cells
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError, expat.ExpatError) as exc:
            raise FileUnreadable(
                _("Row %(row)d of the sheet cannot be read (%(reason)s).")
                % {"row": self._done + 1, "reason": exc}
            ) from None

    def progress(self) -> Progress:
        total = self.total if self.total is None else max(self.total, self._done)
        return Progress(done=self._done, total=total, unit="rows")

    def close(self) -> None:
        if self._source_file is not None:
            self._source_file.close()
        self._workbook.close()
        super().close()
