"""Forms of the tag and custom field pages. They parse input; the services hold the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import CustomFieldDefinition


class TagForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=50, widget=forms.TextInput(attrs={"placeholder": _("Tag name, e.g. VIP")})
    )
    color = forms.CharField(
        label=_("Colour"),
        max_length=7,
        initial="#2563eb",
        widget=forms.TextInput(attrs={"type": "color"}),
    )


class CustomFieldCreateForm(forms.Form):
    label = forms.CharField(
        label=_("Label"),
        max_length=100,
        help_text=_("What users see on the customer form, e.g. “Fleet size”."),
        widget=forms.TextInput(attrs={"autofocus": True}),
    )
    key = forms.CharField(
        label=_("Key"),
        max_length=50,
        required=False,
        help_text=_(
            "How the value is stored and named in the API and in imports: lower-case letters, digits and _. "
            "Leave empty to have one made for you. The key cannot change later."
        ),
        widget=forms.TextInput(attrs={"placeholder": _("e.g. fleet_size")}),
    )
    type = forms.ChoiceField(
        label=_("Type"),
        choices=CustomFieldDefinition.Type.choices,
        help_text=_("Values are checked against the type; the type cannot change later."),
    )
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        help_text=_("One per line, or separated by commas."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    required = forms.BooleanField(label=_("Required"), required=False)
    help_text = forms.CharField(
        label=_("Help text"),
        max_length=200,
        required=False,
        help_text=_("A hint shown under the field on the customer form."),
    )
    position = forms.IntegerField(
        label=_("Position"), min_value=0, initial=0, help_text=_("Smaller numbers come first.")
    )


class CustomFieldEditForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=100)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        help_text=_("One per line, or separated by commas. Values already stored are kept as they are."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    required = forms.BooleanField(label=_("Required"), required=False)
    help_text = forms.CharField(label=_("Help text"), max_length=200, required=False)
    position = forms.IntegerField(
        label=_("Position"), min_value=0, help_text=_("Smaller numbers come first.")
    )
    active = forms.BooleanField(
        label=_("Active"),
        required=False,
        help_text=_("An inactive field is hidden from forms and lists; its stored values are kept."),
    )
