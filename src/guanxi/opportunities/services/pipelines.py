"""Setting up pipelines and their stages.

Rules enforced here:
- `pipeline.manage` for every change; `pipeline_default()` creates the first pipeline itself, so a fresh
  installation (or a lead converted on day one) always has somewhere to put an opportunity.
- A pipeline keeps at least one open stage, exactly one won stage and one lost stage, ordered open stages
  first; a won stage's probability is 100 and a lost stage's 0.
- Stage names are the users' data, unique within a pipeline. Changing a stage's default probability does
  not touch the opportunities already in it: the new default applies from their next move.
- A stage that holds opportunities cannot be deleted (move them first); one that only appears in the
  history of past moves is kept, inactive, so that history still reads; an unused one is deleted.
- A stage's kind (open, won, lost) cannot change while opportunities are in it: their status would lie.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record
from guanxi.core.errors import Conflict, Errors, NotFound
from guanxi.core.permissions import ensure_can
from guanxi.opportunities.models import Opportunity, Pipeline, Stage, StageChange
from guanxi.opportunities.services._common import blank, clean_probability
from guanxi.users.models import User


class StageNotEmpty(Conflict):
    code = "stage_not_empty"
    default_message = "This stage holds opportunities; move them to another stage first."


def _default_stages() -> list[dict[str, Any]]:
    # Created in the language active at the time; from then on the names are the users' data.
    return [
        {"name": _("Initial contact"), "probability": 10, "kind": Stage.Kind.OPEN},
        {"name": _("Needs confirmed"), "probability": 25, "kind": Stage.Kind.OPEN},
        {"name": _("Proposal and quote"), "probability": 50, "kind": Stage.Kind.OPEN},
        {"name": _("Negotiation"), "probability": 75, "kind": Stage.Kind.OPEN},
        {"name": _("Won"), "probability": 100, "kind": Stage.Kind.WON},
        {"name": _("Lost"), "probability": 0, "kind": Stage.Kind.LOST},
    ]


def _clean_stage_specs(specs: Sequence[Mapping[str, Any]], errors: Errors) -> list[Stage]:
    stages: list[Stage] = []
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        prefix = f"stages.{index}"
        name = str(spec.get("name") or "").strip()
        kind = str(spec.get("kind") or Stage.Kind.OPEN)
        if not name:
            errors.add(f"{prefix}.name", _("This field is required."))
        elif len(name) > 60:
            errors.add(f"{prefix}.name", _("Enter at most %(limit)d characters.") % {"limit": 60})
        elif name.casefold() in seen:
            errors.add(f"{prefix}.name", _("Two stages cannot have the same name."))
        seen.add(name.casefold())
        if kind not in Stage.Kind.values:
            errors.add(f"{prefix}.kind", _("“%(value)s” is not one of the allowed values.") % {"value": kind})
        probability = _kind_probability(kind, spec.get("probability"), f"{prefix}.probability", errors)
        stages.append(Stage(name=name, kind=kind, probability=probability or 0))
    _check_shape([stage.kind for stage in stages], errors)
    return stages


def _kind_probability(kind: str, value: Any, field: str, errors: Errors) -> int | None:
    if kind == Stage.Kind.WON:
        return 100
    if kind == Stage.Kind.LOST:
        return 0
    if blank(value):
        errors.add(field, _("This field is required."))
        return None
    return clean_probability(value, errors, field)


def _check_shape(kinds: Sequence[str], errors: Errors, field: str = "stages") -> None:
    if Stage.Kind.OPEN not in kinds:
        errors.add(field, _("A pipeline needs at least one open stage."))
    if kinds.count(Stage.Kind.WON) != 1 or kinds.count(Stage.Kind.LOST) != 1:
        errors.add(field, _("A pipeline needs exactly one won stage and one lost stage."))


def _save_stages(pipeline: Pipeline, stages: list[Stage]) -> None:
    # Open stages first, then won, then lost: the board reads left to right in that order.
    order = {Stage.Kind.OPEN: 0, Stage.Kind.WON: 1, Stage.Kind.LOST: 2}
    stages.sort(key=lambda stage: order[Stage.Kind(stage.kind)])
    for position, stage in enumerate(stages):
        stage.pipeline, stage.position = pipeline, position
    Stage.objects.bulk_create(stages)


def pipeline_default(*, actor: User | None = None) -> Pipeline:
    """The default pipeline: the first active one. When there is none, one is created with the usual
    stages (初步接洽 10%, 需求确认 25%, 方案报价 50%, 谈判 75%, 赢单, 输单), named in the active language."""
    pipeline = Pipeline.objects.filter(active=True).order_by("position", "id").first()
    if pipeline is not None:
        return pipeline
    try:
        with transaction.atomic():
            pipeline = Pipeline.objects.create(name=_("Sales pipeline"))
            stages = [Stage(**spec) for spec in _default_stages()]
            _save_stages(pipeline, stages)
            audit_record(actor=actor, action="pipeline.create", target=pipeline, data={"default": True})
    except IntegrityError:
        # Another request created it first (the name is unique).
        pipeline = Pipeline.objects.filter(active=True).order_by("position", "id").first()
        if pipeline is None:
            raise
    return pipeline


@transaction.atomic
def pipeline_create(*, actor: User, name: str, stages: Sequence[Mapping[str, Any]] = ()) -> Pipeline:
    """A new pipeline with `stages` ({name, probability, kind}), or the usual stages when none given."""
    ensure_can(actor, "pipeline.manage")
    errors = Errors()
    name = str(name or "").strip()
    if not name:
        errors.add("name", _("This field is required."))
    elif len(name) > 100:
        errors.add("name", _("Enter at most %(limit)d characters.") % {"limit": 100})
    elif Pipeline.objects.filter(name=name).exists():
        errors.add("name", _("A pipeline with this name exists already."))
    cleaned = _clean_stage_specs(stages or _default_stages(), errors)
    errors.raise_if_any()
    last = Pipeline.objects.order_by("-position").values_list("position", flat=True).first()
    pipeline = Pipeline.objects.create(name=name, position=(last or 0) + 1)
    _save_stages(pipeline, cleaned)
    audit_record(
        actor=actor,
        action="pipeline.create",
        target=pipeline,
        data={"stages": [f"{stage.name} ({stage.kind}, {stage.probability}%)" for stage in cleaned]},
    )
    return pipeline


@transaction.atomic
def pipeline_update(
    *, actor: User, pipeline: Pipeline, name: str | None = None, active: bool | None = None
) -> Pipeline:
    """Rename a pipeline or switch it off (its opportunities stay; it leaves the board's choices)."""
    ensure_can(actor, "pipeline.manage")
    pipeline = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    errors = Errors()
    changes: dict[str, list[Any]] = {}
    if name is not None:
        name = name.strip()
        if not name:
            errors.add("name", _("This field is required."))
        elif len(name) > 100:
            errors.add("name", _("Enter at most %(limit)d characters.") % {"limit": 100})
        elif Pipeline.objects.filter(name=name).exclude(pk=pipeline.pk).exists():
            errors.add("name", _("A pipeline with this name exists already."))
        elif name != pipeline.name:
            changes["name"] = [pipeline.name, name]
            pipeline.name = name
    if active is not None and active != pipeline.active:
        if not active and not Pipeline.objects.filter(active=True).exclude(pk=pipeline.pk).exists():
            errors.add("active", _("Keep at least one pipeline active."))
        changes["active"] = [pipeline.active, active]
        pipeline.active = active
    errors.raise_if_any()
    if changes:
        pipeline.save()
        audit_record(actor=actor, action="pipeline.update", target=pipeline, changes=changes)
    return pipeline


def _pipeline_stages(pipeline: Pipeline) -> list[Stage]:
    return list(
        Stage.objects.select_for_update().filter(pipeline=pipeline, active=True).order_by("position", "id")
    )


@transaction.atomic
def stage_create(
    *, actor: User, pipeline: Pipeline, name: str, probability: Any, kind: str = Stage.Kind.OPEN
) -> Stage:
    """A new open stage, placed after the pipeline's last open stage. (A pipeline has one won and one
    lost stage, made with it; a second would make closing ambiguous.)"""
    ensure_can(actor, "pipeline.manage")
    errors = Errors()
    stages = _pipeline_stages(pipeline)
    name = str(name or "").strip()
    if kind != Stage.Kind.OPEN:
        errors.add("kind", _("A pipeline has one won stage and one lost stage; add open stages only."))
    if not name:
        errors.add("name", _("This field is required."))
    elif len(name) > 60:
        errors.add("name", _("Enter at most %(limit)d characters.") % {"limit": 60})
    elif Stage.objects.filter(pipeline=pipeline, name=name).exists():
        errors.add("name", _("Two stages cannot have the same name."))
    value = _kind_probability(Stage.Kind.OPEN, probability, "probability", errors)
    errors.raise_if_any()
    open_count = sum(1 for stage in stages if stage.kind == Stage.Kind.OPEN)
    stage = Stage(pipeline=pipeline, name=name, probability=value or 0, kind=Stage.Kind.OPEN)
    stages.insert(open_count, stage)
    stage.position = open_count
    stage.save()
    _renumber(stages)
    audit_record(
        actor=actor,
        action="stage.create",
        target=stage,
        data={"pipeline": pipeline.name, "probability": value},
    )
    return stage


def _renumber(stages: Sequence[Stage]) -> None:
    for position, stage in enumerate(stages):
        stage.position = position
    Stage.objects.bulk_update(stages, ["position"])


@transaction.atomic
def stage_update(
    *, actor: User, stage: Stage, name: str | None = None, probability: Any = None, kind: str | None = None
) -> Stage:
    """Rename a stage, change its default probability or (when empty) its kind. See the module's rules."""
    ensure_can(actor, "pipeline.manage")
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    errors = Errors()
    changes: dict[str, list[Any]] = {}
    if name is not None:
        name = name.strip()
        if not name:
            errors.add("name", _("This field is required."))
        elif len(name) > 60:
            errors.add("name", _("Enter at most %(limit)d characters.") % {"limit": 60})
        elif Stage.objects.filter(pipeline_id=stage.pipeline_id, name=name).exclude(pk=stage.pk).exists():
            errors.add("name", _("Two stages cannot have the same name."))
        elif name != stage.name:
            changes["name"] = [stage.name, name]
    new_kind = stage.kind if kind is None else kind
    if new_kind != stage.kind:
        if new_kind not in Stage.Kind.values:
            errors.add("kind", _("“%(value)s” is not one of the allowed values.") % {"value": new_kind})
        elif Opportunity.objects.filter(stage=stage).exists():
            errors.add("kind", _("Move this stage's opportunities elsewhere before changing its kind."))
        else:
            kinds = [
                new_kind if other.pk == stage.pk else other.kind
                for other in Stage.objects.filter(pipeline_id=stage.pipeline_id, active=True)
            ]
            _check_shape(kinds, errors, "kind")
        changes["kind"] = [stage.kind, new_kind]
    if probability is not None or "kind" in changes:
        value = _kind_probability(
            new_kind, stage.probability if probability is None else probability, "probability", errors
        )
        if value is not None and value != stage.probability:
            changes["probability"] = [stage.probability, value]
    errors.raise_if_any()
    if changes:
        for field, (_old, new) in changes.items():
            setattr(stage, field, new)
        stage.save()
        audit_record(actor=actor, action="stage.update", target=stage, changes=changes)
        if "kind" in changes:
            stages = _pipeline_stages(stage.pipeline)
            order = {Stage.Kind.OPEN: 0, Stage.Kind.WON: 1, Stage.Kind.LOST: 2}
            _renumber(sorted(stages, key=lambda s: (order[Stage.Kind(s.kind)], s.position)))
    return stage


@transaction.atomic
def stage_reorder(*, actor: User, pipeline: Pipeline, stage_ids: Sequence[int]) -> list[Stage]:
    """Put the pipeline's open stages in the order given (every open stage's id, once); won and lost
    stay at the end."""
    ensure_can(actor, "pipeline.manage")
    stages = _pipeline_stages(pipeline)
    open_stages = {stage.pk: stage for stage in stages if stage.kind == Stage.Kind.OPEN}
    ids = [int(pk) for pk in stage_ids]
    if sorted(ids) != sorted(open_stages):
        errors = Errors()
        errors.add("stage_ids", _("Send every open stage of the pipeline once."))
        errors.raise_if_any()
    before = [stage.name for stage in stages]
    ordered = [open_stages[pk] for pk in ids] + [stage for stage in stages if stage.kind != Stage.Kind.OPEN]
    _renumber(ordered)
    audit_record(
        actor=actor,
        action="pipeline.reorder",
        target=pipeline,
        changes={"stages": [before, [stage.name for stage in ordered]]},
    )
    return ordered


@transaction.atomic
def stage_delete(*, actor: User, stage: Stage) -> None:
    """Remove a stage; refused while it holds opportunities. See the module's rules."""
    ensure_can(actor, "pipeline.manage")
    try:
        stage = Stage.objects.select_for_update().get(pk=stage.pk, active=True)
    except Stage.DoesNotExist as exc:
        raise NotFound(_("Stage not found.")) from exc
    held = Opportunity.objects.filter(stage=stage).count()
    if held:
        raise StageNotEmpty(
            _("“%(stage)s” holds %(count)d opportunities; move them to another stage first.")
            % {"stage": stage.name, "count": held},
            details={"opportunities": held},
        )
    if stage.kind != Stage.Kind.OPEN:
        raise Conflict(_("A pipeline keeps its won and lost stages."))
    remaining = Stage.objects.filter(pipeline_id=stage.pipeline_id, active=True, kind=Stage.Kind.OPEN)
    if not remaining.exclude(pk=stage.pk).exists():
        raise Conflict(_("A pipeline needs at least one open stage."))
    audit_record(actor=actor, action="stage.delete", target=stage, data={"pipeline": stage.pipeline_id})
    if StageChange.objects.filter(Q(from_stage=stage) | Q(to_stage=stage)).exists():
        stage.active = False
        stage.save(update_fields=["active"])
    else:
        stage.delete()
    _renumber(_pipeline_stages(stage.pipeline))
