"""Reading import jobs and their rejected rows, for the user who started them (or an administrator)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from guanxi.core.errors import NotFound
from guanxi.core.permissions import ensure_can
from guanxi.customers.exports import guard_text
from guanxi.imports.models import ImportJob, ImportRejection
from guanxi.users.models import User


def import_job_list(*, actor: User) -> QuerySet[ImportJob]:
    ensure_can(actor, "customer.import")
    jobs = ImportJob.objects.select_related("created_by")
    return jobs if actor.role == User.Role.ADMIN else jobs.filter(created_by=actor)


def import_job_get(*, actor: User, job_id: int) -> ImportJob:
    try:
        return import_job_list(actor=actor).get(pk=job_id)
    except (ImportJob.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("Import not found.")) from exc


def import_rejection_list(*, job: ImportJob) -> QuerySet[ImportRejection]:
    """A job's rejected rows in the order of the file; the caller got `job` through import_job_get."""
    return ImportRejection.objects.filter(job=job).order_by("row_number", "id")


def rejected_file_name(job: ImportJob) -> str:
    """The rejected rows' file name: the uploaded file's name with "-rejected.csv" for its extension."""
    return f"{Path(job.file_name).stem or 'import'}-rejected.csv"


def rejected_rows_csv(job: ImportJob) -> Iterator[str]:
    """The rejected rows as CSV (UTF-8 with BOM, so Excel reads Chinese): the file's own columns, then the
    row number and every reason. Fix the rows and import this file again: the extra columns map to nothing.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([*map(guard_text, job.headers), _("Row"), _("Why it was not imported")])
    yield "\ufeff" + flush()
    rows = ImportRejection.objects.filter(job=job).order_by("row_number", "id")
    current: tuple[int, list[str]] | None = None
    reasons: list[str] = []
    for rejection in rows.iterator(chunk_size=2000):
        if current and current[0] != rejection.row_number:
            writer.writerow([*map(guard_text, current[1]), current[0], guard_text("; ".join(reasons))])
            reasons = []
        current = (rejection.row_number, rejection.cells)
        where = f"{rejection.column}: " if rejection.column else ""
        value = f" ({rejection.value})" if rejection.value else ""
        reasons.append(f"{where}{rejection.reason}{value}")
        if buffer.tell() > 1 << 16:
            yield flush()
    if current:
        writer.writerow([*map(guard_text, current[1]), current[0], guard_text("; ".join(reasons))])
    yield flush()
