"""Forms of the customer pages. They parse what a browser sends; the services decide what is valid."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Customer, CustomFieldDefinition, Tag
from guanxi.users.models import Team, User

# Phones and emails: one per line; commas and semicolons (also full-width) separate too, for pasted lists.
_LIST_SEPARATORS = re.compile(r"[\r\n,;，；、]+")
_TAG_SEPARATORS = re.compile(r"[,，、;；]+")

CUSTOMER_FIELDS = (
    "kind",
    "name",
    "gender",
    "birthday",
    "wechat_id",
    "member_no",
    "province",
    "city",
    "district",
    "street",
    "source",
    "stage",
    "notes",
)

SORT_CHOICES = [
    ("newest", _("Newest first")),
    ("oldest", _("Oldest first")),
    ("name", _("Name A–Z")),
    ("-name", _("Name Z–A")),
    ("updated", _("Recently updated")),
    ("stage", _("Lifecycle stage")),
]

YES_NO = [("true", _("Yes")), ("false", _("No"))]


def split_list(text: str) -> list[str]:
    return [item.strip() for item in _LIST_SEPARATORS.split(text or "") if item.strip()]


def split_tags(text: str) -> list[str]:
    return [item.strip() for item in _TAG_SEPARATORS.split(text or "") if item.strip()]


def _custom_value_for_filter(definition: CustomFieldDefinition, raw: str) -> Any:
    """A filter value typed as the service stores it in the JSON column, or None to ignore it."""
    raw = raw.strip()
    if not raw:
        return None
    if definition.type == CustomFieldDefinition.Type.BOOLEAN:
        return {"true": True, "false": False}.get(raw)
    if definition.type == CustomFieldDefinition.Type.NUMBER:
        try:
            number = float(raw.replace(",", ""))
        except ValueError:
            return None
        return int(number) if number.is_integer() else number
    return raw


class CustomerFilterForm(forms.Form):
    """The filters above the customer list (GET). A value that does not parse is ignored, not an error."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Name, pinyin, initials, phone, plate…"),
                "id": "filter-q",
                "autocomplete": "off",
            }
        ),
    )
    stage = forms.ChoiceField(label=_("Lifecycle stage"), required=False)
    tag = forms.TypedChoiceField(label=_("Tag"), required=False, coerce=int, empty_value=None)
    owner = forms.TypedChoiceField(label=_("Owner"), required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    source = forms.ChoiceField(label=_("Source"), required=False)
    city = forms.CharField(label=_("City"), required=False, max_length=30)
    kind = forms.ChoiceField(label=_("Kind"), required=False)

    MORE = ("owner", "team", "source", "city", "kind")

    def __init__(
        self,
        data: Any,
        *,
        tags: Iterable[Tag],
        users: Iterable[User] | None,
        teams: Iterable[Team] | None,
        definitions: Iterable[CustomFieldDefinition],
    ) -> None:
        super().__init__(data)
        every = _("All")
        self._choices("stage", [("", every), *Customer.Stage.choices])
        self._choices("source", [("", every), *Customer.Source.choices])
        self._choices("kind", [("", every), *Customer.Kind.choices])
        self._choices("tag", [("", every), *((t.pk, t.name) for t in tags)])
        # Who owns what means nothing to a reader who only sees their own customers.
        if users is None:
            del self.fields["owner"]
        else:
            self._choices("owner", [("", every), *((u.pk, u.display_name) for u in users)])
        if teams is None:
            del self.fields["team"]
        else:
            self._choices("team", [("", every), *((t.pk, t.name) for t in teams)])
        self.definitions = list(definitions)
        for d in self.definitions:
            name = f"cf_{d.key}"
            if d.type == CustomFieldDefinition.Type.CHOICE:
                choices = [("", every), *((str(c), str(c)) for c in d.choices)]
                self.fields[name] = forms.ChoiceField(label=d.label, required=False, choices=choices)
            elif d.type == CustomFieldDefinition.Type.BOOLEAN:
                self.fields[name] = forms.ChoiceField(
                    label=d.label, required=False, choices=[("", every), *YES_NO]
                )
            else:
                widget_type = {"number": "number", "date": "date"}.get(d.type, "text")
                self.fields[name] = forms.CharField(
                    label=d.label, required=False, widget=forms.TextInput(attrs={"type": widget_type})
                )

    def _choices(self, name: str, choices: list[Any]) -> None:
        cast(forms.ChoiceField, self.fields[name]).choices = choices

    def values(self) -> dict[str, Any]:
        """Keyword arguments for selectors.customer_list, from the fields that parsed."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        options: dict[str, Any] = {
            key: data.get(key) or ("" if key in {"q", "stage", "source", "city", "kind"} else None)
            for key in ("q", "stage", "tag", "owner", "team", "source", "city", "kind")
        }
        options["q"] = options["q"].strip()
        options["city"] = options["city"].strip()
        custom = {}
        for d in self.definitions:
            value = _custom_value_for_filter(d, str(data.get(f"cf_{d.key}") or ""))
            if value is not None:
                custom[d.key] = value
        options["custom"] = custom
        return options

    @property
    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("q", "stage", "tag")]

    @property
    def more_fields(self) -> list[forms.BoundField]:
        names = [name for name in self.MORE if name in self.fields]
        return [self[name] for name in names] + [self[f"cf_{d.key}"] for d in self.definitions]

    @property
    def more_active(self) -> bool:
        return any(self.data.get(field.name) for field in self.more_fields)

    @property
    def active(self) -> bool:
        return any(self.data.get(name) for name in self.fields)


class CustomerForm(forms.Form):
    """Create or edit one customer. Custom fields are added as cf_<key>, one per active definition."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=Customer.Kind.choices, initial=Customer.Kind.PERSON, widget=forms.RadioSelect
    )
    # Required, but checked by the service so that one answer lists every problem of the form.
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    phones = forms.CharField(
        label=_("Phones"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "138-0013-8000\n+86 139 1234 5678"}),
        help_text=_("One per line, written any common way: 138-0013-8000, +86 139 1234 5678, 021-62345678."),
    )
    emails = forms.CharField(
        label=_("Emails"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "name@example.com"}),
        help_text=_("One per line."),
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=Customer.Gender.choices, required=False)
    birthday = forms.DateField(
        label=_("Birthday"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    wechat_id = forms.CharField(label=_("WeChat ID"), max_length=64, required=False)
    member_no = forms.CharField(label=_("Member number"), max_length=40, required=False)
    province = forms.CharField(label=_("Province"), max_length=30, required=False)
    city = forms.CharField(label=_("City"), max_length=30, required=False)
    district = forms.CharField(label=_("District"), max_length=30, required=False)
    street = forms.CharField(label=_("Street address"), max_length=200, required=False)
    source = forms.ChoiceField(label=_("Source"), required=False)
    stage = forms.ChoiceField(label=_("Lifecycle stage"), choices=Customer.Stage.choices, initial="lead")
    tags = forms.ModelMultipleChoiceField(
        label=_("Tags"), queryset=Tag.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    new_tags = forms.CharField(
        label=_("New tags"),
        max_length=500,
        required=False,
        help_text=_("Comma separated; they are created when you save."),
    )
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    notes = forms.CharField(
        label=_("Notes"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    SECTIONS = {
        "basics": ("kind", "name", "stage", "source", "gender", "birthday", "member_no", "wechat_id"),
        "contact": ("phones", "emails"),
        "address": ("province", "city", "district", "street"),
        "tags": ("tags", "new_tags", "owner", "notes"),
    }
    WIDE = {"kind", "tags", "new_tags", "notes"}
    PERSON_ONLY = {"gender", "birthday"}  # hidden while "company" is chosen (guanxi.css)

    def __init__(
        self,
        *args: Any,
        tags: QuerySet[Tag],
        users: QuerySet[User] | None,
        definitions: Iterable[CustomFieldDefinition],
        can_manage_tags: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["source"]).choices = [("", "—"), *Customer.Source.choices]
        cast(forms.ModelMultipleChoiceField, self.fields["tags"]).queryset = tags
        if not can_manage_tags:
            del self.fields["new_tags"]
        owner_field = cast(forms.ModelChoiceField, self.fields["owner"])
        if users is None:
            del self.fields["owner"]
        else:
            owner_field.queryset = users
            owner_field.empty_label = str(_("— nobody —"))
            owner_field.help_text = _("The customer's team follows the owner.")
        self.definitions = list(definitions)
        for d in self.definitions:
            self.fields[f"cf_{d.key}"] = self._custom_field(d)
        # The asterisk of fields the service requires; the form itself lets them through empty.
        self.marked_required = {"name"} | {f"cf_{d.key}" for d in self.definitions if d.required}

    @staticmethod
    def _custom_field(d: CustomFieldDefinition) -> forms.Field:
        common: dict[str, Any] = {"label": d.label, "required": False, "help_text": d.help_text}
        if d.type == CustomFieldDefinition.Type.CHOICE:
            choices = [("", "—"), *((str(c), str(c)) for c in d.choices)]
            return forms.ChoiceField(choices=choices, **common)
        if d.type == CustomFieldDefinition.Type.BOOLEAN:
            return forms.ChoiceField(choices=[("", "—"), *YES_NO], **common)
        widget_type = {"number": "number", "date": "date"}.get(d.type, "text")
        attrs: dict[str, str] = {"type": widget_type}
        if d.type == CustomFieldDefinition.Type.NUMBER:
            attrs["step"] = "any"
        return forms.CharField(max_length=500, widget=forms.TextInput(attrs=attrs), **common)

    @staticmethod
    def initial_for(customer: Customer) -> dict[str, Any]:
        """The form's starting values for an existing customer, phones in their national writing."""
        initial: dict[str, Any] = {key: getattr(customer, key) for key in CUSTOMER_FIELDS}
        initial["member_no"] = customer.member_no or ""
        initial["phones"] = "\n".join(phone.display for phone in customer.phones.all())
        initial["emails"] = "\n".join(email.display for email in customer.emails.all())
        initial["tags"] = [tag.pk for tag in customer.tags.all()]
        initial["owner"] = customer.owner_id
        for key, value in (customer.custom_fields or {}).items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            initial[f"cf_{key}"] = value
        return initial

    @property
    def section(self) -> dict[str, list[forms.BoundField]]:
        """The form's fields by section, for the template: form.section.basics …"""
        return {
            name: [self[field] for field in fields if field in self.fields]
            for name, fields in self.SECTIONS.items()
        }

    @property
    def custom_fields(self) -> list[forms.BoundField]:
        return [self[f"cf_{d.key}"] for d in self.definitions]

    def service_arguments(self) -> dict[str, Any]:
        """What the create and update services take, from the cleaned data."""
        data = self.cleaned_data
        arguments: dict[str, Any] = {key: data.get(key) for key in CUSTOMER_FIELDS}
        arguments["phones"] = split_list(data.get("phones", ""))
        arguments["emails"] = split_list(data.get("emails", ""))
        names = [tag.name for tag in data.get("tags") or []]
        names += split_tags(data.get("new_tags", ""))
        arguments["tags"] = list(dict.fromkeys(names))
        arguments["custom_fields"] = {d.key: data.get(f"cf_{d.key}") for d in self.definitions}
        return arguments
