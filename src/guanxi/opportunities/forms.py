"""Forms of the opportunity pages. They parse input only; opportunities.services holds the rules."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from guanxi.catalog.models import Store
from guanxi.opportunities.models import Opportunity, Pipeline, Stage
from guanxi.sales.models import Order
from guanxi.users.models import Team, User

LINE_KEYS = {"line_product": "product_id", "line_quantity": "quantity", "line_price": "unit_price"}
LIST_SORTS = [
    ("-created", _("Newest first")),
    ("close", _("Expected close, soonest first")),
    ("-amount", _("Amount, largest first")),
    ("stage", _("Stage")),
    ("name", _("Name")),
    ("-updated", _("Recently changed")),
]


class OpportunityBaseForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def _choices(self, name: str, choices: list[tuple[str, Any]]) -> None:
        cast(forms.ChoiceField, self.fields[name]).choices = choices


def _owner_choices(users: list[User], actor: User) -> list[tuple[str, Any]]:
    return [
        ("", _("Everyone")),
        ("mine", _("Mine")),
        *((str(u.pk), u.display_name) for u in users if u.pk != actor.pk),
    ]


class BoardFilterForm(OpportunityBaseForm):
    """Owner ("mine" or a user), team and a search, shared by the board and the list."""

    pipeline = forms.ChoiceField(label=_("Pipeline"), required=False)
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Opportunity or customer")}),
    )

    def __init__(
        self,
        *args: Any,
        actor: User,
        pipelines: list[Pipeline],
        users: list[User],
        teams: list[Team],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._choices("pipeline", [(str(p.pk), p.name) for p in pipelines])
        self._choices("owner", _owner_choices(users, actor))
        if teams:
            self._choices("team", [("", _("All teams")), *((str(t.pk), t.name) for t in teams)])
        else:
            del self.fields["team"]

    def values(self) -> dict[str, Any]:
        """The filters the selectors take, from what was sent (invalid values dropped)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"owner": data.get("owner") or "", "team": data.get("team") or None, "q": data.get("q") or ""}

    @property
    def active(self) -> bool:
        return any(self.values().values())

    def pipeline_id(self) -> int | None:
        value = self.data.get("pipeline", "")
        return int(value) if str(value).isdigit() else None


class ListFilterForm(BoardFilterForm):
    stage = forms.ChoiceField(label=_("Stage"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Opportunity.Status.choices]
    )
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=LIST_SORTS)

    def __init__(self, *args: Any, stages: list[Stage], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choices(
            "pipeline",
            [
                ("", _("All pipelines")),
                *cast(list[tuple[str, Any]], cast(forms.ChoiceField, self.fields["pipeline"]).choices),
            ],
        )
        self._choices(
            "stage",
            [
                ("", _("Any stage")),
                *((str(s.pk), f"{s.pipeline.name} · {s.name}") for s in stages),
            ],
        )

    def values(self) -> dict[str, Any]:
        values = super().values()
        data = getattr(self, "cleaned_data", {})
        values["pipeline_id"] = int(data["pipeline"]) if data.get("pipeline") else None
        values["stage_id"] = int(data["stage"]) if data.get("stage") else None
        values["status"] = data.get("status") or ""
        values["sort"] = data.get("sort") or "-created"
        return values

    @property
    def active(self) -> bool:
        values = self.values()
        return any(value for key, value in values.items() if key != "sort")


class OpportunityForm(OpportunityBaseForm):
    """Create (with customer and stage) or edit an opportunity; product lines come as line_* lists."""

    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=200)
    stage = forms.ChoiceField(label=_("Stage"), required=False)
    amount = forms.CharField(
        label=_("Amount (¥)"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "0.00"}),
        help_text=_("Leave empty to use the total of the products below."),
    )
    probability = forms.CharField(
        label=_("Probability (%)"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("Leave empty to follow the stage's default."),
    )
    expected_close = forms.DateField(
        label=_("Expected close date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    next_step = forms.CharField(label=_("Next step"), required=False, max_length=200)
    competitors = forms.CharField(label=_("Competitors"), required=False, max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, stages: list[Stage] | None, users: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if stages is None:  # editing: the stage moves on the board, not here
            del self.fields["stage"]
            del self.fields["customer"]
        else:
            self._choices(
                "stage", [(str(s.pk), f"{s.pipeline.name} · {s.name} ({s.probability}%)") for s in stages]
            )
        self._choices("owner", [(str(u.pk), u.display_name) for u in users])

    @staticmethod
    def posted_lines(data: QueryDict) -> list[dict[str, str]]:
        """The line rows sent (line_product[], line_quantity[], line_price[]), skipping empty rows."""
        columns = {key: data.getlist(key) for key in LINE_KEYS}
        count = max((len(values) for values in columns.values()), default=0)
        rows = []
        for i in range(count):
            row = {
                name: (columns[key][i] if i < len(columns[key]) else "").strip()
                for key, name in LINE_KEYS.items()
            }
            if row["product_id"]:
                rows.append(row)
        return rows


class CloseWonForm(OpportunityBaseForm):
    note = forms.CharField(label=_("Note"), required=False, max_length=500)
    create_order = forms.BooleanField(
        label=_("Book an order for it"),
        required=False,
        help_text=_("From the products of the opportunity, or its amount when it has none."),
    )
    store = forms.ChoiceField(label=_("Store"), required=False)
    payment_method = forms.ChoiceField(
        label=_("Payment"), choices=Order.PaymentMethod.choices, initial=Order.PaymentMethod.OTHER
    )

    def __init__(self, *args: Any, stores: list[Store], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choices("store", [("", _("No store")), *((str(s.pk), s.name) for s in stores)])


class CloseLostForm(OpportunityBaseForm):
    reason = forms.ChoiceField(label=_("Why was it lost?"), choices=Opportunity.LostReason.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class PipelineForm(OpportunityBaseForm):
    name = forms.CharField(label=_("Name"), max_length=100)


class StageForm(OpportunityBaseForm):
    name = forms.CharField(label=_("Name"), max_length=60)
    probability = forms.IntegerField(label=_("Probability (%)"), min_value=0, max_value=100, required=False)
