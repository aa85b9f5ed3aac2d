"""Follow-up rules: a task made automatically after a purchase, after a won opportunity, or before a
vehicle's service is due.

Rules enforced here and nowhere else:
- `followup.manage` to create, change or delete a rule. A title may use the placeholders {customer},
  {order}, {opportunity}, {plate}, {date}; any other is refused.
- `followups_apply` (the periodic job) reads the events since each rule's `scanned_until` (from a
  little before it: a transaction may commit after a later one) and makes one task per (rule, event),
  named by Task.rule_key ("rule:<rule>:<event>"), which is unique: a run twice, two runs at once, or a
  run after a long stop make each task once. Sales and opportunities are only read.
- A purchase counts from the rule's creation on (an import of last year's orders makes no calls);
  a fully refunded order makes none. A service-due rule looks `days` ahead of every vehicle's
  `next_service_on`; a new service date makes a new task.
- The task goes to the customer's owner when active and allowed to see tasks, else to the rule's
  fallback assignee; with neither, the event is skipped (and counted).
"""

from __future__ import annotations

import logging
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.activities.models import FollowUpRule, Task
from guanxi.audit.services import audit_record, changes_between
from guanxi.core.errors import Errors, NotFound
from guanxi.core.permissions import ROLES, ensure_can
from guanxi.customers.models import Asset, Customer
from guanxi.opportunities.models import Opportunity
from guanxi.sales.models import Order
from guanxi.users.models import User

log = logging.getLogger(__name__)
PLACEHOLDERS = ("customer", "order", "opportunity", "plate", "date")
RULE_TEXT = {"name": 100, "title_template": 200, "description": 2000}
MAX_DAYS = 365
# Events are read again from this long before the last run's end: a transaction that started earlier
# may commit after the run read past its rows.
LATE_COMMIT = timedelta(minutes=15)
PAGE = 500
RULE_FIELDS = {"name", "trigger", "days", "due_time", "title_template", "description", "priority"}
RULE_FIELDS |= {"fallback_assignee", "active"}


@dataclass
class Event:
    key: str  # unique within the rule: "order:12", "won:7", "service:3:2026-12-20"
    customer: Customer
    due_on: date
    parts: dict[str, str]
    opportunity: Opportunity | None = None
    # A service date set (or a rule made) late: due now rather than overdue from the start.
    not_before: datetime | None = None


def _template_errors(template: str) -> list[str]:
    try:
        names = [name for _text, name, _spec, _conv in string.Formatter().parse(template) if name is not None]
    except ValueError:
        return [_("Close every { with a }.")]
    unknown = sorted({name for name in names if name not in PLACEHOLDERS})
    if unknown:
        return [
            _("Unknown placeholder {%(name)s}; use %(allowed)s.")
            % {"name": unknown[0], "allowed": ", ".join("{" + p + "}" for p in PLACEHOLDERS)}
        ]
    return []


def _clean_rule(fields: dict[str, Any], errors: Errors) -> dict[str, Any]:
    for key in sorted(set(fields) - RULE_FIELDS):
        errors.add(key, _("Unknown field."))
    cleaned: dict[str, Any] = {}
    for key, limit in RULE_TEXT.items():
        if key in fields:
            value = str(fields[key] or "").strip()
            if not value and key != "description":
                errors.add(key, _("This field is required."))
            elif len(value) > limit:
                errors.add(key, _("Enter at most %(limit)d characters.") % {"limit": limit})
            cleaned[key] = value
    if cleaned.get("title_template"):
        for message in _template_errors(cleaned["title_template"]):
            errors.add("title_template", message)
    if "trigger" in fields:
        if fields["trigger"] not in FollowUpRule.Trigger.values:
            errors.add(
                "trigger", _("“%(value)s” is not one of the allowed values.") % {"value": fields["trigger"]}
            )
        cleaned["trigger"] = fields["trigger"]
    if "days" in fields:
        days = fields["days"]
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= MAX_DAYS:
            errors.add("days", _("Enter a whole number of days from 0 to %(limit)d.") % {"limit": MAX_DAYS})
        cleaned["days"] = days
    if "due_time" in fields:
        if not isinstance(fields["due_time"], time):
            errors.add("due_time", _("Enter a time of day."))
        cleaned["due_time"] = fields["due_time"]
    if "priority" in fields:
        if fields["priority"] not in Task.Priority.values:
            errors.add(
                "priority", _("“%(value)s” is not one of the allowed values.") % {"value": fields["priority"]}
            )
        cleaned["priority"] = fields["priority"]
    if "fallback_assignee" in fields:
        user = fields["fallback_assignee"]
        if user is not None and not _may_get_tasks(user):
            errors.add("fallback_assignee", _("This user cannot be given tasks."))
        cleaned["fallback_assignee"] = user
    if "active" in fields:
        cleaned["active"] = bool(fields["active"])
    return cleaned


def _may_get_tasks(user: User | None) -> bool:
    return bool(
        user is not None
        and user.is_active
        and "activity.view" in ROLES.get(user.role, {}).get("perms", set())
    )


@transaction.atomic
def followup_rule_create(
    *,
    actor: User,
    name: str,
    trigger: str,
    title_template: str,
    days: int = 3,
    due_time: time = time(10, 0),
    description: str = "",
    priority: int = Task.Priority.NORMAL,
    fallback_assignee: User | None = None,
    active: bool = True,
) -> FollowUpRule:
    """A new rule; it follows events from now on."""
    ensure_can(actor, "followup.manage")
    errors = Errors()
    cleaned = _clean_rule(
        {
            "name": name,
            "trigger": trigger,
            "title_template": title_template,
            "days": days,
            "due_time": due_time,
            "description": description,
            "priority": priority,
            "fallback_assignee": fallback_assignee,
            "active": active,
        },
        errors,
    )
    errors.raise_if_any()
    last_order = Order.objects.order_by("-pk").values_list("pk", flat=True).first()
    rule = FollowUpRule.objects.create(
        **cleaned, scanned_until=timezone.now(), order_id_floor=last_order or 0, created_by=actor
    )
    audit_record(actor=actor, action="followup_rule.create", target=rule, data=_rule_snapshot(rule))
    return rule


def _rule_snapshot(rule: FollowUpRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "trigger": rule.trigger,
        "days": rule.days,
        "due_time": rule.due_time.isoformat(timespec="minutes"),
        "title_template": rule.title_template,
        "description": rule.description,
        "priority": rule.priority,
        "fallback_assignee": rule.fallback_assignee_id,
        "active": rule.active,
    }


def _rule_in_db(rule: FollowUpRule) -> FollowUpRule:
    found = FollowUpRule.objects.select_for_update().filter(pk=rule.pk).first()
    if found is None:
        raise NotFound(_("Follow-up rule not found."))
    return found


@transaction.atomic
def followup_rule_update(*, actor: User, rule: FollowUpRule, **fields: Any) -> FollowUpRule:
    """Change a rule. Switched on again, it follows events from then, not those it missed while off."""
    ensure_can(actor, "followup.manage")
    rule = _rule_in_db(rule)
    errors = Errors()
    cleaned = _clean_rule(fields, errors)
    errors.raise_if_any()
    before = _rule_snapshot(rule)
    if cleaned.get("active") and not rule.active:
        rule.scanned_until = timezone.now()
    for key, value in cleaned.items():
        setattr(rule, key, value)
    rule.save()
    changes = changes_between(before, _rule_snapshot(rule))
    if changes:
        audit_record(actor=actor, action="followup_rule.update", target=rule, changes=changes)
    return rule


@transaction.atomic
def followup_rule_delete(*, actor: User, rule: FollowUpRule) -> None:
    """Delete a rule; the tasks it made stay."""
    ensure_can(actor, "followup.manage")
    rule = _rule_in_db(rule)
    audit_record(actor=actor, action="followup_rule.delete", target=rule, data=_rule_snapshot(rule))
    rule.delete()


# ---------------------------------------------------------------------------------------------------
# Applying the rules


def _local_date(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def _date_text(day: date) -> str:
    """Dates in a task title as 2026-12-20: the title is stored, so it does not follow a language."""
    return day.isoformat()


def _orders(rule: FollowUpRule, start: datetime, end: datetime) -> Iterator[Event]:
    orders = (
        Order.objects.filter(
            pk__gt=rule.order_id_floor,
            created_at__gt=start,
            created_at__lte=end,
            ordered_at__gte=rule.created_at,
        )
        .exclude(status=Order.Status.REFUNDED)
        .select_related("customer__owner")
        .order_by("created_at", "id")
    )
    for order in orders.iterator(chunk_size=PAGE):
        day = _local_date(order.ordered_at)
        yield Event(
            key=f"order:{order.pk}",
            customer=order.customer,
            due_on=day + timedelta(days=rule.days),
            parts={"customer": order.customer.name, "order": f"#{order.pk}", "date": _date_text(day)},
        )


def _won(rule: FollowUpRule, start: datetime, end: datetime) -> Iterator[Event]:
    won = (
        Opportunity.objects.filter(
            status=Opportunity.Status.WON,
            closed_at__gt=start,
            closed_at__lte=end,
            closed_at__gte=rule.created_at,
        )
        .select_related("customer__owner")
        .order_by("closed_at", "id")
    )
    for opportunity in won.iterator(chunk_size=PAGE):
        assert opportunity.closed_at is not None  # filtered above
        day = _local_date(opportunity.closed_at)
        yield Event(
            key=f"won:{opportunity.pk}",
            customer=opportunity.customer,
            due_on=day + timedelta(days=rule.days),
            parts={
                "customer": opportunity.customer.name,
                "opportunity": opportunity.name,
                "date": _date_text(day),
            },
            opportunity=opportunity,
        )


def _service_due(rule: FollowUpRule, now: datetime) -> Iterator[Event]:
    today = timezone.localtime(now).date()
    assets = (
        Asset.objects.filter(
            kind=Asset.Kind.VEHICLE,
            next_service_on__gte=today,
            next_service_on__lte=today + timedelta(days=rule.days),
        )
        .select_related("customer__owner")
        .order_by("next_service_on", "id")
    )
    for asset in assets.iterator(chunk_size=PAGE):
        assert asset.next_service_on is not None  # filtered above
        yield Event(
            key=f"service:{asset.pk}:{asset.next_service_on.isoformat()}",
            customer=asset.customer,
            due_on=max(today, asset.next_service_on - timedelta(days=rule.days)),
            parts={
                "customer": asset.customer.name,
                "plate": str(asset),
                "date": _date_text(asset.next_service_on),
            },
            not_before=now.replace(second=0, microsecond=0),
        )


class _Parts(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def _title(rule: FollowUpRule, event: Event) -> str:
    try:
        title = rule.title_template.format_map(_Parts(event.parts))
    except (ValueError, IndexError, KeyError, AttributeError):
        title = rule.title_template
    return " ".join(title.split())[:200] or rule.name


def _make_task(rule: FollowUpRule, event: Event, now: datetime) -> str:
    """The event's task: "created", "exists" (made before, or by a run at the same time) or "unassigned"."""
    owner = event.customer.owner
    assignee = owner if _may_get_tasks(owner) else rule.fallback_assignee
    if not _may_get_tasks(assignee):
        return "unassigned"
    assert assignee is not None
    due_at = timezone.make_aware(datetime.combine(event.due_on, rule.due_time))
    if event.not_before is not None and due_at < event.not_before:
        due_at = event.not_before
    try:
        with transaction.atomic():  # a savepoint: a clash on rule_key leaves the run going
            task = Task.objects.create(
                title=_title(rule, event),
                description=rule.description,
                assignee=assignee,
                team_id=assignee.team_id,
                due_at=due_at,
                remind_at=due_at,
                priority=rule.priority,
                customer=event.customer,
                opportunity=event.opportunity,
                rule=rule,
                rule_key=f"rule:{rule.pk}:{event.key}",
            )
    except IntegrityError:
        return "exists"
    audit_record(actor=None, action="task.create", target=task, data={"rule": rule.pk, "event": event.key})
    return "created"


def _apply_events(rule: FollowUpRule, events: Iterator[Event], now: datetime, counts: dict[str, int]) -> None:
    batch: list[Event] = []

    def flush() -> None:
        keys = [f"rule:{rule.pk}:{event.key}" for event in batch]
        done = set(Task.objects.filter(rule_key__in=keys).values_list("rule_key", flat=True))
        for event in batch:
            if f"rule:{rule.pk}:{event.key}" in done:
                counts["exists"] += 1
            else:
                counts[_make_task(rule, event, now)] += 1
        batch.clear()

    for event in events:
        batch.append(event)
        if len(batch) >= PAGE:
            flush()
    flush()


def _raise_order_floor(rule: FollowUpRule, now: datetime) -> None:
    """Move the rule's order id floor past the orders booked before the late-commit window."""
    settled = (
        Order.objects.filter(pk__gt=rule.order_id_floor, created_at__lte=now - LATE_COMMIT)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if settled is not None:
        FollowUpRule.objects.filter(pk=rule.pk, order_id_floor__lt=settled).update(order_id_floor=settled)


def followups_apply(*, now: datetime | None = None) -> dict[str, int]:
    """Run every active rule over the events since it last ran; returns counts of tasks created, found
    made already, and events skipped for want of an assignee."""
    now = now or timezone.now()
    counts = {"created": 0, "exists": 0, "unassigned": 0}
    for rule in FollowUpRule.objects.filter(active=True).select_related("fallback_assignee"):
        start = rule.scanned_until - LATE_COMMIT
        if rule.trigger == FollowUpRule.Trigger.PURCHASE:
            events = _orders(rule, start, now)
        elif rule.trigger == FollowUpRule.Trigger.WON:
            events = _won(rule, start, now)
        else:
            events = _service_due(rule, now)
        _apply_events(rule, events, now, counts)
        # Only forwards: a run that started earlier and ends later must not move the cursor back.
        FollowUpRule.objects.filter(Q(pk=rule.pk) & Q(scanned_until__lt=now)).update(scanned_until=now)
        if rule.trigger == FollowUpRule.Trigger.PURCHASE:
            _raise_order_floor(rule, now)
    if counts["created"] or counts["unassigned"]:
        log.info("follow-up rules: %s", counts)
    return counts
