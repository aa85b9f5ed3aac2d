"""What the analytics compute per customer and per product, stored, and the runs that computed it.

Every row here is derived: `analytics_refresh` (services) rewrites the metrics, product pairs and
recommendations whole from the orders, and each row names the run (`ModelRun`) that wrote it, with the
model version, the fitted parameters, the observation window and the time (DESIGN §4.8).

The derived tables hold their foreign keys without database constraints (like customers'
CustomerDuplicate): a million rows are written in one COPY each night, and a per-row key check would cost
more than the write. Readers join the customers and products, so a row whose customer was deleted or
merged away drops out until the next run replaces it.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.catalog.models import Product
from guanxi.customers.models import Customer


class AnalyticsSettings(models.Model):
    """The analytics' settings: one row (id 1), read with its defaults before anyone saves it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    rfm_window_days = models.PositiveIntegerField(
        _("RFM window (days)"),
        default=365,
        validators=[MinValueValidator(7), MaxValueValidator(3650)],
        help_text=_("Frequency and monetary value count the orders of this many days up to the run."),
    )
    discount_rate_annual = models.DecimalField(
        _("annual discount rate"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.10"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("Future purchases are worth less today: 0.10 discounts them by 10% a year."),
    )
    clv_horizon_months = models.PositiveSmallIntegerField(
        _("CLV horizon (months)"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    at_risk_below = models.FloatField(
        _("at risk below"),
        default=0.5,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_("A customer whose probability of being active falls below this is at risk."),
    )
    churned_below = models.FloatField(
        _("churned below"),
        default=0.15,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_("A customer whose probability of being active falls below this has churned."),
    )
    recommendations_per_customer = models.PositiveSmallIntegerField(
        _("recommendations per customer"), default=5, validators=[MinValueValidator(0), MaxValueValidator(20)]
    )
    pair_min_support = models.FloatField(
        _("minimum support of a product pair"),
        default=0.0005,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_("The share of orders that must hold both products before a pair is used."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("analytics settings")
        verbose_name_plural = _("analytics settings")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="analytics_settings_single_row"),
            models.CheckConstraint(
                condition=models.Q(churned_below__lte=models.F("at_risk_below")),
                name="analytics_settings_bands_ordered",
            ),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class ModelRun(models.Model):
    """One computation over the whole base: what was fitted, on which window, when, and how it ended."""

    class Kind(models.TextChoices):
        REFRESH = "refresh", _("Refresh")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.REFRESH)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    model_version = models.CharField(_("model version"), max_length=40)
    # BG/NBD r, alpha, a, b and Gamma-Gamma p, q, gamma, with the settings the run used.
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    time_unit = models.CharField(_("time unit"), max_length=10, default="day")
    bgnbd_log_likelihood = models.FloatField(_("BG/NBD log-likelihood"), null=True, blank=True)
    gamma_gamma_log_likelihood = models.FloatField(_("Gamma-Gamma log-likelihood"), null=True, blank=True)
    window_start = models.DateField(_("observed from"), null=True, blank=True)
    window_end = models.DateField(_("observed until"), null=True, blank=True)
    customers = models.PositiveIntegerField(_("customers"), default=0)
    orders = models.PositiveBigIntegerField(_("orders"), default=0)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("analytics run")
        verbose_name_plural = _("analytics runs")

    def __str__(self) -> str:
        return f"{self.kind} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class Segment(models.TextChoices):
    """The eight RFM segments of Chinese retail practice: R, F and M each high or low against the average."""

    IMPORTANT_VALUE = "important_value", _("Important value customer")
    IMPORTANT_DEVELOP = "important_develop", _("Important customer to develop")
    IMPORTANT_KEEP = "important_keep", _("Important customer to keep")
    IMPORTANT_RETAIN = "important_retain", _("Important customer to win back")
    GENERAL_VALUE = "general_value", _("General value customer")
    GENERAL_DEVELOP = "general_develop", _("General customer to develop")
    GENERAL_KEEP = "general_keep", _("General customer to keep")
    GENERAL_RETAIN = "general_retain", _("General customer to win back")


class Band(models.TextChoices):
    """Churn risk bands, from the probability of being active (AnalyticsSettings' thresholds)."""

    ACTIVE = "active", pgettext_lazy("churn band", "Active")
    AT_RISK = "at_risk", _("At risk")
    CHURNED = "churned", _("Churned")


class CustomerMetrics(models.Model):
    """One customer's purchase figures, RFM scores and segment, and model predictions as of a run.

    Days are calendar days in the configured time zone. `frequency`, `t_x` and `age` are the BG/NBD
    summary (x, t_x, T): repeat purchase days, days from the first to the last purchase day, and days from
    the first purchase day to the end of the observation window. RFM counts the orders and net spend of
    the RFM window; the other money figures count every order. An order refunded in full is no purchase.
    """

    customer = models.OneToOneField(
        Customer,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="metrics",
        verbose_name=_("customer"),
    )
    orders_count = models.PositiveIntegerField(_("orders"))
    net_spend = models.DecimalField(_("net spend"), max_digits=16, decimal_places=2)
    average_order_value = models.DecimalField(_("average order value"), max_digits=14, decimal_places=2)
    first_purchase = models.DateField(_("first purchase"))
    last_purchase = models.DateField(_("last purchase"))
    recency_days = models.PositiveIntegerField(_("days since the last purchase"))
    frequency = models.PositiveIntegerField(_("repeat purchase days"))
    t_x = models.PositiveIntegerField(_("days from the first to the last purchase"))
    age = models.PositiveIntegerField(_("days since the first purchase"))
    rfm_orders = models.PositiveIntegerField(_("orders in the RFM window"))
    rfm_spend = models.DecimalField(_("net spend in the RFM window"), max_digits=16, decimal_places=2)
    r_score = models.PositiveSmallIntegerField(_("R score"))
    f_score = models.PositiveSmallIntegerField(_("F score"))
    m_score = models.PositiveSmallIntegerField(_("M score"))
    segment = models.CharField(_("RFM segment"), max_length=20, choices=Segment.choices)
    p_alive = models.FloatField(_("probability active"), null=True, blank=True)
    # 1 − p_alive for repeat buyers; for one-time buyers, whom BG/NBD always counts active, the chance that
    # a customer still buying would have bought again by now (services.churn_risk).
    churn_risk = models.FloatField(_("churn risk"), null=True, blank=True)
    band = models.CharField(_("churn band"), max_length=10, choices=Band.choices, blank=True)
    expected_purchases_30 = models.FloatField(_("expected purchases in 30 days"), null=True, blank=True)
    expected_purchases_90 = models.FloatField(_("expected purchases in 90 days"), null=True, blank=True)
    expected_average_spend = models.DecimalField(
        _("expected spend a purchase"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    clv = models.DecimalField(
        _("customer lifetime value"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    value_at_risk = models.DecimalField(
        _("value at risk"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    # t_x / x: the customer's own average days between purchase days (None for one-time buyers).
    typical_interval_days = models.FloatField(_("usual days between purchases"), null=True, blank=True)
    # The customer's recommendation list (ProductRecommendation.key); None: nothing to recommend.
    recommendation_key = models.PositiveIntegerField(_("recommendation list"), null=True, blank=True)
    run = models.ForeignKey(
        ModelRun, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("customer metrics")
        verbose_name_plural = _("customer metrics")
        indexes = [
            models.Index(fields=["segment", "-clv"], name="metrics_segment_clv_idx"),
            models.Index(fields=["band", "-value_at_risk"], name="metrics_band_risk_value_idx"),
            models.Index(fields=["churn_risk"], name="metrics_churn_risk_idx"),
            models.Index(fields=["p_alive"], name="metrics_p_alive_idx"),
            models.Index(fields=["-clv"], name="metrics_clv_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.segment} {self.band}"


class ProductPair(models.Model):
    """Two products bought in the same order: how often (support), how predictive (confidence of a → b)
    and how much more often than by chance (lift). Each pair is stored in both directions."""

    product_a = models.ForeignKey(
        Product, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )
    product_b = models.ForeignKey(Product, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    orders_together = models.PositiveIntegerField(_("orders with both"))
    support = models.FloatField(_("support"))
    confidence = models.FloatField(_("confidence"))
    lift = models.FloatField(_("lift"))
    run = models.ForeignKey(
        ModelRun, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["product_a", "-confidence", "product_b"]
        verbose_name = _("product pair")
        verbose_name_plural = _("product pairs")
        constraints = [models.UniqueConstraint(fields=["product_a", "product_b"], name="product_pair_unique")]

    def __str__(self) -> str:
        return f"{self.product_a_id} → {self.product_b_id} ({self.confidence:.2f})"


class ProductRecommendation(models.Model):
    """One place of a recommendation list: a product to offer, best first (`rank` 1).

    A list belongs to every customer whose metrics carry its `key` (CustomerMetrics.recommendation_key):
    customers who bought the same products and are in the same RFM segment get the same suggestions, so
    each list is stored once, not once per customer (a few thousand rows a night instead of five a
    customer). Keys are numbered afresh by each run, which rewrites both tables together.
    """

    class Reason(models.TextChoices):
        BOUGHT_TOGETHER = "together", _("Often bought with what the customer bought")
        POPULAR = "popular", _("Popular with customers like this one")

    key = models.PositiveIntegerField(_("list"))
    product = models.ForeignKey(Product, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    rank = models.PositiveSmallIntegerField(_("rank"))
    # Bought together: the sum of the confidences of the pairs leading here. Popular: the share of the
    # segment's customers who bought the product.
    score = models.FloatField(_("score"))
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    # Bought together: the customer's product with the strongest pair to this one.
    because_of = models.ForeignKey(
        Product,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    run = models.ForeignKey(
        ModelRun, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["key", "rank"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        constraints = [models.UniqueConstraint(fields=["key", "rank"], name="recommendation_key_rank_unique")]

    def __str__(self) -> str:
        return f"list {self.key} #{self.rank}: {self.product_id}"
