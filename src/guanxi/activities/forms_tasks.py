"""Forms of the task pages. They parse input only; services_tasks and services_followups hold the rules."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.activities.models import FollowUpRule, Task
from guanxi.users.models import User

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
# Minutes before the due time; "" means no reminder, KEEP keeps a time set another way (the API).
REMIND_CHOICES = [
    ("", _("No reminder")),
    ("0", _("At the due time")),
    ("15", _("15 minutes before")),
    ("60", _("1 hour before")),
    ("1440", _("1 day before")),
]
KEEP = "keep"


class TaskPageForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _user_choices(users: list[User]) -> list[tuple[str, str]]:
    return [(str(user.pk), user.display_name) for user in users]


class TaskForm(TaskPageForm):
    """A task: what, for whom, by when; linked to a customer, an opportunity or a lead found by search."""

    title = forms.CharField(label=_("Title"), max_length=200)
    due_at = forms.DateTimeField(label=_("Due"), widget=DATETIME_WIDGET)
    duration_minutes = forms.IntegerField(
        label=_("Length (minutes)"),
        required=False,
        min_value=1,
        max_value=24 * 60,
        help_text=_("For a meeting: it shows as a block on the calendar."),
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Task.Priority.choices, coerce=int, initial=Task.Priority.NORMAL
    )
    assignee = forms.TypedChoiceField(label=_("Assignee"), coerce=int)
    remind = forms.ChoiceField(label=_("Reminder"), choices=REMIND_CHOICES, required=False, initial="0")
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    opportunity = forms.IntegerField(required=False, widget=forms.HiddenInput)
    lead = forms.IntegerField(required=False, widget=forms.HiddenInput)
    description = forms.CharField(
        label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, users: list[User], task: Task | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = _user_choices(users)  # type: ignore[attr-defined]
        self.task = task
        if task is not None and task.remind_at is not None:
            before = int((task.due_at - task.remind_at).total_seconds() // 60)
            if (
                str(before) in dict(REMIND_CHOICES)
                and task.due_at - timedelta(minutes=before) == task.remind_at
            ):
                self.initial.setdefault("remind", str(before))
            else:
                when = timezone.localtime(task.remind_at).strftime("%Y-%m-%d %H:%M")
                self.fields["remind"].choices = [  # type: ignore[attr-defined]
                    (KEEP, _("Keep: %(when)s") % {"when": when}),
                    *REMIND_CHOICES,
                ]
                self.initial.setdefault("remind", KEEP)
        elif task is not None:
            self.initial.setdefault("remind", "")

    @staticmethod
    def initial_for(task: Task) -> dict[str, Any]:
        return {
            "title": task.title,
            "due_at": timezone.localtime(task.due_at),
            "duration_minutes": task.duration_minutes,
            "priority": task.priority,
            "assignee": task.assignee_id,
            "customer": task.customer_id,
            "opportunity": task.opportunity_id,
            "lead": task.lead_id,
            "description": task.description,
        }

    def remind_at(self) -> datetime | str | None:
        """The reminder time chosen, None for none, or KEEP to leave it as it is."""
        choice = self.cleaned_data.get("remind") or ""
        if choice == KEEP:
            return KEEP
        if choice == "":
            return None
        due_at: datetime = self.cleaned_data["due_at"]
        return due_at - timedelta(minutes=int(choice))


class AssigneeFilterForm(TaskPageForm):
    """Whose day (or calendar) to show: a manager may look at each member of the team."""

    assignee = forms.TypedChoiceField(label=_("Assignee"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, users: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", _("Me")), *_user_choices(users)]  # type: ignore[attr-defined]


class CompleteForm(TaskPageForm):
    note = forms.CharField(label=_("Outcome"), required=False, max_length=500)


class FollowUpRuleForm(TaskPageForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    trigger = forms.ChoiceField(label=_("When"), choices=FollowUpRule.Trigger.choices)
    days = forms.IntegerField(
        label=_("Days"),
        min_value=0,
        max_value=365,
        initial=3,
        help_text=_("Days after the purchase or the win; for a service due, days before the service date."),
    )
    due_time = forms.TimeField(
        label=_("Due at"),
        initial="10:00",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    title_template = forms.CharField(
        label=_("Task title"),
        max_length=200,
        help_text=_("May use {customer}, {order}, {opportunity}, {plate} and {date}."),
    )
    description = forms.CharField(
        label=_("Task details"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Task.Priority.choices, coerce=int, initial=Task.Priority.NORMAL
    )
    fallback_assignee = forms.TypedChoiceField(
        label=_("Assignee when the customer has no owner"), coerce=int, required=False, empty_value=None
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, users: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.users = {user.pk: user for user in users}
        self.fields["fallback_assignee"].choices = [  # type: ignore[attr-defined]
            ("", _("Nobody: skip the event")),
            *_user_choices(users),
        ]

    @staticmethod
    def initial_for(rule: FollowUpRule) -> dict[str, Any]:
        return {
            "name": rule.name,
            "trigger": rule.trigger,
            "days": rule.days,
            "due_time": rule.due_time,
            "title_template": rule.title_template,
            "description": rule.description,
            "priority": rule.priority,
            "fallback_assignee": rule.fallback_assignee_id,
            "active": rule.active,
        }

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["fallback_assignee"] = (
            self.users.get(data["fallback_assignee"]) if data["fallback_assignee"] else None
        )
        return data
