"""Excel .xlsx files, read streaming (openpyxl read-only mode: one row in memory at a time)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any, BinaryIO

from django.utils.translation import gettext as _

from guanxi.imports.readers.base import Cell, FileUnreadable, Progress, TableReader

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
        # The dimension the file states is only a hint (some writers state A1 or none); read every row.
        self.total: int | None = worksheet.max_row if worksheet.max_row and worksheet.max_row > 1 else None
        worksheet.reset_dimensions()
        self._worksheet = worksheet
        self._done = 0
        self._start(self._records())

    def _records(self) -> Iterator[tuple[int, list[Cell]]]:
        convert = xlsx_cell
        try:
            for number, values in enumerate(self._worksheet.iter_rows(values_only=True), 1):
                self._done = number
                yield number, [convert(v) for v in values]
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise FileUnreadable(
                _("Row %(row)d of the sheet cannot be read (%(reason)s).")
                % {"row": self._done + 1, "reason": exc}
            ) from None

    def progress(self) -> Progress:
        total = self.total if self.total is None else max(self.total, self._done)
        return Progress(done=self._done, total=total, unit="rows")

    def close(self) -> None:
        self._workbook.close()
        super().close()
