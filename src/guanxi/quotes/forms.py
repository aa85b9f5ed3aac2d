"""Forms of the quote pages. They parse input only; guanxi.quotes.services holds the rules."""

from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.customers.models import Contact
from guanxi.quotes.models import Quote
from guanxi.users.models import User

MONEY_INPUT = {"inputmode": "decimal", "autocomplete": "off"}


class QuoteForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class QuoteFilterForm(QuoteForm):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Quote number, subject or customer")}),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, owners: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["status"]).choices = [("", _("Current")), *Quote.Status.choices]
        cast(forms.ChoiceField, self.fields["owner"]).choices = [
            ("", _("All")),
            *((str(user.pk), user.display_name) for user in owners),
        ]

    @property
    def active(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.get(name) for name in self.fields)

    def values(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        owner = data.get("owner") or ""
        return {
            "q": data.get("q") or "",
            "status": data.get("status") or "",
            "owner_id": int(owner) if owner.isdigit() else None,
            "customer_id": data.get("customer"),
        }


class QuoteHeaderForm(QuoteForm):
    """Subject, contact, validity date, notes and terms of a draft (and of a new quote)."""

    title = forms.CharField(label=_("Subject"), required=False, max_length=200)
    contact = forms.ChoiceField(label=_("Contact"), required=False)
    valid_until = forms.DateField(
        label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Printed on the quote."),
    )
    terms = forms.CharField(
        label=_("Terms"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Payment, delivery and warranty terms, printed on the quote."),
    )

    def __init__(self, *args: Any, contacts: list[Contact], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contacts = {str(contact.pk): contact for contact in contacts}
        choices = [("", _("None")), *((key, contact.name) for key, contact in self.contacts.items())]
        cast(forms.ChoiceField, self.fields["contact"]).choices = choices
        if not contacts:
            del self.fields["contact"]

    def service_values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if "contact" in self.fields:
            data["contact"] = self.contacts.get(data.get("contact") or "")
        return data


class LineForm(QuoteForm):
    """One line's editable figures; blank leaves a figure as it is."""

    line = forms.IntegerField(widget=forms.HiddenInput)
    quantity = forms.CharField(label=_("Quantity"), required=False, widget=forms.TextInput(attrs=MONEY_INPUT))
    unit_price = forms.CharField(
        label=_("Unit price"), required=False, widget=forms.TextInput(attrs=MONEY_INPUT)
    )
    discount_percent = forms.CharField(
        label=_("Discount (%)"), required=False, widget=forms.TextInput(attrs=MONEY_INPUT)
    )
    tax_rate = forms.CharField(
        label=_("VAT rate (%)"), required=False, widget=forms.TextInput(attrs=MONEY_INPUT)
    )

    def changes(self) -> dict[str, str]:
        return {
            key: value
            for key, value in self.cleaned_data.items()
            if key != "line" and isinstance(value, str) and value.strip()
        }


class SendForm(QuoteForm):
    to = forms.CharField(
        label=pgettext_lazy("addressee of a letter", "To"),
        max_length=1000,
        help_text=_("One or more email addresses, separated by commas."),
    )
    cc = forms.CharField(label=_("Cc"), required=False, max_length=1000)
    subject = forms.CharField(label=_("Subject"), max_length=300)
    body = forms.CharField(
        label=pgettext_lazy("email body", "Message"), widget=forms.Textarea(attrs={"rows": 9})
    )
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    @staticmethod
    def addresses(text: str) -> list[str]:
        return [part.strip() for part in text.replace("；", ",").replace(";", ",").split(",") if part.strip()]


class RejectForm(QuoteForm):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300)
