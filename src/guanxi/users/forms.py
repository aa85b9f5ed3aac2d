"""Forms of the administration pages: they parse input; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from guanxi.users.models import Team, User


def _team_field(teams: QuerySet[Team]) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("Team"),
        queryset=teams,
        required=False,
        empty_label=_("(no team)"),
        help_text=_("Roles with the team scope see the records of everyone in their team."),
    )


class _PasswordPair(forms.Form):
    """Two password fields that must match. The strength rules live in the service."""

    password_required = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password"].required = self.password_required
        self.fields["password_again"].required = self.password_required
        self.fields["password"].help_text = " ".join(str(text) for text in password_validators_help_texts())

    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password", "") != cleaned.get("password_again", ""):
            self.add_error("password_again", _("The two passwords differ."))
        return cleaned


class UserCreateForm(_PasswordPair):
    field_order = ["username", "full_name", "email", "role", "team", "password", "password_again"]

    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        help_text=_("Used to sign in; it cannot be changed later."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    full_name = forms.CharField(label=_("Full name"), max_length=100, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=User.Role.choices, initial=User.Role.SALES)

    def __init__(self, *args: Any, teams: QuerySet[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"] = _team_field(teams)
        self.order_fields(self.field_order)


class UserEditForm(_PasswordPair):
    password_required = False
    field_order = ["full_name", "email", "role", "team", "is_active", "password", "password_again"]

    full_name = forms.CharField(label=_("Full name"), max_length=100, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=User.Role.choices)
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        help_text=_("An inactive user cannot sign in and their API tokens stop working."),
    )

    def __init__(self, *args: Any, teams: QuerySet[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"] = _team_field(teams)
        self.fields["password"].label = _("New password")
        self.fields["password"].help_text = _("Leave empty to keep the current password.")
        self.fields["password_again"].label = _("New password again")
        self.order_fields(self.field_order)


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, widget=forms.TextInput(attrs={"autofocus": True}))
    description = forms.CharField(label=_("Description"), max_length=300, required=False)


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        required=False,
        help_text=_("What the token is for, e.g. “ERP sync”, so you know which one to revoke later."),
        widget=forms.TextInput(attrs={"placeholder": _("e.g. ERP sync")}),
    )


class PasswordChangeForm(_PasswordPair):
    field_order = ["current_password", "password", "password_again"]

    current_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["password"].label = _("New password")
        self.fields["password_again"].label = _("New password again")
        self.order_fields(self.field_order)

    def clean_current_password(self) -> str:
        value: str = self.cleaned_data["current_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError(_("This is not your current password."))
        return value
