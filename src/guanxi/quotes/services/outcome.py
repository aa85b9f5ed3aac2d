"""A quote goes out and comes back: send it by email (PDF attached), accept it (→ an order), reject it.

Rules enforced here and nowhere else:
- Only the current version is sent, accepted or rejected (else 409 `quote_not_current`); an expired
  quote is neither sent nor accepted (409 `quote_expired`: make a new version); an empty one neither.
- Sending queues one email in the outbox (channels) in the same transaction, with the PDF in the
  sender's language attached; the same `idempotency_key` queues it once (a double click sends once).
  A sent quote may be sent again (a new key), e.g. to another address.
- Accepting books one order through `sales.services.order_create` from the lines (unit price, and the
  discount as the amount it came to), so the order's total is the quote's grand total to the cent;
  accepting again returns the quote as it is (no second order: the quote row is locked, and the order's
  idempotency key is the quote's).
- Rejecting keeps the reason; rejecting again changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record
from guanxi.channels.services import email_enqueue
from guanxi.core.errors import Conflict, Errors
from guanxi.core.permissions import ensure_can, sees_pii
from guanxi.quotes import pdf
from guanxi.quotes.models import Quote
from guanxi.quotes.services._common import (
    QuoteClosed,
    QuoteEmpty,
    QuoteExpired,
    QuoteNotCurrent,
    lock_quote,
    timeline,
)
from guanxi.sales.models import Order
from guanxi.sales.services import order_create
from guanxi.users.models import User

REASON_MAX = 300


def _ensure_current(quote: Quote) -> None:
    if quote.status == Quote.Status.SUPERSEDED:
        raise QuoteNotCurrent(_("A newer version of this quote exists."))


def _ensure_open(quote: Quote) -> None:
    _ensure_current(quote)
    if quote.status in (Quote.Status.ACCEPTED, Quote.Status.REJECTED):
        raise QuoteClosed(_("This quote is accepted or rejected already."))
    if quote.is_expired:
        raise QuoteExpired(
            _("This quote expired on %(date)s; make a new version to offer it again.")
            % {"date": quote.valid_until.isoformat()}
        )


def _document(actor: User, quote: Quote) -> Quote:
    clear = sees_pii(actor)
    return Quote.objects.for_document(clear=clear).get(pk=quote.pk).mark_clear(clear)


def default_subject(quote: Quote) -> str:
    return _("Quotation %(reference)s from %(company)s") % {
        "reference": quote.reference,
        "company": pdf.company_name(),
    }


def default_body(quote: Quote, actor: User) -> str:
    return _(
        "Dear %(customer)s,\n\nPlease find attached our quotation %(reference)s, totalling %(total)s "
        "(VAT included), valid until %(date)s.\n\nWe look forward to hearing from you.\n\n"
        "%(sender)s\n%(company)s"
    ) % {
        "customer": quote.contact.name if quote.contact else quote.customer.name,
        "reference": quote.reference,
        "total": f"¥{quote.grand_total:,.2f}",
        "date": quote.valid_until.isoformat(),
        "sender": getattr(actor, "display_name", ""),
        "company": pdf.company_name(),
    }


@transaction.atomic
def quote_send(
    *,
    actor: User,
    quote: Quote,
    to: Sequence[str],
    subject: str = "",
    body: str = "",
    cc: Sequence[str] = (),
    idempotency_key: str | None = None,
) -> Quote:
    """Email the quote with its PDF attached (through the outbox) and mark it sent."""
    ensure_can(actor, "quote.create")
    quote = lock_quote(actor, quote)
    _ensure_open(quote)
    document = _document(actor, quote)
    if not document.lines.all():
        raise QuoteEmpty(_("Add at least one line before sending the quote."))
    key = (idempotency_key or "").strip() or timezone.now().isoformat()
    message = email_enqueue(
        actor=actor,
        key=f"quote:{quote.pk}:send:{key}"[:150],
        to=to,
        cc=cc,
        subject=subject.strip() or default_subject(quote),
        body=body.strip() or default_body(document, actor),
        customer=quote.customer,
        reply_to=getattr(actor, "email", "") or "",
        attachments=[(pdf.filename(quote), pdf.quote_pdf(document), "application/pdf")],
    )
    if getattr(message, "replayed", False):
        return quote
    now = timezone.now()
    quote.status = Quote.Status.SENT
    quote.sent_at = now
    quote.sent_to = ", ".join(message.to)[:500]
    quote.save(update_fields=["status", "sent_at", "sent_to", "updated_at"])
    audit_record(
        actor=actor,
        action="quote.send",
        target=quote,
        data={"to": list(message.to), "cc": list(message.cc), "email": message.pk},
    )
    timeline(quote, "quote.sent", actor, now, to=list(message.to))
    return quote


@transaction.atomic
def quote_accept(*, actor: User, quote: Quote) -> Quote:
    """The customer said yes: book the order and link it. Accepting again returns the quote (`replayed`)."""
    ensure_can(actor, "quote.create")
    quote = lock_quote(actor, quote)
    if quote.status == Quote.Status.ACCEPTED:
        quote.replayed = True
        return quote
    _ensure_open(quote)
    lines = list(quote.lines.all())
    if not lines:
        raise QuoteEmpty(_("Add at least one line before accepting the quote."))
    order = order_create(
        actor=actor,
        customer=quote.customer,
        lines=[
            {
                "product_id": line.product_id,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount": line.discount_amount,
            }
            for line in lines
        ],
        amount=quote.grand_total,
        channel=Order.Channel.OTHER,
        payment_method=Order.PaymentMethod.OTHER,
        note=_("From quote %(reference)s") % {"reference": quote.reference},
        external_ref=quote.reference,
        idempotency_key=f"quote:{quote.pk}:accept",
    )
    if order.total != quote.grand_total:  # cannot happen while both round lines the same way
        raise Conflict(_("The order's total differs from the quote's."))
    now = timezone.now()
    quote.status = Quote.Status.ACCEPTED
    quote.accepted_at = now
    quote.order = order
    quote.save(update_fields=["status", "accepted_at", "order", "updated_at"])
    audit_record(
        actor=actor,
        action="quote.accept",
        target=quote,
        data={"order": order.pk, "total": str(quote.grand_total)},
    )
    timeline(quote, "quote.accepted", actor, now, order_id=order.pk)
    return quote


@transaction.atomic
def quote_reject(*, actor: User, quote: Quote, reason: str = "") -> Quote:
    """The customer said no (why, if they said). Rejecting a rejected quote changes nothing."""
    ensure_can(actor, "quote.create")
    quote = lock_quote(actor, quote)
    if quote.status == Quote.Status.REJECTED:
        return quote
    _ensure_current(quote)
    if quote.status == Quote.Status.ACCEPTED:
        raise QuoteClosed(_("This quote is accepted already: it became an order."))
    errors = Errors()
    reason = " ".join(str(reason or "").split())
    if len(reason) > REASON_MAX:
        errors.add("reason", _("Enter at most %(limit)d characters.") % {"limit": REASON_MAX})
    errors.raise_if_any()
    now = timezone.now()
    quote.status = Quote.Status.REJECTED
    quote.rejected_at = now
    quote.reject_reason = reason
    quote.save(update_fields=["status", "rejected_at", "reject_reason", "updated_at"])
    audit_record(actor=actor, action="quote.reject", target=quote, data={"reason": reason})
    timeline(quote, "quote.rejected", actor, now, reason=reason)
    return quote


def send_defaults(*, actor: User, quote: Quote) -> dict[str, Any]:
    """What the send dialog starts with: the contact's or customer's email, a subject and a letter."""
    document = _document(actor, quote)
    emails = [e.address for e in document.customer.emails.all()]
    to = (
        document.contact.email
        if document.contact and document.contact.email
        else (emails[0] if emails else "")
    )
    return {"to": to, "subject": default_subject(document), "body": default_body(document, actor)}
