"""Every read of leads goes through these functions: they apply the reader's scope and masking.

A lead is visible by its own owner and team (like a customer): a sales rep sees their own leads, a manager
their team's, an administrator or marketer all. Phones, emails and WeChat IDs show in clear only to roles
that see personal data (`Masked`: rows are marked `pii_clear` here).
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import BooleanField, Count, Q, QuerySet, Value
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from guanxi.audit.models import AuditEvent
from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.permissions import ROLES, can, ensure_can, sees_pii, visible
from guanxi.customers.models import Contact, Customer, CustomerEmail, CustomerPhone
from guanxi.leads.models import OPEN_STATUSES, Lead, LeadAssignmentRule, LeadForm
from guanxi.users.models import User

OPEN = "open"
UNASSIGNED = "none"
SORTS = {"newest": "-id", "score": "-score", "oldest": "id"}
HISTORY = 30
MATCHES = 10
WORKER_ROLES = sorted(role for role, rules in ROLES.items() if "lead.change" in rules["perms"])


def _clear(actor: User) -> Value:
    return Value(sees_pii(actor), output_field=BooleanField())


def lead_scope(*, actor: User) -> QuerySet[Lead]:
    """The leads `actor` may see, unsorted: the base of every lead read."""
    ensure_can(actor, "lead.view")
    return visible(actor, Lead.objects.all())


def _search(leads: QuerySet[Lead], q: str) -> QuerySet[Lead]:
    """Name, company or email containing `q`; a phone containing its digits (4 or more)."""
    text = q.strip()
    match = Q(name__icontains=text) | Q(company__icontains=text)
    if "@" in text:
        match |= Q(email__icontains=text.lower())
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 4 and len(digits) >= len(re.sub(r"[\s\-+()]", "", text)):
        match |= Q(phone__contains=digits)
    return leads.filter(match)


def lead_list(
    *,
    actor: User,
    q: str = "",
    status: str = "",
    owner: int | str | None = None,
    source: str = "",
    mine: bool = False,
    sort: str = "newest",
) -> QuerySet[Lead]:
    """Leads in scope matching the search and filters, newest first (or by score), with owner, team,
    store and customer joined and marked for masking. `status` "open" means new, working or qualified;
    `owner` "none" means unassigned."""
    leads = lead_scope(actor=actor)
    if status == OPEN:
        leads = leads.filter(status__in=OPEN_STATUSES)
    elif status:
        leads = leads.filter(status=status)
    if mine:
        leads = leads.filter(owner_id=actor.pk)
    elif owner == UNASSIGNED:
        leads = leads.filter(owner__isnull=True)
    elif owner:
        leads = leads.filter(owner_id=int(owner))
    if source:
        leads = leads.filter(source=source)
    if q.strip():
        leads = _search(leads, q)
    order = SORTS.get(sort, "-id")
    return (
        leads.select_related("owner", "team", "store", "customer")
        .annotate(pii_clear=_clear(actor))
        .order_by(order, "-id")
    )


def lead_status_counts(*, actor: User) -> dict[str, int]:
    """How many leads in scope are at each status (every status, zeros included): one GROUP BY."""
    counts = dict.fromkeys(Lead.Status.values, 0)
    for status, n in lead_scope(actor=actor).order_by().values_list("status").annotate(n=Count("id")):
        counts[status] = n
    counts[OPEN] = sum(counts[s] for s in OPEN_STATUSES)
    return counts


def leads_after(leads: QuerySet[Lead], cursor: str) -> QuerySet[Lead]:
    """Keyset paging for the newest-first list: the leads older than the one `cursor` names."""
    if not cursor.isdigit() or len(cursor) > 18:
        raise ValidationFailed(details={"cursor": [_("This cursor is not valid.")]})
    return leads.filter(id__lt=int(cursor))


def lead_get(*, actor: User, lead_id: int) -> Lead:
    """One lead with its owner, team, store, customer, opportunity, web form and rule, and how many
    activities were logged on it; NotFound outside the actor's scope."""
    leads = lead_scope(actor=actor).select_related(
        "owner", "team", "store", "customer", "opportunity", "web_form", "rule", "created_by"
    )
    try:
        return leads.annotate(pii_clear=_clear(actor), activity_count=Count("activities")).get(pk=lead_id)
    except (Lead.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound(_("Lead not found.")) from exc


def lead_matches(*, actor: User, lead: Lead) -> dict[str, list[Any]]:
    """Who else has this lead's phone or email: customers the actor may see (suggested when converting)
    and the actor's other leads. Four queries at most."""
    found: dict[str, list[Any]] = {"customers": [], "leads": []}
    phone, email = lead.phone, lead.email.lower()
    if not (phone or email):
        return found
    if can(actor, "customer.view"):
        ids: set[int] = set()
        if phone:
            ids.update(CustomerPhone.objects.filter(number=phone).values_list("customer_id", flat=True))
            ids.update(Contact.objects.filter(phone=phone).values_list("customer_id", flat=True))
        if email:
            ids.update(
                CustomerEmail.objects.annotate(lower=Lower("address"))
                .filter(lower=email)
                .values_list("customer_id", flat=True)
            )
        if lead.customer_id:
            ids.add(lead.customer_id)
        if ids:
            customers = visible(actor, Customer.objects.filter(pk__in=ids)).select_related("owner")
            found["customers"] = list(customers.order_by("id")[:MATCHES])
    match = Q()
    if phone:
        match |= Q(phone=phone)
    if email:
        match |= Q(email=email)
    others = lead_scope(actor=actor).filter(match).exclude(pk=lead.pk).select_related("owner")
    found["leads"] = list(others.annotate(pii_clear=_clear(actor)).order_by("-id")[:MATCHES])
    return found


def lead_history(*, actor: User, lead: Lead) -> list[AuditEvent]:
    """The lead's audit events, newest first (whoever may see the lead may see what happened to it)."""
    events = AuditEvent.objects.filter(target_type="leads.lead", target_id=str(lead.pk))
    return list(events.select_related("actor").order_by("-id")[:HISTORY])


def lead_owner_choices(*, actor: User) -> QuerySet[User]:
    """Active users who may work leads, for owner pickers and filters."""
    return (
        User.objects.filter(is_active=True, role__in=WORKER_ROLES).select_related("team").order_by("username")
    )


def rule_list(*, actor: User) -> QuerySet[LeadAssignmentRule]:
    ensure_can(actor, "lead.assign")
    return LeadAssignmentRule.objects.select_related("team", "user", "match_store", "last_user").order_by(
        "position", "id"
    )


def rule_get(*, actor: User, rule_id: int) -> LeadAssignmentRule:
    try:
        return rule_list(actor=actor).get(pk=rule_id)
    except (LeadAssignmentRule.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound(_("Rule not found.")) from exc


def rule_team_sizes(*, actor: User, team_ids: list[int]) -> dict[int, int]:
    """How many members of each team would take turns (active, and allowed to work leads)."""
    ensure_can(actor, "lead.assign")
    rows = (
        User.objects.filter(team_id__in=team_ids, is_active=True, role__in=WORKER_ROLES)
        .order_by()
        .values_list("team_id")
        .annotate(n=Count("id"))
    )
    return dict(rows)


def form_list(*, actor: User) -> QuerySet[LeadForm]:
    """The web forms with how many leads each brought."""
    ensure_can(actor, "lead.assign")
    return (
        LeadForm.objects.select_related("store", "team")
        .annotate(lead_count=Count("leads"))
        .order_by("title", "id")
    )


def form_get(*, actor: User, form_id: int) -> LeadForm:
    try:
        return form_list(actor=actor).get(pk=form_id)
    except (LeadForm.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise NotFound(_("Form not found.")) from exc


def form_public(*, slug: str) -> LeadForm:
    """An active web form by its address, for anyone (the public page)."""
    form = LeadForm.objects.filter(slug=slug, active=True).first()
    if form is None:
        raise NotFound(_("This form is not taking entries."))
    return form


def leads_for_customer(*, actor: User, customer: Customer, limit: int = 10) -> list[Lead]:
    """The customer's leads the actor may see, newest first (for the 360 page); [] without `lead.view`.
    One query."""
    if not can(actor, "lead.view"):
        return []
    leads = visible(actor, Lead.objects.filter(customer=customer)).select_related("owner", "opportunity")
    return list(leads.annotate(pii_clear=_clear(actor)).order_by("-id")[:limit])
