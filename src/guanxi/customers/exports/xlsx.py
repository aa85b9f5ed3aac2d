"""A one-sheet XLSX workbook written straight into its zip, row by row, in constant memory.

openpyxl's write-only mode builds an object and an XML element for every cell: about 30 µs a cell, 70 s for
100,000 customers of 23 columns. This writer joins each row's XML as text (the same cells openpyxl writes:
inline strings, numbers, dates as serial numbers with a date format), about 20 times faster. Text never
becomes a formula here; a text cell that a spreadsheet would otherwise read as one (= + - @ tab CR first)
is marked quotePrefix, which shows it unchanged.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.compat import safe_string
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CELL_LIMIT = 32767  # characters Excel holds in one cell
SHEET_NAME_LIMIT = 31
DATE_STYLE, DATETIME_STYLE, QUOTED_STYLE = 1, 2, 3  # positions in STYLES' cellXfs

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOCUMENT = "application/vnd.openxmlformats-officedocument.spreadsheetml"

CONTENT_TYPES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" ContentType="{DOCUMENT}.sheet.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{DOCUMENT}.worksheet+xml"/>\
<Override PartName="/xl/styles.xml" ContentType="{DOCUMENT}.styles+xml"/>\
</Types>"""

ROOT_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PACKAGE_RELS}">\
<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/>\
</Relationships>"""

WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{PACKAGE_RELS}">\
<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>\
<Relationship Id="rId2" Type="{RELS}/styles" Target="styles.xml"/>\
</Relationships>"""

STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{MAIN}">\
<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>\
<numFmt numFmtId="165" formatCode="yyyy-mm-dd h:mm:ss"/></numFmts>\
<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>"""

SHEET_TOP = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="{MAIN}">\
<sheetViews><sheetView workbookViewId="0">\
<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>\
<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>\
<sheetFormatPr defaultRowHeight="15"/><sheetData>"""

SHEET_END = "</sheetData></worksheet>"


def _workbook(title: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><bookViews><workbookView/></bookViews>\
<sheets><sheet name={quoteattr(title)} sheetId="1" r:id="rId1"/></sheets></workbook>"""


class SheetWriter:
    """Writes rows of str, int, float, date, datetime or None (an empty cell) to one worksheet."""

    def __init__(self, file: IO[bytes], *, title: str, columns: int) -> None:
        self._zip = zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self._title = ILLEGAL_CHARACTERS_RE.sub("", title)[:SHEET_NAME_LIMIT]
        self._letters = [get_column_letter(n) for n in range(1, columns + 1)]
        self._sheet = self._zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self._sheet.write(SHEET_TOP.encode())
        self._row = 0

    def append(self, values: Iterable[Any]) -> None:
        self._row += 1
        row = str(self._row)
        cells = []
        for letter, value in zip(self._letters, values, strict=False):
            if value is None or value == "":
                continue
            ref = letter + row
            if isinstance(value, str):
                cells.append(self._text(ref, value))
            elif isinstance(value, datetime):
                cells.append(f'<c r="{ref}" s="{DATETIME_STYLE}"><v>{safe_string(to_excel(value))}</v></c>')
            elif isinstance(value, date):
                cells.append(f'<c r="{ref}" s="{DATE_STYLE}"><v>{safe_string(to_excel(value))}</v></c>')
            else:
                cells.append(f'<c r="{ref}"><v>{safe_string(value)}</v></c>')
        xml = f'<row r="{row}">{"".join(cells)}</row>'
        # Characters XML cannot hold (control characters but tab, LF, CR) are dropped, as openpyxl does.
        self._sheet.write(ILLEGAL_CHARACTERS_RE.sub("", xml).encode())

    @staticmethod
    def _text(ref: str, text: str) -> str:
        if text[0] < " " or len(text) > CELL_LIMIT:  # what is left once dropped decides the guard below
            text = ILLEGAL_CHARACTERS_RE.sub("", text)[:CELL_LIMIT]
            if not text:
                return ""
        style = f' s="{QUOTED_STYLE}"' if text.startswith(FORMULA_STARTS) else ""
        space = ' xml:space="preserve"' if text[0].isspace() or text[-1].isspace() else ""
        return f'<c r="{ref}" t="inlineStr"{style}><is><t{space}>{escape(text)}</t></is></c>'

    def close(self) -> None:
        self._sheet.write(SHEET_END.encode())
        self._sheet.close()
        self._zip.writestr("[Content_Types].xml", CONTENT_TYPES)
        self._zip.writestr("_rels/.rels", ROOT_RELS)
        self._zip.writestr("xl/workbook.xml", _workbook(self._title))
        self._zip.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        self._zip.writestr("xl/styles.xml", STYLES)
        self._zip.close()
