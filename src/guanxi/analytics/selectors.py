"""Reads of the stored analytics, through the reader's scope: a user sees the metrics of the customers they
may see (core.permissions.scope_q through the customer), and needs `analytics.view` for any of it.

Sentences (a segment's suggested action, why a customer is at risk) are made here when read, in the
reader's language, from the stored numbers; nothing stored is text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from guanxi.analytics.models import (
    AnalyticsSettings,
    Band,
    CustomerMetrics,
    ModelRun,
    ProductPair,
    ProductRecommendation,
    Segment,
)
from guanxi.analytics.scoring import one_time_wait_days
from guanxi.catalog.models import Product
from guanxi.core.errors import NotFound
from guanxi.core.permissions import can, ensure_can, scope_q
from guanxi.customers.models import Customer
from guanxi.users.models import User

ZERO = Decimal("0.00")

SEGMENT_ACTIONS: dict[str, Promise] = {
    Segment.IMPORTANT_VALUE: gettext_lazy(
        "Your best customers: keep them delighted with VIP service, early access and personal attention."
    ),
    Segment.IMPORTANT_DEVELOP: gettext_lazy(
        "Recent big spenders who come seldom: raise how often they buy with points, bundles and reminders."
    ),
    Segment.IMPORTANT_KEEP: gettext_lazy(
        "Frequent big spenders who have not come lately: contact them in person before they drift away."
    ),
    Segment.IMPORTANT_RETAIN: gettext_lazy(
        "Big spenders slipping away: win them back with a personal call and an offer made for them."
    ),
    Segment.GENERAL_VALUE: gettext_lazy(
        "Loyal with small baskets: suggest upgrades and add-ons to raise what they spend."
    ),
    Segment.GENERAL_DEVELOP: gettext_lazy(
        "New or occasional customers: welcome offers and a reason to come back soon."
    ),
    Segment.GENERAL_KEEP: gettext_lazy(
        "Once frequent, now quiet: a low-cost reminder or a coupon to bring them back."
    ),
    Segment.GENERAL_RETAIN: gettext_lazy(
        "Low value and gone quiet: include them only in broad, low-cost campaigns."
    ),
}

SORTS = {
    "clv": ("-clv", "customer_id"),
    "-clv": ("clv", "customer_id"),
    "value_at_risk": ("-value_at_risk", "customer_id"),
    "churn_risk": ("-churn_risk", "customer_id"),
    "p_alive": ("p_alive", "customer_id"),
    "recency": ("-recency_days", "customer_id"),
    "spend": ("-net_spend", "customer_id"),
    "customer": ("customer_id",),
}


def _visible(actor: User) -> Q:
    return scope_q(actor, owner="customer__owner", team="customer__team")


def metrics_scope(*, actor: User) -> QuerySet[CustomerMetrics]:
    """The stored metrics of the customers `actor` may see, with the customer joined."""
    ensure_can(actor, "analytics.view")
    return CustomerMetrics.objects.filter(_visible(actor)).select_related("customer")


def metrics_list(
    *,
    actor: User,
    segment: str = "",
    band: str = "",
    p_alive_min: float | None = None,
    p_alive_max: float | None = None,
    risk_gt: float | None = None,
    clv_min: Decimal | None = None,
    clv_max: Decimal | None = None,
    sort: str = "clv",
) -> QuerySet[CustomerMetrics]:
    """Metrics filtered: by segment, band, P(alive) range, churn risk above a value, CLV range.

    `risk_gt` reads the churn risk: 1 − P(alive) for repeat buyers (see CustomerMetrics.churn_risk).
    Customers without model figures (too little history to fit) drop out of any model filter.
    """
    metrics = metrics_scope(actor=actor)
    filters: dict[str, Any] = {}
    if segment:
        filters["segment"] = segment
    if band:
        filters["band"] = band
    if p_alive_min is not None:
        filters["p_alive__gte"] = p_alive_min
    if p_alive_max is not None:
        filters["p_alive__lte"] = p_alive_max
    if risk_gt is not None:
        filters["churn_risk__gt"] = risk_gt
    if clv_min is not None:
        filters["clv__gte"] = clv_min
    if clv_max is not None:
        filters["clv__lte"] = clv_max
    ordering = SORTS.get(sort, SORTS["clv"])
    return metrics.filter(**filters).order_by(*ordering)


def metrics_get(*, actor: User, customer_id: int) -> CustomerMetrics | None:
    """One customer's metrics; NotFound when the customer is outside the actor's scope, None when the
    customer is visible but has no metrics (no purchase, or no refresh since their first)."""
    ensure_can(actor, "analytics.view")
    customer = Customer.objects.filter(scope_q(actor), pk=customer_id).first()
    if customer is None:
        raise NotFound(_("Customer not found."))
    metrics = CustomerMetrics.objects.select_related("run").filter(customer=customer).first()
    if metrics is not None:
        metrics.customer = customer
    return metrics


def recommendations_of(*, metrics: CustomerMetrics | None) -> list[ProductRecommendation]:
    """The recommendations of the customer whose metrics (read through metrics_get, so in the reader's
    scope) these are, best first, with their products. One query; none without metrics."""
    if metrics is None or metrics.recommendation_key is None:
        return []
    return list(
        ProductRecommendation.objects.filter(key=metrics.recommendation_key)
        .select_related("product", "because_of")
        .order_by("rank")
    )


def segment_action(segment: str) -> str:
    """The suggested action for a segment, in the reader's language."""
    return str(SEGMENT_ACTIONS[Segment(segment)])


def recommendation_reason(item: ProductRecommendation) -> str:
    """Why a product is suggested, in the reader's language."""
    if item.reason == ProductRecommendation.Reason.BOUGHT_TOGETHER and item.because_of is not None:
        return _("Often bought with %(product)s") % {"product": item.because_of.name}
    return _("Popular with customers like this one")


def churn_reason(metrics: CustomerMetrics, *, today: date | None = None) -> str:
    """Why the customer is (or is not) at risk, in a sentence: their usual rhythm against their silence.

    "Usually buys every 9 days; none for 41 days." For one-time buyers, the wait after which a customer
    of this base who still buys would most likely have come back (scoring.one_time_wait_days).
    """
    if metrics.p_alive is None:
        return ""
    days = ((today or timezone.localdate()) - metrics.last_purchase).days
    if metrics.typical_interval_days is not None:
        interval = metrics.typical_interval_days
        if interval < 1.5:
            return ngettext(
                "Usually buys every day; none for %(days)d day.",
                "Usually buys every day; none for %(days)d days.",
                days,
            ) % {"days": days}
        return ngettext(
            "Usually buys every %(interval)d days; none for %(days)d day.",
            "Usually buys every %(interval)d days; none for %(days)d days.",
            days,
        ) % {"interval": round(interval), "days": days}
    parameters = metrics.run.parameters if metrics.run_id else {}
    wait = _one_time_wait(parameters)
    if wait is None:
        return ngettext("Bought once, %(days)d day ago.", "Bought once, %(days)d days ago.", days) % {
            "days": days
        }
    return ngettext(
        "Bought once, %(days)d day ago; a customer here who still buys usually comes back within "
        "%(wait)d days.",
        "Bought once, %(days)d days ago; a customer here who still buys usually comes back within "
        "%(wait)d days.",
        days,
    ) % {"days": days, "wait": max(1, round(wait))}


def _one_time_wait(parameters: dict[str, Any]) -> float | None:
    try:
        threshold = float(parameters["settings"]["at_risk_below"])
        return one_time_wait_days(threshold, float(parameters["r"]), float(parameters["alpha"]))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None


def early_warning(*, actor: User, bands: tuple[str, ...] = (Band.AT_RISK,)) -> QuerySet[CustomerMetrics]:
    """Customers in the given churn bands (at risk by default), most value at risk first.

    Read each row's `churn_reason` for the sentence; `typical_interval_days`, `recency_days`,
    `p_alive` and `churn_risk` are the numbers behind it.
    """
    return (
        metrics_scope(actor=actor)
        .select_related("run")
        .filter(band__in=bands)
        .order_by("-value_at_risk", "customer_id")
    )


@dataclass
class SegmentRow:
    segment: str
    label: str
    action: str
    customers: int
    spend: Decimal
    share: float  # of the spend in the RFM window of all segments in the reader's scope
    clv: Decimal | None


def segment_summary(*, actor: User) -> list[SegmentRow]:
    """The eight segments in the reader's scope: customers, spend in the RFM window and its share, total
    CLV, and the suggested action. One query."""
    rows = {
        row["segment"]: row
        for row in metrics_scope(actor=actor)
        .values("segment")
        .annotate(n=Count("pk"), spend=Sum("rfm_spend"), clv=Sum("clv"))
        .order_by()
    }
    total = sum((row["spend"] or ZERO for row in rows.values()), ZERO)
    summary = []
    for segment in Segment:
        row = rows.get(segment.value, {})
        spend = row.get("spend") or ZERO
        summary.append(
            SegmentRow(
                segment=segment.value,
                label=str(segment.label),
                action=str(SEGMENT_ACTIONS[segment]),
                customers=row.get("n", 0),
                spend=spend,
                share=float(spend / total) if total else 0.0,
                clv=row.get("clv"),
            )
        )
    return summary


def run_list(*, actor: User, limit: int = 20) -> list[ModelRun]:
    """The latest runs, newest first, with their parameters."""
    ensure_can(actor, "analytics.view")
    return list(ModelRun.objects.order_by("-started_at", "-id")[:limit])


def run_latest(*, actor: User) -> ModelRun | None:
    """The last run that succeeded: the one whose results are stored."""
    ensure_can(actor, "analytics.view")
    return ModelRun.objects.filter(status=ModelRun.Status.SUCCEEDED).order_by("-finished_at", "-id").first()


def settings_get(*, actor: User) -> AnalyticsSettings:
    ensure_can(actor, "analytics.view")
    return AnalyticsSettings.objects.filter(pk=1).first() or AnalyticsSettings(pk=1)


def product_pairs(*, actor: User, product_id: int | None = None, limit: int = 50) -> list[ProductPair]:
    """Products bought together, strongest first (by lift, then confidence), with both products."""
    ensure_can(actor, "analytics.view")
    pairs = ProductPair.objects.select_related("product_a", "product_b")
    if product_id is not None:
        pairs = pairs.filter(product_a_id=product_id)
    return list(pairs.order_by("-lift", "-confidence", "product_a_id", "product_b_id")[:limit])


@dataclass
class Suggestion:
    """One recommendation as the 360 page shows it."""

    rank: int
    product: Product
    reason: str


@dataclass
class CustomerAnalytics:
    """What the customer 360 page shows of the analytics (template analytics/_customer_metrics.html)."""

    metrics: CustomerMetrics | None
    segment_label: str = ""
    segment_action: str = ""
    reason: str = ""
    interval: int | None = None  # typical days between purchases, rounded
    recommendations: list[Suggestion] = field(default_factory=list)


def customer_analytics(*, actor: User, customer: Customer) -> CustomerAnalytics | None:
    """The 360 page's analytics card for a customer the page already read through the customers'
    selectors, or None when the reader may not view analytics. Two queries: the metrics with their run,
    and the recommendations with their products."""
    if not can(actor, "analytics.view"):
        return None
    metrics = (
        CustomerMetrics.objects.filter(_visible(actor), customer_id=customer.pk).select_related("run").first()
    )
    if metrics is None:
        return CustomerAnalytics(metrics=None)
    metrics.customer = customer
    segment = Segment(metrics.segment)
    return CustomerAnalytics(
        metrics=metrics,
        segment_label=str(segment.label),
        segment_action=segment_action(segment),
        reason=churn_reason(metrics),
        interval=None if metrics.typical_interval_days is None else round(metrics.typical_interval_days),
        recommendations=[
            Suggestion(rank=item.rank, product=item.product, reason=recommendation_reason(item))
            for item in recommendations_of(metrics=metrics)
        ],
    )
