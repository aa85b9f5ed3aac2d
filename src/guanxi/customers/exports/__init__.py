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
from collections.abc import Generator, Iterable, Iterator
from datetime import date, datetime, tzinfo
from typing import IO, Any

from django.conf import settings
from django.db.models import Field, QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from guanxi.core.context import Origin, current_origin, origin
from guanxi.core.errors import DomainError
from guanxi.core.masking import mask_email, mask_text
from guanxi.core.permissions import ensure_can, sees_pii
from guanxi.core.phone import phone_display, phone_mask
from guanxi.customers import selectors, services
from guanxi.customers.exports.rows import Chunk, Names, customer_chunks
from guanxi.customers.exports.vcard import vcard, vcard_escape, vcard_fold, vcard_name
from guanxi.customers.exports.xlsx import FORMULA_STARTS, SheetWriter
from guanxi.customers.models import Customer, CustomFieldDefinition
from guanxi.users.models import User

CSV, XLSX, VCARD = "csv", "xlsx", "vcf"
FORMATS = (CSV, XLSX, VCARD)
VCARD_CHUNK_SIZE = 500  # customers per database round trip of a vCard export (and its prefetches)
CSV_FLUSH_ROWS = 500  # rows per chunk of a streamed CSV response
# An XLSX for the web or API is built while the request waits (a zip cannot be sent before it ends):
# about 10,000 rows a second, so larger lists are refused with advice instead of hanging for minutes.
PHONE_CACHE_SIZE = 50_000  # displayed and masked numbers other than CN mobiles kept for the next rows
MAX_VCARD_IDS = 10000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Value = str | int | float | date | datetime | None

FILTER_KEYS = ("q", "stage", "tag", "owner", "team", "source", "city", "kind", "custom")


class ExportTooLarge(DomainError):
    code = "export_too_large"
    status = 422
    default_message = "Too many customers for an Excel file made while you wait."


def guard_text(text: str) -> str:
    """A CSV cell no spreadsheet runs as a formula: a leading `'` before = + - @ tab or CR."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _field(name: str) -> Field[Any, Any]:
    field = Customer._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def _label(name: str) -> str:
    return str(capfirst(_field(name).verbose_name))


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
        self._phones_shown: dict[str, str] = {}
        self._phones_masked: dict[str, str] = {}
        self.sheet_title = _("Customers")
        self._definitions = list(selectors.custom_field_list(actor=actor))
        self.header = [
            _("ID"),
            _label("name"),
            _label("kind"),
            _("Phones"),
            _("Emails"),
            _label("wechat_id"),
            _label("gender"),
            _label("birthday"),
            _label("member_no"),
            _label("province"),
            _label("city"),
            _label("district"),
            _label("street"),
            _label("source"),
            _label("stage"),
            _("Tags"),
            _("Owner"),
            _("Team"),
            _label("notes"),
            *(definition.label for definition in self._definitions),
            _label("created_at"),
            _label("updated_at"),
        ]

    # ---- Rows ----------------------------------------------------------------------------------------

    def rows(self) -> Generator[list[Value], None, None]:
        """Every row, as its reader may see it: the values the list and 360 pages show.

        Built from plain tuples (exports.rows) rather than model instances, with the masking of the
        models' display properties: `pii_clear` (the selector's decision) in clear, masked otherwise.
        """
        complete = False
        try:
            names = Names()
            for chunk in customer_chunks(self.customers):
                names.load(chunk)
                for record in chunk.rows:
                    yield self._row(record, chunk, names)
                    self.rows_written += 1
            complete = True
        finally:
            self.record(complete=complete)

    def _row(self, record: tuple[Any, ...], chunk: Chunk, names: Names) -> list[Value]:
        (pk, clear, name, kind, wechat_id, gender, birthday, member_no, province, city, district, street,
         source, stage, notes, custom_fields, owner_id, team_id, created_at, updated_at) = record  # fmt: skip
        choice, tz = self._choices, self._tz
        phone = self._phone_display if clear else self._phone_mask
        emails = chunk.emails.get(pk, ())
        row: list[Value] = [
            pk,
            name,
            choice["kind"].get(kind, kind),
            "; ".join([phone(number) for number in chunk.phones.get(pk, ())]),
            "; ".join(emails if clear else [mask_email(address) for address in emails]),
            wechat_id if clear else mask_text(wechat_id),
            choice["gender"].get(gender, gender) if gender else "",
            (birthday if clear else f"****-{birthday:%m-%d}") if birthday else "",
            member_no or "",
            province,
            city,
            district,
            street if clear else mask_text(street),
            choice["source"].get(source, source),
            choice["stage"].get(stage, stage),
            "; ".join(chunk.tags.get(pk, ())),
            names.owners.get(owner_id, "") if owner_id is not None else "",
            names.teams.get(team_id, "") if team_id is not None else "",
            notes,
        ]
        if self._definitions:
            values = custom_fields if isinstance(custom_fields, dict) else {}
            row += [
                self._custom_value(definition, values.get(definition.key)) for definition in self._definitions
            ]
        row.append(created_at.astimezone(tz).replace(tzinfo=None, microsecond=0))
        row.append(updated_at.astimezone(tz).replace(tzinfo=None, microsecond=0))
        return row

    def _phone_display(self, number: str) -> str:
        """138 0013 8000; other than CN mobiles (a slice), numbers are parsed once per export."""
        shown = self._phones_shown.get(number)
        if shown is None:
            if len(self._phones_shown) >= PHONE_CACHE_SIZE:
                self._phones_shown.clear()
            shown = self._phones_shown[number] = phone_display(number)
        return shown

    def _phone_mask(self, number: str) -> str:
        masked = self._phones_masked.get(number)
        if masked is None:
            if len(self._phones_masked) >= PHONE_CACHE_SIZE:
                self._phones_masked.clear()
            masked = self._phones_masked[number] = phone_mask(number)
        return masked

    def _custom_value(self, definition: CustomFieldDefinition, stored: Any) -> Value:
        """A custom field as the 360 page shows it: yes/no translated, whole numbers without `.0`."""
        if stored is None or stored == "":
            return None
        if definition.type == CustomFieldDefinition.Type.BOOLEAN or isinstance(stored, bool):
            return self._yes if stored else self._no
        if isinstance(stored, float) and stored.is_integer():
            return int(stored)
        if isinstance(stored, (int, float)):
            return stored
        return str(stored)

    def _customers(self) -> Generator[Customer, None, None]:
        """The customers, read in chunks; records the export once they end or the reader stops early."""
        complete = False
        try:
            for customer in self.customers.iterator(chunk_size=VCARD_CHUNK_SIZE):
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

    def csv_chunks(self) -> Iterator[bytes]:
        """UTF-8 with a byte order mark (so Excel reads Chinese right), a few hundred rows a chunk.

        Cells as the csv module writes them (None empty, a date 2024-01-02, a time 2024-01-02 08:30:00),
        text guarded.
        """
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow([guard_text(header) for header in self.header])
        rows = self.rows()
        starts = FORMULA_STARTS
        try:
            for count, row in enumerate(rows, 1):
                writer.writerow(
                    [
                        "'" + value if type(value) is str and value.startswith(starts) else value
                        for value in row
                    ]
                )
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

    def write_xlsx(self, file: IO[bytes]) -> None:
        """One worksheet with a frozen header row, written row by row (exports.xlsx keeps no rows)."""
        sheet = SheetWriter(file, title=self.sheet_title, columns=len(self.header))
        sheet.append(self.header)
        rows = self.rows()
        try:
            for row in rows:
                sheet.append(row)
        finally:
            rows.close()
        sheet.close()

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

    def ensure_fits_request(self) -> None:
        """Refuse (ExportTooLarge, before anything is read or recorded) an XLSX export of more than
        settings.GUANXI_EXPORT_XLSX_MAX_ROWS customers made inside a request: CSV streams any size,
        `guanxi export` has no timeout."""
        if self.format != XLSX:
            return
        limit = settings.GUANXI_EXPORT_XLSX_MAX_ROWS
        count = self.customers.count()
        if count > limit:
            raise ExportTooLarge(
                _(
                    "This list has %(count)s customers, more than an Excel file made while you wait can "
                    "hold (%(limit)s). Download it as CSV, narrow it with filters, or ask an administrator "
                    "to run “guanxi export customers --format xlsx”."
                )
                % {"count": f"{count:,}", "limit": f"{limit:,}"},
                details={"rows": count, "limit": limit},
            )

    def response(self) -> HttpResponseBase:
        """The export as a download: CSV and vCard streamed; XLSX built in a temporary file, then sent,
        up to settings.GUANXI_EXPORT_XLSX_MAX_ROWS customers (ensure_fits_request)."""
        response: HttpResponseBase
        if self.format == XLSX:
            self.ensure_fits_request()
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


__all__ = [
    "CSV",
    "FORMATS",
    "MAX_VCARD_IDS",
    "VCARD",
    "XLSX",
    "XLSX_TYPE",
    "CustomerExport",
    "ExportTooLarge",
    "guard_text",
    "vcard",
    "vcard_escape",
    "vcard_fold",
    "vcard_name",
]
