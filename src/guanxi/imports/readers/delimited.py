"""CSV and TXT files: the encoding and the delimiter are detected, rows are streamed.

Encodings, as Chinese offices produce them: Excel's "CSV UTF-8" (UTF-8 with a BOM), plain UTF-8 from web
exports, Excel's default "CSV" on a Chinese Windows (GBK, read as its superset GB18030), and "Unicode text"
(UTF-16 with a BOM, tab-separated). A file is decoded strictly: a byte that does not belong to the
detected encoding stops the import with the line named, never a garbled name.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from collections.abc import Iterator
from typing import BinaryIO

from django.utils.translation import gettext as _

from guanxi.imports.readers.base import Cell, FileUnreadable, Progress, TableReader

# Bytes read to decide the encoding and the delimiter. Strict UTF-8 over a large sample: a GBK file whose
# first rows are all ASCII (a header in English, then numbers) is caught by the first Chinese name.
SAMPLE_SIZE = 1 << 20
SNIFF_SIZE = 1 << 16  # the first rows, to find the delimiter
DELIMITERS = (",", "\t", ";", "|")  # in order of preference on a tie; the full-width "，" is text
ENCODING_NAMES = {"utf-8": "UTF-8", "gb18030": "GBK/GB18030", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16"}

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_NON_ASCII_BYTES = bytes(range(128, 256))
_PIECE = 1 << 16


def detect_encoding(sample: bytes, *, complete: bool = False) -> tuple[str, int]:
    """Return (codec name, length of the BOM to skip) for a file that begins with `sample`.

    A BOM decides. Else strict UTF-8 over the sample (`complete`: the sample is the whole file, so a cut
    character at its end is an error); a sample that is UTF-8 except for a few bytes stays UTF-8, so that
    reading stops at the bad line instead of garbling every name as GB18030. Else GB18030 (GBK's superset).
    """
    for bom, codec in _BOMS:
        if sample.startswith(bom):
            return codec, len(bom)
    if len(sample) >= 4 and b"\x00" in sample[:200]:  # UTF-16 without a BOM: every other byte is NUL
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        half = len(sample) // 2
        if odd > half * 0.3 and even < half * 0.05:
            return "utf-16-le", 0
        if even > half * 0.3 and odd < half * 0.05:
            return "utf-16-be", 0
    # Decoded piece by piece: one 1 MB decode would allocate 4 MB for its result.
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(sample), _PIECE):
            decoder.decode(sample[start : start + _PIECE], final=complete and start + _PIECE >= len(sample))
    except UnicodeDecodeError as exc:
        # Around the first bad byte, is the text mostly UTF-8 (a broken UTF-8 file) or not at all?
        bad = start + exc.start
        around = sample[max(bad - 2 * _PIECE, 0) : bad + 2 * _PIECE]
        ascii_bytes = len(around.translate(None, _NON_ASCII_BYTES))
        non_ascii = len(around) - ascii_bytes
        in_sequences = len(around.decode("utf-8", "ignore").encode()) - ascii_bytes
        if non_ascii and in_sequences / non_ascii >= 0.9:
            return "utf-8", 0
        return "gb18030", 0
    return "utf-8", 0


def _first_non_ascii(stream: BinaryIO) -> bytes:
    """The bytes from the first non-ASCII one on (up to 64 KB), or b"": a scan of bytes, no decoding."""
    while chunk := stream.read(1 << 20):
        if not chunk.isascii():
            at = len(chunk) - len(chunk.lstrip(bytes(range(128))))
            return chunk[at:] + stream.read(_PIECE)
    return b""


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the most of `lines` into the same number (2+) of fields."""
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            counts = Counter(len(record) for record in csv.reader(lines, delimiter=delimiter) if record)
        except csv.Error:  # an unclosed quote in the sample: rows() names it
            continue
        if not counts:
            continue
        fields, lines_agreeing = counts.most_common(1)[0]
        score = (lines_agreeing, fields) if fields > 1 else (0, 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


class DelimitedReader(TableReader):
    kind = "csv"

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__(stream)
        self.total = stream.seek(0, io.SEEK_END)
        stream.seek(0)
        sample = stream.read(SAMPLE_SIZE)
        self.encoding, self._bom = detect_encoding(sample, complete=len(sample) < SAMPLE_SIZE)
        if len(sample) == SAMPLE_SIZE and sample.isascii():
            # All ASCII so far (an English header, numbers): decide by the first byte that is not.
            window = _first_non_ascii(stream)
            if window:
                self.encoding, _bom = detect_encoding(window)
        text = sample[self._bom : self._bom + SNIFF_SIZE].decode(self.encoding, "ignore")
        self.delimiter = sniff_delimiter(text.splitlines(keepends=True)[:50])
        del sample, text
        stream.seek(self._bom)
        self._text = io.TextIOWrapper(stream, encoding=self.encoding, errors="strict", newline="")
        self._start(self._records())

    def _records(self) -> Iterator[tuple[int, list[Cell]]]:
        reader = csv.reader(self._text, delimiter=self.delimiter or ",")
        number = 0
        try:
            # A record is one spreadsheet row (a quoted cell may span lines), blank lines included.
            for number, record in enumerate(reader, 1):
                yield number, record  # type: ignore[misc]
        except UnicodeDecodeError:
            raise self._decode_error() from None
        except csv.Error as exc:
            raise FileUnreadable(
                _(
                    "Row %(row)d cannot be read (%(reason)s). "
                    "Look for a quotation mark that opens a cell and is never closed."
                )
                % {"row": number + 1, "reason": exc}
            ) from None

    def _decode_error(self) -> FileUnreadable:
        """Find the first byte the encoding refuses and name its line: a slow pass, only on failure."""
        stream, encoding = self._stream, self.encoding or "utf-8"
        stream.seek(self._bom)
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        line, shown = 1, ""
        while chunk := stream.read(1 << 16):
            try:
                line += decoder.decode(chunk).count("\n")
            except UnicodeDecodeError as exc:
                line += exc.object[: exc.start].decode(encoding, "replace").count("\n")
                shown = exc.object[exc.start : exc.start + 4].hex(" ").upper()
                break
        return FileUnreadable(
            _(
                "The file is read as %(encoding)s text, but line %(line)d holds bytes that are not "
                "(%(bytes)s). Save the file again as “CSV UTF-8” and upload it again."
            )
            % {"encoding": ENCODING_NAMES.get(encoding, encoding), "line": line, "bytes": shown}
        )

    def progress(self) -> Progress:
        try:
            done = self._stream.tell()
        except (OSError, ValueError):
            done = self.total
        return Progress(done=done, total=self.total, unit="bytes")

    def close(self) -> None:
        self._text.close()
