"""The customer 360 page and what is edited on it: activities and notes, consent, contacts, assets.

Each action is a POST through a service. With htmx it answers with the re-rendered section (and the
`timeline-changed` event, on which the timeline reloads itself); without, it redirects back to the page,
or shows the whole page with the form and its errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.activities import services as activity_services
from guanxi.activities.forms import KIND_LABELS, ActivityForm
from guanxi.analytics import selectors as analytics_selectors
from guanxi.core.errors import DomainError, NotFound, ValidationFailed
from guanxi.core.http import AuthedRequest
from guanxi.core.masking import mask_email, mask_text
from guanxi.core.permissions import can
from guanxi.core.phone import phone_display, phone_mask
from guanxi.core.web import apply_errors, requires
from guanxi.customers import duplicates, selectors, services
from guanxi.customers.forms_detail import AssetForm, ConsentForm, ContactForm, NoteForm
from guanxi.customers.models import Asset, Contact, Customer
from guanxi.leads import selectors as lead_selectors
from guanxi.opportunities import selectors as opportunity_selectors
from guanxi.quotes import selectors as quote_selectors
from guanxi.sales import selectors as sales_selectors

TEMPLATE = "customers/detail.html"
TIMELINE_PAGE = 50
SECTIONS = ("profile", "contacts", "assets", "consent", "activity-form", "note-form", "timeline")
TIMELINE_EVENT = "timeline-changed"


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _is_htmx(request: AuthedRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _timeline_types(request: AuthedRequest) -> list[tuple[str, str]]:
    """The timeline's filter buttons: (type, label), all first."""
    types = [("", _("All"))]
    if can(request.user, "order.view"):
        types.append(("orders", _("Orders")))
    types.append(("activities", _("Activities")))
    types += [(f"activity.{kind}", str(label)) for kind, label in KIND_LABELS.items()]
    types.append(("changes", _("Changes")))
    return types


def _timeline_type(request: AuthedRequest) -> str:
    wanted = request.GET.get("type", "")
    return wanted if selectors.timeline_type_q(wanted) is not None else ""


def _timeline_context(
    request: AuthedRequest, customer: Customer, before_id: int | None, timeline_type: str = ""
) -> dict[str, Any]:
    # One entry more than shown tells whether older ones exist, without counting them.
    entries = selectors.customer_timeline(
        actor=request.user,
        customer=customer,
        limit=TIMELINE_PAGE + 1,
        before_id=before_id,
        timeline_type=timeline_type,
    )
    shown = entries[:TIMELINE_PAGE]
    return {
        "timeline": shown,
        "timeline_before_id": before_id,
        "timeline_more_id": shown[-1].pk if len(entries) > TIMELINE_PAGE else None,
        "timeline_type": timeline_type,
        "timeline_types": _timeline_types(request),
    }


def _consent_matrix(request: AuthedRequest, customer: Customer) -> dict[str, Any]:
    """selectors.consent_current's rows as a table: one row per purpose, one column per channel."""
    rows: list[dict[str, Any]] = []
    channels: list[str] = []
    for cell in selectors.consent_current(actor=request.user, customer=customer):
        if not rows or rows[-1]["purpose"] != cell["purpose"]:
            rows.append({"purpose": cell["purpose"], "label": cell["purpose_label"], "cells": []})
        rows[-1]["cells"].append(cell)
        if len(rows) == 1:
            channels.append(cell["channel_label"])
    recorded = any(cell["record"] for row in rows for cell in row["cells"])
    return {"consent_rows": rows, "consent_channels": channels, "consent_any": recorded}


def _context(
    request: AuthedRequest,
    customer: Customer,
    *,
    sections: tuple[str, ...] = SECTIONS,
    before_id: int | None = None,
    timeline_type: str = "",
    **overrides: Any,
) -> dict[str, Any]:
    """What the page (or the sections named) shows; `overrides` carry bound forms and edit states."""
    context: dict[str, Any] = {"customer": customer, "nav": "customers"}
    if "profile" in sections or "timeline" in sections:
        definitions = list(selectors.custom_field_list(actor=request.user, include_inactive=True))
        values = customer.custom_fields or {}
        context["custom_fields"] = {d.key: d for d in definitions}
        context["custom_rows"] = [(d, values[d.key]) for d in definitions if d.active and d.key in values]
    if "timeline" in sections:
        context.update(_timeline_context(request, customer, before_id, timeline_type))
    if "consent" in sections:
        context.update(_consent_matrix(request, customer))
        context["consent_form"] = ConsentForm()
    if "note-form" in sections:
        context["note_form"] = NoteForm()
    if "activity-form" in sections and can(request.user, "activity.create"):
        context["activity_form"] = ActivityForm(addresses=_addresses(customer))
    if "contacts" in sections:
        context["contact_form"] = ContactForm()
    if "assets" in sections:
        context["asset_form"] = AssetForm()
    if sections == SECTIONS and can(request.user, "order.view"):  # the whole page: its purchase summary
        context["purchase"] = sales_selectors.customer_purchase_summary(actor=request.user, customer=customer)
    if sections == SECTIONS:  # and its value and churn risk, for those who may see analytics
        context["analytics"] = analytics_selectors.customer_analytics(actor=request.user, customer=customer)
    if sections == SECTIONS:  # the selling in progress: each list is empty without its view permission
        user = request.user
        context["opportunities"] = opportunity_selectors.opportunity_list_for_customer(
            actor=user, customer=customer
        )
        if can(user, "quote.view"):
            quotes = quote_selectors.quote_list_for_customer(actor=user, customer=customer)
            context["customer_quotes"] = quotes
        context["customer_leads"] = lead_selectors.leads_for_customer(actor=user, customer=customer)
    context.update(overrides)
    return context


def _section(
    request: AuthedRequest, customer: Customer, section: str, *, status: int = 200, **overrides: Any
) -> HttpResponse:
    context = _context(request, customer, sections=(section,), **overrides)
    return render(request, f"{TEMPLATE}#{section}", context, status=status)


def _page(request: AuthedRequest, customer: Customer, *, status: int = 200, **overrides: Any) -> HttpResponse:
    return render(request, TEMPLATE, _context(request, customer, **overrides), status=status)


def _done(request: AuthedRequest, customer_id: int, section: str, message: str) -> HttpResponse:
    """After a successful action: the fresh section for htmx, else back to the page with a message."""
    if _is_htmx(request):
        customer = selectors.customer_get(actor=request.user, customer_id=customer_id)
        response = _section(request, customer, section)
        response["HX-Trigger"] = TIMELINE_EVENT
        return response
    messages.success(request, message)
    return redirect(reverse("customer-detail", args=[customer_id]) + f"#{section}")


def _shown(
    request: AuthedRequest, customer: Customer, section: str, *, status: int = 200, **overrides: Any
) -> HttpResponse:
    """The section as `overrides` set it: alone for htmx, on the whole page (with `status`) otherwise."""
    if _is_htmx(request):
        return _section(request, customer, section, **overrides)
    return _page(request, customer, status=status, **overrides)


def _invalid(request: AuthedRequest, customer: Customer, section: str, **overrides: Any) -> HttpResponse:
    """The form again with its errors: in its section for htmx, on the whole page otherwise."""
    return _shown(request, customer, section, status=422, **overrides)


def _submit(form: Form, action: Any) -> bool:
    """Run `action` when the form parses; a service's validation errors land on the form's fields."""
    if not form.is_valid():
        return False
    try:
        action()
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return False
    return True


def _confirm(request: AuthedRequest, **context: str) -> HttpResponse:
    """A page that asks before a deletion, for browsers without JavaScript."""
    return render(request, "customers/detail_confirm.html", {"nav": "customers", **context})


def _item_edit(
    request: AuthedRequest,
    customer: Customer,
    section: str,
    form: Form,
    save: Callable[[], object],
    saved: str,
    **editing: Any,
) -> HttpResponse:
    """GET shows an item (a contact, an asset) as `form` in its row, `editing` naming both for the
    template; POST runs `save` with the form parsed."""
    if request.method != "POST":
        return _shown(request, customer, section, **editing)
    if _submit(form, save):
        return _done(request, customer.pk, section, saved)
    return _invalid(request, customer, section, **editing)


def _item_remove(
    request: AuthedRequest,
    customer_id: int,
    section: str,
    remove: Callable[[], object],
    removed: str,
    **confirm: str,
) -> HttpResponse:
    """POST runs `remove`; GET asks first, on a page `confirm` words (with htmx the page asks itself)."""
    if request.method != "POST":
        return _confirm(
            request,
            button=_("Remove"),
            cancel=reverse("customer-detail", args=[customer_id]) + f"#{section}",
            **confirm,
        )
    remove()
    return _done(request, customer_id, section, removed)


# ---------------------------------------------------------------------------------------------------
# The page


@requires("customer.view")
def customer_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        customer = selectors.customer_get(actor=request.user, customer_id=pk)
    except NotFound:
        # A customer merged into another: its page leads to the survivor, for readers who may see it.
        merge = duplicates.customer_merged_into(actor=request.user, customer_id=pk)
        if merge is None or merge.survivor_id is None:
            raise
        messages.info(
            request,
            _("Customer “%(name)s” (#%(id)s) was merged into this one.")
            % {"name": merge.merged_name, "id": pk},
        )
        return redirect("customer-detail", merge.survivor_id)
    section = request.GET.get("section", "")
    if _is_htmx(request) and section in SECTIONS:
        return _section(request, customer, section)
    return _page(
        request,
        customer,
        before_id=_int(request.GET.get("before_id")),
        timeline_type=_timeline_type(request),
    )


@requires("customer.view")
def customer_timeline(request: AuthedRequest, pk: int) -> HttpResponse:
    """The timeline card, or with `before_id` the next older entries (for "Load older"); `type` keeps
    one type of entry (see selectors.timeline_type_q)."""
    customer = selectors.customer_get(actor=request.user, customer_id=pk)
    before_id = _int(request.GET.get("before_id"))
    timeline_type = _timeline_type(request)
    if not _is_htmx(request):
        query = urlencode({k: v for k, v in (("type", timeline_type), ("before_id", before_id)) if v})
        return redirect(reverse("customer-detail", args=[pk]) + (f"?{query}" if query else "") + "#timeline")
    context = _context(
        request, customer, sections=("timeline",), before_id=before_id, timeline_type=timeline_type
    )
    partial = "timeline-entries" if before_id else "timeline"
    return render(request, f"{TEMPLATE}#{partial}", context)


@requires("customer.delete")
def customer_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes and goes back to the customer list."""
    customer = selectors.customer_get(actor=request.user, customer_id=pk)
    if request.method != "POST":
        return _confirm(
            request,
            title=_("Delete the customer “%(name)s”?") % {"name": customer.name},
            message=_(
                "Its phones, emails, contacts, assets, consent records and timeline are deleted with it. "
                "This cannot be undone; the audit log keeps a copy of the data."
            ),
            button=_("Delete"),
            action=reverse("customer-delete", args=[pk]),
            cancel=reverse("customer-detail", args=[pk]),
        )
    services.customer_delete(actor=request.user, customer=customer)
    messages.success(request, _("Customer “%(name)s” deleted.") % {"name": customer.name})
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("customer-list")
        return response
    return redirect("customer-list")


# ---------------------------------------------------------------------------------------------------
# Activities, notes and consent


def _addresses(customer: Customer) -> list[str]:
    """Where an email activity may go (the customer's and its contacts' addresses, as prefetched)."""
    addresses = [email.address for email in customer.emails.all()]
    addresses += [contact.email for contact in customer.contacts.all() if contact.email]
    return list(dict.fromkeys(addresses))


@requires("activity.create")
@require_POST
def activity_log(request: AuthedRequest, pk: int) -> HttpResponse:
    """Log an activity from the page (sending it, for an email that asks to be sent); the timeline
    reloads itself and shows it at the top."""
    customer = selectors.customer_get(actor=request.user, customer_id=pk)
    form = ActivityForm(request.POST, addresses=_addresses(customer))
    if not form.is_valid():
        return _invalid(request, customer, "activity-form", activity_form=form)
    try:
        activity = activity_services.activity_log(
            actor=request.user, customer=customer, **form.service_kwargs()
        )
    except DomainError as exc:  # invalid fields, or an email to a customer who opted out of email
        apply_errors(form, exc)
        return _invalid(request, customer, "activity-form", activity_form=form)
    if activity.email_id:
        message = _("Email queued for sending and logged.")
    else:
        message = _("%(kind)s logged.") % {"kind": activity.get_kind_display()}
    return _done(request, pk, "activity-form", message)


@requires("customer.note")
@require_POST
def note_add(request: AuthedRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(actor=request.user, customer_id=pk)
    form = NoteForm(request.POST)
    if _submit(form, lambda: services.note_add(actor=request.user, customer=customer, **form.cleaned_data)):
        return _done(request, pk, "note-form", _("Note added."))
    return _invalid(request, customer, "note-form", note_form=form)


@requires("consent.change")
@require_POST
def consent_add(request: AuthedRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(actor=request.user, customer_id=pk)
    form = ConsentForm(request.POST)
    if _submit(
        form, lambda: services.consent_record(actor=request.user, customer=customer, **form.service_kwargs())
    ):
        return _done(request, pk, "consent", _("Consent recorded."))
    return _invalid(request, customer, "consent", consent_form=form, consent_open=True)


# ---------------------------------------------------------------------------------------------------
# Contacts (of company customers)

# Personal data a reader without clear access sees masked: sent back unchanged, it is left as stored.
CONTACT_MASKED = {
    "phone": lambda contact: phone_mask(contact.phone) if contact.phone else "",
    "email": lambda contact: mask_email(contact.email) if contact.email else "",
    "wechat_id": lambda contact: mask_text(contact.wechat_id),
}


def _contact_initial(contact: Contact) -> dict[str, Any]:
    initial = {name: getattr(contact, name) for name in ContactForm.base_fields}
    if contact.clear:
        initial["phone"] = phone_display(contact.phone) if contact.phone else ""
    else:
        initial.update({name: masked(contact) for name, masked in CONTACT_MASKED.items()})
    return initial


def _contact_fields(contact: Contact, cleaned: dict[str, Any]) -> dict[str, Any]:
    if contact.clear:
        return dict(cleaned)
    return {
        name: value
        for name, value in cleaned.items()
        if not (name in CONTACT_MASKED and value == CONTACT_MASKED[name](contact))
    }


@requires("customer.change")
@require_POST
def contact_add(request: AuthedRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(actor=request.user, customer_id=pk)
    form = ContactForm(request.POST)
    if _submit(
        form, lambda: services.contact_create(actor=request.user, customer=customer, **form.cleaned_data)
    ):
        return _done(request, pk, "contacts", _("Contact added."))
    return _invalid(request, customer, "contacts", contact_form=form, contact_open=True)


@requires("customer.change")
def contact_edit(request: AuthedRequest, contact_id: int) -> HttpResponse:
    """GET shows the contact as a form in its row; POST saves it."""
    contact = selectors.contact_get(actor=request.user, contact_id=contact_id)
    customer = selectors.customer_get(actor=request.user, customer_id=contact.customer_id)
    data = request.POST if request.method == "POST" else None
    form = ContactForm(data, initial=_contact_initial(contact), auto_id=f"contact-{contact.pk}-%s")
    return _item_edit(
        request,
        customer,
        "contacts",
        form,
        save=lambda: services.contact_update(
            actor=request.user, contact=contact, **_contact_fields(contact, form.cleaned_data)
        ),
        saved=_("Contact saved."),
        contact_edit_id=contact.pk,
        contact_edit_form=form,
    )


@requires("customer.change")
def contact_delete(request: AuthedRequest, contact_id: int) -> HttpResponse:
    """POST removes the contact; GET asks first (the page asks in the browser, with htmx)."""
    contact = selectors.contact_get(actor=request.user, contact_id=contact_id)
    return _item_remove(
        request,
        contact.customer_id,
        "contacts",
        remove=lambda: services.contact_delete(actor=request.user, contact=contact),
        removed=_("Contact removed."),
        title=_("Remove the contact “%(name)s”?") % {"name": contact.name},
        message=_("The customer's timeline keeps a note that the contact was removed."),
        action=reverse("contact-delete", args=[contact.pk]),
    )


# ---------------------------------------------------------------------------------------------------
# Assets (vehicles, building sites)


def _asset_initial(asset: Asset) -> dict[str, Any]:
    return {name: getattr(asset, name) for name in AssetForm.base_fields}


@requires("customer.change")
@require_POST
def asset_add(request: AuthedRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(actor=request.user, customer_id=pk)
    form = AssetForm(request.POST)
    if _submit(
        form,
        lambda: services.asset_create(
            actor=request.user, customer=customer, **form.service_kwargs(creating=True)
        ),
    ):
        return _done(request, pk, "assets", _("Asset added."))
    return _invalid(request, customer, "assets", asset_form=form, asset_open=True)


@requires("customer.change")
def asset_edit(request: AuthedRequest, asset_id: int) -> HttpResponse:
    """GET shows the asset as a form in its row; POST saves it."""
    asset = selectors.asset_get(actor=request.user, asset_id=asset_id)
    customer = selectors.customer_get(actor=request.user, customer_id=asset.customer_id)
    data = request.POST if request.method == "POST" else None
    form = AssetForm(data, initial=_asset_initial(asset), auto_id=f"asset-{asset.pk}-%s")
    return _item_edit(
        request,
        customer,
        "assets",
        form,
        save=lambda: services.asset_update(
            actor=request.user, asset=asset, **form.service_kwargs(creating=False)
        ),
        saved=_("Asset saved."),
        asset_edit_id=asset.pk,
        asset_edit_form=form,
    )


@requires("customer.change")
def asset_delete(request: AuthedRequest, asset_id: int) -> HttpResponse:
    """POST removes the asset; GET asks first (the page asks in the browser, with htmx)."""
    asset = selectors.asset_get(actor=request.user, asset_id=asset_id)
    return _item_remove(
        request,
        asset.customer_id,
        "assets",
        remove=lambda: services.asset_delete(actor=request.user, asset=asset),
        removed=_("Asset removed."),
        title=_("Remove the asset “%(name)s”?") % {"name": asset},
        message=_("The customer's timeline keeps a note that the asset was removed."),
        action=reverse("asset-delete", args=[asset.pk]),
    )
