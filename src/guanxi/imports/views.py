"""Import pages: upload a file, map its columns over a preview, watch the job run, download rejected rows."""

from __future__ import annotations

from typing import Any, BinaryIO, cast

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.forms import Form
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.core.errors import DomainError, ValidationFailed
from guanxi.core.web import apply_errors, paginate, requires
from guanxi.imports import selectors, services, services_sheet, services_templates
from guanxi.imports.forms import ImportUploadForm, MappingForm, SheetForm, TemplateChoiceForm
from guanxi.imports.mapping import mapping_missing
from guanxi.imports.models import ImportJob
from guanxi.imports.readers import FileUnreadable
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
                job = services_sheet.import_job_upload(
                    actor=actor,
                    file=cast(BinaryIO, upload),
                    file_name=upload.name or "import.csv",
                    target=form.cleaned_data["target"] or "customers",
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
    request: HttpRequest,
    job: ImportJob,
    form: MappingForm | None,
    status: int = 200,
    template_id: int | None = None,
) -> HttpResponse:
    """The mapping step. `template_id`: a saved template the user chose, whose mapping the columns' selects
    then show (nothing is saved until the import starts)."""
    actor = _actor(request)
    target = services.import_target(job.target)
    try:
        sheets = services_sheet.import_job_sheets(job)
    except FileUnreadable:  # the columns were read from it, so only a file damaged since gets here
        sheets = []
    choices = services_templates.import_template_choices(actor=actor, job=job)
    chosen = next((c for c in choices if c.template.pk == template_id), None)
    # Without a choice, the template the columns are mapped with (the one the upload applied), if any.
    current = chosen or next((c for c in choices if c.mapped and c.mapping == list(job.mapping)), None)
    mapping = chosen.mapping if chosen else list(job.mapping)
    if form is None:
        form = MappingForm(
            headers=job.headers,
            fields=[(f.key, str(f.label)) for f in target.fields],
            mapping=mapping,
            on_duplicate=job.on_duplicate,
        )
    sheet_form = None
    if len(sheets) > 1:
        sheet_form = SheetForm(sheets=sheets, current=services_sheet.import_job_sheet(job, sheets))
    template_form = None
    if choices:
        template_form = TemplateChoiceForm(
            templates=[(c.template.pk, c.template.name, c.mapped) for c in choices],
            columns=len(job.headers),
            current=current.template.pk if current else None,
        )
    context = {
        "nav": "imports",
        "job": job,
        "form": form,
        "preview": services.import_job_preview(job),
        "required": [str(f.label) for f in target.fields if f.required],
        # Before the user acts, the gaps of the guess (or template); after, the service's own messages.
        "missing": [] if form.is_bound else [str(f.label) for f in mapping_missing(target, mapping)],
        "sheet_form": sheet_form,
        "sheet_count": len(sheets),
        "template_form": template_form,
        "template_choice": current,
        "template_applied": chosen is not None,
    }
    if getattr(request, "htmx", None) and request.method == "GET":
        response = render(request, "imports/mapping.html#mapping-main", context, status=status)
    else:
        response = render(request, "imports/mapping.html", context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


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
        return _mapping_page(request, job, None, template_id=_int(request.GET.get("template")))
    return render(request, "imports/job.html", _job_context(job))


def _int(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number < 2**63 else None


def _back_to_job(request: HttpRequest, job: ImportJob) -> HttpResponse:
    """To the job's page: an htmx request is told to load it whole (the sheet changes the page's header)."""
    url = reverse("import-detail", args=[job.pk])
    if getattr(request, "htmx", None):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@requires("customer.import")
@require_POST
def import_sheet(request: HttpRequest, job_id: int) -> HttpResponse:
    """Read another sheet of the workbook: the mapping step starts again with that sheet's columns."""
    actor = _actor(request)
    job = selectors.import_job_get(actor=actor, job_id=job_id)
    if job.status != ImportJob.Status.DRAFT:
        return redirect("import-detail", job_id=job.pk)
    sheet = request.POST.get("sheet", "")
    try:
        job = services_sheet.import_job_set_sheet(actor=actor, job=job, sheet=sheet)
    except (ValidationFailed, FileUnreadable) as exc:
        details = exc.details if isinstance(exc.details, dict) else {}
        reason = " ".join(str(m) for m in details.get("sheet", [])) or exc.message
        messages.error(
            request,
            _("The sheet “%(sheet)s” cannot be read: %(reason)s") % {"sheet": sheet, "reason": reason},
        )
    else:
        messages.success(request, _("Reading the sheet “%(sheet)s”: map its columns.") % {"sheet": job.sheet})
    return _back_to_job(request, job)


@requires("customer.import")
@require_POST
def import_template_delete(request: HttpRequest, job_id: int) -> HttpResponse:
    """Delete the saved template posted as `template` (its owner or an administrator), back to the job."""
    actor = _actor(request)
    job = selectors.import_job_get(actor=actor, job_id=job_id)
    template_id = _int(request.POST.get("template"))
    if template_id is None:
        messages.error(request, _("Choose a template to delete."))
        return _back_to_job(request, job)
    template = services_templates.import_template_get(actor=actor, template_id=template_id)
    name = template.name
    services_templates.import_template_delete(actor=actor, template=template)
    messages.success(request, _("The template “%(name)s” is deleted.") % {"name": name})
    return _back_to_job(request, job)


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
