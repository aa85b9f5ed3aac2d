"""Logging activities (互动记录): calls, visits, meetings, SMS, emails, WeChat messages and notes.

Rules enforced here and nowhere else:
- `activity.create` to log, change or delete. The customer, lead and opportunity named must be in the
  actor's scope (a lead or opportunity also needs `lead.view` / `opportunity.view`), else NotFound, as
  if they did not exist. Without a customer, the opportunity's customer (or the lead's, once matched)
  is the activity's; a customer that differs from the opportunity's is refused.
- The activity belongs to the actor (owner) and the actor's team. Only its owner changes or deletes it,
  or a manager (whoever may reassign customers: `customer.assign`) who sees its customer or lead.
- An activity with a customer is on the customer's 360 timeline (kind `activity.<kind>`); changing or
  deleting the activity changes or removes that entry in the same transaction.
- An email activity with `send_email` goes out through the outbox (channels.email_enqueue, key
  `activity:<id>`, sent after commit) to one of the customer's, its contacts' or the lead's addresses;
  the activity keeps the outbox message, whose delivery state then shows. A customer whose newest
  marketing consent decision for email (or any channel) is a withdrawal has opted out of email: sending
  is refused with `email_opted_out`, and nothing is logged.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.activities.models import Activity
from guanxi.audit.services import audit_record
from guanxi.core.errors import DomainError, Errors, NotFound, PermissionDenied
from guanxi.core.permissions import ALL, can, ensure_can, scope_of, scope_q
from guanxi.customers.models import Consent, Contact, Customer, CustomerEmail, TimelineEntry
from guanxi.leads.models import Lead
from guanxi.opportunities.models import Opportunity
from guanxi.users.models import User

TEXT_LIMITS = {"subject": 200, "body": 10_000}
MAX_DURATION = 24 * 60
# A phone's or laptop's clock may run a little ahead of the server's; beyond this a time is a typing error.
FUTURE_SLACK = timedelta(minutes=10)
EARLIEST_YEAR = 1990
# Direction and outcome mean something only for these kinds; for the others they are left blank.
DIRECTED = {Activity.Kind.CALL, Activity.Kind.SMS, Activity.Kind.EMAIL, Activity.Kind.WECHAT}
WITH_OUTCOME = {Activity.Kind.CALL, Activity.Kind.VISIT, Activity.Kind.MEETING, Activity.Kind.WECHAT}
TIMELINE_PREFIX = "activity."
# Who may change or delete someone else's activity: those who may reassign customers (managers).
MANAGES = "customer.assign"


class EmailOptedOut(DomainError):
    code = "email_opted_out"
    status = 422
    default_message = "This customer has opted out of email."


class EmailAlreadySent(DomainError):
    code = "email_already_sent"
    status = 409
    default_message = "This email was sent; its type, subject and text cannot change."


def _actor_or_none(actor: User) -> User | None:
    return actor if getattr(actor, "is_authenticated", False) else None


def _visible_customer(actor: User, customer: Customer) -> Customer:
    try:
        return Customer.objects.filter(scope_q(actor)).get(pk=customer.pk)
    except Customer.DoesNotExist as exc:
        raise NotFound(_("Customer not found.")) from exc


def _visible_lead(actor: User, lead: Lead) -> Lead:
    found = None
    if can(actor, "lead.view"):
        found = Lead.objects.filter(scope_q(actor)).filter(pk=lead.pk).first()
    if found is None:
        raise NotFound(_("Lead not found."))
    return found


def _visible_opportunity(actor: User, opportunity: Opportunity) -> Opportunity:
    found = None
    if can(actor, "opportunity.view"):
        found = Opportunity.objects.filter(scope_q(actor)).filter(pk=opportunity.pk).first()
    if found is None:
        raise NotFound(_("Opportunity not found."))
    return found


def _clean_choice(value: Any, choices: Any, field: str, errors: Errors) -> str:
    text = str(value or "")
    if text not in choices.values:
        errors.add(field, _("“%(value)s” is not one of the allowed values.") % {"value": text})
    return text


def _clean_time(value: datetime | None, errors: Errors) -> datetime:
    now = timezone.now()
    if value is None:
        return now
    if timezone.is_naive(value):
        value = timezone.make_aware(value)  # read in the configured time zone (Asia/Shanghai)
    if value > now + FUTURE_SLACK:
        errors.add("occurred_at", _("An activity cannot be in the future; plan it as a task."))
    elif value.year < EARLIEST_YEAR:
        errors.add("occurred_at", _("Enter a time after %(year)d.") % {"year": EARLIEST_YEAR})
    return value


def _clean_duration(value: Any, errors: Errors) -> int | None:
    if value in (None, ""):
        return None
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        errors.add("duration_minutes", _("Enter a whole number of minutes."))
        return None
    if not 0 <= minutes <= MAX_DURATION:
        errors.add("duration_minutes", _("Enter between 0 and %(max)d minutes.") % {"max": MAX_DURATION})
        return None
    return minutes


def _clean_fields(fields: dict[str, Any], errors: Errors) -> dict[str, Any]:
    """The activity's own fields checked; direction and outcome blanked where the kind has none."""
    kind = _clean_choice(fields["kind"], Activity.Kind, "kind", errors)
    direction = _clean_choice(fields.get("direction"), Activity.Direction, "direction", errors)
    outcome = _clean_choice(fields.get("outcome"), Activity.Outcome, "outcome", errors)
    texts = {}
    for key, limit in TEXT_LIMITS.items():
        value = str(fields.get(key) or "").strip()
        if len(value) > limit:
            errors.add(key, _("Enter at most %(limit)d characters.") % {"limit": limit})
        texts[key] = value
    if kind == Activity.Kind.NOTE and not texts["body"]:
        errors.add("body", _("Write the note."))
    return {
        "kind": kind,
        "direction": direction if kind in DIRECTED else "",
        "outcome": outcome if kind in WITH_OUTCOME else "",
        "occurred_at": _clean_time(fields.get("occurred_at"), errors),
        "duration_minutes": _clean_duration(fields.get("duration_minutes"), errors),
        **texts,
    }


def _link_records(
    actor: User, customer: Customer | None, lead: Lead | None, opportunity: Opportunity | None
) -> tuple[Customer | None, Lead | None, Opportunity | None]:
    """The records in the actor's scope, the customer filled in from the opportunity or the lead."""
    if customer is not None:
        customer = _visible_customer(actor, customer)
    if lead is not None:
        lead = _visible_lead(actor, lead)
    if opportunity is not None:
        opportunity = _visible_opportunity(actor, opportunity)
    errors = Errors()
    if opportunity is not None:
        if customer is None:
            customer = _visible_customer(actor, opportunity.customer)
        elif opportunity.customer_id != customer.pk:
            errors.add("opportunity", _("This opportunity is another customer's."))
    if lead is not None and lead.customer_id is not None:
        if customer is None:
            customer = Customer.objects.filter(scope_q(actor), pk=lead.customer_id).first()
        elif lead.customer_id != customer.pk:
            errors.add("lead", _("This lead is another customer's."))
    if customer is None and lead is None:
        errors.add("customer", _("Choose the customer or the lead the activity was with."))
    errors.raise_if_any()
    return customer, lead, opportunity


def email_opted_out(*, customer: Customer) -> bool:
    """Whether the customer's newest marketing decision for email, or for any channel, is a withdrawal."""
    newest = (
        Consent.objects.filter(
            customer=customer,
            purpose=Consent.Purpose.MARKETING,
            channel__in=[Consent.Channel.EMAIL, Consent.Channel.ANY],
        )
        .order_by("-recorded_at", "-id")
        .only("granted")
        .first()
    )
    return newest is not None and not newest.granted


def email_addresses(*, customer: Customer | None, lead: Lead | None = None) -> list[str]:
    """Where an activity's email may go: the customer's addresses, its contacts' and the lead's."""
    addresses: list[str] = []
    if customer is not None:
        addresses += CustomerEmail.objects.filter(customer=customer).values_list("address", flat=True)
        addresses += (
            Contact.objects.filter(customer=customer).exclude(email="").values_list("email", flat=True)
        )
    if lead is not None and lead.email:
        addresses.append(lead.email)
    return list(dict.fromkeys(addresses))


def _recipient(
    customer: Customer | None, lead: Lead | None, email_to: str | None, fields: dict[str, Any], errors: Errors
) -> str:
    if fields["kind"] != Activity.Kind.EMAIL:
        errors.add("kind", _("Only an email activity can be sent."))
        return ""
    if not fields["subject"]:
        errors.add("subject", _("Give the email a subject."))
    if not fields["body"]:
        errors.add("body", _("Write the email."))
    addresses = email_addresses(customer=customer, lead=lead)
    if not addresses:
        errors.add("email_to", _("This customer has no email address."))
        return ""
    wanted = (email_to or "").strip()
    if not wanted:
        return addresses[0]
    match = next((a for a in addresses if a.lower() == wanted.lower()), None)
    if match is None:
        errors.add("email_to", _("Send to one of the customer's own addresses."))
        return ""
    return match


def _timeline_data(activity: Activity) -> dict[str, Any]:
    data: dict[str, Any] = {
        "activity_id": activity.pk,
        "kind": activity.kind,
        "direction": activity.direction,
        "outcome": activity.outcome,
        "subject": activity.subject,
        "body": activity.body,
        "duration_minutes": activity.duration_minutes,
    }
    if activity.opportunity is not None:
        data["opportunity"] = {"id": activity.opportunity.pk, "name": activity.opportunity.name}
    if activity.lead is not None:
        data["lead"] = {"id": activity.lead.pk, "name": activity.lead.name}
    if activity.email_id:
        data["email_id"] = activity.email_id
        data["to"] = activity.email.to if activity.email is not None else []
    return data


def _timeline_entries(activity: Activity) -> Any:
    return TimelineEntry.objects.filter(
        customer=activity.customer,
        kind__startswith=TIMELINE_PREFIX,
        data__activity_id=activity.pk,
    )


def _audit_data(activity: Activity) -> dict[str, Any]:
    return {
        "customer": activity.customer_id,
        "lead": activity.lead_id,
        "opportunity": activity.opportunity_id,
        "kind": activity.kind,
        "occurred_at": activity.occurred_at.isoformat(),
        "email": activity.email_id,
    }


@transaction.atomic
def activity_log(
    *,
    actor: User,
    customer: Customer | None = None,
    lead: Lead | None = None,
    opportunity: Opportunity | None = None,
    kind: str,
    direction: str = "",
    outcome: str = "",
    subject: str = "",
    body: str = "",
    occurred_at: datetime | None = None,
    duration_minutes: int | None = None,
    send_email: bool = False,
    email_to: str | None = None,
) -> Activity:
    """Record what happened with a customer or lead (see the module's rules); with `send_email`, an email
    activity also sends the email, from the outbox, after commit."""
    ensure_can(actor, "activity.create")
    customer, lead, opportunity = _link_records(actor, customer, lead, opportunity)
    errors = Errors()
    fields = _clean_fields(
        {
            "kind": kind,
            "direction": direction,
            "outcome": outcome,
            "subject": subject,
            "body": body,
            "occurred_at": occurred_at,
            "duration_minutes": duration_minutes,
        },
        errors,
    )
    to = _recipient(customer, lead, email_to, fields, errors) if send_email else ""
    errors.raise_if_any()
    if send_email:
        if customer is not None and email_opted_out(customer=customer):
            message = _(
                "%(name)s has opted out of email (consent withdrawn): the email was not sent. Log it "
                "without sending, or record the customer's consent first."
            ) % {"name": customer.name}
            raise EmailOptedOut(message, details={"send_email": [message]})
        fields["direction"] = Activity.Direction.OUTBOUND
        fields["occurred_at"] = timezone.now()
    activity = Activity.objects.create(
        customer=customer,
        lead=lead,
        opportunity=opportunity,
        owner=_actor_or_none(actor),
        team_id=getattr(actor, "team_id", None),
        **fields,
    )
    if send_email:
        activity.email = _send(actor, activity, customer, to)
        activity.save(update_fields=["email"])
    audit_record(actor=actor, action="activity.log", target=activity, data=_audit_data(activity))
    if customer is not None:
        TimelineEntry.objects.create(
            customer=customer,
            occurred_at=activity.occurred_at,
            kind=TIMELINE_PREFIX + activity.kind,
            actor=_actor_or_none(actor),
            data=_timeline_data(activity),
        )
    return activity


def _send(actor: User, activity: Activity, customer: Customer | None, to: str) -> Any:
    from guanxi.channels.services import email_enqueue

    return email_enqueue(
        actor=actor,
        key=f"activity:{activity.pk}",
        to=[to],
        subject=activity.subject,
        body=activity.body,
        customer=customer,
        reply_to=getattr(actor, "email", "") or "",
    )


def _lock(actor: User, activity: Activity) -> Activity:
    """The activity locked, if the actor may change it: its owner, or a manager who sees its customer
    or lead. NotFound when the actor does not see it at all, PermissionDenied when they only see it."""
    ensure_can(actor, "activity.create")
    seen = Q()  # everything, for those who see all records (Q() OR-ed with a filter would be that filter)
    if scope_of(actor) != ALL:
        seen = Q(owner_id=actor.pk) | scope_q(actor, owner="customer__owner", team="customer__team")
        seen |= Q(customer__isnull=True) & scope_q(actor, owner="lead__owner", team="lead__team")
    try:
        locked = (
            Activity.objects.select_for_update(of=("self",))
            .select_related("customer", "lead", "opportunity", "email")
            .filter(seen)
            .get(pk=activity.pk)
        )
    except Activity.DoesNotExist as exc:
        raise NotFound(_("Activity not found.")) from exc
    if locked.owner_id != actor.pk and not can(actor, MANAGES):
        raise PermissionDenied(_("Only the person who logged this activity, or a manager, may change it."))
    return locked


@transaction.atomic
def activity_update(*, actor: User, activity: Activity, **changes: Any) -> Activity:
    """Change an activity's kind, direction, outcome, subject, details, time or duration (the fields
    given; the others stay). An email that went out keeps its type, subject and text."""
    activity = _lock(actor, activity)
    allowed = {"kind", "direction", "outcome", "subject", "body", "occurred_at", "duration_minutes"}
    errors = Errors()
    for key in sorted(set(changes) - allowed):
        errors.add(key, _("Unknown field."))
    errors.raise_if_any()
    current = {key: getattr(activity, key) for key in allowed}
    fields = _clean_fields({**current, **changes}, errors)
    if "occurred_at" not in changes:
        fields["occurred_at"] = activity.occurred_at  # an old time stays, even one the rules now refuse
        errors.details.pop("occurred_at", None)
    errors.raise_if_any()
    if activity.email_id and any(fields[key] != current[key] for key in ("kind", "subject", "body")):
        raise EmailAlreadySent(_("This email was sent; its type, subject and text cannot change."))
    diff = {
        key: [_plain(current[key]), _plain(fields[key])] for key in allowed if fields[key] != current[key]
    }
    if not diff:
        return activity
    for key, value in fields.items():
        setattr(activity, key, value)
    activity.save(update_fields=list(diff))
    audit_record(actor=actor, action="activity.update", target=activity, changes=diff)
    if activity.customer_id is not None:
        _timeline_entries(activity).update(
            kind=TIMELINE_PREFIX + activity.kind,
            occurred_at=activity.occurred_at,
            data=_timeline_data(activity),
        )
    return activity


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@transaction.atomic
def activity_delete(*, actor: User, activity: Activity) -> None:
    """Delete an activity and its timeline entry; the audit log keeps what it said. An email it sent
    stays in the outbox."""
    activity = _lock(actor, activity)
    snapshot = {**_audit_data(activity), "subject": activity.subject, "body": activity.body}
    if activity.customer_id is not None:
        _timeline_entries(activity).delete()
    audit_record(actor=actor, action="activity.delete", target=activity, data=snapshot)
    activity.delete()
