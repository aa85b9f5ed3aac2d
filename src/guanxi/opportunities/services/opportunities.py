"""Opportunities: creating and editing them. Moving, closing and reopening: `moves`.

Rules enforced here and in `moves`:
- `opportunity.create` to create, `opportunity.change` for everything else; the opportunity must be in the
  actor's scope (its owner and team), else NotFound; a new one's customer must be in the actor's scope.
- The owner defaults to the actor; a sales rep cannot give one away, a manager only within the team; the
  team is always the owner's.
- Probability: a new one takes its stage's default unless one is given, which counts as set by hand
  (`probability_manual`); setting it to None later gives it back to the stage's default.
- Every opportunity starts its stage history with a `StageChange` from nothing to its first stage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record, changes_between
from guanxi.core.errors import Conflict, Errors
from guanxi.core.permissions import ensure_can
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.opportunities.models import ZERO, Opportunity, OpportunityLine, Pipeline, Stage, StageChange
from guanxi.opportunities.services._common import (
    actor_or_none,
    blank,
    check_owner,
    clean_date,
    clean_lines,
    clean_money,
    clean_probability,
    clean_text,
    lines_total,
    lock_opportunity,
    top_position,
    visible_customer,
)
from guanxi.opportunities.services.pipelines import pipeline_default
from guanxi.users.models import User


class OpportunityAlreadyClosed(Conflict):
    code = "opportunity_already_closed"
    default_message = "This opportunity is closed already."


class OpportunityNotClosed(Conflict):
    code = "opportunity_not_closed"
    default_message = "This opportunity is open."


def timeline_add(opportunity: Opportunity, kind: str, actor: User, when: Any, **data: Any) -> None:
    TimelineEntry.objects.create(
        customer_id=opportunity.customer_id,
        occurred_at=when,
        kind=kind,
        actor=actor_or_none(actor),
        data={"opportunity_id": opportunity.pk, "name": opportunity.name, **data},
    )


def record_stage_change(opportunity: Opportunity, before: Stage | None, actor: User, when: Any) -> None:
    StageChange.objects.create(
        opportunity=opportunity,
        from_stage=before,
        to_stage=opportunity.stage,
        changed_by=actor_or_none(actor),
        changed_at=when,
    )


def _resolve_stage(
    pipeline: Pipeline | None, stage: Stage | None, errors: Errors
) -> tuple[Pipeline, Stage] | None:
    if stage is not None:
        if pipeline is not None and stage.pipeline_id != pipeline.pk:
            errors.add("stage", _("This stage belongs to another pipeline."))
            return None
        if not stage.active or stage.kind != Stage.Kind.OPEN:
            errors.add("stage", _("Choose an open stage."))
            return None
        return stage.pipeline, stage
    pipeline = pipeline or pipeline_default()
    if not pipeline.active:
        errors.add("pipeline", _("The pipeline “%(name)s” is inactive.") % {"name": pipeline.name})
        return None
    first = (
        Stage.objects.filter(pipeline=pipeline, active=True, kind=Stage.Kind.OPEN)
        .order_by("position", "id")
        .first()
    )
    if first is None:
        errors.add("pipeline", _("The pipeline “%(name)s” has no open stage.") % {"name": pipeline.name})
        return None
    return pipeline, first


@transaction.atomic
def opportunity_create(
    *,
    actor: User,
    customer: Customer,
    name: str,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    amount: Any = Decimal("0"),
    probability: Any = None,
    expected_close: date | str | None = None,
    owner: User | None = None,
    next_step: str = "",
    competitors: str = "",
    description: str = "",
    lines: Sequence[Mapping[str, Any]] = (),
) -> Opportunity:
    """A new open opportunity for `customer`, at the top of its stage's column.

    Pipeline None: the default one; stage None: its first open stage. Lines are `product_id`, `quantity`
    (1) and `unit_price` (the product's); with lines and no amount (or 0), the amount is their total.
    Probability None: the stage's default; a number sets it by hand.
    """
    ensure_can(actor, "opportunity.create")
    customer = visible_customer(actor, customer)
    errors = Errors()
    texts = {
        "name": clean_text("name", name, errors, required=True),
        "next_step": clean_text("next_step", next_step, errors),
        "competitors": clean_text("competitors", competitors, errors),
        "description": clean_text("description", description, errors),
    }
    resolved = _resolve_stage(pipeline, stage, errors)
    owner = owner or actor
    check_owner(actor, owner, errors)
    close_date = clean_date(expected_close, "expected_close", errors)
    stated = ZERO if blank(amount) else clean_money(amount, "amount", errors)
    manual = None if blank(probability) else clean_probability(probability, errors)
    opportunity_lines = clean_lines(list(lines), errors)
    errors.raise_if_any()
    assert resolved is not None and stated is not None
    pipeline, stage = resolved
    if opportunity_lines and stated == ZERO:
        stated = lines_total(opportunity_lines)
    now = timezone.now()
    opportunity = Opportunity.objects.create(
        customer=customer,
        pipeline=pipeline,
        stage=stage,
        status=Opportunity.Status.OPEN,
        amount=stated,
        probability=stage.probability if manual is None else manual,
        probability_manual=manual is not None,
        expected_close=close_date,
        owner=owner,
        team_id=owner.team_id,
        position=top_position(stage),
        stage_changed_at=now,
        created_by=actor_or_none(actor),
        **texts,
    )
    for line in opportunity_lines:
        line.opportunity = opportunity
    OpportunityLine.objects.bulk_create(opportunity_lines)
    record_stage_change(opportunity, None, actor, now)
    audit_record(
        actor=actor,
        action="opportunity.create",
        target=opportunity,
        data={
            "customer": customer.pk,
            "pipeline": pipeline.name,
            "stage": stage.name,
            "amount": str(stated),
            "owner": owner.username,
            "lines": len(opportunity_lines),
        },
    )
    timeline_add(opportunity, "opportunity.created", actor, now, stage=stage.name, amount=str(stated))
    return opportunity


UPDATABLE = (
    "name",
    "amount",
    "probability",
    "expected_close",
    "next_step",
    "competitors",
    "description",
    "owner",
)


def _snapshot(opportunity: Opportunity) -> dict[str, Any]:
    return {
        "name": opportunity.name,
        "amount": str(opportunity.amount),
        "probability": opportunity.probability,
        "probability_manual": opportunity.probability_manual,
        "expected_close": opportunity.expected_close.isoformat() if opportunity.expected_close else None,
        "next_step": opportunity.next_step,
        "competitors": opportunity.competitors,
        "description": opportunity.description,
        "owner": opportunity.owner.username if opportunity.owner else None,
    }


@transaction.atomic
def opportunity_update(
    *,
    actor: User,
    opportunity: Opportunity,
    lines: Sequence[Mapping[str, Any]] | None = None,
    **fields: Any,
) -> Opportunity:
    """Change the fields given (among UPDATABLE); `lines` replaces every line when given.

    `probability`: a number sets it by hand; None gives it back to the stage's default (of an open one).
    With `lines` and no `amount`, the amount becomes the lines' total.
    """
    ensure_can(actor, "opportunity.change")
    opportunity = lock_opportunity(actor, opportunity)
    errors = Errors()
    for key in sorted(set(fields) - set(UPDATABLE)):
        errors.add(key, _("Unknown field."))
    before = _snapshot(opportunity)
    for key in ("name", "next_step", "competitors", "description"):
        if key in fields:
            setattr(opportunity, key, clean_text(key, fields[key], errors, required=key == "name"))
    if "amount" in fields:
        amount = ZERO if blank(fields["amount"]) else clean_money(fields["amount"], "amount", errors)
        if amount is not None:
            opportunity.amount = amount
    if "expected_close" in fields:
        opportunity.expected_close = clean_date(fields["expected_close"], "expected_close", errors)
    if "probability" in fields:
        if blank(fields["probability"]):
            opportunity.probability_manual = False
            if opportunity.status == Opportunity.Status.OPEN:
                opportunity.probability = opportunity.stage.probability
        elif opportunity.status != Opportunity.Status.OPEN:
            errors.add("probability", _("A closed opportunity's probability is fixed; reopen it first."))
        else:
            value = clean_probability(fields["probability"], errors)
            if value is not None and (value != opportunity.probability or not opportunity.probability_manual):
                opportunity.probability, opportunity.probability_manual = value, True
    if "owner" in fields and fields["owner"] is not None and fields["owner"].pk != opportunity.owner_id:
        check_owner(actor, fields["owner"], errors)
        opportunity.owner = fields["owner"]
        opportunity.team_id = fields["owner"].team_id
    new_lines = None if lines is None else clean_lines(list(lines), errors)
    errors.raise_if_any()
    if new_lines is not None:
        opportunity.lines.all().delete()
        for line in new_lines:
            line.opportunity = opportunity
        OpportunityLine.objects.bulk_create(new_lines)
        if "amount" not in fields or blank(fields["amount"]):
            opportunity.amount = lines_total(new_lines)
    changes = changes_between(before, _snapshot(opportunity))
    if new_lines is not None:
        changes["lines"] = [None, len(new_lines)]
    if changes:
        opportunity.save()
        audit_record(actor=actor, action="opportunity.update", target=opportunity, changes=changes)
    return opportunity
