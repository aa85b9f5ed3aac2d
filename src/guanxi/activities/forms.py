"""Forms of the activity pages and of the log form on the customer 360 page. They parse input only;
activities.services holds the rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.activities.models import Activity

Kind = Activity.Kind
# The quick buttons, most used first.
KIND_ORDER = [Kind.CALL, Kind.VISIT, Kind.WECHAT, Kind.NOTE, Kind.EMAIL, Kind.MEETING, Kind.SMS]
# Which fields each kind shows (the page hides the others; the services blank what a kind has not).
KIND_FIELDS = {
    "direction": [Kind.CALL, Kind.SMS, Kind.EMAIL, Kind.WECHAT],
    "outcome": [Kind.CALL, Kind.VISIT, Kind.MEETING, Kind.WECHAT],
    "duration_minutes": [Kind.CALL, Kind.VISIT, Kind.MEETING],
    "send_email": [Kind.EMAIL],
    "email_to": [Kind.EMAIL],
}
TIME_FORMAT = "%Y-%m-%dT%H:%M"
# The types as the log form's buttons and the timeline's filter name them.
KIND_LABELS = {
    Kind.CALL: pgettext_lazy("activity type", "Call"),
    Kind.VISIT: pgettext_lazy("activity type", "Visit"),
    Kind.MEETING: pgettext_lazy("activity type", "Meeting"),
    Kind.SMS: pgettext_lazy("activity type", "SMS"),
    Kind.EMAIL: pgettext_lazy("activity type", "Email"),
    Kind.WECHAT: pgettext_lazy("activity type", "WeChat"),
    Kind.NOTE: pgettext_lazy("activity type", "Note"),
}


def _now_local() -> str:
    return timezone.localtime().strftime(TIME_FORMAT)


class ActivityForm(forms.Form):
    """Log an activity: a call by default, the time now unless changed."""

    kind = forms.ChoiceField(
        label=_("Type"),
        choices=[(kind.value, KIND_LABELS[kind]) for kind in KIND_ORDER],
        initial=Kind.CALL,
        widget=forms.RadioSelect,
    )
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=[(Activity.Direction.OUTBOUND, _("Outbound")), (Activity.Direction.INBOUND, _("Inbound"))],
        initial=Activity.Direction.OUTBOUND,
        required=False,
        widget=forms.RadioSelect,
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Activity.Outcome.choices, required=False)
    occurred_at = forms.DateTimeField(
        label=_("Time"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=TIME_FORMAT),
    )
    duration_minutes = forms.IntegerField(label=_("Minutes"), required=False, min_value=0)
    email_to = forms.ChoiceField(label=pgettext_lazy("email recipient", "To"), required=False)
    subject = forms.CharField(
        label=_("Subject"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("Optional, except for an email")}),
    )
    body = forms.CharField(
        label=_("Notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("What was said, what was agreed…")}),
    )
    send_email = forms.BooleanField(label=_("Send this email now"), required=False, initial=True)
    # The time the form showed: sent back unchanged, the activity happened "now", to the second.
    shown_at = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, addresses: list[str] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "activity-%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["email_to"]).choices = [(a, a) for a in addresses or []]
        if not self.is_bound:
            self.initial.setdefault("occurred_at", _now_local())
            self.initial.setdefault("shown_at", self.initial["occurred_at"])

    def rows(self) -> Iterator[tuple[forms.BoundField, str]]:
        """The fields after the kind, each with the kinds it shows for ("" for all)."""
        for name in self.fields:
            if name not in ("kind", "send_email", "shown_at"):
                yield self[name], " ".join(KIND_FIELDS.get(name, []))

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        sending = data["kind"] == Kind.EMAIL and data["send_email"]
        when = data["occurred_at"]
        if when is not None and data["shown_at"] == timezone.localtime(when).strftime(TIME_FORMAT):
            when = None  # left as shown: now
        return {
            "kind": data["kind"],
            "direction": data["direction"] or "",
            "outcome": data["outcome"] or "",
            "subject": data["subject"],
            "body": data["body"],
            "occurred_at": when,
            "duration_minutes": data["duration_minutes"],
            "send_email": sending,
            "email_to": data["email_to"] if sending else None,
        }


class ActivityEditForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=list(KIND_LABELS.items()))
    direction = forms.ChoiceField(label=_("Direction"), choices=Activity.Direction.choices, required=False)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Activity.Outcome.choices, required=False)
    occurred_at = forms.DateTimeField(
        label=_("Time"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=TIME_FORMAT)
    )
    duration_minutes = forms.IntegerField(label=_("Minutes"), required=False, min_value=0)
    subject = forms.CharField(label=_("Subject"), required=False, max_length=200)
    body = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 6}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    @classmethod
    def for_activity(cls, activity: Activity, data: Any = None) -> ActivityEditForm:
        initial = {name: getattr(activity, name) for name in cls.base_fields}
        initial["occurred_at"] = timezone.localtime(activity.occurred_at)
        form = cls(data, initial=initial)
        if activity.email_id:  # the email went out as it was: its type, subject and text stay
            for name in ("kind", "subject", "body"):
                form.fields[name].disabled = True
        return form

    def service_kwargs(self, activity: Activity) -> dict[str, Any]:
        """The fields for activity_update; a time left as shown (to the minute) is not sent, so the
        seconds the page cannot show are kept."""
        data = dict(self.cleaned_data)
        data["direction"] = data["direction"] or ""
        data["outcome"] = data["outcome"] or ""
        shown = timezone.localtime(activity.occurred_at).replace(second=0, microsecond=0)
        if data["occurred_at"] == shown:
            del data["occurred_at"]
        return data


class ActivityFilterForm(forms.Form):
    MINE, ALL = "mine", ""

    whose = forms.ChoiceField(label=_("Whose"), required=False)
    kind = forms.ChoiceField(label=_("Type"), required=False, choices=[("", _("All")), *KIND_LABELS.items()])
    q = forms.CharField(
        label=pgettext_lazy("the record", "Customer"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Name, pinyin, phone or plate")}),
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, all_label: str, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["whose"]).choices = [
            (self.ALL, all_label),
            (self.MINE, _("Mine")),
        ]

    @property
    def active(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.get(name) for name in self.fields)

    def values(self, *, user_id: int) -> dict[str, Any]:
        """The selector's arguments; dates are whole local days (to: inclusive)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "q": data.get("q") or "",
            "customer_id": data.get("customer"),
            "kind": data.get("kind") or "",
            "owner_id": user_id if data.get("whose") == self.MINE else None,
            "since": _day_start(data["date_from"]) if data.get("date_from") else None,
            "until": _day_start(data["date_to"] + timedelta(days=1)) if data.get("date_to") else None,
        }


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
