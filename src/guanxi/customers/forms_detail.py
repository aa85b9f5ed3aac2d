"""Forms of the customer 360 page. They parse input only; the services hold the rules and do the writing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Asset, Consent

BLANK_CHOICE: list[tuple[str, Any]] = [("", "—")]


class PageForm(forms.Form):
    """Several forms share the page, so each names its fields' HTML ids after itself."""

    id_prefix = "form"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class NoteForm(PageForm):
    id_prefix = "note"

    body = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("What happened, what was agreed…")}),
    )


class ConsentForm(PageForm):
    id_prefix = "consent"
    GRANTED, WITHDRAWN = "granted", "withdrawn"

    purpose = forms.ChoiceField(label=_("Purpose"), choices=Consent.Purpose.choices)
    channel = forms.ChoiceField(
        label=_("Channel"), choices=Consent.Channel.choices, initial=Consent.Channel.ANY
    )
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(GRANTED, _("Granted")), (WITHDRAWN, _("Withdrawn"))],
        widget=forms.RadioSelect,
        initial=GRANTED,
    )
    method = forms.ChoiceField(label=_("How"), choices=BLANK_CHOICE + Consent.Method.choices)
    recorded_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for now."),
    )
    note = forms.CharField(label=_("Note"), required=False)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "purpose": data["purpose"],
            "channel": data["channel"],
            "granted": data["decision"] == self.GRANTED,
            "method": data["method"],
            "recorded_at": data["recorded_at"],
            "note": data["note"],
        }


class ContactForm(PageForm):
    id_prefix = "contact"
    name = forms.CharField(label=_("Name"))
    title = forms.CharField(label=_("Job title"), required=False)
    phone = forms.CharField(label=_("Phone"), required=False)
    email = forms.CharField(label=_("Email"), required=False)
    wechat_id = forms.CharField(label=_("WeChat ID"), required=False)
    is_primary = forms.BooleanField(label=_("Primary contact"), required=False)
    notes = forms.CharField(label=_("Notes"), required=False)


class AssetForm(PageForm):
    """One form for every kind of asset; each kind shows and sends only its own fields."""

    id_prefix = "asset"

    KIND_FIELDS = {
        Asset.Kind.VEHICLE: ["plate", "vin", "model", "mileage_km", "next_service_on", "name", "notes"],
        Asset.Kind.SITE: ["name", "site_stage", "address", "notes"],
        Asset.Kind.OTHER: ["name", "address", "notes"],
    }
    EMPTY: dict[str, Any] = {
        "name": "",
        "plate": "",
        "vin": "",
        "model": "",
        "mileage_km": None,
        "next_service_on": None,
        "address": "",
        "site_stage": "",
        "notes": "",
    }

    kind = forms.ChoiceField(label=_("Kind"), choices=Asset.Kind.choices, initial=Asset.Kind.VEHICLE)
    plate = forms.CharField(label=_("Licence plate"), required=False)
    vin = forms.CharField(label=_("VIN"), required=False)
    model = forms.CharField(label=_("Model"), required=False)
    mileage_km = forms.IntegerField(label=_("Mileage (km)"), required=False, min_value=0)
    next_service_on = forms.DateField(
        label=_("Next service due"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Follow-up rules remind the owner before this date."),
    )
    name = forms.CharField(label=_("Name"), required=False)
    site_stage = forms.ChoiceField(
        label=_("Site stage"), choices=BLANK_CHOICE + Asset.SiteStage.choices, required=False
    )
    address = forms.CharField(label=_("Address"), required=False)
    notes = forms.CharField(label=_("Notes"), required=False)

    def rows(self) -> Iterator[tuple[forms.BoundField, str]]:
        """The fields after `kind`, each with the kinds it belongs to (the page hides the others)."""
        for name in self.fields:
            if name != "kind":
                kinds = " ".join(kind for kind, names in self.KIND_FIELDS.items() if name in names)
                yield self[name], kinds

    def service_kwargs(self, *, creating: bool) -> dict[str, Any]:
        """The kind's own fields; on a change, the fields of other kinds are cleared."""
        kind = self.cleaned_data["kind"]
        own = {name: self.cleaned_data[name] for name in self.KIND_FIELDS.get(kind, [])}
        if creating:
            return {"kind": kind, **own}
        return {"kind": kind, **self.EMPTY, **own}
