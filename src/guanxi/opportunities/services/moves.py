"""Moving opportunities on the board, closing them won or lost, and reopening them.

Rules enforced here and nowhere else:
- `opportunity.change`, and the opportunity in the actor's scope (else NotFound).
- The status follows the stage's kind: moving into a won or lost stage closes the opportunity (a lost one
  needs a reason code from `Opportunity.LostReason`); a closed one moves only by `opportunity_reopen`,
  and closing one that is closed is refused (409 `opportunity_already_closed`).
- Probability: each stage change sets the new stage's default probability, unless a rep set the
  probability by hand (`probability_manual`), which then stays through moves until they clear it.
  Closing sets 100 (won) or 0 (lost) in every case; reopening gives it back to the stage's default.
- Every stage change writes a `StageChange` (who, when, from → to), an audit event and a timeline entry
  on the customer; a move within a column only changes `position` (cards sit GAP apart, so usually one
  row is written; when two neighbours touch, the rest of the column shifts in one UPDATE).
- Closing won can book an order (guanxi.sales.services.order_create) from the lines, or from the amount
  when there are none, in the same transaction: if the order is refused, so is the close.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record
from guanxi.catalog.models import Store
from guanxi.core.errors import Conflict, Errors
from guanxi.core.permissions import ensure_can, scope_q
from guanxi.opportunities.models import Opportunity, Stage, StageChange
from guanxi.opportunities.services._common import GAP, clean_text, lock_opportunity, top_position
from guanxi.opportunities.services.opportunities import (
    OpportunityAlreadyClosed,
    OpportunityNotClosed,
    record_stage_change,
    timeline_add,
)
from guanxi.users.models import User


def _place_after(stage: Stage, anchor: Opportunity, moving: Opportunity) -> int:
    """A position right after `anchor` in `stage`'s column, opening a gap (one UPDATE) when none is left."""
    column = Opportunity.objects.filter(stage=stage).exclude(pk=moving.pk)
    after_anchor = Q(position__gt=anchor.position) | Q(position=anchor.position, id__gt=anchor.pk)
    following = (
        column.filter(after_anchor).order_by("position", "id").values_list("position", flat=True).first()
    )
    if following is None:
        return anchor.position + GAP
    if following - anchor.position >= 2:
        return (anchor.position + following) // 2
    column.filter(after_anchor).update(position=F("position") + GAP)
    return anchor.position + GAP // 2


def _place_before(stage: Stage, anchor: Opportunity, moving: Opportunity) -> int:
    column = Opportunity.objects.filter(stage=stage).exclude(pk=moving.pk)
    before_anchor = Q(position__lt=anchor.position) | Q(position=anchor.position, id__lt=anchor.pk)
    previous = column.filter(before_anchor).order_by("-position", "-id").first()
    if previous is None:
        return anchor.position - GAP
    return _place_after(stage, previous, moving)


def _anchor(
    actor: User, value: Opportunity | int | None, stage: Stage, field: str, errors: Errors
) -> Opportunity | None:
    if value is None:
        return None
    pk = value.pk if isinstance(value, Opportunity) else value
    # Only a card the actor sees can be a neighbour: the answer must not tell where hidden cards are.
    anchor = Opportunity.objects.filter(scope_q(actor), pk=pk).only("id", "position", "stage_id").first()
    if anchor is None or anchor.stage_id != stage.pk:
        errors.add(field, _("That card is not in the target stage any more; reload the board."))
        return None
    return anchor


def _target_stage(opportunity: Opportunity, stage: Stage | int | None, errors: Errors) -> Stage | None:
    if stage is None:
        return opportunity.stage
    pk = stage.pk if isinstance(stage, Stage) else stage
    target = Stage.objects.filter(pk=pk, pipeline_id=opportunity.pipeline_id, active=True).first()
    if target is None:
        errors.add("stage", _("Choose a stage of this opportunity's pipeline."))
    return target


@transaction.atomic
def opportunity_move(
    *,
    actor: User,
    opportunity: Opportunity,
    stage: Stage | int | None = None,
    after: Opportunity | int | None = None,
    before: Opportunity | int | None = None,
    lost_reason: str = "",
    note: str = "",
) -> Opportunity:
    """The kanban drop: to `stage` (None: stay) and right after the card `after` or right before the card
    `before` in its column (neither: the top). Into a won stage it closes won (no order: see
    `opportunity_close_won`), into a lost stage closes lost and needs `lost_reason`."""
    ensure_can(actor, "opportunity.change")
    opportunity = lock_opportunity(actor, opportunity)
    if opportunity.status != Opportunity.Status.OPEN:
        raise OpportunityAlreadyClosed(_("This opportunity is closed; reopen it before moving it."))
    errors = Errors()
    target = _target_stage(opportunity, stage, errors)
    errors.raise_if_any()
    assert target is not None
    if target.kind == Stage.Kind.WON:
        return _close(actor, opportunity, target, Opportunity.Status.WON, "", note)
    if target.kind == Stage.Kind.LOST:
        reason = _clean_reason(lost_reason, errors)
        errors.raise_if_any()
        return _close(actor, opportunity, target, Opportunity.Status.LOST, reason, note)
    after_card = _anchor(actor, after, target, "after", errors)
    before_card = None if after_card else _anchor(actor, before, target, "before", errors)
    errors.raise_if_any()
    if after_card is not None:
        position = _place_after(target, after_card, opportunity)
    elif before_card is not None:
        position = _place_before(target, before_card, opportunity)
    else:
        position = top_position(target)
    previous = opportunity.stage
    opportunity.position = position
    if target.pk == previous.pk:
        opportunity.save(update_fields=["position", "updated_at"])
        return opportunity
    now = timezone.now()
    opportunity.stage = target
    opportunity.stage_changed_at = now
    if not opportunity.probability_manual:
        opportunity.probability = target.probability
    opportunity.save()
    record_stage_change(opportunity, previous, actor, now)
    audit_record(
        actor=actor,
        action="opportunity.move",
        target=opportunity,
        changes={"stage": [previous.name, target.name]},
        data={"probability": opportunity.probability},
    )
    timeline_add(
        opportunity, "opportunity.stage_changed", actor, now, from_stage=previous.name, to_stage=target.name
    )
    return opportunity


def _clean_reason(value: str, errors: Errors) -> str:
    reason = str(value or "")
    if not reason:
        errors.add("lost_reason", _("Choose why it was lost."))
    elif reason not in Opportunity.LostReason.values:
        errors.add("lost_reason", _("“%(value)s” is not one of the allowed values.") % {"value": reason})
    return reason


def _closing_stage(opportunity: Opportunity, kind: str) -> Stage:
    stage = (
        Stage.objects.filter(pipeline_id=opportunity.pipeline_id, kind=kind, active=True)
        .order_by("position", "id")
        .first()
    )
    if stage is None:
        raise Conflict(_("The pipeline “%(name)s” has no such stage.") % {"name": opportunity.pipeline.name})
    return stage


def _close(
    actor: User, opportunity: Opportunity, stage: Stage, status: str, reason: str, note: str
) -> Opportunity:
    errors = Errors()
    note = clean_text("close_note", note, errors)
    errors.raise_if_any()
    now = timezone.now()
    previous = opportunity.stage
    opportunity.stage, opportunity.status = stage, status
    opportunity.stage_changed_at = opportunity.closed_at = now
    opportunity.probability = 100 if status == Opportunity.Status.WON else 0
    opportunity.lost_reason, opportunity.close_note = reason, note
    opportunity.position = top_position(stage)
    opportunity.save()
    record_stage_change(opportunity, previous, actor, now)
    action = "opportunity.won" if status == Opportunity.Status.WON else "opportunity.lost"
    audit_record(
        actor=actor,
        action=action,
        target=opportunity,
        changes={"stage": [previous.name, stage.name], "status": [Opportunity.Status.OPEN, status]},
        data={"amount": str(opportunity.amount), "lost_reason": reason or None, "note": note or None},
    )
    timeline_add(
        opportunity,
        action,
        actor,
        now,
        from_stage=previous.name,
        amount=str(opportunity.amount),
        lost_reason=reason,
        note=note,
    )
    return opportunity


@transaction.atomic
def opportunity_close_won(
    *,
    actor: User,
    opportunity: Opportunity,
    note: str = "",
    create_order: bool = False,
    store: Store | None = None,
    payment_method: str | None = None,
) -> Opportunity:
    """Close as won (into the pipeline's won stage). With `create_order`, book an order for the customer
    from the lines (or the amount when there are none) in the same transaction, and link it; a refused
    order (no `order.create`, no amount) refuses the close as well. Closing twice is refused."""
    from guanxi.sales.models import Order
    from guanxi.sales.services import order_create

    ensure_can(actor, "opportunity.change")
    opportunity = lock_opportunity(actor, opportunity)
    if opportunity.status != Opportunity.Status.OPEN:
        raise OpportunityAlreadyClosed(_("This opportunity is closed already."))
    won = _closing_stage(opportunity, Stage.Kind.WON)
    opportunity = _close(actor, opportunity, won, Opportunity.Status.WON, "", note)
    if create_order:
        if opportunity.order_id is not None:
            raise Conflict(
                _("This opportunity has an order already (#%(id)s).") % {"id": opportunity.order_id}
            )
        lines = [
            {"product_id": line.product_id, "quantity": line.quantity, "unit_price": line.unit_price}
            for line in opportunity.lines.all()
        ]
        order = order_create(
            actor=actor,
            customer=opportunity.customer,
            amount=None if lines else opportunity.amount,
            lines=lines,
            store=store,
            payment_method=payment_method or Order.PaymentMethod.OTHER,
            channel=Order.Channel.OTHER,
            note=_("From opportunity #%(id)s: %(name)s") % {"id": opportunity.pk, "name": opportunity.name},
            idempotency_key=f"opportunity-{opportunity.pk}-won",
        )
        opportunity.order = order
        opportunity.save(update_fields=["order", "updated_at"])
        audit_record(actor=actor, action="opportunity.order", target=opportunity, data={"order": order.pk})
    return opportunity


@transaction.atomic
def opportunity_close_lost(
    *, actor: User, opportunity: Opportunity, reason: str, note: str = ""
) -> Opportunity:
    """Close as lost (into the pipeline's lost stage) with a reason code (Opportunity.LostReason) and
    free words. Closing twice is refused."""
    ensure_can(actor, "opportunity.change")
    opportunity = lock_opportunity(actor, opportunity)
    if opportunity.status != Opportunity.Status.OPEN:
        raise OpportunityAlreadyClosed(_("This opportunity is closed already."))
    errors = Errors()
    reason = _clean_reason(reason, errors)
    errors.raise_if_any()
    lost = _closing_stage(opportunity, Stage.Kind.LOST)
    return _close(actor, opportunity, lost, Opportunity.Status.LOST, reason, note)


@transaction.atomic
def opportunity_reopen(
    *, actor: User, opportunity: Opportunity, stage: Stage | int | None = None
) -> Opportunity:
    """Open a closed opportunity again, into `stage` or else the last open stage it was in. Its reason
    and close note are cleared (the audit log and timeline keep them); a linked order stays linked."""
    ensure_can(actor, "opportunity.change")
    opportunity = lock_opportunity(actor, opportunity)
    if opportunity.status == Opportunity.Status.OPEN:
        raise OpportunityNotClosed(_("This opportunity is open."))
    errors = Errors()
    if stage is None:
        last = (
            StageChange.objects.filter(
                opportunity=opportunity, to_stage__kind=Stage.Kind.OPEN, to_stage__active=True
            )
            .order_by("-changed_at", "-id")
            .select_related("to_stage")
            .first()
        )
        target = last.to_stage if last else None
        if target is None:
            target = _closing_stage(opportunity, Stage.Kind.OPEN)
    else:
        target = _target_stage(opportunity, stage, errors)
        if target is not None and target.kind != Stage.Kind.OPEN:
            errors.add("stage", _("Choose an open stage."))
    errors.raise_if_any()
    assert target is not None
    now = timezone.now()
    previous, was = opportunity.stage, opportunity.status
    opportunity.stage, opportunity.status = target, Opportunity.Status.OPEN
    opportunity.stage_changed_at, opportunity.closed_at = now, None
    opportunity.lost_reason = opportunity.close_note = ""
    opportunity.position = top_position(target)
    # Closing overwrote any probability set by hand, so it follows the stage again.
    opportunity.probability, opportunity.probability_manual = target.probability, False
    opportunity.save()
    record_stage_change(opportunity, previous, actor, now)
    audit_record(
        actor=actor,
        action="opportunity.reopen",
        target=opportunity,
        changes={"stage": [previous.name, target.name], "status": [was, Opportunity.Status.OPEN]},
    )
    timeline_add(
        opportunity, "opportunity.reopened", actor, now, from_stage=previous.name, to_stage=target.name
    )
    return opportunity
