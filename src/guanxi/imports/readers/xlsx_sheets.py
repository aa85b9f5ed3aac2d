"""The worksheets of an .xlsx, listed cheaply: for the user to pick one, and to skip an empty cover sheet.

Opening a workbook with openpyxl (even read-only) reads every shared string and style: seconds and
hundreds of megabytes for a large export. The list needs none of that. It reads the package's
relationships and `workbook.xml` (a few kilobytes), then each sheet's XML only until its first value,
so an empty sheet costs its few bytes and a filled one the first chunk of it.
"""

from __future__ import annotations

import os
import posixpath
import zipfile
from dataclasses import dataclass
from typing import BinaryIO
from xml.etree import ElementTree
from xml.parsers import expat

from django.utils.translation import gettext as _

from guanxi.imports.readers.base import FileUnreadable

_OFFICE_DOCUMENT = "/officeDocument"  # how a relationship type ends, transitional or strict
_WORKSHEET = "/worksheet"
_PHONETIC = "rPh"
_CHUNK = 1 << 16


@dataclass(frozen=True)
class XlsxSheet:
    """One worksheet: its name as Excel shows it on the tab, whether it holds any value, and whether it is
    hidden."""

    name: str
    filled: bool
    hidden: bool = False


def xlsx_sheets(source: str | os.PathLike[str] | BinaryIO) -> list[XlsxSheet]:
    """The worksheets of an .xlsx in the order of their tabs (chart sheets left out, as the reader leaves
    them out), each with whether it holds any value. A file object is left open where it was. Raises
    FileUnreadable when the file is not a workbook."""
    where = None if isinstance(source, str | os.PathLike) else source.tell()
    try:
        with zipfile.ZipFile(source) as archive:
            return [
                XlsxSheet(name=name, filled=_filled(archive, path), hidden=hidden)
                for name, path, hidden in _worksheets(archive)
            ]
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, expat.ExpatError, OSError) as exc:
        raise FileUnreadable(
            _("This is not an Excel .xlsx file, or it is damaged (%(reason)s).") % {"reason": exc}
        ) from None
    finally:
        if where is not None and not isinstance(source, str | os.PathLike):
            source.seek(where)


def xlsx_sheet_default(sheets: list[XlsxSheet]) -> str:
    """The sheet an import reads when the user names none: the first visible one that holds anything,
    else the first that holds anything, else the first."""
    for candidates in ([s for s in sheets if s.filled and not s.hidden], [s for s in sheets if s.filled]):
        if candidates:
            return candidates[0].name
    return sheets[0].name if sheets else ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """A part's relationships, id → (type, the target's path inside the package)."""
    folder, name = posixpath.split(part)
    rels_path = posixpath.join(folder, "_rels", f"{name}.rels")
    found = {}
    with archive.open(rels_path) as xml:
        for element in ElementTree.parse(xml).getroot():
            target = element.get("Target", "")
            if element.get("TargetMode") == "External" or not target:
                continue
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            found[element.get("Id", "")] = (element.get("Type", ""), posixpath.normpath(path))
    return found


def _worksheets(archive: zipfile.ZipFile) -> list[tuple[str, str, bool]]:
    """(name, path of its XML, hidden) for each worksheet, in the order of the tabs."""
    package = _relationships(archive, "")
    workbook = next(
        (path for kind, path in package.values() if kind.endswith(_OFFICE_DOCUMENT)), "xl/workbook.xml"
    )
    parts = _relationships(archive, workbook)
    sheets = []
    with archive.open(workbook) as xml:
        for element in ElementTree.parse(xml).getroot().iter():
            if _local(element.tag) != "sheet":
                continue
            rid = next((value for key, value in element.attrib.items() if _local(key) == "id"), "")
            kind, path = parts.get(rid, ("", ""))
            if kind.endswith(_WORKSHEET):
                hidden = element.get("state", "visible") != "visible"
                sheets.append((element.get("name", ""), path, hidden))
    return sheets


class _Found(Exception):
    """Stops the parse at the first value."""


def _filled(archive: zipfile.ZipFile, path: str) -> bool:
    """Whether the sheet holds a value: a <v> with text (a number, a date, a shared string's index, a
    formula's cached result) or an inline string's <t> with more than spaces. A formula with no cached
    value, or a cell with only a style, holds nothing, as the reader sees it."""
    collect = False
    phonetic = 0

    def start(name: str, _attrs: dict[str, str]) -> None:
        nonlocal collect, phonetic
        tag = _local(name)
        if tag == _PHONETIC:
            phonetic += 1
        elif tag in ("v", "t") and not phonetic:
            collect = True

    def end(name: str) -> None:
        nonlocal collect, phonetic
        tag = _local(name)
        if tag == _PHONETIC:
            phonetic -= 1
        collect = False

    def characters(data: str) -> None:
        if collect and data.strip():
            raise _Found

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        with archive.open(path) as xml:
            while chunk := xml.read(_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _Found:
        return True
    return False
