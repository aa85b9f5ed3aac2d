"""Opportunities: creating, editing, moving between stages, closing and reopening them.

Rules enforced here and nowhere else:
- `opportunity.create` to create, `opportunity.change` for everything else; the opportunity must be in the
  actor's scope (its owner and team), else NotFound; a new one's customer must be in the actor's scope.
- The owner defaults to the actor; a sales rep cannot give one away, a manager only within the team; the
  team is always the owner's.
- The status follows the stage's kind; moving into a won or lost stage closes the opportunity (a lost one
  needs a reason code); a closed one moves only by `opportunity_reopen`.
- Probability: each stage change sets the new stage's default probability, unless a rep set the
  probability by hand (`probability_manual`), which then stays until they clear it (probability None).
  Closing sets 100 (won) or 0 (lost) in every case; reopening goes back to the rule.
- Every stage change writes a `StageChange` (who, when, from → to), an audit event and a timeline entry
  on the customer; moves within a column only change `position`.
- Closing won can book an order (guanxi.sales.services.order_create) from the lines, or the amount when
  there are none, once: a closed opportunity cannot be closed again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record
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


def _timeline(opportunity: Opportunity, kind: str, actor: User, when: Any, **data: Any) -> None:
    TimelineEntry.objects.create(
        customer_id=opportunity.customer_id,
        occurred_at=when,
        kind=kind,
        actor=actor_or_none(actor),
        data={"opportunity_id": opportunity.pk, "name": opportunity.name, **data},
    )


def _record_stage_change(opportunity: Opportunity, before: Stage | None, actor: User, when: Any) -> None:
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
    _record_stage_change(opportunity, None, actor, now)
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
    _timeline(opportunity, "opportunity.created", actor, now, stage=stage.name, amount=str(stated))
    return opportunity
