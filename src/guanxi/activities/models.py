"""Activities (互动记录 / 跟进记录) and tasks (待办 / 回访任务).

An activity is something that happened with a customer through a channel: a call, a visit, a meeting, an
SMS, an email, a WeChat message or a note, with its direction and outcome. A task is something a user
must do by a date-time; follow-up rules create some of them, reminders are sent for them once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.core.permissions import ALL, ROLES, TEAM, scope_of, scope_q
from guanxi.customers.models import Customer


class Activity(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        VISIT = "visit", _("Visit")
        MEETING = "meeting", _("Meeting")
        SMS = "sms", _("SMS")
        EMAIL = "email", pgettext_lazy("activity type", "Email")
        WECHAT = "wechat", _("WeChat message")
        NOTE = "note", _("Note")

    class Direction(models.TextChoices):
        NONE = "", _("—")
        OUTBOUND = "out", _("Outbound")
        INBOUND = "in", _("Inbound")

    class Outcome(models.TextChoices):
        NONE = "", _("—")
        REACHED = "reached", _("Reached")
        NO_ANSWER = "no_answer", _("No answer")
        LEFT_MESSAGE = "left_message", _("Left a message")
        INTERESTED = "interested", _("Interested")
        NOT_INTERESTED = "not_interested", _("Not interested")
        CALL_BACK = "call_back", _("Asked to call back")
        DONE = "done", _("Done")

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    lead = models.ForeignKey(
        "leads.Lead",
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("details"), blank=True)
    occurred_at = models.DateTimeField(_("time"))
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    # For an email: the outbox message that carried it (channels), so its delivery state shows.
    email = models.ForeignKey(
        "channels.EmailMessage",
        verbose_name=_("email"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )
    team = models.ForeignKey(
        "users.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="activity_customer_idx"),
            models.Index(fields=["owner", "-occurred_at"], name="activity_owner_idx"),
            models.Index(fields=["opportunity", "-occurred_at"], name="activity_opportunity_idx"),
            models.Index(fields=["lead", "-occurred_at"], name="activity_lead_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | Q(lead__isnull=False),
                name="activity_has_customer_or_lead",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


class TaskQuerySet(models.QuerySet["Task"]):
    def visible_to(self, actor: Any) -> TaskQuerySet:
        """The tasks `actor` may see: assigned to them, to their team (team scope) or all (all scope)."""
        return self.filter(scope_q(actor, owner="assignee", team="team"))

    def open(self) -> TaskQuerySet:
        return self.filter(status=Task.Status.OPEN)


def assignable_q(actor: Any) -> Q:
    """The users `actor` may give a task to: themselves; their team's members for a team scope (a
    manager); anyone for an all scope. Only active users whose role may see tasks."""
    roles = [role for role, rules in ROLES.items() if "activity.view" in rules["perms"]]
    scope = scope_of(actor)
    if scope == ALL:
        who = Q()
    elif scope == TEAM and getattr(actor, "team_id", None) is not None:
        who = Q(pk=actor.pk) | Q(team_id=actor.team_id)
    else:
        who = Q(pk=actor.pk)
    return who & Q(is_active=True, role__in=roles)


class Task(models.Model):
    class Priority(models.IntegerChoices):
        LOW = 1, _("Low")
        NORMAL = 2, _("Normal")
        HIGH = 3, _("High")
        URGENT = 4, _("Urgent")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assignee"), on_delete=models.CASCADE, related_name="tasks"
    )
    team = models.ForeignKey(
        "users.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_at = models.DateTimeField(_("due"))
    # A task with a meeting's length shows as a block on the calendar; without, as a point in time.
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    lead = models.ForeignKey(
        "leads.Lead",
        verbose_name=_("lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    # When to remind the assignee (in the app and by email); reminded_at is set once it was sent.
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    # A task made by a follow-up rule names the rule and the thing that triggered it ("order:123"), so a
    # rule that runs twice makes one task.
    rule_key = models.CharField(max_length=80, blank=True, default="", db_default="", editable=False)
    rule = models.ForeignKey(
        "FollowUpRule",
        verbose_name=_("follow-up rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
        editable=False,
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"], name="task_my_day_idx"),
            models.Index(fields=["customer", "due_at"], name="task_customer_idx"),
            models.Index(
                fields=["remind_at"], name="task_reminder_due_idx", condition=Q(reminded_at__isnull=True)
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["rule_key"], condition=~Q(rule_key=""), name="task_rule_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def ends_at(self) -> datetime | None:
        """The end of a task with a length (a meeting); None for a task that is a point in time."""
        if not self.duration_minutes:
            return None
        return self.due_at + timedelta(minutes=self.duration_minutes)


class Notification(models.Model):
    """A message for one user inside the app (the bell): a task reminder, for now.

    `key` names what it is about ("task-reminder:12:2026-12-02T09:00:00+00:00"), so the same reminder
    queued twice makes one notification.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    key = models.CharField(max_length=150, unique=True)
    text = models.CharField(_("text"), max_length=300)
    link = models.CharField(_("link"), max_length=300, blank=True)
    task = models.ForeignKey(
        Task, verbose_name=_("task"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_idx"),
            models.Index(fields=["user"], name="notification_unread_idx", condition=Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.text


class FollowUpRule(models.Model):
    """Makes a task for every event of one kind: a purchase, a won opportunity, a vehicle service due.

    The task is due `days` after the event (for a service due: `days` before the service date) at
    `due_time`, and goes to the customer's owner, else to `fallback_assignee`. Events are read from
    `scanned_until` on (the rule's creation at first), so a new rule does not flood the past; each
    (rule, event) makes one task at most, named by Task.rule_key.
    """

    class Trigger(models.TextChoices):
        PURCHASE = "purchase", _("After a purchase")
        WON = "won", _("After a won opportunity")
        SERVICE_DUE = "service_due", _("Vehicle service due")

    name = models.CharField(_("name"), max_length=100)
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    days = models.PositiveSmallIntegerField(_("days"), default=3)
    due_time = models.TimeField(_("due time"), default=time(10, 0))
    title_template = models.CharField(_("task title"), max_length=200)
    description = models.TextField(_("task description"), blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Task.Priority.choices, default=Task.Priority.NORMAL
    )
    fallback_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee when the customer has no owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    active = models.BooleanField(_("active"), default=True)
    # Events up to this time were read; the next run reads from a little before it (late commits).
    scanned_until = models.DateTimeField(_("read up to"))
    # Orders are read by id above this (the primary key bounds the scan of a table of millions); it only
    # moves past orders booked more than the late-commit window ago.
    order_id_floor = models.BigIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("follow-up rule")
        verbose_name_plural = _("follow-up rules")

    def __str__(self) -> str:
        return self.name


def feed_digest(token: str) -> str:
    """What is kept of a calendar feed's secret token."""
    return hashlib.sha256(token.encode()).hexdigest()


class CalendarFeed(models.Model):
    """A user's secret calendar feed address. Only the token's SHA-256 is kept; a reset replaces it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="calendar_feed",
    )
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(_("created at"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.user} {self.prefix}…"
