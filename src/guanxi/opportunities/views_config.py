"""The pipelines settings page: pipelines, their stages, probabilities and order (`pipeline.manage`)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.errors import DomainError
from guanxi.core.http import AuthedRequest
from guanxi.core.web import requires
from guanxi.opportunities import selectors, services
from guanxi.opportunities.forms import PipelineForm, StageForm
from guanxi.opportunities.models import Stage

PAGE = "pipeline-list"


def _fail(request: AuthedRequest, exc: DomainError) -> None:
    details = exc.details if isinstance(exc.details, dict) else {}
    problems = [str(m) for values in details.values() if isinstance(values, list) for m in values]
    messages.error(request, " ".join(problems) or exc.message)


@requires("pipeline.manage")
@require_GET
def pipeline_list(request: AuthedRequest) -> HttpResponse:
    if not selectors.pipeline_list(actor=request.user):
        services.pipeline_default(actor=request.user)
    pipelines = selectors.pipeline_list_with_stages(actor=request.user, include_inactive=True)
    held = selectors.stage_holdings_all(actor=request.user)
    rows = [
        {
            "pipeline": pipeline,
            "stages": [{"stage": stage, "held": held.get(stage.pk, 0)} for stage in pipeline.stages.all()],
            "open_ids": ",".join(str(s.pk) for s in pipeline.stages.all() if s.kind == Stage.Kind.OPEN),
        }
        for pipeline in pipelines
    ]
    context = {"nav": "pipelines", "rows": rows, "new_form": PipelineForm(), "stage_form": StageForm()}
    return render(request, "opportunities/pipelines.html", context)


@requires("pipeline.manage")
@require_POST
def pipeline_create(request: AuthedRequest) -> HttpResponse:
    form = PipelineForm(request.POST)
    if form.is_valid():
        try:
            pipeline = services.pipeline_create(actor=request.user, name=form.cleaned_data["name"])
        except DomainError as exc:
            _fail(request, exc)
        else:
            messages.success(request, _("Pipeline “%(name)s” created.") % {"name": pipeline.name})
    else:
        messages.error(request, _("Enter a name for the pipeline."))
    return redirect(reverse(PAGE))


@requires("pipeline.manage")
@require_POST
def pipeline_update(request: AuthedRequest, pipeline_id: int) -> HttpResponse:
    """Rename (`name`) or switch on and off (`active` = 1 / 0)."""
    pipeline = selectors.pipeline_get(actor=request.user, pipeline_id=pipeline_id)
    active = request.POST.get("active")
    try:
        services.pipeline_update(
            actor=request.user,
            pipeline=pipeline,
            name=request.POST.get("name"),
            active=None if active is None else active == "1",
        )
    except DomainError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("Saved."))
    return redirect(reverse(PAGE))


@requires("pipeline.manage")
@require_POST
def stage_create(request: AuthedRequest, pipeline_id: int) -> HttpResponse:
    pipeline = selectors.pipeline_get(actor=request.user, pipeline_id=pipeline_id)
    try:
        stage = services.stage_create(
            actor=request.user,
            pipeline=pipeline,
            name=request.POST.get("name", ""),
            probability=request.POST.get("probability", ""),
        )
    except DomainError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("Stage “%(name)s” added.") % {"name": stage.name})
    return redirect(reverse(PAGE))


@requires("pipeline.manage")
@require_POST
def stage_update(request: AuthedRequest, stage_id: int) -> HttpResponse:
    stage = selectors.stage_get(actor=request.user, stage_id=stage_id)
    try:
        services.stage_update(
            actor=request.user,
            stage=stage,
            name=request.POST.get("name"),
            probability=request.POST.get("probability") or None,
        )
    except DomainError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("Saved."))
    return redirect(reverse(PAGE))


@requires("pipeline.manage")
@require_POST
def stage_move(request: AuthedRequest, stage_id: int) -> HttpResponse:
    """Move an open stage one place left (`direction` = up) or right (down) among the open stages."""
    stage = selectors.stage_get(actor=request.user, stage_id=stage_id)
    stages = [
        s
        for s in selectors.stage_list(actor=request.user, pipeline_id=stage.pipeline_id)
        if s.kind == Stage.Kind.OPEN
    ]
    ids = [s.pk for s in stages]
    if stage.pk in ids:
        index = ids.index(stage.pk)
        other = index - 1 if request.POST.get("direction") == "up" else index + 1
        if 0 <= other < len(ids):
            ids[index], ids[other] = ids[other], ids[index]
            try:
                services.stage_reorder(actor=request.user, pipeline=stage.pipeline, stage_ids=ids)
            except DomainError as exc:
                _fail(request, exc)
    return redirect(reverse(PAGE))


@requires("pipeline.manage")
@require_POST
def stage_delete(request: AuthedRequest, stage_id: int) -> HttpResponse:
    stage = selectors.stage_get(actor=request.user, stage_id=stage_id)
    try:
        services.stage_delete(actor=request.user, stage=stage)
    except DomainError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("Stage “%(name)s” removed.") % {"name": stage.name})
    return redirect(reverse(PAGE))
