"""Reads of activities. An activity is visible to its owner, and to whoever may see its customer (or,
without a customer, its lead), by the customers' scope rules: the 360 timeline shows it to them too."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from guanxi.activities.models import Activity
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.permissions import ALL, can, ensure_can, scope_of, scope_q
from guanxi.core.search import search_filter
from guanxi.customers.models import SEARCH_INDEX, Customer
from guanxi.users.models import User

# Who may change or delete someone else's activity (services.MANAGES says the same to the services).
MANAGES = "customer.assign"


def activity_scope(*, actor: User) -> QuerySet[Activity]:
    """The activities `actor` may see."""
    ensure_can(actor, "activity.view")
    if scope_of(actor) == ALL:  # (an empty Q() OR-ed with a filter is that filter, not "everything")
        return Activity.objects.all()
    seen = scope_q(actor) | scope_q(actor, owner="customer__owner", team="customer__team")
    seen |= Q(customer__isnull=True) & scope_q(actor, owner="lead__owner", team="lead__team")
    return Activity.objects.filter(seen)


def activity_list(
    *,
    actor: User,
    q: str = "",
    customer_id: int | None = None,
    lead_id: int | None = None,
    opportunity_id: int | None = None,
    kind: str = "",
    owner_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Activity]:
    """Activities in scope, newest first, with customer, lead, opportunity, owner and email joined.

    `q` finds the customer (name, pinyin, initials, phone digits, plate: the customer search); `since`
    is inclusive, `until` exclusive.
    """
    activities = activity_scope(actor=actor)
    if q.strip():
        customers = search_filter(Customer.objects.filter(scope_q(actor)), q, fts_prefix=SEARCH_INDEX).values(
            "pk"
        )
        activities = activities.filter(customer__in=customers)
    if customer_id:
        activities = activities.filter(customer_id=customer_id)
    if lead_id:
        activities = activities.filter(lead_id=lead_id)
    if opportunity_id:
        activities = activities.filter(opportunity_id=opportunity_id)
    if kind:
        activities = activities.filter(kind=kind)
    if owner_id:
        activities = activities.filter(owner_id=owner_id)
    if since:
        activities = activities.filter(occurred_at__gte=since)
    if until:
        activities = activities.filter(occurred_at__lt=until)
    return activities.select_related("customer", "lead", "opportunity", "owner", "email").order_by(
        "-occurred_at", "-id"
    )


def activity_get(*, actor: User, activity_id: int) -> Activity:
    try:
        return (
            activity_scope(actor=actor)
            .select_related("customer", "lead", "opportunity", "owner", "email")
            .get(pk=activity_id)
        )
    except (Activity.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound(_("Activity not found.")) from exc


def activity_may_change(*, actor: User, owner_id: int | None) -> bool:
    """Whether `actor` may change or delete a visible activity logged by `owner_id` (the services decide;
    this tells the pages which buttons to show)."""
    if not can(actor, "activity.create"):
        return False
    return owner_id == actor.pk or can(actor, MANAGES)


# ---------------------------------------------------------------------------------------------------
# Keyset pages for the API: newest first, by (occurred_at, id), so deep pages cost what the first does.


def cursor_encode(activity: Activity) -> str:
    raw = f"{activity.occurred_at.isoformat()}|{activity.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def activities_after(activities: QuerySet[Activity], cursor: str) -> QuerySet[Activity]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when_text, _sep, id_text = raw.rpartition("|")
        when = parse_datetime(when_text)
        activity_id = int(id_text)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed(details={"cursor": [_("This cursor is not valid.")]}) from exc
    if when is None or when.tzinfo is None:
        raise ValidationFailed(details={"cursor": [_("This cursor is not valid.")]})
    return activities.filter(Q(occurred_at__lt=when) | Q(occurred_at=when, id__lt=activity_id))
