"""The merge screen's form: which record survives and, for each field on which they differ, whose value.

It parses input only; customers.services.customer_merge holds the rules.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Customer

A, B = "a", "b"


def pick_name(field: str) -> str:
    """The form field of a customer field: pick_<field>, a custom field's dot as a double underscore."""
    return "pick_" + field.replace(".", "__")


class MergeForm(forms.Form):
    survivor = forms.ChoiceField(
        label=_("Record that stays"), choices=[(A, A), (B, B)], widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, fields: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.merge_fields = fields
        for field in fields:
            self.fields[pick_name(field)] = forms.ChoiceField(
                choices=[(A, A), (B, B)], widget=forms.RadioSelect, required=False
            )

    def choose(self, a: Customer, b: Customer) -> tuple[Customer, Customer, dict[str, str]]:
        """(survivor, other, choose) for customers.services.customer_merge, from the parsed form."""
        data = self.cleaned_data
        survivor, other = (a, b) if data["survivor"] == A else (b, a)
        choose = {}
        for field in self.merge_fields:
            side = data.get(pick_name(field))
            if side in (A, B):
                choose[field] = "survivor" if side == data["survivor"] else "other"
        return survivor, other, choose
