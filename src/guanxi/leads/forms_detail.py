"""Forms of a lead's page: its status actions, assignment and conversion."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Customer
from guanxi.leads.models import Lead
from guanxi.opportunities.models import Pipeline
from guanxi.users.models import User


class LeadsForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def user_choices(users: list[User]) -> list[tuple[str, str]]:
    """“Name · team” for each user (as the lead forms show owners)."""
    return [(str(u.pk), f"{u.display_name} · {u.team.name}" if u.team else u.display_name) for u in users]


class QualifyForm(LeadsForm):
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class DisqualifyForm(LeadsForm):
    reason = forms.ChoiceField(
        label=_("Reason"), choices=[("", _("Choose a reason…")), *Lead.DisqualifyReason.choices]
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class AssignForm(LeadsForm):
    owner = forms.ChoiceField(label=_("Owner"), required=False)

    def __init__(self, *args: Any, users: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.users = {str(user.pk): user for user in users}
        cast(forms.ChoiceField, self.fields["owner"]).choices = [
            ("", _("Nobody (unassigned)")),
            *user_choices(users),
        ]

    def chosen_owner(self) -> User | None:
        return self.users.get(self.cleaned_data.get("owner") or "")


class ConvertForm(LeadsForm):
    """Convert: a new customer (person or company) or an existing one, and optionally an opportunity."""

    target = forms.ChoiceField(label=_("Customer"), widget=forms.RadioSelect)
    customer = forms.ChoiceField(label=_("Existing customer"), required=False)
    customer_id = forms.IntegerField(
        label=_("or its number"),
        required=False,
        min_value=1,
        widget=forms.NumberInput(attrs={"placeholder": "#"}),
    )
    opportunity = forms.BooleanField(label=_("Open an opportunity too"), required=False)
    opportunity_name = forms.CharField(label=_("Opportunity name"), required=False, max_length=200)
    pipeline = forms.ChoiceField(label=_("Pipeline"), required=False)
    amount = forms.CharField(
        label=_("Amount (¥)"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "0.00"}),
    )
    expected_close = forms.DateField(
        label=_("Expected close date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self,
        *args: Any,
        lead: Lead,
        suggestions: list[Customer],
        pipelines: list[Pipeline],
        may_create: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        targets: list[tuple[str, Any]] = []
        if may_create:
            targets.append(("person", _("A new customer: %(name)s") % {"name": lead.name}))
            if lead.company:
                targets.append(
                    (
                        "company",
                        _("A new company: %(company)s, with %(name)s as contact")
                        % {"company": lead.company, "name": lead.name},
                    )
                )
        targets.append(("existing", _("An existing customer")))
        target = cast(forms.ChoiceField, self.fields["target"])
        target.choices = targets
        self.suggestions = suggestions
        cast(forms.ChoiceField, self.fields["customer"]).choices = [
            ("", _("Choose…")),
            *((str(c.pk), f"#{c.pk} {c.name}") for c in suggestions),
        ]
        self.pipelines = {str(p.pk): p for p in pipelines}
        cast(forms.ChoiceField, self.fields["pipeline"]).choices = [
            (str(p.pk), p.name) for p in pipelines
        ] or [("", _("The default pipeline"))]
        if not self.is_bound:
            self.initial.setdefault("target", "existing" if suggestions else targets[0][0])
            if suggestions:
                self.initial.setdefault("customer", str(suggestions[0].pk))
            self.initial.setdefault("opportunity_name", lead.interest or lead.company or lead.name)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("target") == "existing" and not (data.get("customer") or data.get("customer_id")):
            self.add_error("customer", _("Choose the customer, or enter its number."))
        return data

    def customer_id_chosen(self) -> int | None:
        data = self.cleaned_data
        if data.get("target") != "existing":
            return None
        return data.get("customer_id") or int(data["customer"])

    def chosen_pipeline(self) -> Pipeline | None:
        return self.pipelines.get(self.cleaned_data.get("pipeline") or "")
