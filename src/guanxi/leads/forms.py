"""Forms of the lead list, the new-lead page and the public web form. They parse input only;
leads.services holds the rules."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.catalog.models import Store
from guanxi.customers.models import Customer
from guanxi.leads.models import Lead, LeadForm
from guanxi.users.models import User

RULES = "rules"  # the owner choice "let the assignment rules decide"


class LeadsForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def store_choices(stores: list[Store], blank: str) -> list[tuple[str, str]]:
    return [("", blank), *((str(store.pk), store.name) for store in stores)]


def user_choices(users: list[User]) -> list[tuple[str, str]]:
    return [
        (str(user.pk), f"{user.display_name} · {user.team.name}" if user.team else user.display_name)
        for user in users
    ]


class LeadFilterForm(LeadsForm):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Name, phone or company"), "id": "filter-q"}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("open", _("Open (new, working, qualified)")), *Lead.Status.choices],
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    source = forms.ChoiceField(
        label=_("Source"), required=False, choices=[("", _("All")), *Customer.Source.choices]
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("newest", _("Newest first")),
            ("score", _("Highest score first")),
            ("oldest", _("Oldest first")),
        ],
    )
    mine = forms.BooleanField(label=_("My leads"), required=False)

    def __init__(self, *args: Any, users: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["owner"]).choices = [
            ("", _("Anyone")),
            ("none", _("Nobody (unassigned)")),
            *user_choices(users),
        ]

    @property
    def active(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.get(name) for name in self.fields if name != "sort")

    def values(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "q": data.get("q") or "",
            "status": data.get("status") or "",
            "owner": data.get("owner") or None,
            "source": data.get("source") or "",
            "mine": bool(data.get("mine")),
            "sort": data.get("sort") or "newest",
        }


class LeadDetailsForm(LeadsForm):
    """A lead's own fields: the new-lead page and the edit form of the lead page."""

    name = forms.CharField(label=_("Name"), max_length=200)
    phone = forms.CharField(
        label=_("Mobile"), required=False, max_length=40, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    email = forms.CharField(label=_("Email"), required=False, max_length=254, widget=forms.EmailInput())
    wechat_id = forms.CharField(label=_("WeChat ID"), required=False, max_length=64)
    company = forms.CharField(label=_("Company"), required=False, max_length=200)
    city = forms.CharField(label=_("City"), required=False, max_length=30)
    store = forms.ChoiceField(label=_("Store"), required=False)
    source = forms.ChoiceField(
        label=_("Source"), required=False, choices=[("", _("Unknown")), *Customer.Source.choices]
    )
    interest = forms.CharField(
        label=_("Interested in"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("A product, a model, a service…")}),
    )
    message = forms.CharField(
        label=_("Message"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, stores: list[Store], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stores = {str(store.pk): store for store in stores}
        cast(forms.ChoiceField, self.fields["store"]).choices = store_choices(stores, str(_("No store")))

    def chosen_store(self) -> Store | None:
        return self.stores.get(self.cleaned_data.get("store") or "")

    def fields_for_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("store", None)
        data.pop("owner", None)
        return data

    @staticmethod
    def initial_from(lead: Lead) -> dict[str, Any]:
        return {
            "name": lead.name,
            "phone": lead.phone,
            "email": lead.email,
            "wechat_id": lead.wechat_id,
            "company": lead.company,
            "city": lead.city,
            "store": str(lead.store_id or ""),
            "source": lead.source,
            "interest": lead.interest,
            "message": lead.message,
        }


class LeadCreateForm(LeadDetailsForm):
    owner = forms.ChoiceField(label=_("Owner"), required=False)

    def __init__(self, *args: Any, stores: list[Store], users: list[User] | None, **kwargs: Any) -> None:
        super().__init__(*args, stores=stores, **kwargs)
        if users is None:  # a rep owns what they enter
            del self.fields["owner"]
        else:
            cast(forms.ChoiceField, self.fields["owner"]).choices = [
                (RULES, _("By the assignment rules")),
                *user_choices(users),
            ]


# ---------------------------------------------------------------------------------------------------
# The public web form


class PublicLeadForm(forms.Form):
    """What a visitor fills in: the fields the web form shows, a honeypot and the signed timestamp."""

    name = forms.CharField(label=_("Your name"), max_length=100)
    phone = forms.CharField(
        label=_("Mobile"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    email = forms.EmailField(
        label=_("Email"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    wechat_id = forms.CharField(label=_("WeChat ID"), required=False, max_length=64)
    company = forms.CharField(
        label=_("Company"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    city = forms.CharField(label=_("City"), required=False, max_length=30)
    interest = forms.CharField(label=_("Interested in"), required=False, max_length=200)
    message = forms.CharField(
        label=_("Message"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    # The honeypot: hidden from people (off screen, out of the tab order); bots fill every field.
    website = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    token = forms.CharField(required=False, max_length=300, widget=forms.HiddenInput)
    # The page that showed the form (an iframe's parent), read from the Referer when the form was opened.
    page = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    def __init__(self, *args: Any, web_form: LeadForm, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        shown = set(web_form.fields)
        for key in list(self.fields):
            if key in LeadForm.Field.values and key not in shown:
                del self.fields[key]
        self.fields["name"].widget.attrs["autocomplete"] = "name"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        reachable = [key for key in ("phone", "email") if key in self.fields]
        if reachable and not any(data.get(key) for key in reachable) and not self.errors:
            self.add_error(reachable[0], _("Leave a mobile number or an email so that we can reach you."))
        return data

    def visible_lead_fields(self) -> list[Any]:
        return [field for field in self.visible_fields() if field.name not in ("website",)]
