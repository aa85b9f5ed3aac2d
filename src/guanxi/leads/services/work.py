"""Working a lead: editing it, assigning it, qualifying or disqualifying it, and keeping its score.

Rules enforced here:
- `lead.change` to edit, qualify or disqualify; `lead.assign` to give a lead to someone; the lead must be
  in the actor's scope, else NotFound.
- A converted lead is closed: it cannot be edited, qualified or disqualified (change the customer).
- Qualifying takes an open lead that is not qualified yet; disqualifying takes an open lead and a reason
  from `Lead.DisqualifyReason` (plus an optional note). Setting the status back to new or working
  reopens a disqualified lead, if no other open lead has its phone or email.
- No two open leads share a phone or an email.
- The score is recomputed on every change.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record, changes_between
from guanxi.catalog.models import Store
from guanxi.core.errors import Conflict, Errors
from guanxi.core.permissions import ensure_can
from guanxi.leads.models import OPEN_STATUSES, Lead
from guanxi.leads.services._common import (
    clean_fields,
    customer_matching,
    lock,
    open_lead_matching,
    rescore,
    snapshot,
)
from guanxi.users.models import Team, User

UNSET: Any = object()
NOTE_LIMIT = 500


class LeadConverted(Conflict):
    code = "lead_converted"
    default_message = "This lead is converted already."


class LeadNotOpen(Conflict):
    code = "lead_not_open"
    default_message = "This lead is closed."


def _ensure_not_converted(lead: Lead) -> None:
    if lead.status == Lead.Status.CONVERTED:
        raise LeadConverted(_("This lead is converted already; change the customer instead."))


def _check_unique(lead: Lead, errors: Errors) -> None:
    """No other open lead may hold the lead's phone or email (checked when it is or becomes open)."""
    if lead.status not in OPEN_STATUSES:
        return
    for field in ("phone", "email"):
        value = getattr(lead, field)
        other = open_lead_matching(
            value if field == "phone" else "", value if field == "email" else "", exclude=lead.pk
        )
        if value and other is not None:
            errors.add(
                field,
                _("The open lead #%(id)s (%(name)s) has this one already.")
                % {"id": other.pk, "name": other.name},
            )


def _note(value: Any, errors: Errors) -> str:
    note = " ".join(str(value or "").split())
    if len(note) > NOTE_LIMIT:
        errors.add("note", _("Enter at most %(limit)d characters.") % {"limit": NOTE_LIMIT})
    return note


@transaction.atomic
def lead_update(
    *, actor: User, lead: Lead, store: Store | None = UNSET, status: str | None = None, **fields: Any
) -> Lead:
    """Change a lead's fields (those given); `status` may move between new and working, or reopen a
    disqualified lead. Records each change, old → new."""
    ensure_can(actor, "lead.change")
    lead = lock(actor, lead)
    _ensure_not_converted(lead)
    before = snapshot(lead)
    errors = Errors()
    cleaned = clean_fields(fields, errors, creating=False)
    if status is not None and status not in (Lead.Status.NEW, Lead.Status.WORKING):
        errors.add("status", _("Set new or working here; qualify, disqualify or convert with their actions."))
    errors.raise_if_any()
    for key, value in cleaned.items():
        setattr(lead, key, value)
    if store is not UNSET:
        lead.store = store
    if status is not None and status != lead.status:
        if lead.status == Lead.Status.DISQUALIFIED:
            lead.disqualify_reason, lead.status_note = "", ""
        lead.status = status
    if not (lead.phone or lead.email or lead.wechat_id):
        errors.add("phone", _("Give a way to reach them: a mobile, an email or a WeChat ID."))
    _check_unique(lead, errors)
    errors.raise_if_any()
    if lead.customer_id is None and ("phone" in cleaned or "email" in cleaned):
        lead.customer = customer_matching(lead.phone, lead.email)
    lead.save()
    rescore(lead)
    changes = changes_between(before, snapshot(lead))
    if changes:
        audit_record(actor=actor, action="lead.update", target=lead, changes=changes)
    return lead


@transaction.atomic
def lead_assign(*, actor: User, lead: Lead, owner: User | None, team: Team | None = None) -> Lead:
    """Give the lead to `owner` (and their team, unless a team is given); None leaves it unassigned in
    `team`'s queue."""
    ensure_can(actor, "lead.assign")
    lead = lock(actor, lead)
    errors = Errors()
    if owner is not None and not owner.is_active:
        errors.add("owner", _("This user is inactive."))
    errors.raise_if_any()
    before = snapshot(lead)
    lead.owner = owner
    lead.team = team if team is not None else (owner.team if owner is not None else lead.team)
    lead.rule = None
    lead.save(update_fields=["owner", "team", "rule", "updated_at"])
    changes = changes_between(before, snapshot(lead))
    if changes:
        audit_record(actor=actor, action="lead.assign", target=lead, changes=changes)
    return lead


@transaction.atomic
def lead_qualify(*, actor: User, lead: Lead, note: str = "") -> Lead:
    """Mark an open lead as qualified: a real potential customer, ready to convert."""
    ensure_can(actor, "lead.change")
    lead = lock(actor, lead)
    _ensure_not_converted(lead)
    errors = Errors()
    note = _note(note, errors)
    errors.raise_if_any()
    if lead.status == Lead.Status.QUALIFIED:
        raise LeadNotOpen(_("This lead is qualified already."))
    if lead.status not in OPEN_STATUSES:
        raise LeadNotOpen(_("This lead is disqualified; reopen it first."))
    before = lead.status
    lead.status, lead.status_note = Lead.Status.QUALIFIED, note
    lead.save(update_fields=["status", "status_note", "updated_at"])
    audit_record(
        actor=actor,
        action="lead.qualify",
        target=lead,
        changes={"status": [before, lead.status]},
        data={"note": note},
    )
    return lead


@transaction.atomic
def lead_disqualify(*, actor: User, lead: Lead, reason: str, note: str = "") -> Lead:
    """Close an open lead without converting it, saying why (a reason code and free words)."""
    ensure_can(actor, "lead.change")
    lead = lock(actor, lead)
    _ensure_not_converted(lead)
    errors = Errors()
    note = _note(note, errors)
    if reason not in Lead.DisqualifyReason.values:
        errors.add("reason", _("Choose a reason."))
    elif reason == Lead.DisqualifyReason.OTHER and not note:
        errors.add("note", _("Say why in a few words."))
    errors.raise_if_any()
    if lead.status not in OPEN_STATUSES:
        raise LeadNotOpen(_("This lead is disqualified already."))
    before = lead.status
    lead.status, lead.disqualify_reason, lead.status_note = Lead.Status.DISQUALIFIED, reason, note
    lead.save(update_fields=["status", "disqualify_reason", "status_note", "updated_at"])
    audit_record(
        actor=actor,
        action="lead.disqualify",
        target=lead,
        changes={"status": [before, lead.status]},
        data={"reason": reason, "note": note},
    )
    return lead


@transaction.atomic
def lead_rescore(*, lead_id: int) -> int | None:
    """Recompute a lead's score now (after an activity was logged on it, say); its new score, or None when
    there is no such lead. A system action: it changes nothing a user entered."""
    lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
    if lead is None:
        return None
    rescore(lead)
    return lead.score
