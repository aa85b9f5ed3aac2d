"""Import job endpoints: thin shells over imports.services and imports.selectors."""

from __future__ import annotations

from datetime import datetime
from typing import Any, BinaryIO, Literal, cast

from django.conf import settings
from django.http import StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from guanxi.core.http import ApiRequest
from guanxi.customers.schemas import BodyIn
from guanxi.imports import selectors, services, services_sheet
from guanxi.imports.mapping import mapping_missing
from guanxi.imports.models import ImportJob

router = Router(tags=["imports"])
MAX_OFFSET = 1_000_000_000
OnDuplicate = Literal["merge", "skip", "update"]
ImportTarget = Literal["customers", "orders", "leads"]


class ImportFieldOut(Schema):
    key: str
    label: str
    required: bool
    multiple: bool = Field(description="Several columns may fill it.")


class ImportJobOut(Schema):
    id: int
    target: str
    file_name: str
    file_size: int
    sheet: str
    encoding: str
    status: str = Field(
        description="draft (waiting for the mapping), queued, running, done, failed, cancelled"
    )
    on_duplicate: str
    dry_run: bool
    rows_done: int
    percent: int
    created: int
    updated: int
    merged: int
    skipped: int
    rejected: int
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ImportJobDetail(ImportJobOut):
    headers: list[str]
    mapping: list[str | None] = Field(description="One field key per column of the file, null: not imported.")
    fields: list[ImportFieldOut] = Field(description="The fields a column can be mapped to.")
    missing: list[str] = Field(description="Keys of the required fields no column fills yet.")


class ImportJobPage(Schema):
    items: list[ImportJobOut]
    limit: int
    offset: int
    next_offset: int | None = Field(
        None, description="Pass as `offset` to fetch the next page; null on the last."
    )


class RejectionOut(Schema):
    row_number: int
    column: str
    value: str
    reason: str
    cells: list[str] = Field(description="The row as it was in the file.")


class RejectionPage(Schema):
    items: list[RejectionOut]
    limit: int
    offset: int
    next_offset: int | None = None


class MappingIn(BodyIn):
    mapping: list[str | None] = Field(description="One field key (or null) per column of the file.")
    on_duplicate: OnDuplicate | None = None
    template_name: str = Field("", max_length=100, description="Save the mapping under this name.")


class Paging(Schema):
    limit: int = 25
    offset: int = 0


def _page(items: Any, paging: Paging) -> dict[str, Any]:
    limit = max(1, min(paging.limit, settings.GUANXI_API_MAX_LIMIT))
    offset = max(0, min(paging.offset, MAX_OFFSET))
    rows = list(items[offset : offset + limit + 1])
    return {
        "items": rows[:limit],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if len(rows) > limit else None,
    }


def _detail(job: ImportJob) -> dict[str, Any]:
    target = services.import_target(job.target)
    return {
        **{name: getattr(job, name) for name in ImportJobOut.model_fields},
        "headers": list(job.headers),
        "mapping": list(job.mapping),
        "fields": [
            {"key": f.key, "label": str(f.label), "required": f.required, "multiple": f.multiple}
            for f in target.fields
        ],
        "missing": [f.key for f in mapping_missing(target, job.mapping)],
    }


@router.post(
    "/imports", response={201: ImportJobDetail}, summary="Upload a file to import customers or orders from"
)
def import_job_create(
    request: ApiRequest,
    file: File[UploadedFile],
    target: Form[ImportTarget] = "customers",
    on_duplicate: Form[OnDuplicate] = "merge",
    dry_run: Form[bool] = False,
    sheet: Form[str] = "",
) -> Status[Any]:
    """A CSV/TXT (UTF-8, GBK/GB18030, UTF-16), XLSX or vCard file, as multipart form data. The answer has
    the file's headers, the guessed (or templated) mapping and the fields a column may fill; correct the
    mapping with PUT /imports/{id}/mapping, then POST /imports/{id}/start. A file that cannot be read
    answers 422 `import_file_unreadable` and nothing is kept. `target` orders: a POS or card system's
    orders, booked through the same rules as POST /orders (rows with the same order number are one order;
    a customer not yet known is created when a name column is mapped). `target` leads: captured as
    POST /leads does (an open lead's phone or email again is merged into it). Needs `customer.import`,
    `order.import` for orders, `lead.create` for leads."""
    job = services_sheet.import_job_upload(
        actor=request.auth,
        file=cast(BinaryIO, file),
        file_name=file.name or "import.csv",
        target=target,
        on_duplicate=on_duplicate,
        dry_run=dry_run,
        sheet=sheet.strip(),
    )
    return Status(201, _detail(job))


@router.get("/imports", response=ImportJobPage, summary="List import jobs")
def import_job_list(request: ApiRequest, paging: Query[Paging]) -> dict[str, Any]:
    """Your import jobs, newest first (an administrator's: everyone's)."""
    return _page(selectors.import_job_list(actor=request.auth), paging)


@router.get("/imports/{job_id}", response=ImportJobDetail, summary="One import job and its progress")
def import_job_get(request: ApiRequest, job_id: int) -> dict[str, Any]:
    """Poll this for `status`, `percent`, `rows_done` and the counts while the job runs."""
    return _detail(selectors.import_job_get(actor=request.auth, job_id=job_id))


@router.put(
    "/imports/{job_id}/mapping", response=ImportJobDetail, summary="Set an import job's column mapping"
)
def import_job_map(request: ApiRequest, job_id: int, payload: MappingIn) -> dict[str, Any]:
    """Only while the job is a draft; `template_name` saves the mapping for the next file with these
    headers."""
    job = selectors.import_job_get(actor=request.auth, job_id=job_id)
    job = services.import_job_map(
        actor=request.auth,
        job=job,
        mapping=payload.mapping,
        on_duplicate=payload.on_duplicate,
        template_name=payload.template_name,
    )
    return _detail(job)


@router.post("/imports/{job_id}/start", response={202: ImportJobDetail}, summary="Start an import job")
def import_job_start(request: ApiRequest, job_id: int) -> Status[Any]:
    """Queue the job for the task consumer; follow it with GET /imports/{id}."""
    job = selectors.import_job_get(actor=request.auth, job_id=job_id)
    return Status(202, _detail(services.import_job_start(actor=request.auth, job=job)))


@router.post("/imports/{job_id}/cancel", response=ImportJobDetail, summary="Cancel an import job")
def import_job_cancel(request: ApiRequest, job_id: int) -> dict[str, Any]:
    """The job stops after the batch it is writing; what is committed stays."""
    job = selectors.import_job_get(actor=request.auth, job_id=job_id)
    return _detail(services.import_job_cancel(actor=request.auth, job=job))


@router.get(
    "/imports/{job_id}/rejected.csv",
    summary="Download an import job's rejected rows",
    openapi_extra={
        "responses": {
            200: {
                "description": "UTF-8 with a byte order mark: the file's columns, the row number and the "
                "reasons; fix the rows and import the file again.",
                "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def import_job_rejected_csv(request: ApiRequest, job_id: int) -> HttpResponseBase:
    job = selectors.import_job_get(actor=request.auth, job_id=job_id)
    response = StreamingHttpResponse(selectors.rejected_rows_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        content_disposition_header(True, selectors.rejected_file_name(job)) or ""
    )
    return response


@router.get("/imports/{job_id}/rejections", response=RejectionPage, summary="An import job's rejected rows")
def import_job_rejections(request: ApiRequest, job_id: int, paging: Query[Paging]) -> dict[str, Any]:
    """One entry per problem found, in the order of the file (a row may have several)."""
    job = selectors.import_job_get(actor=request.auth, job_id=job_id)
    return _page(selectors.import_rejection_list(job=job), paging)
