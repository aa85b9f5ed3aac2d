"""Forms of the outbox page. They parse input only; channels.services holds the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.channels.models import EmailMessage


class OutboxFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Subject or recipient")}),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *EmailMessage.Status.choices]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    @property
    def active(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.get(name) for name in self.fields)

    def values(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        return {"q": self.cleaned_data["q"], "status": self.cleaned_data["status"]}
