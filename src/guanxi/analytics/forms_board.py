"""The KPI board's filters: period, store and team."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.analytics.kpis import BoardFilters
from guanxi.catalog.models import Store
from guanxi.users.models import Team

MAX_DAYS = 3660  # ten years: enough for any board, and a bound on what one request aggregates


class BoardFilterForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d")
    )
    store = forms.ModelChoiceField(
        label=gettext_lazy("Store"),
        queryset=Store.objects.none(),
        required=False,
        empty_label=gettext_lazy("All stores"),
    )
    team = forms.ModelChoiceField(
        label=gettext_lazy("Team"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=gettext_lazy("All teams"),
    )

    def __init__(
        self, *args: Any, stores: QuerySet[Store], teams: QuerySet[Team] | None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        default = BoardFilters.default()
        self.fields["start"].initial, self.fields["end"].initial = default.start, default.end
        self.fields["store"].queryset = stores  # type: ignore[attr-defined]
        if teams is None:
            del self.fields["team"]
        else:
            self.fields["team"].queryset = teams  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        default = BoardFilters.default()
        start, end = data.get("start") or default.start, data.get("end") or default.end
        if start > end:
            self.add_error("end", _("The end of the period comes before its start."))
        elif (end - start).days > MAX_DAYS:
            self.add_error("start", _("Choose a period of at most ten years."))
        data["start"], data["end"] = start, end
        return data

    def filters(self) -> BoardFilters:
        """The filters asked for, or the default period when the form is not valid."""
        if not self.is_valid():
            return BoardFilters.default()
        data = self.cleaned_data
        store, team = data.get("store"), data.get("team")
        return BoardFilters(
            start=data["start"],
            end=data["end"],
            store_id=store.pk if store else None,
            team_id=team.pk if team else None,
        )
