"""Forms of the assignment rules page and the web forms page."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.catalog.models import Store
from guanxi.customers.models import Customer
from guanxi.leads.models import LeadAssignmentRule, LeadForm
from guanxi.users.models import Team, User


class LeadsForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def user_choices(users: list[User]) -> list[tuple[str, str]]:
    """“Name · team” for each user (as the lead forms show owners)."""
    return [(str(u.pk), f"{u.display_name} · {u.team.name}" if u.team else u.display_name) for u in users]


def store_choices(stores: list[Store], blank: str) -> list[tuple[str, str]]:
    return [("", blank), *((str(store.pk), store.name) for store in stores)]


def _team_choices(teams: list[Team], blank: str) -> list[tuple[str, str]]:
    return [("", blank), *((str(team.pk), team.name) for team in teams)]


class RuleForm(LeadsForm):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Referrals to the showroom team")}),
    )
    match_source = forms.ChoiceField(
        label=_("When the source is"),
        required=False,
        choices=[("", _("Any source")), *Customer.Source.choices],
    )
    match_city = forms.CharField(
        label=_("When the city is"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"placeholder": _("Any city")}),
    )
    match_store = forms.ChoiceField(label=_("When the store is"), required=False)
    action = forms.ChoiceField(
        label=_("Assign"), choices=LeadAssignmentRule.Action.choices, widget=forms.RadioSelect
    )
    team = forms.ChoiceField(label=_("Team"), required=False)
    user = forms.ChoiceField(label=_("User"), required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(
        self, *args: Any, stores: list[Store], teams: list[Team], users: list[User], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.stores = {str(s.pk): s for s in stores}
        self.teams = {str(t.pk): t for t in teams}
        self.users = {str(u.pk): u for u in users}
        cast(forms.ChoiceField, self.fields["match_store"]).choices = store_choices(
            stores, str(_("Any store"))
        )
        cast(forms.ChoiceField, self.fields["team"]).choices = _team_choices(teams, str(_("Choose a team…")))
        cast(forms.ChoiceField, self.fields["user"]).choices = [
            ("", _("Choose a user…")),
            *user_choices(users),
        ]
        if not self.is_bound:
            self.initial.setdefault("action", LeadAssignmentRule.Action.ROUND_ROBIN)

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "match_source": data.get("match_source") or "",
            "match_city": data.get("match_city") or "",
            "match_store": self.stores.get(data.get("match_store") or ""),
            "action": data["action"],
            "team": self.teams.get(data.get("team") or ""),
            "user": self.users.get(data.get("user") or ""),
            "active": bool(data.get("active")),
        }

    @staticmethod
    def initial_from(rule: LeadAssignmentRule) -> dict[str, Any]:
        return {
            "name": rule.name,
            "match_source": rule.match_source,
            "match_city": rule.match_city,
            "match_store": str(rule.match_store_id or ""),
            "action": rule.action,
            "team": str(rule.team_id or ""),
            "user": str(rule.user_id or ""),
            "active": rule.active,
        }


class WebFormForm(LeadsForm):
    title = forms.CharField(
        label=_("Title"),
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Book a test drive")}),
    )
    slug = forms.CharField(
        label=_("Address name"),
        max_length=50,
        help_text=_("Lower-case letters, digits and hyphens; the form's address ends with it."),
        widget=forms.TextInput(attrs={"placeholder": "test-drive", "pattern": "[a-z0-9][a-z0-9-]{1,49}"}),
    )
    intro = forms.CharField(
        label=_("Introduction"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    shown_fields = forms.MultipleChoiceField(
        label=_("Fields shown"),
        choices=LeadForm.Field.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The name is always asked; show the mobile or the email field."),
    )
    source = forms.ChoiceField(label=_("Source of its leads"), choices=Customer.Source.choices)
    store = forms.ChoiceField(label=_("Store"), required=False)
    team = forms.ChoiceField(
        label=_("Team"),
        required=False,
        help_text=_("Unassigned leads of this form wait in this team's queue."),
    )
    thank_you = forms.CharField(
        label=_("Thank-you text"),
        required=False,
        max_length=500,
        widget=forms.TextInput(
            attrs={"placeholder": _("Thank you! We will call you within one working day.")}
        ),
    )
    allowed_origins = forms.CharField(
        label=_("Sites allowed to post their own form"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "https://www.example.com"}),
        help_text=_(
            "Only if your website has its own HTML form instead of the embedded one: one address a line."
        ),
    )
    active = forms.BooleanField(label=_("Taking entries"), required=False, initial=True)

    def __init__(self, *args: Any, stores: list[Store], teams: list[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stores = {str(s.pk): s for s in stores}
        self.teams = {str(t.pk): t for t in teams}
        cast(forms.ChoiceField, self.fields["store"]).choices = store_choices(stores, str(_("No store")))
        cast(forms.ChoiceField, self.fields["team"]).choices = _team_choices(teams, str(_("No team")))
        if not self.is_bound:
            self.initial.setdefault("source", Customer.Source.WEB)
            self.initial.setdefault("shown_fields", ["phone", "city", "interest", "message"])

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "slug": data["slug"],
            "intro": data.get("intro") or "",
            "fields": list(data.get("shown_fields") or []),
            "source": data["source"],
            "store": self.stores.get(data.get("store") or ""),
            "team": self.teams.get(data.get("team") or ""),
            "thank_you": data.get("thank_you") or "",
            "allowed_origins": data.get("allowed_origins") or "",
            "active": bool(data.get("active")),
        }

    @staticmethod
    def initial_from(form: LeadForm) -> dict[str, Any]:
        return {
            "title": form.title,
            "slug": form.slug,
            "intro": form.intro,
            "shown_fields": list(form.fields),
            "source": form.source,
            "store": str(form.store_id or ""),
            "team": str(form.team_id or ""),
            "thank_you": form.thank_you,
            "allowed_origins": form.allowed_origins,
            "active": form.active,
        }
