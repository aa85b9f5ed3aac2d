"""API shapes of the analytics."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema

from guanxi.customers.schemas import BodyIn

SegmentCode = Literal[
    "important_value",
    "important_develop",
    "important_keep",
    "important_retain",
    "general_value",
    "general_develop",
    "general_keep",
    "general_retain",
]
BandCode = Literal["active", "at_risk", "churned"]
Sort = Literal["clv", "-clv", "value_at_risk", "churn_risk", "p_alive", "recency", "spend", "customer"]
Share = Annotated[float, Field(ge=0, le=1)]
Money = Annotated[Decimal, Field(ge=0, le=Decimal("99999999999999"), max_digits=16, decimal_places=2)]


class MetricsQuery(Schema):
    segment: SegmentCode | None = None
    band: BandCode | None = None
    p_alive_min: Share | None = None
    p_alive_max: Share | None = None
    risk_gt: Share | None = Field(None, description="Churn risk above this: 1 − P(alive) for repeat buyers.")
    clv_min: Money | None = None
    clv_max: Money | None = None
    sort: Sort = "clv"
    limit: int = 25
    offset: int = 0


class MetricsOut(Schema):
    customer_id: int
    customer_name: str
    orders_count: int
    net_spend: Decimal
    average_order_value: Decimal
    first_purchase: date
    last_purchase: date
    recency_days: int
    frequency: int = Field(..., description="Repeat purchase days (BG/NBD x).")
    t_x: int = Field(..., description="Days from the first to the last purchase day (BG/NBD t_x).")
    age: int = Field(..., description="Days from the first purchase day to the run's last day (BG/NBD T).")
    rfm_orders: int
    rfm_spend: Decimal
    r_score: int
    f_score: int
    m_score: int
    segment: SegmentCode
    p_alive: float | None
    churn_risk: float | None
    band: BandCode | Literal[""]
    expected_purchases_30: float | None
    expected_purchases_90: float | None
    expected_average_spend: Decimal | None
    clv: Decimal | None
    value_at_risk: Decimal | None
    typical_interval_days: float | None
    reason: str = Field("", description="Why the customer is at risk, in the reader's language.")
    run_id: int
    computed_at: datetime


class MetricsPage(Schema):
    items: list[MetricsOut]
    limit: int
    offset: int
    next_offset: int | None


class ProductRef(Schema):
    id: int
    sku: str
    name: str


class RecommendationOut(Schema):
    rank: int
    product: ProductRef
    score: float
    reason: Literal["together", "popular"]
    reason_text: str
    because_of: ProductRef | None


class CustomerAnalyticsOut(Schema):
    customer_id: int
    metrics: MetricsOut | None
    segment_action: str
    recommendations: list[RecommendationOut]


class SegmentOut(Schema):
    segment: SegmentCode
    label: str
    action: str
    customers: int
    spend: Decimal = Field(..., description="Net spend in the RFM window.")
    share: float = Field(..., description="Share of the RFM-window spend of all segments in your scope.")
    clv: Decimal | None


class RunOut(Schema):
    id: int
    kind: str
    status: str
    model_version: str
    parameters: dict[str, Any]
    time_unit: str
    bgnbd_log_likelihood: float | None
    gamma_gamma_log_likelihood: float | None
    window_start: date | None
    window_end: date | None
    customers: int
    orders: int
    started_at: datetime
    finished_at: datetime | None
    error: str


class PairOut(Schema):
    product_a: ProductRef
    product_b: ProductRef
    orders_together: int
    support: float
    confidence: float
    lift: float


class SettingsOut(Schema):
    rfm_window_days: int
    discount_rate_annual: Decimal
    clv_horizon_months: int
    at_risk_below: float
    churned_below: float
    recommendations_per_customer: int
    pair_min_support: float


class SettingsPatch(BodyIn):
    rfm_window_days: int | None = None
    discount_rate_annual: Decimal | None = None
    clv_horizon_months: int | None = None
    at_risk_below: float | None = None
    churned_below: float | None = None
    recommendations_per_customer: int | None = None
    pair_min_support: float | None = None


class QueuedOut(Schema):
    queued: bool
