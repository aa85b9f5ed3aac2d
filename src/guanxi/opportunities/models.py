"""Pipelines, their stages, and the opportunities that move through them.

A pipeline is an ordered list of stages (需求确认 → 方案报价 → 谈判 → 赢单 / 输单); each stage has a
default probability and a kind: open, won or lost. An opportunity sits in one stage of one pipeline;
every move is kept as a `StageChange` (who, when, from → to), so cycle times and the funnel can be
computed afterwards.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.catalog.models import Product
from guanxi.catalog.money import round_money
from guanxi.customers.models import Customer

ZERO = Decimal("0.00")


class Pipeline(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    class Kind(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages"
    )
    name = models.CharField(_("name"), max_length=60)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    # The chance, in percent, that an opportunity in this stage is won: the default for its probability.
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=0)
    kind = models.CharField(_("kind"), max_length=4, choices=Kind.choices, default=Kind.OPEN)
    # A stage removed after opportunities passed through it stays, inactive, for their history.
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["pipeline", "position", "id"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_name_unique_in_pipeline"),
            models.CheckConstraint(condition=Q(probability__lte=100), name="stage_probability_at_most_100"),
        ]

    def __str__(self) -> str:
        return self.name


class Opportunity(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    class LostReason(models.TextChoices):
        PRICE = "price", _("Price")
        COMPETITOR = "competitor", _("Went to a competitor")
        NO_BUDGET = "no_budget", _("No budget")
        NO_DECISION = "no_decision", _("No decision")
        TIMING = "timing", _("Timing")
        PRODUCT_FIT = "product_fit", _("Product fit")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="opportunities"
    )
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="opportunities"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities"
    )
    status = models.CharField(_("status"), max_length=4, choices=Status.choices, default=Status.OPEN)
    # CNY; with lines, usually their sum, but a rep may enter a rounder figure.
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=ZERO)
    # Percent. Follows the stage's default when the stage changes, unless a rep set it by hand
    # (`probability_manual`); closing sets 100 (won) or 0 (lost) whatever it was.
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=0)
    probability_manual = models.BooleanField(_("probability set by hand"), default=False)
    expected_close = models.DateField(_("expected close date"), null=True, blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    competitors = models.CharField(_("competitors"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    # Why it was won or lost: a reason code (lost_reason) plus free words.
    lost_reason = models.CharField(_("lost reason"), max_length=30, choices=LostReason.choices, blank=True)
    close_note = models.CharField(_("close note"), max_length=500, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The order a won opportunity became (sales.Order), if any.
    order = models.ForeignKey(
        "sales.Order",
        verbose_name=_("order"),
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
        related_name="owned_opportunities",
    )
    team = models.ForeignKey(
        "users.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Place within its stage's column on the kanban board (smaller first).
    position = models.IntegerField(default=0)
    stage_changed_at = models.DateTimeField(_("in this stage since"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            models.Index(fields=["pipeline", "status", "stage", "position"], name="opp_board_idx"),
            models.Index(fields=["owner", "status"], name="opp_owner_idx"),
            models.Index(fields=["team", "status"], name="opp_team_idx"),
            models.Index(fields=["status", "expected_close"], name="opp_forecast_idx"),
            # Won and lost in a period (the sales reports; the follow-up rule "after a won opportunity").
            models.Index(fields=["status", "closed_at"], name="opp_closed_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="opportunity_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(probability__lte=100), name="opportunity_probability_at_most_100"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.probability / 100).quantize(Decimal("0.01"))


class OpportunityLine(models.Model):
    """A product the opportunity is about, with the quantity and price discussed."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, default=Decimal("1"))
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("opportunity product")
        verbose_name_plural = _("opportunity products")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="opportunity_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="opportunity_line_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} × {self.quantity}"

    @property
    def line_total(self) -> Decimal:
        return round_money(self.quantity * self.unit_price)


class StageChange(models.Model):
    """One move of an opportunity between stages (the first row has no `from_stage`). Append-only."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        Stage,
        verbose_name=pgettext_lazy("stage change", "from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_stage = models.ForeignKey(
        Stage, verbose_name=pgettext_lazy("stage change", "to"), on_delete=models.PROTECT, related_name="+"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(_("when"), db_index=True)

    class Meta:
        ordering = ["changed_at", "id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")

    def __str__(self) -> str:
        return f"{self.from_stage_id} → {self.to_stage_id}"
