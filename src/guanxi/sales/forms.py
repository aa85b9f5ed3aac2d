"""Forms of the sales pages. They parse input only; sales.services holds the rules."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.catalog.models import Store
from guanxi.sales.models import Order

LINE_KEYS = {
    "line_product": "product_id",
    "line_quantity": "quantity",
    "line_price": "unit_price",
    "line_discount": "discount",
}


class SalesForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _store_choices(stores: list[Store], blank: str) -> list[tuple[str, str]]:
    return [("", blank), *((str(store.pk), store.name) for store in stores)]


class CounterForm(SalesForm):
    """The counter: customer (chosen by search), amount or lines, store, payment method.

    The idempotency key is made when the form is shown, so a double click or a resent form books once.
    """

    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    amount = forms.CharField(
        label=_("Amount (¥)"),
        required=False,
        widget=forms.TextInput(
            attrs={
                "inputmode": "decimal",
                "autocomplete": "off",
                "placeholder": "0.00",
                "class": "counter-amount",
            }
        ),
    )
    store = forms.ChoiceField(label=_("Store"), required=False)
    payment_method = forms.ChoiceField(
        label=_("Payment"),
        choices=Order.PaymentMethod.choices,
        initial=Order.PaymentMethod.CASH,
        widget=forms.RadioSelect,
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=Order.Channel.choices, initial=Order.Channel.STORE
    )
    ordered_at = forms.DateTimeField(
        label=_("Time of purchase"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for now; fill in to enter an earlier receipt."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)
    external_ref = forms.CharField(
        label=_("Receipt number"),
        required=False,
        max_length=64,
        help_text=_("The till's or shop system's number."),
    )
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, stores: list[Store], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["store"]).choices = _store_choices(stores, str(_("No store")))
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    @staticmethod
    def posted_lines(data: QueryDict) -> list[dict[str, str]]:
        """The line rows sent (line_product[], line_quantity[], …), skipping rows left empty."""
        columns = {key: data.getlist(key) for key in LINE_KEYS}
        count = max((len(values) for values in columns.values()), default=0)
        rows = []
        for i in range(count):
            row = {
                name: (columns[key][i] if i < len(columns[key]) else "").strip()
                for key, name in LINE_KEYS.items()
            }
            if any(row.values()):
                rows.append(row)
        return rows


class RefundForm(SalesForm):
    amount = forms.CharField(
        label=_("Amount (¥)"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text=_("Leave empty to refund all that is left."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)


class OrderFilterForm(SalesForm):
    q = forms.CharField(
        label=pgettext_lazy("the record", "Customer"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Name, phone, plate or receipt number")}),
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    store = forms.ChoiceField(label=_("Store"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Order.Status.choices]
    )
    payment_method = forms.ChoiceField(
        label=_("Payment"), required=False, choices=[("", _("All")), *Order.PaymentMethod.choices]
    )
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, stores: list[Store], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["store"]).choices = _store_choices(stores, str(_("All")))

    @property
    def active(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.get(name) for name in self.fields)

    @property
    def dated(self) -> bool:
        return self.is_valid() and bool(
            self.cleaned_data.get("date_from") or self.cleaned_data.get("date_to")
        )

    def values(self) -> dict[str, Any]:
        """The selector's arguments; dates are whole local days (to: inclusive)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        store = data.get("store") or ""
        return {
            "q": data.get("q") or "",
            "customer_id": data.get("customer"),
            "store_id": int(store) if store.isdigit() else None,
            "status": data.get("status") or "",
            "payment_method": data.get("payment_method") or "",
            "since": _day_start(data["date_from"]) if data.get("date_from") else None,
            "until": _day_start(data["date_to"] + timedelta(days=1)) if data.get("date_to") else None,
        }


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
