"""Customer lists written out as CSV, XLSX and vCard: one module for the pages, the API and `guanxi export`.

An export reads through `selectors.customer_list`, so it holds the actor's scope and filters exactly as the
list does, and shows personal data through the display properties the list and 360 pages use, so a reader
who sees masked data (`138****8000`) exports masked data. Rows stream from the database in chunks with their
phones, emails and tags prefetched: memory and the number of queries per chunk stay flat at a million rows.
When the last row is written (or the download stops early), one audit event records who exported what.

Spreadsheets run a cell that begins with = + - @ tab or CR as a formula. Text cells are guarded: in CSV by
a leading `'`, the usual guard, so the spreadsheet shows the text (after that quote) instead of running it
or turning `+8613800138000` into 8.61E+12; in XLSX as an inline string marked quotePrefix, which no
spreadsheet evaluates and which shows unchanged (`+852 6123 4567`). Numbers and dates are written as
numbers and dates, never guarded.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import IO, Any

from django.db.models import Field, QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from guanxi.core.context import Origin, current_origin, origin
from guanxi.core.permissions import ensure_can, sees_pii
from guanxi.customers import selectors, services
from guanxi.customers.exports.vcard import vcard, vcard_escape, vcard_fold, vcard_name
from guanxi.customers.models import Customer, CustomFieldDefinition
from guanxi.users.models import User

CSV, XLSX, VCARD = "csv", "xlsx", "vcf"
FORMATS = (CSV, XLSX, VCARD)
CHUNK_SIZE = 2000  # customers per database round trip (one query for them, one each for phones, emails, tags)
CSV_FLUSH_ROWS = 500  # rows per chunk of a streamed CSV response
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_CELL_LIMIT = 32767  # characters Excel holds in one cell
MAX_VCARD_IDS = 10000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Value = str | int | float | date | datetime | None

FILTER_KEYS = ("q", "stage", "tag", "owner", "team", "source", "city", "kind", "custom")


def guard_text(text: str) -> str:
    """A CSV cell no spreadsheet runs as a formula: a leading `'` before = + - @ tab or CR."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _field(name: str) -> Field[Any, Any]:
    field = Customer._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def _label(name: str) -> str:
    return str(capfirst(_field(name).verbose_name))


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Customer], Value]


class CustomerExport:
    """One export of customers by `actor`: the rows their scope and filters give, as they may see them.

    Refuses (PermissionDenied) an actor without `customer.export` before reading anything. Texts (headers,
    choice labels) are translated in the language active when the export is made, times are shown in the
    current time zone (Asia/Shanghai by default), even when the rows are written later by a streamed
    response.
    """

    def __init__(
        self,
        *,
        actor: User,
        format: str,
        filters: dict[str, Any] | None = None,
        sort: str = "newest",
        ids: Iterable[int] | None = None,
    ) -> None:
        if format not in FORMATS:
            raise ValueError(f"Unknown export format {format!r}.")
        ensure_can(actor, "customer.export")
        self.actor = actor
        self.format = format
        self.filters = {key: value for key, value in (filters or {}).items() if key in FILTER_KEYS}
        self.sort = sort if sort in selectors.SORTS else "newest"
        self.ids = sorted({int(pk) for pk in ids}) if ids is not None else None
        customers = selectors.customer_list(actor=actor, sort=self.sort, **self.filters)
        if self.ids is not None:
            customers = customers.filter(pk__in=self.ids)
        self.customers: QuerySet[Customer] = customers
        self.rows_written = 0
        self._origin: Origin = current_origin()
        self._tz: tzinfo = timezone.get_current_timezone()
        self._recorded = False
        self._choices = {
            field: {value: str(label) for value, label in _field(field).flatchoices}
            for field in ("kind", "gender", "source", "stage")
        }
        self._yes, self._no = _("Yes"), _("No")
        self.sheet_title = _("Customers")
        self.columns = self._columns(list(selectors.custom_field_list(actor=actor)))

    # ---- Rows ----------------------------------------------------------------------------------------

    def _columns(self, definitions: list[CustomFieldDefinition]) -> list[Column]:
        choice = self._choices
        tz = self._tz

        def local(value: datetime) -> datetime:
            return timezone.localtime(value, tz).replace(tzinfo=None, microsecond=0)

        columns = [
            Column(_("ID"), lambda c: c.pk),
            Column(_label("name"), lambda c: c.name),
            Column(_label("kind"), lambda c: choice["kind"].get(c.kind, c.kind)),
            Column(_("Phones"), lambda c: "; ".join(phone.display for phone in c.phones.all())),
            Column(_("Emails"), lambda c: "; ".join(email.display for email in c.emails.all())),
            Column(_label("wechat_id"), lambda c: c.display_wechat_id),
            Column(_label("gender"), lambda c: choice["gender"].get(c.gender, c.gender) if c.gender else ""),
            Column(_label("birthday"), _birthday),
            Column(_label("member_no"), lambda c: c.member_no or ""),
            Column(_label("province"), lambda c: c.province),
            Column(_label("city"), lambda c: c.city),
            Column(_label("district"), lambda c: c.district),
            Column(_label("street"), lambda c: c.display_street),
            Column(_label("source"), lambda c: choice["source"].get(c.source, c.source)),
            Column(_label("stage"), lambda c: choice["stage"].get(c.stage, c.stage)),
            Column(_("Tags"), lambda c: "; ".join(tag.name for tag in c.tags.all())),
            Column(_("Owner"), lambda c: c.owner.display_name if c.owner else ""),
            Column(_("Team"), lambda c: c.team.name if c.team else ""),
            Column(_label("notes"), lambda c: c.notes),
        ]
        columns += [Column(d.label, self._custom_value(d)) for d in definitions]
        columns += [
            Column(_label("created_at"), lambda c: local(c.created_at)),
            Column(_label("updated_at"), lambda c: local(c.updated_at)),
        ]
        return columns

    def _custom_value(self, definition: CustomFieldDefinition) -> Callable[[Customer], Value]:
        """A custom field as the 360 page shows it: yes/no translated, whole numbers without `.0`."""
        key, boolean = definition.key, definition.type == CustomFieldDefinition.Type.BOOLEAN

        def value(customer: Customer) -> Value:
            values = customer.custom_fields
            stored = values.get(key) if isinstance(values, dict) else None
            if stored is None or stored == "":
                return None
            if boolean or isinstance(stored, bool):
                return self._yes if stored else self._no
            if isinstance(stored, float) and stored.is_integer():
                return int(stored)
            if isinstance(stored, (int, float)):
                return stored
            return str(stored)

        return value

    @property
    def header(self) -> list[str]:
        return [column.header for column in self.columns]

    def rows(self) -> Generator[list[Value], None, None]:
        """Every row, as its reader may see it."""
        customers = self._customers()
        try:
            for customer in customers:
                yield [column.value(customer) for column in self.columns]
        finally:
            customers.close()

    def _customers(self) -> Generator[Customer, None, None]:
        """The customers, read in chunks; records the export once they end or the reader stops early."""
        complete = False
        try:
            for customer in self.customers.iterator(chunk_size=CHUNK_SIZE):
                yield customer
                self.rows_written += 1
            complete = True
        finally:
            self.record(complete=complete)

    def record(self, *, complete: bool) -> None:
        """The one audit event of this export (written once, in the origin of the request that made it)."""
        if self._recorded:
            return
        self._recorded = True
        filters: dict[str, Any] = {k: v for k, v in self.filters.items() if v not in (None, "", {}, [])}
        if self.sort != "newest":
            filters["sort"] = self.sort
        if self.ids is not None:
            filters["ids"] = self.ids
        with origin(self._origin.via, ip=self._origin.ip, user_agent=self._origin.user_agent):
            services.customer_export_record(
                actor=self.actor,
                format=self.format,
                filters=filters,
                rows=self.rows_written,
                complete=complete,
                masked=not sees_pii(self.actor),
            )

    # ---- CSV -----------------------------------------------------------------------------------------

    def csv_cell(self, value: Value) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str):
            return guard_text(value)
        return str(value)

    def csv_chunks(self) -> Iterator[bytes]:
        """UTF-8 with a byte order mark (so Excel reads Chinese right), a few hundred rows a chunk."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow([guard_text(header) for header in self.header])
        rows = self.rows()
        try:
            for count, row in enumerate(rows, 1):
                writer.writerow([self.csv_cell(value) for value in row])
                if count % CSV_FLUSH_ROWS == 0:
                    yield buffer.getvalue().encode("utf-8")
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue().encode("utf-8")
        finally:
            rows.close()

    def write_csv(self, file: IO[bytes]) -> None:
        for chunk in self.csv_chunks():
            file.write(chunk)

    # ---- XLSX ----------------------------------------------------------------------------------------

    def xlsx_cell(self, sheet: WriteOnlyWorksheet, value: Value) -> Any:
        if not isinstance(value, str):
            return value
        text = ILLEGAL_CHARACTERS_RE.sub("", value)[:XLSX_CELL_LIMIT]
        if not text.startswith(FORMULA_STARTS):
            return text
        # openpyxl would store "=…" as a formula: make it an inline string that Excel keeps as text.
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell

    def write_xlsx(self, file: IO[bytes]) -> None:
        """One worksheet written row by row (openpyxl's write-only mode keeps no rows in memory)."""
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title=self.sheet_title[:31])
        sheet.freeze_panes = "A2"
        sheet.append([self.xlsx_cell(sheet, header) for header in self.header])
        for row in self.rows():
            sheet.append([self.xlsx_cell(sheet, value) for value in row])
        workbook.save(file)

    # ---- vCard ---------------------------------------------------------------------------------------

    def vcard_chunks(self) -> Iterator[bytes]:
        """vCard 3.0 (RFC 2426), UTF-8, CRLF line ends, long lines folded: one card per customer."""
        customers = self._customers()
        try:
            for customer in customers:
                yield vcard(customer).encode("utf-8")
        finally:
            customers.close()

    def write_vcard(self, file: IO[bytes]) -> None:
        for chunk in self.vcard_chunks():
            file.write(chunk)

    # ---- Files and responses -------------------------------------------------------------------------

    def filename(self) -> str:
        stamp = timezone.localtime(timezone.now(), self._tz).strftime("%Y%m%d-%H%M")
        return f"customers-{stamp}.{self.format}"

    def write(self, file: IO[bytes]) -> None:
        {CSV: self.write_csv, XLSX: self.write_xlsx, VCARD: self.write_vcard}[self.format](file)

    def response(self) -> HttpResponseBase:
        """The export as a download: CSV and vCard streamed; XLSX built in a temporary file, then sent."""
        response: HttpResponseBase
        if self.format == XLSX:
            file = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it, which deletes it)
            try:
                self.write_xlsx(file)
            except BaseException:
                file.close()
                raise
            file.seek(0)
            response = FileResponse(file, content_type=XLSX_TYPE)
        elif self.format == VCARD:
            response = StreamingHttpResponse(self.vcard_chunks(), content_type="text/vcard; charset=utf-8")
        else:
            response = StreamingHttpResponse(self.csv_chunks(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(True, self.filename()) or ""
        response["Cache-Control"] = "no-store"  # personal data: no copy in any cache on the way
        return response


def _birthday(customer: Customer) -> Value:
    """The date for readers who see it in clear; `****-MM-DD` (text) for the others, as on the 360 page."""
    if customer.birthday and customer.clear:
        return customer.birthday
    return customer.display_birthday


__all__ = [
    "CSV",
    "FORMATS",
    "MAX_VCARD_IDS",
    "VCARD",
    "XLSX",
    "XLSX_TYPE",
    "CustomerExport",
    "guard_text",
    "vcard",
    "vcard_escape",
    "vcard_fold",
    "vcard_name",
]
