"""Quote endpoints: thin shells over guanxi.quotes.selectors and guanxi.quotes.services.

Only a draft changes (409 `quote_not_editable`); only the current version is sent, accepted or rejected
(409 `quote_not_current`); an expired quote is not sent or accepted (409 `quote_expired`). Accepting
twice returns the same quote and order, with `Idempotent-Replayed: true`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema, Status

from guanxi.core.errors import NotFound, ValidationFailed
from guanxi.core.http import ApiRequest
from guanxi.core.permissions import ensure_can
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import Contact, Customer
from guanxi.opportunities.models import Opportunity
from guanxi.quotes import pdf, selectors, services
from guanxi.quotes.schemas import (
    Id,
    QuoteIn,
    QuoteLineIn,
    QuoteLinePatch,
    QuoteOut,
    QuotePage,
    QuotePatch,
    QuoteStatus,
    QuoteSummaryOut,
    RejectIn,
    SendIn,
)
from guanxi.users import selectors as user_selectors
from guanxi.users.models import User

router = Router(tags=["quotes"])
REPLAYED = "Idempotent-Replayed"


class QuoteFilters(Schema):
    q: str = Field(
        "", description="The quote number, its subject, or the customer (name, pinyin, phone digits)."
    )
    status: QuoteStatus | None = Field(None, description="Without it: every quote but superseded versions.")
    customer_id: Id | None = None
    owner_id: Id | None = None
    limit: int = 50
    offset: int = Field(0, ge=0)


def _quote(request: ApiRequest, quote_id: int) -> Any:
    return selectors.quote_get(actor=request.auth, quote_id=quote_id)


def _writable(request: ApiRequest, quote_id: int) -> Any:
    """The quote to change: 403 without `quote.create` first, then 404 outside the scope (as the pages)."""
    ensure_can(request.auth, "quote.create")
    return _quote(request, quote_id)


def _customer(request: ApiRequest, customer_id: int | None) -> Customer | None:
    if customer_id is None:
        return None
    customer = customer_selectors.customer_scope(actor=request.auth).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("Customer not found."))
    return customer


def _contact(request: ApiRequest, contact_id: int | None) -> Contact | None:
    if contact_id is None:
        return None
    try:
        return customer_selectors.contact_get(actor=request.auth, contact_id=contact_id)
    except NotFound as exc:
        raise ValidationFailed(details={"contact_id": [_("There is no such contact.")]}) from exc


def _opportunity(request: ApiRequest, opportunity_id: int | None) -> Opportunity | None:
    if opportunity_id is None:
        return None
    opportunity = selectors.opportunity_for_quote(actor=request.auth, opportunity_id=opportunity_id)
    if opportunity is None:
        raise NotFound(_("Opportunity not found."))
    return opportunity


def _owner(request: ApiRequest, owner_id: int | None) -> User | None:
    if owner_id is None:
        return None
    try:
        return user_selectors.user_get(actor=request.auth, user_id=owner_id)
    except NotFound as exc:
        raise ValidationFailed(details={"owner_id": [_("There is no such user.")]}) from exc


def _line_fields(payload: Schema) -> dict[str, Any]:
    return {key: value for key, value in payload.model_dump(exclude_unset=True).items() if value is not None}


@router.get("/quotes", response=QuotePage, summary="List quotes, newest first")
def quote_list(request: ApiRequest, filters: Query[QuoteFilters]) -> dict[str, Any]:
    """Quotes you may see (yours, your team's or all, by your role). `status=expired` finds draft and
    sent quotes past their date."""
    limit = max(1, min(filters.limit, settings.GUANXI_API_MAX_LIMIT))
    quotes = selectors.quote_list(
        actor=request.auth,
        q=filters.q,
        status=filters.status or "",
        customer_id=filters.customer_id,
        owner_id=filters.owner_id,
    )
    items = list(quotes[filters.offset : filters.offset + limit + 1])
    more = len(items) > limit
    return {
        "items": items[:limit],
        "limit": limit,
        "offset": filters.offset,
        "next_offset": filters.offset + limit if more else None,
    }


@router.post("/quotes", response={201: QuoteOut}, summary="Prepare a quote")
def quote_create(request: ApiRequest, payload: QuoteIn) -> Status[Any]:
    """A draft for `customer_id`, or for the customer of `opportunity_id` with its products as lines."""
    if payload.customer_id is None and payload.opportunity_id is None:
        raise ValidationFailed(details={"customer_id": [_("Choose a customer.")]})
    lines = None if payload.lines is None else [_line_fields(line) for line in payload.lines]
    quote = services.quote_create(
        actor=request.auth,
        customer=_customer(request, payload.customer_id),
        opportunity=_opportunity(request, payload.opportunity_id),
        contact=_contact(request, payload.contact_id),
        owner=_owner(request, payload.owner_id),
        lines=lines,
        valid_until=payload.valid_until,
        title=payload.title,
        notes=payload.notes,
        terms=payload.terms,
    )
    return Status(201, _quote(request, quote.pk))


@router.get("/quotes/{quote_id}", response=QuoteOut, summary="One quote with its lines and totals")
def quote_get(request: ApiRequest, quote_id: int) -> Any:
    return _quote(request, quote_id)


@router.patch("/quotes/{quote_id}", response=QuoteOut, summary="Change a draft quote")
def quote_update(request: ApiRequest, quote_id: int, payload: QuotePatch) -> Any:
    quote = _writable(request, quote_id)
    data = payload.model_dump(exclude_unset=True)
    fields: dict[str, Any] = {key: data[key] or "" for key in ("title", "notes", "terms") if key in data}
    if "contact_id" in data:
        fields["contact"] = _contact(request, data["contact_id"])
    if "valid_until" in data:
        if data["valid_until"] is None:
            raise ValidationFailed(details={"valid_until": [_("Enter a date.")]})
        fields["valid_until"] = data["valid_until"]
    services.quote_update(actor=request.auth, quote=quote, **fields)
    return _quote(request, quote_id)


@router.post("/quotes/{quote_id}/lines", response={201: QuoteOut}, summary="Add a line to a draft quote")
def quote_line_add(request: ApiRequest, quote_id: int, payload: QuoteLineIn) -> Status[Any]:
    quote = _writable(request, quote_id)
    fields = _line_fields(payload)
    services.quote_line_add(actor=request.auth, quote=quote, product=fields.pop("product_id"), **fields)
    return Status(201, _quote(request, quote_id))


@router.patch(
    "/quotes/{quote_id}/lines/{line_id}", response=QuoteOut, summary="Change a line of a draft quote"
)
def quote_line_update(request: ApiRequest, quote_id: int, line_id: int, payload: QuoteLinePatch) -> Any:
    quote = _writable(request, quote_id)
    services.quote_line_update(actor=request.auth, quote=quote, line=line_id, **_line_fields(payload))
    return _quote(request, quote_id)


@router.delete(
    "/quotes/{quote_id}/lines/{line_id}", response=QuoteOut, summary="Remove a line from a draft quote"
)
def quote_line_remove(request: ApiRequest, quote_id: int, line_id: int) -> Any:
    quote = _writable(request, quote_id)
    services.quote_line_remove(actor=request.auth, quote=quote, line=line_id)
    return _quote(request, quote_id)


@router.get("/quotes/{quote_id}/versions", response=list[QuoteSummaryOut], summary="Every version of a quote")
def quote_versions(request: ApiRequest, quote_id: int) -> Any:
    return list(
        selectors.quote_versions(actor=request.auth, quote=_quote(request, quote_id)).select_related(
            "customer", "owner"
        )
    )


@router.post("/quotes/{quote_id}/versions", response={201: QuoteOut}, summary="Make a new version of a quote")
def quote_new_version(request: ApiRequest, quote_id: int) -> Status[Any]:
    """A draft copy numbered one up; the quote copied becomes superseded."""
    copy = services.quote_new_version(actor=request.auth, quote=_writable(request, quote_id))
    return Status(201, _quote(request, copy.pk))


@router.post("/quotes/{quote_id}/send", response=QuoteOut, summary="Email a quote with its PDF")
def quote_send(
    request: ApiRequest,
    quote_id: int,
    payload: SendIn,
    idempotency_key: str | None = Header(
        None, alias="Idempotency-Key", description="The same key sends the email once (a retried request)."
    ),
) -> Any:
    """Queues the email in the outbox (sent after commit, retried until delivered) and marks the quote
    sent. The PDF's labels are in the request's language."""
    services.quote_send(
        actor=request.auth,
        quote=_writable(request, quote_id),
        to=payload.to,
        cc=payload.cc,
        subject=payload.subject,
        body=payload.body,
        idempotency_key=idempotency_key,
    )
    return _quote(request, quote_id)


@router.post("/quotes/{quote_id}/accept", response=QuoteOut, summary="Accept a quote: book its order")
def quote_accept(request: ApiRequest, quote_id: int, response: HttpResponse) -> Any:
    """Books one order with the quote's lines and total (`order_id`); again: the same, replayed."""
    quote = services.quote_accept(actor=request.auth, quote=_writable(request, quote_id))
    if quote.replayed:
        response[REPLAYED] = "true"
    return _quote(request, quote_id)


@router.post("/quotes/{quote_id}/reject", response=QuoteOut, summary="Reject a quote")
def quote_reject(request: ApiRequest, quote_id: int, payload: RejectIn) -> Any:
    services.quote_reject(actor=request.auth, quote=_writable(request, quote_id), reason=payload.reason)
    return _quote(request, quote_id)


@router.get(
    "/quotes/{quote_id}/pdf",
    response={200: None},
    summary="A quote as PDF",
    openapi_extra={"responses": {200: {"content": {"application/pdf": {}}, "description": "The PDF."}}},
)
def quote_pdf(request: ApiRequest, quote_id: int) -> HttpResponse:
    quote = _quote(request, quote_id)
    response = HttpResponse(pdf.quote_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf.filename(quote)}"'
    return response
