"""The database-free half of a customer import, and the worker process that runs it beside the writer.

A batch of customer rows is read, cleaned (`RowCleaner`), mapped to `ImportRow`s, folded (the same person
twice in the batch becomes one row) and checked by the customer services' rules, its new customers'
columns, pinyin, search documents and audit changes worked out (`customers.services.bulk.
customer_import_prepare`): all of that is Python work without the database, about two thirds of a row's
cost. `prepared_batches` does it in a forked process for a large file, so that on two cores it overlaps
the main process's matching and writing; the batches come through a pipe, a few at a time (the worker
blocks while the pipe is full, so memory stays flat whatever the file's size).

The worker never touches the database: matching against the stored customers and every write stay in
the main process, batch after batch, so a batch still sees what the batches before it wrote. When the
main process ends (finished, cancelled, crashed, killed), the pipe closes and the worker ends with it.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext as _

from guanxi.customers.exports import FORMULA_STARTS
from guanxi.customers.models import CustomFieldDefinition
from guanxi.customers.services.bulk import ImportRow, PreparedRow, customer_import_prepare
from guanxi.customers.services.customer import FIELDS as CUSTOMER_FIELDS
from guanxi.imports.cleaning import CellError, RowCleaner
from guanxi.imports.readers import Cell, TableReader

ASSET_FIELDS = {"plate": "plate", "vin": "vin", "vehicle_model": "model", "mileage_km": "mileage_km"}
FORMULA_GUARD = "'"
Batch = list[tuple[int, list[Cell]]]
_HEADER = struct.Struct("!Q")


_UNIT = "\x1f"  # joins a row's cells for the trip through the pipe (a list when a cell holds it)


@dataclass(slots=True)
class PreparedBatch:
    """One batch of the file, cleaned and checked: what the main process matches and writes."""

    size: int  # rows read
    fraction: float | None  # how far into the file the reader is after this batch
    cells: dict[int, str | list[str]]  # each row's cells by row number, as text (cells_json), packed
    rejected: list[CellError]  # values that could not be read
    unique: list[PreparedRow]  # one per person of the batch, in order
    folded: int  # rows that were the same person as an earlier row of the batch

    def cells_of(self, number: int) -> list[str]:
        """Row `number`'s cells as text, as the rejected-rows file writes them."""
        packed = self.cells[number]
        return packed.split(_UNIT) if isinstance(packed, str) else packed


def cells_json(cells: list[Cell]) -> list[str]:
    """A row's cells as the text a rejection keeps (dates in ISO form)."""
    return [
        c if c.__class__ is str else c.isoformat() if isinstance(c, date | datetime) else str(c)
        for c in cells
    ]


def _packed(cells: list[Cell]) -> str | list[str]:
    texts = cells_json(cells)
    packed = _UNIT.join(texts)
    return packed if packed.count(_UNIT) == len(texts) - 1 else texts


def unguard(cell: Cell) -> Cell:
    """A cell our own files guard against formulas ('+86 138…, in a rejected-rows file) reads as it was."""
    if isinstance(cell, str) and cell.startswith(FORMULA_GUARD) and cell[1:2] in FORMULA_STARTS:
        return cell[1:]
    return cell


def import_row(number: int, values: dict[str, Any]) -> ImportRow:
    """A cleaned row's values as the customer services' bulk writer takes them."""
    fields = {key: values[key] for key in CUSTOMER_FIELDS if key in values}
    if values.get("company") and values.get("name") != values["company"]:
        line = _("Company: %(company)s") % {"company": values["company"]}
        fields["notes"] = f"{fields['notes']}\n{line}" if fields.get("notes") else line
    if values.get("external_id"):
        fields["external_ids"] = {"import": values["external_id"]}
    asset = {name: values[key] for key, name in ASSET_FIELDS.items() if values.get(key) not in (None, "")}
    return ImportRow(
        number,
        fields,
        phones=list(values.get("phones") or []),
        emails=list(values.get("emails") or []),
        tags=list(values.get("tags") or []),
        custom_fields=dict(values.get("custom_fields") or {}),
        assets=[asset] if asset else [],
    )


def _fold_into(first: ImportRow, later: ImportRow) -> None:
    """A later row of the same batch that is the same person adds what the first row lacks."""
    for key, value in later.fields.items():
        first.fields.setdefault(key, value)
    for name in ("phones", "emails", "tags"):
        mine = getattr(first, name)
        mine += [v for v in getattr(later, name) if v not in mine]
    for key, value in later.custom_fields.items():
        first.custom_fields.setdefault(key, value)
    first.assets += [a for a in later.assets if a not in first.assets]


def _same_person_keys(row: ImportRow) -> list[str]:
    keys = [f"p:{n}" for n in row.phones] + [f"e:{e.lower()}" for e in row.emails]
    if row.fields.get("wechat_id"):
        keys.append(f"w:{row.fields['wechat_id']}")
    return keys


def prepare_batch(
    cleaner: RowCleaner,
    definitions: list[CustomFieldDefinition],
    rows: Batch,
    fraction: float | None,
) -> PreparedBatch:
    """Clean, fold and check one batch of customer rows; no database."""
    rejected: list[CellError] = []
    clean_rows: list[ImportRow] = []
    clean = cleaner.clean
    packed = {}
    for number, cells in rows:
        packed[number] = _packed(cells)
        guarded = any(type(c) is str and c[:1] == FORMULA_GUARD for c in cells)
        values, errors = clean(number, [unguard(c) for c in cells] if guarded else cells)
        if errors:
            rejected += errors
        else:
            clean_rows.append(import_row(number, values))
    # The same person twice in the batch: the later rows fold into the first.
    first_by_key: dict[str, ImportRow] = {}
    unique: list[ImportRow] = []
    folded = 0
    for row in clean_rows:
        keys = _same_person_keys(row)
        first = next((first_by_key[k] for k in keys if k in first_by_key), None)
        if first is None:
            unique.append(row)
            first = row
        else:
            _fold_into(first, row)
            folded += 1
        for key in keys:
            first_by_key.setdefault(key, first)
    prepared = customer_import_prepare(unique, definitions)
    return PreparedBatch(len(rows), fraction, packed, rejected, prepared, folded)


@contextmanager
def frozen_heap() -> Iterator[None]:
    """While an import runs, the objects that were there before it are left out of the garbage
    collector's rounds (gc.freeze): each batch makes tens of thousands of objects, and every full
    round would scan all of Django's again. They go back to it at the end."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def read_batches(reader: TableReader, *, skip: int, size: int, group: int | None = None) -> Iterator[Batch]:
    """The rows after the first `skip`, `size` at a time; a full batch goes on while the rows that follow
    have the same non-empty value in column `group` (an order's lines stay in one batch)."""
    batch: Batch = []
    for index, row in enumerate(reader.rows()):
        if index < skip:
            continue
        if len(batch) >= size and (group is None or not _same_group(batch[-1][1], row[1], group)):
            yield batch
            batch = []
        batch.append(row)
    if batch:
        yield batch


def _same_group(before: list[Cell], after: list[Cell], column: int) -> bool:
    value = before[column] if column < len(before) else ""
    return value not in ("", None) and column < len(after) and after[column] == value


def prepared_batches(
    reader: TableReader,
    cleaner: RowCleaner,
    definitions: list[CustomFieldDefinition],
    *,
    skip: int,
    size: int,
    parallel: bool,
) -> Iterator[PreparedBatch]:
    """The file's batches after the first `skip` rows, prepared; in a forked worker when `parallel` (and
    this process may fork one), else here, one batch at a time."""
    if (
        not parallel
        or "fork" not in multiprocessing.get_all_start_methods()
        or multiprocessing.current_process().daemon  # a daemonic process (a huey process worker) may not fork
    ):
        for rows in read_batches(reader, skip=skip, size=size):
            yield prepare_batch(cleaner, definitions, rows, reader.progress().fraction)
        return
    read_end, write_end = os.pipe()
    context = multiprocessing.get_context("fork")
    worker = context.Process(
        target=_work,
        args=(reader, cleaner, definitions, skip, size, read_end, write_end),
        daemon=True,
        name="guanxi-import-prepare",
    )
    worker.start()
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as pipe:
            read_end = -1
            while True:
                message = _receive(pipe)
                if message is None:
                    raise RuntimeError(f"The import's worker process stopped (exit code {worker.exitcode}).")
                kind, payload = message
                if kind == "end":
                    return
                if kind == "error":
                    raise payload
                yield payload
    finally:
        if read_end != -1:
            os.close(read_end)
        worker.join(timeout=5)  # it ends by itself on a closed pipe
        if worker.is_alive():
            worker.kill()
            worker.join()


def _work(
    reader: TableReader,
    cleaner: RowCleaner,
    definitions: list[CustomFieldDefinition],
    skip: int,
    size: int,
    read_end: int,
    write_end: int,
) -> None:
    """The worker: prepare every batch and send it down the pipe; an error is sent too, to be raised
    by the main process. A closed pipe (the main process is gone) ends it."""
    os.close(read_end)
    gc.freeze()  # what the worker inherited stays: collections need not scan it again and again
    with os.fdopen(write_end, "wb", buffering=0) as pipe:
        try:
            for rows in read_batches(reader, skip=skip, size=size):
                _send(pipe, ("batch", prepare_batch(cleaner, definitions, rows, reader.progress().fraction)))
            _send(pipe, ("end", None))
        except BrokenPipeError:
            return
        except Exception as exc:  # handed to the main process, which raises it
            error: Exception = exc
            try:
                pickle.loads(pickle.dumps(exc))
            except Exception:
                error = RuntimeError(str(getattr(exc, "message", "") or exc) or exc.__class__.__name__)
            try:
                _send(pipe, ("error", error))
            except BrokenPipeError:
                return


def _send(pipe: Any, message: tuple[str, Any]) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(_HEADER.pack(len(data)) + data)


def _receive(pipe: Any) -> tuple[str, Any] | None:
    header = pipe.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (length,) = _HEADER.unpack(header)
    data = pipe.read(length)
    if len(data) < length:
        return None
    collecting = gc.isenabled()
    gc.disable()  # a batch is some 20,000 new objects, none in a cycle: no collection needed for them
    try:
        message: tuple[str, Any] = pickle.loads(data)
    finally:
        if collecting:
            gc.enable()
    return message
