"""Read an uploaded file row by row, whatever shape real files come in, without loading it whole.

`open_table(source, filename=…)` looks at the file's first bytes (not only its name) and returns a
`TableReader`: CSV/TXT in UTF-8, UTF-8 with BOM, UTF-16 or GB18030/GBK (`delimited`), Excel .xlsx read
streaming (`xlsx`), or vCard contacts, one row per card (`vcard`). Every reader gives the header row and
then `(row_number, cells)` pairs, where row numbers are the ones a user sees in Excel (or, for a vCard, the
line where the card begins) and cells are strings, or `date`/`datetime` where the file holds real dates.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

from django.utils.translation import gettext as _

from guanxi.imports.readers.base import Cell, FileUnreadable, Progress, TableReader
from guanxi.imports.readers.delimited import DelimitedReader, detect_encoding
from guanxi.imports.readers.vcard import VCARD_COLUMNS, VCardReader
from guanxi.imports.readers.xlsx import XlsxReader, xlsx_sheet_names

__all__ = [
    "VCARD_COLUMNS",
    "Cell",
    "DelimitedReader",
    "FileUnreadable",
    "Progress",
    "TableReader",
    "VCardReader",
    "XlsxReader",
    "detect_encoding",
    "open_table",
    "xlsx_sheet_names",
]

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 .xls, and any password-protected Office file


def open_table(
    source: str | os.PathLike[str] | BinaryIO, *, filename: str | None = None, sheet: str | None = None
) -> TableReader:
    """Open `source` (a path, or a binary file object with its `filename`) and return its reader.

    The kind of file is told by its first bytes, then by its name: an .xlsx renamed .csv still reads.
    `sheet` names the worksheet of an .xlsx to read (default: the first). Raises FileUnreadable with a
    reason a user can act on. Use the reader as a context manager: closing it closes what it opened, and
    never a file object the caller passed in.
    """
    if isinstance(source, str | os.PathLike):
        filename = filename or os.fspath(source)
        stream: BinaryIO = open(source, "rb")  # noqa: SIM115 - the reader closes it
    else:
        stream = io.BufferedReader(_Borrowed(_seekable(source)), 1 << 16)
    try:
        head = stream.read(64)
        stream.seek(0)
        suffix = Path(filename or "").suffix.lower()
        if head.startswith(_OLE) or suffix == ".xls":
            raise FileUnreadable(
                _(
                    "Excel 97-2003 (.xls) and password-protected files cannot be read. "
                    "Open the file in Excel and save it as .xlsx or CSV, without a password."
                )
            )
        if head.startswith(_ZIP) or suffix in {".xlsx", ".xlsm"}:
            return XlsxReader(stream, sheet=sheet)
        if suffix == ".vcf" or _looks_like_vcard(head):
            return VCardReader(stream)
        return DelimitedReader(stream)
    except BaseException:
        stream.close()
        raise


def _looks_like_vcard(head: bytes) -> bool:
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            text = head[len(bom) :].decode(codec, "ignore")
            break
    else:
        text = head.decode("latin-1")
    return text.lstrip().upper().startswith("BEGIN:VCARD")


class _Borrowed(io.RawIOBase):
    """A caller's file object, read through; closing this leaves the caller's file open."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


def _seekable(stream: BinaryIO) -> BinaryIO:
    """Readers look at the first bytes and then start over; a stream that cannot seek is spooled first
    (to disk past 8 MB, so memory stays flat)."""
    try:
        if stream.seekable():
            return stream
    except (AttributeError, ValueError):
        pass
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - returned open
    shutil.copyfileobj(stream, spool)
    spool.seek(0)
    return spool  # type: ignore[return-value]
