"""vCard files (.vcf, versions 2.1, 3.0 and 4.0), as phones and mail clients export contacts.

One row per card, in the columns of VCARD_COLUMNS; several phones or emails of one card are joined with
"; ". Handled: folded lines, QUOTED-PRINTABLE values with a CHARSET (Android's 2.1 exports, where a
Chinese name reads N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=BC=A0;=E4=B8=89;;;), soft line breaks of
quoted-printable, backslash escapes (\\, \\; \\n), grouped properties (item1.TEL). Photos are skipped.
Written here rather than taken from a library: the job is small, and the libraries on PyPI either
validate strictly (and refuse the 2.1 exports real phones write) or are no longer kept.
"""

from __future__ import annotations

import io
import quopri
import re
from collections.abc import Iterator
from typing import BinaryIO

from django.utils.translation import gettext as _

from guanxi.imports.readers.base import Cell, FileUnreadable, Progress, TableReader
from guanxi.imports.readers.delimited import SAMPLE_SIZE, detect_encoding

VCARD_COLUMNS = [
    "name",
    "phones",
    "emails",
    "organisation",
    "title",
    "note",
    "birthday",
    "address",
    "categories",
]
_COLUMN = {name: i for i, name in enumerate(VCARD_COLUMNS)}
_MULTIPLE = {"phones", "emails", "categories"}
_PROPERTIES = {
    "FN": "name",
    "TEL": "phones",
    "EMAIL": "emails",
    "ORG": "organisation",
    "TITLE": "title",
    "NOTE": "note",
    "BDAY": "birthday",
    "ADR": "address",
    "CATEGORIES": "categories",
}
_CJK = re.compile(r"[\u3400-\u9fff]")
_BDAY = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})")
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES = {"n": "\n", "N": "\n"}


def _unescape(text: str) -> str:
    return _UNESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), text) if "\\" in text else text


def _split(text: str, separator: str) -> list[str]:
    """Split on `separator` where it is not escaped with a backslash, then unescape each part."""
    parts, current, escaped = [], [], False
    for ch in text:
        if escaped:
            current.append("\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == separator:
            parts.append(_unescape("".join(current)))
            current = []
        else:
            current.append(ch)
    parts.append(_unescape("".join(current)))
    return parts


def _person_name(parts: list[str]) -> str:
    """N: family;given;additional;prefix;suffix. 张 + 三 → 张三; Smith + John → John Smith."""
    family, given = [*parts, "", ""][:2]
    family, given = family.strip(), given.strip()
    if _CJK.search(family + given):
        return family + given
    return " ".join(p for p in (given, family) if p)


def _address(parts: list[str]) -> str:
    """ADR: po box;extended;street;locality;region;postal code;country. Chinese addresses read from the
    country down, without spaces; others from the street up."""
    box, extended, street, city, region, code, country = [*parts, *[""] * 7][:7]
    if _CJK.search("".join(parts)):
        return "".join(p.strip() for p in (country, region, city, street, extended, box))
    line = " ".join(p.strip() for p in (street, extended, box) if p.strip())
    place = " ".join(p.strip() for p in (code, city, region) if p.strip())
    return ", ".join(p for p in (line, place, country.strip()) if p)


class VCardReader(TableReader):
    kind = "vcard"

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__(stream)
        self.total = stream.seek(0, io.SEEK_END)
        stream.seek(0)
        sample = stream.read(SAMPLE_SIZE)
        self.encoding, bom = detect_encoding(sample, complete=len(sample) < SAMPLE_SIZE)
        stream.seek(bom)
        self._text = io.TextIOWrapper(stream, encoding=self.encoding, errors="strict")
        self.header = list(VCARD_COLUMNS)
        self.header_row = 0
        self._source = self._cards()

    def _lines(self) -> Iterator[tuple[int, str]]:
        """Logical lines (unfolded) with the number of the line they begin on."""
        start, pending, soft = 0, None, False
        number = 0
        try:
            for number, raw in enumerate(self._text, 1):
                line = raw.rstrip("\r\n")
                if pending is not None:
                    if soft and pending.endswith("="):  # quoted-printable soft line break
                        pending = pending[:-1] + line.lstrip(" \t")
                        continue
                    if line[:1] in (" ", "\t"):  # folded line
                        pending += line[1:]
                        continue
                    yield start, pending
                start, pending = number, line
                soft = "QUOTED-PRINTABLE" in line.partition(":")[0].upper()
        except UnicodeDecodeError:
            raise FileUnreadable(
                _("The file is not valid %(encoding)s text after line %(line)d.")
                % {"encoding": self.encoding, "line": number}
            ) from None
        if pending is not None:
            yield start, pending

    def _cards(self) -> Iterator[tuple[int, list[Cell]]]:
        card: list[list[str]] | None = None
        family_given = ""
        begin = 0
        for number, line in self._lines():
            if not line.strip():
                continue
            head, _sep, value = line.partition(":")
            params = head.split(";")
            name = params[0].rpartition(".")[2].strip().upper()  # item1.TEL → TEL
            if name == "BEGIN" and value.strip().upper() == "VCARD":
                card, family_given, begin = [[] for _c in VCARD_COLUMNS], "", number
                continue
            if card is None:
                continue
            if name == "END" and value.strip().upper() == "VCARD":
                if not card[0] and family_given:
                    card[0] = [family_given]
                yield (
                    begin,
                    [
                        "; ".join(values) if column in _MULTIPLE else (values[0] if values else "")
                        for column, values in zip(VCARD_COLUMNS, card, strict=True)
                    ],
                )
                card = None
                continue
            if name != "N" and name not in _PROPERTIES:
                continue
            value = self._decode(params[1:], value, number)
            if name == "N":
                family_given = _person_name(_split(value, ";"))
                continue
            column = _PROPERTIES[name]
            if column == "address":
                text = _address(_split(value, ";"))
            elif column == "organisation":
                text = " ".join(p.strip() for p in _split(value, ";") if p.strip())
            elif column == "categories":
                card[_COLUMN[column]].extend(p.strip() for p in _split(value, ",") if p.strip())
                continue
            else:
                text = _unescape(value).strip()
                if column == "phones" and text[:4].lower() == "tel:":  # 4.0: TEL;VALUE=uri:tel:+86…
                    text = text[4:]
                elif column == "birthday" and (match := _BDAY.match(text)):
                    text = "-".join(match.groups())
            if text:
                card[_COLUMN[column]].append(text)

    def _decode(self, params: list[str], value: str, line: int) -> str:
        options = {p.partition("=")[0].strip().upper(): p.partition("=")[2].strip() for p in params}
        encoding = options.get("ENCODING", "").upper()
        if encoding not in {"QUOTED-PRINTABLE", "QP"} and "QUOTED-PRINTABLE" not in options:
            return value
        charset = options.get("CHARSET", "").strip('"') or "utf-8"
        data = quopri.decodestring(value.encode("ascii", "replace"))
        try:
            return data.decode(charset)
        except (UnicodeDecodeError, LookupError):
            raise FileUnreadable(
                _("The card at line %(line)d holds text that is not valid %(encoding)s.")
                % {"line": line, "encoding": charset}
            ) from None

    def progress(self) -> Progress:
        try:
            done = self._stream.tell()
        except (OSError, ValueError):
            done = self.total
        return Progress(done=done, total=self.total, unit="bytes")

    def close(self) -> None:
        self._text.close()
