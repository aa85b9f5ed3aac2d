"""Writes of the analytics: the full refresh, queuing it, and the settings.

`analytics_refresh` recomputes everything from the orders in one pass over the base (DESIGN §2, "the
database does the scanning, Python does the statistics"):

1. every purchase order streamed once into per-customer sums in numpy (purchases.BaseReader), and the
   order lines' (order, product) (recommendations.LinesReader); on PostgreSQL by two connections at once
   (streams.in_parallel);
2. RFM scores and segments (scoring.rfm);
3. BG/NBD fitted by maximum likelihood on the distinct (x, t_x, T) triples with their counts, Gamma-Gamma
   on the repeat buyers' average spend (predict.fit_models, over guanxi.analytics.estimation);
4. per customer: P(alive), expected purchases in 30 and 90 days, expected spend a purchase, CLV over the
   horizon with the discount rate, churn band and value at risk (predict.predictions, scoring);
5. product pairs and the recommendation lists, one per set of products bought and segment
   (recommendations);
6. one transaction: the stored metrics, pairs and recommendations replaced whole (on PostgreSQL the
   metrics go by COPY into a fresh table swapped in at the end, tables.TableReplace; executemany on
   SQLite), lifecycle stages moved by band (lifecycle) with their audit events and timeline entries, one
   audit event for the run.

Steps 1–5 only read, so SQLite's writer lock is held for step 6 alone, and readers see the old results
or the new ones, never a mix.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.analytics import lifecycle, metrics_rows, predict, recommendations, scoring
from guanxi.analytics.models import (
    AnalyticsSettings,
    CustomerMetrics,
    ModelRun,
    ProductPair,
    ProductRecommendation,
)
from guanxi.analytics.purchases import Base, BaseReader, base_read, day_date
from guanxi.analytics.streams import PARTS, in_parallel
from guanxi.analytics.tables import TableReplace
from guanxi.audit.services import audit_record
from guanxi.catalog.models import Product
from guanxi.core.errors import ValidationFailed
from guanxi.core.permissions import ensure_can
from guanxi.core.tasks import task_enqueue_on_commit
from guanxi.customers.services.rows import write_rows

log = logging.getLogger(__name__)

REFRESH_TASK = "analytics.refresh"
STEPS = ("read", "fit", "score", "recommend", "write")
# What the run computed with: the version names the models and the rules around them (bands for one-time
# buyers, value at risk); change it with any change to what a stored figure means.
MODEL_VERSION = "bgnbd-gg-1"

Progress = Callable[[str, int, int], None]  # (step, steps done, steps in all)

SETTINGS_FIELDS = (
    "rfm_window_days",
    "discount_rate_annual",
    "clv_horizon_months",
    "at_risk_below",
    "churned_below",
    "recommendations_per_customer",
    "pair_min_support",
)


def analytics_settings_get() -> AnalyticsSettings:
    """The stored settings, or the defaults (not saved) before anyone changed them."""
    return AnalyticsSettings.objects.filter(pk=1).first() or AnalyticsSettings(pk=1)


@transaction.atomic
def analytics_settings_update(*, actor: Any, **changes: Any) -> AnalyticsSettings:
    """Change the analytics settings (analytics.refresh); they apply from the next refresh."""
    ensure_can(actor, "analytics.refresh")
    unknown = sorted(set(changes) - set(SETTINGS_FIELDS))
    if unknown:
        raise ValidationFailed(details={key: [_("Unknown field.")] for key in unknown})
    current, _created = AnalyticsSettings.objects.select_for_update().get_or_create(pk=1)
    before = {key: getattr(current, key) for key in SETTINGS_FIELDS}
    for key, value in changes.items():
        setattr(current, key, value)
    try:
        current.full_clean()
    except ValidationError as exc:
        raise ValidationFailed(details={k: [str(m) for m in v] for k, v in exc.message_dict.items()}) from exc
    if current.churned_below > current.at_risk_below:
        raise ValidationFailed(
            details={"churned_below": [_("The churned threshold cannot be above the at-risk threshold.")]}
        )
    current.save()
    after = {key: getattr(current, key) for key in SETTINGS_FIELDS}
    diff = {k: [str(before[k]), str(after[k])] for k in SETTINGS_FIELDS if before[k] != after[k]}
    if diff:
        audit_record(actor=actor, action="analytics.settings", target=current, changes=diff)
    return current


def analytics_refresh_queue(*, actor: Any) -> None:
    """Queue a full refresh for the task consumer once the caller's transaction commits."""
    ensure_can(actor, "analytics.refresh")
    task_enqueue_on_commit(REFRESH_TASK, actor.pk)


def analytics_fit(*, until: date | None = None) -> tuple[predict.Fit, Base]:
    """Fit the models on the purchases up to `until` (today by default) and write nothing."""
    settings = analytics_settings_get()
    base = base_read(until=until or timezone.localdate(), window_days=settings.rfm_window_days)
    return predict.fit_models(base), base


def analytics_refresh(
    *, actor: Any = None, until: date | None = None, progress: Progress | None = None
) -> ModelRun:
    """Recompute every customer's metrics, the product pairs and the recommendations (module docstring).

    `actor` None is the nightly run of the task consumer; a user needs `analytics.refresh`. `until` is the
    last day observed (today by default). The run is recorded as a ModelRun, failed runs too; a failed run
    leaves the stored results of the last good one in place.
    """
    if actor is not None:
        ensure_can(actor, "analytics.refresh")
    settings = analytics_settings_get()
    until = until or timezone.localdate()
    run = ModelRun.objects.create(
        kind=ModelRun.Kind.REFRESH,
        model_version=MODEL_VERSION,
        window_end=until,
        started_at=timezone.now(),
        started_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    step = _Steps(progress)
    try:
        _refresh(run, actor, settings, until, step)
    except Exception as exc:
        log.exception("analytics refresh %s failed", run.pk)
        ModelRun.objects.filter(pk=run.pk).update(
            status=ModelRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    run.refresh_from_db()
    return run


class _Steps:
    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.done = 0

    def __call__(self, name: str) -> None:
        self.done += 1
        if self.progress:
            self.progress(name, self.done, len(STEPS))


def _refresh(run: ModelRun, actor: Any, settings: AnalyticsSettings, until: date, step: _Steps) -> None:
    orders = BaseReader(until=until, window_days=settings.rfm_window_days, with_orders=True)
    lines = recommendations.LinesReader()
    parts = [(k, PARTS) for k in range(PARTS)]
    in_parallel(
        [partial(orders.read, part) for part in parts] + [partial(lines.read, part) for part in parts]
    )
    base = orders.base()
    del orders
    step("read")
    fit = predict.fit_models(base)
    step("fit")
    r, f, m, segment, means = scoring.rfm(base.recency, base.window_orders, base.window_cents)
    means["monetary"] /= 100.0  # fen → yuan, as stored
    figures = predict.predictions(fit, base, settings)
    step("score")
    assert base.order_customer is not None
    bought = recommendations.bought_count(lines.lines(), base.order_customer)
    base.order_customer = None
    del lines
    pairs = recommendations.product_pairs(min_support=settings.pair_min_support, bought=bought)
    active = set(Product.objects.filter(active=True).values_list("pk", flat=True))
    suggested = recommendations.recommend(
        customers=base.customer_id,
        segments=segment,
        bought=bought,
        pairs=pairs,
        active_products=active,
        per_customer=settings.recommendations_per_customer,
    )
    orders_with_lines = bought.total_orders
    del bought
    step("recommend")
    now = timezone.now()
    with transaction.atomic():
        # One writer at a time: a second refresh waits here and then replaces this one's rows whole.
        AnalyticsSettings.objects.get_or_create(pk=1)
        AnalyticsSettings.objects.select_for_update().get(pk=1)
        metrics = TableReplace(CustomerMetrics, metrics_rows.METRICS_COLUMNS)
        metrics.begin()
        lists = suggested.list_of_customer
        metrics.write_columns(
            metrics_rows.metrics_columns(base, r, f, m, segment, figures, lists, run.pk, now)
        )
        ProductRecommendation.objects.all().delete()
        write_rows(
            ProductRecommendation._meta.db_table,
            recommendations.RECOMMENDATION_COLUMNS,
            recommendations.recommendation_rows(suggested, run.pk),
        )
        ProductPair.objects.all().delete()
        write_rows(
            ProductPair._meta.db_table,
            PAIR_COLUMNS,
            [(p.a, p.b, p.together, p.support, p.confidence, p.lift, run.pk) for p in pairs],
        )
        moved = lifecycle.stages_follow_bands(actor=actor, run_id=run.pk, now=now, metrics=metrics.target)
        counts = {
            "customers": len(base),
            "orders": int(base.orders.sum()),
            "orders_with_lines": orders_with_lines,
            "product_pairs": len(pairs) // 2,
            "recommendation_lists": len(suggested.lists),
            "customers_with_recommendations": int((suggested.list_of_customer >= 0).sum()),
            "stage_moves": moved,
        }
        ModelRun.objects.filter(pk=run.pk).update(
            status=ModelRun.Status.SUCCEEDED,
            parameters={
                **fit.parameters(),
                "rfm_averages": means,
                "settings": _settings_snapshot(settings),
                **counts,
            },
            bgnbd_log_likelihood=fit.bgnbd_log_likelihood,
            gamma_gamma_log_likelihood=fit.gamma_gamma_log_likelihood,
            window_start=day_date(int(base.first_day.min())) if len(base) else None,
            customers=len(base),
            orders=counts["orders"],
            finished_at=timezone.now(),
        )
        run.refresh_from_db()
        audit_record(actor=actor, action="analytics.refresh", target=run, data=counts)
        metrics.finish()  # last: readers wait for the new metrics only from here to the commit
    step("write")


def _settings_snapshot(settings: AnalyticsSettings) -> dict[str, Any]:
    snapshot = {key: getattr(settings, key) for key in SETTINGS_FIELDS}
    snapshot["discount_rate_annual"] = str(Decimal(settings.discount_rate_annual).quantize(Decimal("0.0001")))
    return snapshot


PAIR_COLUMNS = ("product_a_id", "product_b_id", "orders_together", "support", "confidence", "lift", "run_id")
