"""Import jobs: upload, map the columns, run batch by batch, report every rejected row.

A job reads its file with `readers.open_table`, cleans each row with the target's `RowCleaner`, looks the
rows up against the customers already stored (`customers.duplicates.customer_matches_many`) and against
the rows before them in the same batch, and writes each batch with `customers.services.bulk`. A batch, its
rejected rows and the job's counters and resume point (`rows_done`) are one transaction: after a crash or
`kill -9` every committed batch is whole, and running the job again goes on after the last one.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, BinaryIO

from django.core.files import File
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.permissions import ensure_can
from guanxi.core.tasks import task_enqueue_on_commit
from guanxi.customers.models import CustomFieldDefinition
from guanxi.customers.services.bulk import RowOutcome, customer_import_write
from guanxi.imports.cleaning import CellError, RowCleaner
from guanxi.imports.leads import leads_import_rows
from guanxi.imports.mapping import Target, mapping_from_template, mapping_guess, mapping_missing, target_get
from guanxi.imports.matching import same_customers
from guanxi.imports.models import ImportJob, ImportRejection, ImportTemplate
from guanxi.imports.orders import orders_import_rows
from guanxi.imports.pipeline import (
    PreparedBatch,
    cells_json,
    frozen_heap,
    prepared_batches,
    read_batches,
    unguard,
)
from guanxi.imports.readers import Cell, TableReader, open_table
from guanxi.users.models import User

BATCH_SIZE = 3000  # rows a transaction: ~10% less CPU a row than 1,000 (fewer commits and queries)
PREVIEW_ROWS = 10
PARALLEL_FROM = 2_000_000  # bytes of file (some 20,000 rows) from which a worker process prepares the batches
ROW_WRITERS = {"orders": orders_import_rows, "leads": leads_import_rows}  # targets written row by row here
Progress = Callable[[ImportJob], None]


def import_target(key: str) -> Target:
    """The import target with today's custom fields. Raises ValidationFailed for an unknown target."""
    try:
        target = target_get(key)
    except KeyError:
        raise ValidationFailed(
            details={"target": [_("There is no import of “%(key)s”.") % {"key": key}]}
        ) from None
    if key == "customers":
        target = target.with_custom_fields(CustomFieldDefinition.objects.filter(active=True))
    return target


def _reader(job: ImportJob) -> TableReader:
    return open_table(job.file.path, filename=job.file_name, sheet=job.sheet or None)


def import_job_create(
    *,
    actor: User,
    file: BinaryIO,
    file_name: str,
    target: str = "customers",
    on_duplicate: str = ImportJob.OnDuplicate.MERGE,
    dry_run: bool = False,
    sheet: str = "",
) -> ImportJob:
    """Keep an uploaded file and read its header; the columns are mapped by a saved template whose
    headers fit, else guessed. Raises FileUnreadable (nothing kept) when the file cannot be read."""
    ensure_can(actor, target_permission(target))
    if on_duplicate not in ImportJob.OnDuplicate.values:
        raise ValidationFailed(details={"on_duplicate": [_("Choose merge, skip or update.")]})
    with open_table(file, filename=file_name, sheet=sheet or None) as reader:
        header, encoding = list(reader.header), reader.encoding or ""
    file.seek(0)
    the_target = import_target(target)
    mapping = mapping_guess(header, the_target).mapping
    for template in ImportTemplate.objects.filter(target=target).order_by("-id"):
        from_template = mapping_from_template(header, template.mapping, the_target)
        if sum(1 for key in from_template if key) >= sum(1 for key in mapping if key):
            mapping = from_template
            break
    with transaction.atomic():
        job = ImportJob(
            target=target,
            file_name=Path(file_name).name[:255],
            sheet=sheet,
            encoding=encoding,
            headers=header,
            mapping=mapping,
            on_duplicate=on_duplicate,
            dry_run=dry_run,
            created_by=actor,
        )
        job.file.save(Path(file_name).name, File(file), save=False)
        job.file_size = job.file.size
        job.save()
        audit_record(actor=actor, action="import.create", target=job, data={"file": job.file_name})
    return job


def import_job_preview(job: ImportJob, rows: int = PREVIEW_ROWS) -> list[tuple[int, list[str]]]:
    """The first rows of the file as they are, for the mapping page."""
    preview = []
    with _reader(job) as reader:
        for number, cells in reader.rows():
            preview.append((number, cells_json(cells)))
            if len(preview) >= rows:
                break
    return preview


@transaction.atomic
def import_job_map(
    *,
    actor: User,
    job: ImportJob,
    mapping: Sequence[str | None],
    on_duplicate: str | None = None,
    template_name: str = "",
) -> ImportJob:
    """Set the column mapping (one field key or None per column); optionally save it as a template."""
    _own(actor, job)
    if job.status != ImportJob.Status.DRAFT:
        raise ValidationFailed(_("This import has started already."), details={"status": [job.status]})
    target = import_target(job.target)
    known = {f.key for f in target.fields}
    errors: dict[str, list[str]] = {}
    mapping = [key or None for key in mapping]
    if len(mapping) != len(job.headers):
        errors["mapping"] = [_("Map each of the file's %(n)d columns.") % {"n": len(job.headers)}]
    for key in mapping:
        if key and key not in known:
            errors.setdefault("mapping", []).append(_("There is no field “%(key)s”.") % {"key": key})
    for f in mapping_missing(target, mapping):
        errors.setdefault("mapping", []).append(_("No column fills “%(field)s”.") % {"field": f.label})
    if on_duplicate is not None and on_duplicate not in ImportJob.OnDuplicate.values:
        errors["on_duplicate"] = [_("Choose merge, skip or update.")]
    if errors:
        raise ValidationFailed(details=errors)
    job.mapping = list(mapping)
    job.on_duplicate = on_duplicate or job.on_duplicate
    job.save(update_fields=["mapping", "on_duplicate"])
    if template_name.strip():
        by_header = {h: key for h, key in zip(job.headers, mapping, strict=True) if key}
        ImportTemplate.objects.update_or_create(
            target=job.target,
            name=template_name.strip()[:100],
            defaults={"mapping": by_header, "created_by": actor},
        )
    return job


def import_job_start(*, actor: User, job: ImportJob, queue: bool = True) -> ImportJob:
    """Queue the job for the task consumer (`guanxi run_huey`); `queue=False` when the caller runs it
    itself (the CLI, in its own process, with a progress bar)."""
    _own(actor, job)
    missing = mapping_missing(import_target(job.target), job.mapping)
    if missing:
        raise ValidationFailed(
            details={"mapping": [_("No column fills “%(field)s”.") % {"field": f.label} for f in missing]}
        )
    with transaction.atomic():
        updated = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.DRAFT).update(
            status=ImportJob.Status.QUEUED
        )
        if not updated:
            raise ValidationFailed(_("This import has started already."), details={"status": [job.status]})
        audit_record(actor=actor, action="import.start", target=job)
        if queue:
            task_enqueue_on_commit("imports.run", job.pk)
    job.refresh_from_db()
    return job


def target_permission(target: str) -> str:
    """The permission an import into `target` needs (customers: customer.import, orders: order.import,
    leads: lead.create)."""
    return str(import_target(target).extra.get("permission", "customer.import"))


def _own(actor: User, job: ImportJob) -> None:
    ensure_can(actor, target_permission(job.target))
    if job.created_by_id != actor.pk and actor.role != User.Role.ADMIN:
        raise NotFound(_("Import not found."))


class JobTakenOver(Exception):
    """Another runner moved the job's resume point while this one wrote a batch."""


def import_job_run(
    *,
    job_id: int,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    parallel: bool | None = None,
) -> ImportJob:
    """Run a queued (or interrupted) job to its end, batch by batch; safe to call again after a crash.

    Runs as the user who uploaded the file: their permissions and scope decide what may be written.
    `parallel`: prepare the batches of a customer import in a worker process while this one matches and
    writes (`pipeline.prepared_batches`); None: when the file is large (PARALLEL_FROM bytes).
    """
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
        return job
    actor = job.created_by
    if actor is None or not actor.is_active:
        return _fail(job, _("The user who started this import can no longer sign in."))
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, started_at=job.started_at or timezone.now()
    )
    try:
        target = import_target(job.target)
        cleaner = RowCleaner(target, job.headers, job.mapping)
        with (
            frozen_heap(),
            _reader(job) as reader,
            closing(_prepared(job, actor, reader, cleaner, target, batch_size, parallel)) as batches,
        ):
            for prepared in batches:
                if prepared is not None:  # an order batch is written already
                    _run_batch(job, actor, prepared)
                job.refresh_from_db()
                if job.status == ImportJob.Status.CANCELLED:
                    return job
                if progress:
                    progress(job)
    except JobTakenOver:
        job.refresh_from_db()
        return job
    except Exception as exc:
        job.refresh_from_db()
        _fail(job, str(getattr(exc, "message", "") or exc) or exc.__class__.__name__)
        raise
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.DONE, percent=100, finished_at=timezone.now()
        )
        job.refresh_from_db()
        audit_record(
            actor=actor,
            action="import.finish",
            target=job,
            data={
                k: getattr(job, k)
                for k in ("rows_done", "created", "updated", "merged", "skipped", "rejected")
            },
        )
    if progress:
        progress(job)
    return job


def _prepared(
    job: ImportJob,
    actor: User,
    reader: TableReader,
    cleaner: RowCleaner,
    target: Target,
    batch_size: int,
    parallel: bool | None,
) -> Generator[PreparedBatch | None, None, None]:
    """The job's batches after its resume point: customers prepared (pipeline), orders and leads run
    here and given as None."""
    if job.target in ROW_WRITERS:
        group_by = target.extra.get("group_by")
        group = job.mapping.index(group_by) if group_by in job.mapping else None
        for rows in read_batches(reader, skip=job.rows_done, size=batch_size, group=group):
            _run_order_batch(job, actor, cleaner, rows, reader.progress().fraction, ROW_WRITERS[job.target])
            yield None
        return
    if parallel is None:
        parallel = job.file_size >= PARALLEL_FROM
    definitions = list(CustomFieldDefinition.objects.filter(active=True))
    yield from prepared_batches(
        reader, cleaner, definitions, skip=job.rows_done, size=batch_size, parallel=parallel
    )


def _fail(job: ImportJob, message: str) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, error=message[:2000], finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def _run_batch(job: ImportJob, actor: User, prepared: PreparedBatch) -> None:
    rejections = [_rejection(job, error, prepared.cells_of(error.row)) for error in prepared.rejected]
    # Matched as the system: a customer the importer may not see is still the same person, and the row
    # is then refused (customer_import_write) rather than made a second time.
    unique = [p.row for p in prepared.unique]
    for row, match in zip(unique, same_customers(unique), strict=True):
        row.match = match
    counts = dict.fromkeys(("created", "updated", "merged", "skipped"), 0)
    counts["merged"] = prepared.folded
    with transaction.atomic():
        with transaction.atomic():  # a savepoint: a dry run rolls the customers back, keeps the report
            outcomes: list[RowOutcome] = customer_import_write(
                actor=actor, rows=prepared.unique, on_duplicate=job.on_duplicate
            )
            if job.dry_run:
                transaction.set_rollback(True)
        _commit_batch(job, prepared.size, prepared.cells_of, outcomes, rejections, counts, prepared.fraction)


def _run_order_batch(
    job: ImportJob,
    actor: User,
    cleaner: RowCleaner,
    batch: list[tuple[int, list[Cell]]],
    fraction: float | None,
    write: Callable[..., list[RowOutcome]] = orders_import_rows,
) -> None:
    rejections: list[ImportRejection] = []
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, cells in batch:
        values, errors = cleaner.clean(number, [unguard(c) for c in cells])
        if errors:
            rejections += [_rejection(job, error, cells_json(cells)) for error in errors]
        else:
            rows.append((number, values))
    counts = dict.fromkeys(("created", "updated", "merged", "skipped"), 0)
    with transaction.atomic():
        with transaction.atomic():  # a savepoint: a dry run rolls the orders back, keeps the report
            outcomes = write(actor=actor, rows=rows)
            if job.dry_run:
                transaction.set_rollback(True)
        cells_of = {number: cells for number, cells in batch}
        _commit_batch(
            job, len(batch), lambda n: cells_json(cells_of[n]), outcomes, rejections, counts, fraction
        )


def _commit_batch(
    job: ImportJob,
    size: int,
    cells_of: Callable[[int], list[str]],
    outcomes: list[RowOutcome],
    rejections: list[ImportRejection],
    counts: dict[str, int],
    fraction: float | None,
) -> None:
    """Inside the batch's transaction: its rejected rows, counters and resume point. `size`: the rows of
    the batch; `cells_of`: a row's cells (by row number) as the rejected-rows file writes them."""
    for outcome in outcomes:
        if outcome.result != "rejected":
            counts[outcome.result] += 1
            continue
        rejections += [
            ImportRejection(
                job=job,
                row_number=outcome.row_number,
                column=_column(job, field),
                value="",
                reason=" ".join(messages),
                cells=cells_of(outcome.row_number),
            )
            for field, messages in outcome.errors.items()
        ]
    ImportRejection.objects.bulk_create(rejections)
    # The batch, its report and the resume point commit together; a runner that finds the resume
    # point moved (another runner took the job over) undoes its batch and stops.
    moved = ImportJob.objects.filter(pk=job.pk, rows_done=job.rows_done).update(
        rows_done=F("rows_done") + size,
        percent=round(100 * fraction) if fraction is not None else F("percent"),
        rejected=F("rejected") + len({r.row_number for r in rejections}),
        **{key: F(key) + value for key, value in counts.items()},
    )
    if not moved:
        raise JobTakenOver


def _column(job: ImportJob, field: str) -> str:
    """The header of the column a field came from (its first), else the field's name."""
    key = field.split(".")[0] if not field.startswith("custom_fields.") else field
    for header, mapped in zip(job.headers, job.mapping, strict=False):
        if mapped == key:
            return str(header)
    return field


def _rejection(job: ImportJob, error: CellError, cells: list[str]) -> ImportRejection:
    return ImportRejection(
        job=job,
        row_number=error.row,
        column=error.column[:255],
        value=error.value,
        reason=str(error.reason),
        cells=cells,
    )


@transaction.atomic
def import_job_cancel(*, actor: User, job: ImportJob) -> ImportJob:
    """Stop a job after the batch it is writing; what is committed stays."""
    _own(actor, job)
    ImportJob.objects.filter(
        pk=job.pk, status__in=[ImportJob.Status.DRAFT, ImportJob.Status.QUEUED, ImportJob.Status.RUNNING]
    ).update(status=ImportJob.Status.CANCELLED, finished_at=timezone.now())
    audit_record(actor=actor, action="import.cancel", target=job)
    job.refresh_from_db()
    return job
