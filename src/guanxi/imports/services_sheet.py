"""Which worksheet of an Excel workbook an import reads: the first that holds anything unless the user
names one, and another one chosen on the mapping page while the job is still a draft."""

from __future__ import annotations

from typing import BinaryIO

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.permissions import ensure_can
from guanxi.imports.models import ImportJob
from guanxi.imports.readers import open_table
from guanxi.imports.readers.xlsx_sheets import XlsxSheet, xlsx_sheet_default, xlsx_sheets
from guanxi.imports.services import import_job_create, import_target, target_permission
from guanxi.imports.services_templates import mapping_for_header
from guanxi.users.models import User

_ZIP = b"PK\x03\x04"


def _is_workbook(file: BinaryIO) -> bool:
    where = file.tell()
    head = file.read(4)
    file.seek(where)
    return head == _ZIP


def import_job_upload(
    *,
    actor: User,
    file: BinaryIO,
    file_name: str,
    target: str = "customers",
    on_duplicate: str = ImportJob.OnDuplicate.MERGE,
    dry_run: bool = False,
    sheet: str = "",
) -> ImportJob:
    """`services.import_job_create` for a file as a user hands it in: a workbook whose first sheet is
    empty (a cover, a blank "Sheet1") is read from its first sheet that holds anything, unless `sheet`
    names one. Listing the sheets reads a few kilobytes of the file, never the workbook's strings."""
    ensure_can(actor, target_permission(target))
    if not sheet and _is_workbook(file):
        sheets = xlsx_sheets(file)
        chosen = xlsx_sheet_default(sheets)
        sheet = "" if not sheets or chosen == sheets[0].name else chosen
    return import_job_create(
        actor=actor,
        file=file,
        file_name=file_name,
        target=target,
        on_duplicate=on_duplicate,
        dry_run=dry_run,
        sheet=sheet,
    )


def import_job_sheets(job: ImportJob) -> list[XlsxSheet]:
    """The worksheets of the job's file; none when it is not a workbook. The caller got `job` through
    `selectors.import_job_get`."""
    with open(job.file.path, "rb") as file:
        if not _is_workbook(file):
            return []
        return xlsx_sheets(file)


def import_job_sheet(job: ImportJob, sheets: list[XlsxSheet]) -> str:
    """The name of the sheet the job reads (an empty `job.sheet` reads the first)."""
    return job.sheet or (sheets[0].name if sheets else "")


def import_job_set_sheet(*, actor: User, job: ImportJob, sheet: str) -> ImportJob:
    """Read another sheet of the job's workbook: its header replaces the job's, and its columns are mapped
    afresh (a saved template that fits, else the guess), as for a new file. Only while the job is a draft,
    and only the user who uploaded it or an administrator. Raises ValidationFailed (`sheet`) for a sheet
    the workbook does not have and FileUnreadable for one with no header row; the job is then unchanged.
    The sheet is read before the transaction: opening a large workbook takes seconds.
    """
    ensure_can(actor, "customer.import")
    if job.created_by_id != actor.pk and actor.role != User.Role.ADMIN:
        raise NotFound(_("Import not found."))
    if job.status != ImportJob.Status.DRAFT:
        raise ValidationFailed(_("This import has started already."), details={"status": [job.status]})
    names = [s.name for s in import_job_sheets(job)]
    if not names:
        raise ValidationFailed(details={"sheet": [_("Only an Excel workbook has sheets to choose from.")]})
    if sheet not in names:
        raise ValidationFailed(
            details={
                "sheet": [
                    _("The workbook has no sheet “%(sheet)s”; it has: %(sheets)s.")
                    % {"sheet": sheet, "sheets": ", ".join(names)}
                ]
            }
        )
    with open_table(job.file.path, filename=job.file_name, sheet=sheet) as reader:
        header = list(reader.header)
    mapping = mapping_for_header(header, import_target(job.target))
    before = job.sheet or names[0]
    with transaction.atomic():
        changed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.DRAFT).update(
            sheet=sheet, headers=header, mapping=mapping
        )
        if not changed:  # started by another request since it was read
            raise ValidationFailed(_("This import has started already."), details={"status": [job.status]})
        job.refresh_from_db()
        audit_record(actor=actor, action="import.sheet", target=job, changes={"sheet": [before, sheet]})
    return job
