"""Analytics endpoints under /api/v1/analytics/: thin shells over analytics.selectors and services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from ninja import Query, Router, Status

from guanxi.analytics import selectors, services
from guanxi.analytics.models import CustomerMetrics, ProductRecommendation
from guanxi.analytics.schemas import (
    CustomerAnalyticsOut,
    MetricsOut,
    MetricsPage,
    MetricsQuery,
    PairOut,
    QueuedOut,
    RunOut,
    SegmentOut,
    SettingsOut,
    SettingsPatch,
)
from guanxi.core.http import ApiRequest

router = Router(tags=["analytics"])
MAX_OFFSET = 1_000_000_000


METRICS_FIELDS = [name for name in MetricsOut.model_fields if name not in ("customer_name", "reason")]


def _metrics(metrics: CustomerMetrics) -> dict[str, Any]:
    data = {name: getattr(metrics, name) for name in METRICS_FIELDS}
    data["customer_name"] = metrics.customer.name
    data["reason"] = selectors.churn_reason(metrics)
    return data


def _recommendation(item: ProductRecommendation) -> dict[str, Any]:
    return {
        "rank": item.rank,
        "product": item.product,
        "score": item.score,
        "reason": item.reason,
        "reason_text": selectors.recommendation_reason(item),
        "because_of": item.because_of,
    }


@router.get("/customers", response=MetricsPage, summary="Customers' analytics, filtered")
def metrics_list(request: ApiRequest, filters: Query[MetricsQuery]) -> dict[str, Any]:
    """Each visible customer's RFM scores and segment, P(alive), churn risk, expected purchases and CLV.
    For example all 重要挽留客户 whose churn risk is above 0.7: `segment=important_retain&risk_gt=0.7`."""
    limit = max(1, min(filters.limit, settings.GUANXI_API_MAX_LIMIT))
    offset = max(0, min(filters.offset, MAX_OFFSET))
    options = filters.model_dump(exclude={"limit", "offset"})
    options = {key: value for key, value in options.items() if value is not None}
    metrics = selectors.metrics_list(actor=request.auth, **options).select_related("run")
    items = list(metrics[offset : offset + limit + 1])
    return {
        "items": [_metrics(m) for m in items[:limit]],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if len(items) > limit else None,
    }


@router.get("/customers/{customer_id}", response=CustomerAnalyticsOut, summary="One customer's analytics")
def metrics_get(request: ApiRequest, customer_id: int) -> dict[str, Any]:
    """The customer's metrics (null before their first refresh) and recommendations, best first."""
    metrics = selectors.metrics_get(actor=request.auth, customer_id=customer_id)
    items = selectors.recommendations_of(metrics=metrics)
    return {
        "customer_id": customer_id,
        "metrics": _metrics(metrics) if metrics is not None else None,
        "segment_action": selectors.segment_action(metrics.segment) if metrics is not None else "",
        "recommendations": [_recommendation(item) for item in items],
    }


@router.get("/early-warning", response=list[MetricsOut], summary="Churn early warning")
def early_warning(request: ApiRequest, band: str = "at_risk", limit: int = 50) -> list[dict[str, Any]]:
    """Customers at risk (or `band=churned`), most value at risk first, each with the reason in words."""
    bands = tuple(b for b in band.split(",") if b in ("at_risk", "churned")) or ("at_risk",)
    limit = max(1, min(limit, settings.GUANXI_API_MAX_LIMIT))
    return [_metrics(m) for m in selectors.early_warning(actor=request.auth, bands=bands)[:limit]]


@router.get("/segments", response=list[SegmentOut], summary="RFM segments")
def segment_summary(request: ApiRequest) -> Any:
    """The eight RFM segments in your scope: customers, spend and its share, CLV and the suggested action."""
    return selectors.segment_summary(actor=request.auth)


@router.get("/runs", response=list[RunOut], summary="Analytics runs")
def run_list(request: ApiRequest, limit: int = 20) -> Any:
    """The latest runs, newest first: fitted parameters (time unit: day), log-likelihoods, window."""
    return selectors.run_list(actor=request.auth, limit=max(1, min(limit, 100)))


@router.get("/product-pairs", response=list[PairOut], summary="Products bought together")
def product_pairs(request: ApiRequest, product_id: int | None = None, limit: int = 50) -> Any:
    return selectors.product_pairs(
        actor=request.auth, product_id=product_id, limit=max(1, min(limit, settings.GUANXI_API_MAX_LIMIT))
    )


@router.post("/refresh", response={202: QueuedOut}, summary="Recompute the analytics")
def refresh(request: ApiRequest) -> Status[Any]:
    """Queue a full refresh for the task consumer; GET /analytics/runs shows when it ran."""
    services.analytics_refresh_queue(actor=request.auth)
    return Status(202, {"queued": True})


@router.get("/settings", response=SettingsOut, summary="Analytics settings")
def settings_get(request: ApiRequest) -> Any:
    return selectors.settings_get(actor=request.auth)


@router.patch("/settings", response=SettingsOut, summary="Change the analytics settings")
def settings_update(request: ApiRequest, payload: SettingsPatch) -> Any:
    """They apply from the next refresh."""
    return services.analytics_settings_update(actor=request.auth, **payload.model_dump(exclude_unset=True))
