"""Leads (线索): people who showed interest but are not yet qualified as customers.

A lead comes from the embeddable web form, the API, an import or a rep's hand; it is matched against
customers and open leads by phone and email when it arrives, assigned by rules, scored, then qualified,
disqualified (with a reason) or converted in one step into a customer (new or existing) plus an opportunity.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.catalog.models import Store
from guanxi.customers.models import Customer, MaskedReach

OPEN_STATUSES = ("new", "working", "qualified")


class Lead(MaskedReach, models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        WORKING = "working", _("Working")
        QUALIFIED = "qualified", _("Qualified")
        DISQUALIFIED = "disqualified", _("Disqualified")
        CONVERTED = "converted", _("Converted")

    class DisqualifyReason(models.TextChoices):
        NO_BUDGET = "no_budget", _("No budget")
        NO_NEED = "no_need", _("No need")
        UNREACHABLE = "unreachable", _("Unreachable")
        DUPLICATE = "duplicate", _("Duplicate")
        SPAM = "spam", _("Spam")
        COMPETITOR = "competitor", _("Went to a competitor")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200)
    company = models.CharField(_("company"), max_length=200, blank=True)
    phone = models.CharField(_("mobile"), max_length=20, blank=True, db_index=True)  # E.164
    email = models.EmailField(_("email"), blank=True, db_index=True)
    wechat_id = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    store = models.ForeignKey(
        Store, verbose_name=_("store"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(_("source"), max_length=20, choices=Customer.Source.choices, blank=True)
    interest = models.CharField(_("interested in"), max_length=200, blank=True)
    message = models.TextField(_("message"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.NEW)
    disqualify_reason = models.CharField(_("disqualify reason"), max_length=30, blank=True)
    status_note = models.CharField(_("status note"), max_length=500, blank=True)
    # 0–100, with the rules that gave it: [{"rule": ..., "points": ..., "label": ...}, ...].
    score = models.PositiveSmallIntegerField(_("score"), default=0)
    score_reasons = models.JSONField(_("score reasons"), default=list, blank=True)
    # What else the capture brought: the form's extra fields, UTM parameters, the page it came from.
    extra = models.JSONField(_("more details"), default=dict, blank=True)
    # The customer this lead is (matched on arrival, linked by hand, or made by conversion).
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True)
    # Engagement: how many times this person reached us (a capture with the same phone or email while the
    # lead is open is merged into it and counts here), and when last.
    captures = models.PositiveIntegerField(_("times captured"), default=1)
    last_captured_at = models.DateTimeField(_("last captured at"), null=True, blank=True)
    web_form = models.ForeignKey(
        "leads.LeadForm",
        verbose_name=_("web form"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    rule = models.ForeignKey(
        "leads.LeadAssignmentRule",
        verbose_name=_("assigned by rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
    )
    team = models.ForeignKey(
        "users.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["status", "-id"], name="lead_status_idx"),
            models.Index(fields=["owner", "status"], name="lead_owner_idx"),
            models.Index(fields=["team", "status"], name="lead_team_idx"),
        ]
        constraints = [
            # One open lead per phone and per email: a second capture merges into it (leads.services),
            # and two captures racing meet here.
            models.UniqueConstraint(
                fields=["phone"],
                condition=Q(status__in=OPEN_STATUSES) & ~Q(phone=""),
                name="lead_open_phone_unique",
            ),
            models.UniqueConstraint(
                fields=["email"],
                condition=Q(status__in=OPEN_STATUSES) & ~Q(email=""),
                name="lead_open_email_unique",
            ),
            models.CheckConstraint(condition=Q(score__lte=100), name="lead_score_at_most_100"),
        ]

    # Set by the capture service: True when the capture was merged into this open lead.
    merged = False

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class LeadAssignmentRule(models.Model):
    """Who gets a new lead that arrives without an owner: the first active rule (by position) whose
    conditions all match (an empty condition matches anything) gives it to a named user, or in turn to
    the active members of a team who may work leads (round robin; `last_user` is the cursor)."""

    class Action(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("In turn among a team's members")
        USER = "user", _("To a named user")

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)
    match_source = models.CharField(
        _("when the source is"), max_length=20, choices=Customer.Source.choices, blank=True
    )
    match_city = models.CharField(_("when the city is"), max_length=30, blank=True)
    match_store = models.ForeignKey(
        Store,
        verbose_name=_("when the store is"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    action = models.CharField(_("assign"), max_length=12, choices=Action.choices, default=Action.ROUND_ROBIN)
    team = models.ForeignKey(
        "users.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    # Round robin: the member who got the last lead; the next goes to the member after them (by id).
    last_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_count = models.PositiveIntegerField(_("leads assigned"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("lead assignment rule")
        verbose_name_plural = _("lead assignment rules")

    def __str__(self) -> str:
        return self.name


class LeadForm(models.Model):
    """A public web form (no sign-in) that other websites embed in an iframe; each post becomes a lead."""

    class Field(models.TextChoices):
        COMPANY = "company", _("Company")
        PHONE = "phone", _("Mobile")
        EMAIL = "email", _("Email")
        WECHAT_ID = "wechat_id", _("WeChat ID")
        CITY = "city", _("City")
        INTEREST = "interest", _("Interested in")
        MESSAGE = "message", _("Message")

    slug = models.SlugField(_("address name"), max_length=50, unique=True)
    title = models.CharField(_("title"), max_length=100)
    intro = models.TextField(_("introduction"), max_length=1000, blank=True)
    fields = models.JSONField(_("fields shown"), default=list, blank=True)
    source = models.CharField(
        _("source of its leads"), max_length=20, choices=Customer.Source.choices, default=Customer.Source.WEB
    )
    store = models.ForeignKey(
        Store, verbose_name=_("store"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        "users.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    thank_you = models.CharField(_("thank-you text"), max_length=500, blank=True)
    # Sites whose own HTML forms may post here without the signed token the form page carries (one
    # origin a line, such as https://www.example.com): checked against the request's Origin or Referer.
    allowed_origins = models.TextField(_("sites allowed to post their own form"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("lead web form")
        verbose_name_plural = _("lead web forms")

    def __str__(self) -> str:
        return self.title

    @property
    def origins(self) -> list[str]:
        return [
            line.strip().rstrip("/").lower() for line in self.allowed_origins.splitlines() if line.strip()
        ]
