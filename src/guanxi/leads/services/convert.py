"""Converting a lead in one step: into a new customer or onto an existing one, plus an opportunity.

Rules enforced here:
- `lead.change`, and the lead in the actor's scope; a new customer needs `customer.create`, an existing
  one must be in the actor's scope (and `customer.change` when the lead adds to it); an opportunity
  needs `opportunity.create` (all checked by the services of those apps).
- Nothing lost: the lead's name, phone, email, WeChat ID, city and source land on the customer (an
  existing customer gains the phone and email it lacks and the fields it has empty); its company makes
  a company customer with the person as its contact, or is noted; its interest and message become a
  note on the customer's timeline.
- Nothing doubled: one transaction with the lead's row locked. A converted lead is refused
  (`lead_converted`), so a second click or a concurrent double submit makes no second customer.
- The lead is closed as converted with its customer, opportunity and time; a "lead.converted" entry
  lands on the customer's timeline and "lead.convert" in the audit log.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record
from guanxi.core.errors import Errors, NotFound, ValidationFailed
from guanxi.core.permissions import ensure_can, scope_q
from guanxi.customers import services as customer_services
from guanxi.customers.models import Customer
from guanxi.leads.models import OPEN_STATUSES, Lead
from guanxi.leads.services._common import lock
from guanxi.leads.services.work import LeadConverted, LeadNotOpen
from guanxi.opportunities import services as opportunity_services
from guanxi.opportunities.models import Opportunity, Pipeline


def _prefixed(exc: ValidationFailed, prefix: str) -> ValidationFailed:
    details = exc.details if isinstance(exc.details, dict) else {}
    return ValidationFailed(exc.message, details={f"{prefix}{key}": value for key, value in details.items()})


def _note_text(lead: Lead, *, company_noted: bool) -> str:
    parts = []
    if company_noted and lead.company:
        parts.append(_("Company: %(company)s") % {"company": lead.company})
    if lead.interest:
        parts.append(_("Interested in: %(interest)s") % {"interest": lead.interest})
    if lead.message:
        parts.append(lead.message)
    if not parts:
        return ""
    head = _("From lead #%(id)s:") % {"id": lead.pk}
    return "\n".join([head, *parts])[:5000]


def _new_customer(actor: Any, lead: Lead, *, as_company: bool) -> Customer:
    common: dict[str, Any] = {
        "phones": [lead.phone] if lead.phone else [],
        "emails": [lead.email] if lead.email else [],
        "city": lead.city,
        "source": lead.source,
        "stage": Customer.Stage.PROSPECT,
        # The lead's owner keeps the person; without one, whoever converts it.
        "owner": lead.owner if lead.owner_id else None,
    }
    try:
        if as_company:
            customer = customer_services.customer_create(
                actor=actor, name=lead.company, kind=Customer.Kind.COMPANY, **common
            )
            customer_services.contact_create(
                actor=actor,
                customer=customer,
                name=lead.name,
                phone=lead.phone,
                email=lead.email,
                wechat_id=lead.wechat_id,
                is_primary=True,
            )
        else:
            customer = customer_services.customer_create(
                actor=actor, name=lead.name, wechat_id=lead.wechat_id, **common
            )
    except ValidationFailed as exc:
        raise _prefixed(exc, "customer_") from exc
    return customer


def _onto_existing(actor: Any, lead: Lead, customer: Customer) -> Customer:
    """The existing customer, given what it lacks of the lead's details."""
    try:
        customer = Customer.objects.filter(scope_q(actor)).get(pk=customer.pk)
    except Customer.DoesNotExist as exc:
        raise NotFound(_("Customer not found.")) from exc
    phones = list(customer.phones.values_list("number", flat=True))
    emails = list(customer.emails.values_list("address", flat=True))
    changes: dict[str, Any] = {}
    if lead.phone and lead.phone not in phones:
        changes["phones"] = [*phones, lead.phone]
    if lead.email and lead.email not in [e.lower() for e in emails]:
        changes["emails"] = [*emails, lead.email]
    for key in ("city", "source"):
        if getattr(lead, key) and not getattr(customer, key):
            changes[key] = getattr(lead, key)
    if lead.wechat_id and not customer.wechat_id and not customer.is_company:
        changes["wechat_id"] = lead.wechat_id
    if changes:
        try:
            customer = customer_services.customer_update(actor=actor, customer=customer, **changes)
        except ValidationFailed as exc:
            raise _prefixed(exc, "customer_") from exc
    return customer


@transaction.atomic
def lead_convert(
    *,
    actor: Any,
    lead: Lead,
    customer: Customer | None = None,
    as_company: bool = False,
    opportunity: bool = False,
    opportunity_name: str = "",
    pipeline: Pipeline | None = None,
    amount: Any = None,
    expected_close: date | str | None = None,
) -> Lead:
    """Convert `lead` onto `customer` (None: a new customer; `as_company` makes it a company named after
    the lead's company, with the person as its contact) and, when `opportunity` is true, open an
    opportunity for it. Returns the lead, now converted. See the module's rules."""
    ensure_can(actor, "lead.change")
    lead = lock(actor, lead)
    if lead.status == Lead.Status.CONVERTED:
        raise LeadConverted(
            _("This lead was converted already (customer #%(id)s).") % {"id": lead.customer_id},
            details={"customer_id": lead.customer_id, "opportunity_id": lead.opportunity_id},
        )
    if lead.status not in OPEN_STATUSES:
        raise LeadNotOpen(_("This lead is disqualified; reopen it before converting it."))
    errors = Errors()
    if customer is None and as_company and not lead.company:
        errors.add("as_company", _("The lead has no company to make a company customer of."))
    errors.raise_if_any()

    new = customer is None
    if customer is None:
        target = _new_customer(actor, lead, as_company=as_company)
    else:
        target = _onto_existing(actor, lead, customer)
    made: Opportunity | None = None
    if opportunity:
        try:
            made = opportunity_services.opportunity_create(
                actor=actor,
                customer=target,
                name=opportunity_name.strip() or lead.interest or lead.company or lead.name,
                pipeline=pipeline,
                amount="0" if amount in (None, "") else amount,
                expected_close=expected_close or None,
                description=lead.message,
            )
        except ValidationFailed as exc:
            raise _prefixed(exc, "opportunity_") from exc
    note = _note_text(lead, company_noted=not (new and as_company))
    if note:
        customer_services.note_add(actor=actor, customer=target, body=note)

    now = timezone.now()
    before = lead.status
    lead.status, lead.customer, lead.opportunity, lead.converted_at = Lead.Status.CONVERTED, target, made, now
    lead.save(update_fields=["status", "customer", "opportunity", "converted_at", "updated_at"])
    audit_record(
        actor=actor,
        action="lead.convert",
        target=lead,
        changes={"status": [before, lead.status]},
        data={
            "customer": target.pk,
            "new_customer": new,
            "opportunity": made.pk if made else None,
        },
    )
    customer_services.timeline_add(
        customer=target,
        kind="lead.converted",
        actor=actor,
        data={
            "lead_id": lead.pk,
            "name": lead.name,
            "source": lead.source,
            "new_customer": new,
            "opportunity_id": made.pk if made else None,
            "opportunity_name": made.name if made else "",
        },
    )
    return lead
