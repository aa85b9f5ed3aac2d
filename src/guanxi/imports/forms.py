"""The import pages' forms: the upload, and the column mapping (one choice per column of the file)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.imports.models import ImportJob

ACCEPT = ".csv,.txt,.xlsx,.vcf"


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        help_text=_("CSV or TXT (UTF-8 or GBK), Excel .xlsx, or vCard .vcf contacts."),
    )
    on_duplicate = forms.ChoiceField(
        label=_("When a customer exists"),
        choices=ImportJob.OnDuplicate.choices,
        initial=ImportJob.OnDuplicate.MERGE,
        widget=forms.RadioSelect,
        help_text=_("The same customer: the same mobile number, email or WeChat ID."),
    )
    dry_run = forms.BooleanField(label=_("Dry run: check every row, write no customer"), required=False)
    sheet = forms.CharField(
        label=_("Sheet"),
        required=False,
        max_length=100,
        help_text=_("Excel files only; empty for the first sheet."),
    )


class MappingForm(forms.Form):
    """`col_<n>`: the field the file's column n fills ("" for none); the guess (or template) preselected."""

    on_duplicate = forms.ChoiceField(label=_("When a customer exists"), choices=ImportJob.OnDuplicate.choices)
    save_as = forms.CharField(
        label=_("Save this mapping as a template"),
        required=False,
        max_length=100,
        help_text=_("A name, to map the next file with the same headers the same way."),
    )

    def __init__(
        self,
        data: Any = None,
        *,
        headers: Sequence[str],
        fields: Sequence[tuple[str, str]],
        mapping: Sequence[str | None],
        on_duplicate: str,
    ) -> None:
        super().__init__(data, initial={"on_duplicate": on_duplicate})
        self.headers = list(headers)
        choices = [("", _("— do not import —")), *fields]
        for index, header in enumerate(self.headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header or _("Column %(n)d") % {"n": index + 1}, choices=choices, required=False
            )
            self.initial[f"col_{index}"] = mapping[index] if index < len(mapping) else ""

    def columns(self) -> Iterator[forms.BoundField]:
        for index in range(len(self.headers)):
            yield self[f"col_{index}"]

    def mapping(self) -> list[str | None]:
        return [self.cleaned_data.get(f"col_{i}") or None for i in range(len(self.headers))]
