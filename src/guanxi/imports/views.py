"""Import pages: upload a file, map its columns over a preview, watch the job run, download rejected rows."""

from __future__ import annotations

from typing import Any, BinaryIO, cast

from django.conf import settings
from django.db import transaction
from django.forms import Form
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.core.errors import DomainError, ValidationFailed
from guanxi.core.web import apply_errors, paginate, requires
from guanxi.imports import selectors, services
from guanxi.imports.forms import ImportUploadForm, MappingForm
from guanxi.imports.mapping import mapping_missing
from guanxi.imports.models import ImportJob
from guanxi.users.models import User

REJECTIONS_SHOWN = 20
HTMX_STOP_POLLING = 286  # htmx swaps this answer in and stops the element's polling


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _show_error(form: Form, exc: DomainError) -> int:
    """Put a service's error on the form; returns the status to answer with."""
    if isinstance(exc, ValidationFailed):
        details = dict(exc.details) if isinstance(exc.details, dict) else {}
        for message in details.pop("mapping", []):  # about all the columns' selects together
            form.add_error(None, str(message))
        if details or not form.errors:
            apply_errors(form, ValidationFailed(exc.message, details=details))
        return 422
    details = exc.details if isinstance(exc.details, dict) else {}
    field = next((name for name in details if name in form.fields), None)
    form.add_error(field, exc.message)
    return exc.status


@requires("customer.import")
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    """The user's import jobs (an administrator's: everyone's) and the upload form."""
    actor = _actor(request)
    status = 200
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = services.import_job_create(
                    actor=actor,
                    file=cast(BinaryIO, upload),
                    file_name=upload.name or "import.csv",
                    on_duplicate=form.cleaned_data["on_duplicate"],
                    dry_run=form.cleaned_data["dry_run"],
                    sheet=form.cleaned_data["sheet"].strip(),
                )
            except DomainError as exc:  # FileUnreadable: the reason goes on the form, no job is kept
                status = _show_error(form, exc)
            else:
                return redirect("import-detail", job_id=job.pk)
        else:
            status = 422
    else:
        form = ImportUploadForm()
    page = paginate(request, selectors.import_job_list(actor=actor), settings.GUANXI_PAGE_SIZE)
    context = {"nav": "imports", "form": form, "page": page, "show_owner": actor.role == User.Role.ADMIN}
    return render(request, "imports/list.html", context, status=status)


def _mapping_page(
    request: HttpRequest, job: ImportJob, form: MappingForm | None, status: int = 200
) -> HttpResponse:
    target = services.import_target(job.target)
    if form is None:
        form = MappingForm(
            headers=job.headers,
            fields=[(f.key, str(f.label)) for f in target.fields],
            mapping=list(job.mapping),
            on_duplicate=job.on_duplicate,
        )
    context = {
        "nav": "imports",
        "job": job,
        "form": form,
        "preview": services.import_job_preview(job),
        "required": [str(f.label) for f in target.fields if f.required],
        # Before the user acts, the guess's gaps; after, the service's own messages are on the form.
        "missing": [] if form.is_bound else [str(f.label) for f in mapping_missing(target, job.mapping)],
    }
    return render(request, "imports/mapping.html", context, status=status)


def _job_context(job: ImportJob) -> dict[str, Any]:
    rejections = selectors.import_rejection_list(job=job)[:REJECTIONS_SHOWN] if job.rejected else []
    return {
        "nav": "imports",
        "job": job,
        "rejections": rejections,
        "rejections_more": max(0, job.rejected - REJECTIONS_SHOWN),
        "may_cancel": job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING),
    }


@requires("customer.import")
@require_GET
def import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    """While the job waits for its mapping: the mapping step; after: its progress, then its summary."""
    job = selectors.import_job_get(actor=_actor(request), job_id=job_id)
    if job.status == ImportJob.Status.DRAFT:
        return _mapping_page(request, job, None)
    return render(request, "imports/job.html", _job_context(job))


@requires("customer.import")
@require_POST
def import_start(request: HttpRequest, job_id: int) -> HttpResponse:
    """Save the mapping (and a template when named), then queue the job; both or neither."""
    actor = _actor(request)
    job = selectors.import_job_get(actor=actor, job_id=job_id)
    if job.status != ImportJob.Status.DRAFT:
        return redirect("import-detail", job_id=job.pk)
    target = services.import_target(job.target)
    form = MappingForm(
        request.POST,
        headers=job.headers,
        fields=[(f.key, str(f.label)) for f in target.fields],
        mapping=list(job.mapping),
        on_duplicate=job.on_duplicate,
    )
    if not form.is_valid():
        return _mapping_page(request, job, form, status=422)
    try:
        with transaction.atomic():
            services.import_job_map(
                actor=actor,
                job=job,
                mapping=form.mapping(),
                on_duplicate=form.cleaned_data["on_duplicate"],
                template_name=form.cleaned_data["save_as"],
            )
            services.import_job_start(actor=actor, job=job)
    except DomainError as exc:
        job.refresh_from_db()
        status = _show_error(form, exc)
        return _mapping_page(request, job, form, status=status)
    return redirect("import-detail", job_id=job.pk)


@requires("customer.import")
@require_GET
def import_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The progress partial the job page polls; once the job is finished it carries no trigger (and an
    htmx request gets 286), so the polling stops on the summary."""
    job = selectors.import_job_get(actor=_actor(request), job_id=job_id)
    response = render(request, "imports/job.html#job-status", _job_context(job))
    if job.finished and getattr(request, "htmx", None):
        response.status_code = HTMX_STOP_POLLING
    patch_vary_headers(response, ("HX-Request",))
    return response


@requires("customer.import")
@require_POST
def import_cancel(request: HttpRequest, job_id: int) -> HttpResponse:
    """Stop the job after the batch it is writing; an htmx request gets the progress partial back."""
    actor = _actor(request)
    job = services.import_job_cancel(actor=actor, job=selectors.import_job_get(actor=actor, job_id=job_id))
    if getattr(request, "htmx", None):
        return render(request, "imports/job.html#job-status", _job_context(job))
    return redirect("import-detail", job_id=job.pk)


@requires("customer.import")
@require_GET
def import_rejected_csv(request: HttpRequest, job_id: int) -> HttpResponse:
    """The rejected rows as a CSV the user can fix and import again."""
    job = selectors.import_job_get(actor=_actor(request), job_id=job_id)
    response = StreamingHttpResponse(selectors.rejected_rows_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        content_disposition_header(True, selectors.rejected_file_name(job)) or ""
    )
    # A streamed response, which requires() hands back untouched like any other.
    return cast(HttpResponse, response)
