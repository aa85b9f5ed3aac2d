"""The import pages' forms: the upload, the column mapping (one choice per column of the file), and on the
mapping page the workbook's sheet and a saved template to map with."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from guanxi.imports.models import ImportJob
from guanxi.imports.readers.xlsx_sheets import XlsxSheet

ACCEPT = ".csv,.txt,.xlsx,.vcf"


class ImportUploadForm(forms.Form):
    target = forms.ChoiceField(
        label=_("The file holds"),
        choices=(("customers", _("Customers")), ("orders", _("Orders")), ("leads", _("Leads"))),
        initial="customers",
        required=False,  # customers when not said
        widget=forms.RadioSelect,
        help_text=format_lazy(
            "{} {}",
            _(
                "Orders: one row an order, or an order's line (rows with the same order number are one "
                "order); the customer is found by phone, member number or customer code."
            ),
            _("Leads: one row a person; a row with the mobile or email of an open lead is merged into it."),
        ),
    )
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
        help_text=_(
            "Excel files only. Empty: the first sheet that holds anything; "
            "you can choose another on the next page."
        ),
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


class _SheetSelect(forms.Select):
    """A sheet that holds nothing is listed, so the user sees every tab of the workbook, but cannot be
    chosen."""

    empty: frozenset[str] = frozenset()

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        if option["value"] in self.empty:
            option["attrs"]["disabled"] = True
        return option


class SheetForm(forms.Form):
    """The worksheet of the workbook to import; changing it reads that sheet's header and rows."""

    sheet = forms.ChoiceField(label=_("Sheet"), widget=_SheetSelect)

    def __init__(self, data: Any = None, *, sheets: Sequence[XlsxSheet], current: str) -> None:
        super().__init__(data, initial={"sheet": current})
        field = self.fields["sheet"]
        assert isinstance(field, forms.ChoiceField) and isinstance(field.widget, _SheetSelect)
        field.choices = [(s.name, _sheet_label(s)) for s in sheets]
        field.widget.empty = frozenset(s.name for s in sheets if not s.filled)


def _sheet_label(sheet: XlsxSheet) -> str:
    if not sheet.filled:
        return str(_("%(sheet)s (empty)") % {"sheet": sheet.name})
    if sheet.hidden:
        return str(_("%(sheet)s (hidden)") % {"sheet": sheet.name})
    return sheet.name


class TemplateChoiceForm(forms.Form):
    """A saved template to map the file's columns with; each is labelled with how many columns it maps."""

    template = forms.TypedChoiceField(label=_("Saved template"), coerce=int, required=False, empty_value=None)

    def __init__(
        self,
        data: Any = None,
        *,
        templates: Sequence[tuple[int, str, int]],
        columns: int,
        current: int | None,
    ) -> None:
        """`templates`: (id, name, how many of the file's columns it maps)."""
        super().__init__(data, initial={"template": current})
        field = self.fields["template"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [
            ("", _("— choose a saved template —")),
            *(
                (
                    pk,
                    ngettext(
                        "%(name)s: maps %(mapped)d of the file's %(columns)d column",
                        "%(name)s: maps %(mapped)d of the file's %(columns)d columns",
                        columns,
                    )
                    % {"name": name, "mapped": mapped, "columns": columns},
                )
                for pk, name, mapped in templates
            ),
        ]
