"""Forms of the catalog pages. They parse input only; catalog.services holds the rules."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _


class CatalogForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ProductForm(CatalogForm):
    sku = forms.CharField(label=_("SKU"), max_length=64, help_text=_("Unique code, e.g. 92# or TILE-6060."))
    name = forms.CharField(label=_("Name"), max_length=200)
    category = forms.CharField(
        label=_("Category"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"list": "categories"}),
    )
    unit = forms.CharField(
        label=_("Unit"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"list": "units"}),
        help_text=_("升, 件, m², 台 … or any other."),
    )
    # Text, not DecimalField: the service parses money (¥, thousands separators) and says what is wrong.
    price = forms.CharField(label=_("Price (¥)"), widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    cost = forms.CharField(
        label=_("Cost (¥)"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("Leave empty when unknown."),
    )
    active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("Inactive products are not offered for sale."),
    )


class StoreForm(CatalogForm):
    code = forms.CharField(label=_("Code"), max_length=20, help_text=_("Short and unique, e.g. NS01."))
    name = forms.CharField(label=_("Name"), max_length=100)
    city = forms.CharField(label=_("City"), max_length=30, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("Orders can be booked at active stores only."),
    )


class CatalogFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("1", _("Active")), ("0", _("Inactive"))],
    )
    category = forms.ChoiceField(label=_("Category"), required=False)

    def __init__(self, *args: Any, categories: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if categories is None:
            del self.fields["category"]
        else:
            field = cast(forms.ChoiceField, self.fields["category"])
            field.choices = [("", _("All")), *((c, c) for c in categories)]

    def values(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        values: dict[str, Any] = {"q": data.get("q", "")}
        if data.get("active") in ("0", "1"):
            values["active"] = data["active"] == "1"
        if data.get("category"):
            values["category"] = data["category"]
        return values
