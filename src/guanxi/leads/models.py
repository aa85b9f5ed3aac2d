"""Leads (线索): people who showed interest but are not yet qualified as customers.

A lead comes from the embeddable web form, the API, an import or a rep's hand; it is matched against
customers and open leads by phone and email when it arrives, assigned by rules, scored, then qualified,
disqualified (with a reason) or converted in one step into a customer (new or existing) plus an opportunity.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.catalog.models import Store
from guanxi.customers.models import Customer, Masked


class Lead(Masked, models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        WORKING = "working", _("Working")
        QUALIFIED = "qualified", _("Qualified")
        DISQUALIFIED = "disqualified", _("Disqualified")
        CONVERTED = "converted", _("Converted")

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

    def __str__(self) -> str:
        return self.name
