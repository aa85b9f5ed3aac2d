"""The KPI board's figures (数据看板): read through the actor's scope, filtered by period, store and team.

Every figure is one SQL aggregate over orders (`sales.Order`, net of refunds) or over the stored per-customer
results of the last analytics refresh (`CustomerMetrics`). Each KPI says how it is computed (`help`), and
every chart's rows come back as a `Table` so the page draws it and the CSV download writes the same rows.

Later issues add their KPIs (satisfaction, NPS, complaint handling, referrals, campaign ROI) by appending
a `Kpi` to `KPIS`: a key, a label, a help line and a function of (actor, filters).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.analytics.models import Band, CustomerMetrics, ModelRun, Segment
from guanxi.analytics.selectors import segment_action
from guanxi.catalog.money import round_money
from guanxi.core.permissions import ensure_can, scope_q
from guanxi.customers.models import Customer
from guanxi.sales.models import Order
from guanxi.users.models import User

ZERO = Decimal("0.00")


def _cents(value: Any) -> Decimal:
    """A sum of money as the database gives it, to the cent (SQLite adds decimals as floating point)."""
    return round_money(Decimal(str(value))) if value is not None else ZERO


NET = ExpressionWrapper(
    F("total") - F("refunded_total"), output_field=DecimalField(max_digits=14, decimal_places=2)
)
# CLV buckets, in CNY: readable steps from a small shop's customer to a builder's.
CLV_EDGES = (0, 100, 300, 1000, 3000, 10000, 30000)


@dataclass(frozen=True)
class BoardFilters:
    """The board's period (both days included, the business's local dates), store and team."""

    start: date
    end: date
    store_id: int | None = None
    team_id: int | None = None

    @classmethod
    def default(cls) -> BoardFilters:
        """The last twelve months, this month included."""
        today = timezone.localdate()
        first = date(today.year - 1, today.month, 1) + timedelta(days=32)
        return cls(start=first.replace(day=1), end=today)

    def bounds(self) -> tuple[datetime, datetime]:
        zone = timezone.get_current_timezone()
        return (
            datetime.combine(self.start, time.min, tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone),
        )

    def previous(self) -> BoardFilters:
        """The period of the same length just before this one."""
        days = (self.end - self.start).days + 1
        return BoardFilters(
            start=self.start - timedelta(days=days),
            end=self.start - timedelta(days=1),
            store_id=self.store_id,
            team_id=self.team_id,
        )


@dataclass
class Table:
    """A chart's data: column titles and rows, as drawn and as downloaded."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)


@dataclass(frozen=True)
class KpiValue:
    key: str
    label: str
    help: str
    value: Any  # Decimal, int, float (a share 0–1) or None when there is nothing to compute it from
    kind: str  # money | count | share


@dataclass(frozen=True)
class Kpi:
    key: str
    label: Any  # lazy: translated when the board is drawn
    help: Any
    kind: str
    compute: Callable[[User, BoardFilters], Any]


# -- the querysets every figure starts from ---------------------------------------------------------------


def _orders(actor: User, f: BoardFilters, *, period: bool = True) -> QuerySet[Order]:
    """Orders of customers the actor may see, in the period, of the store and team chosen."""
    orders = Order.objects.filter(scope_q(actor, owner="customer__owner", team="customer__team"))
    if period:
        start, end = f.bounds()
        orders = orders.filter(ordered_at__gte=start, ordered_at__lt=end)
    if f.store_id:
        orders = orders.filter(store_id=f.store_id)
    if f.team_id:
        orders = orders.filter(customer__team_id=f.team_id)
    return orders


def _purchases(actor: User, f: BoardFilters) -> QuerySet[Order]:
    """Orders that still count as purchases: a fully refunded order does not."""
    return _orders(actor, f).exclude(status=Order.Status.REFUNDED)


def _customers(actor: User, f: BoardFilters) -> QuerySet[Customer]:
    customers = Customer.objects.filter(scope_q(actor))
    if f.team_id:
        customers = customers.filter(team_id=f.team_id)
    return customers


def _metrics(actor: User, f: BoardFilters) -> QuerySet[CustomerMetrics]:
    metrics = CustomerMetrics.objects.filter(scope_q(actor, owner="customer__owner", team="customer__team"))
    if f.team_id:
        metrics = metrics.filter(customer__team_id=f.team_id)
    return metrics


# -- the KPIs -----------------------------------------------------------------------------------------------


def _revenue(actor: User, f: BoardFilters) -> Decimal:
    return _cents(_orders(actor, f).aggregate(v=Sum(NET))["v"])


def _order_count(actor: User, f: BoardFilters) -> int:
    return _purchases(actor, f).count()


def _average_order(actor: User, f: BoardFilters) -> Decimal | None:
    count = _order_count(actor, f)
    return (_revenue(actor, f) / count).quantize(Decimal("0.01")) if count else None


def _customer_count(actor: User, f: BoardFilters) -> int:
    return _customers(actor, f).filter(created_at__lt=f.bounds()[1]).count()


def _new_customers(actor: User, f: BoardFilters) -> int:
    start, end = f.bounds()
    return _customers(actor, f).filter(created_at__gte=start, created_at__lt=end).count()


def _active(actor: User, f: BoardFilters) -> int:
    return _purchases(actor, f).values("customer_id").distinct().count()


def _repeat_rate(actor: User, f: BoardFilters) -> float | None:
    per = _purchases(actor, f).values("customer_id").annotate(n=Count("id")).order_by()
    buyers = per.count()
    return per.filter(n__gte=2).count() / buyers if buyers else None


def _churn_rate(actor: User, f: BoardFilters) -> float | None:
    before = _purchases(actor, f.previous()).values("customer_id").distinct()
    buyers = before.count()
    if not buyers:
        return None
    now = _purchases(actor, f).values("customer_id")
    return before.exclude(customer_id__in=now).count() / buyers


def _at_risk_value(actor: User, f: BoardFilters) -> Decimal | None:
    if not ModelRun.objects.filter(status=ModelRun.Status.SUCCEEDED).exists():
        return None
    at_risk = _metrics(actor, f).filter(band=Band.AT_RISK)
    return _cents(at_risk.aggregate(v=Sum("value_at_risk"))["v"])


KPIS: list[Kpi] = [
    Kpi(
        "customers",
        gettext_lazy("Customers"),
        gettext_lazy("Customers you can see who were added before the end of the period."),
        "count",
        _customer_count,
    ),
    Kpi(
        "new_customers",
        gettext_lazy("New customers"),
        gettext_lazy("Customers added in the period (the store filter does not apply)."),
        "count",
        _new_customers,
    ),
    Kpi(
        "active_customers",
        gettext_lazy("Active customers"),
        gettext_lazy(
            "Customers with at least one purchase in the period; fully refunded orders do not count."
        ),
        "count",
        _active,
    ),
    Kpi(
        "revenue",
        gettext_lazy("Revenue"),
        gettext_lazy("The period's orders, less what was refunded on them."),
        "money",
        _revenue,
    ),
    Kpi(
        "orders",
        gettext_lazy("Orders"),
        gettext_lazy("Purchases in the period; fully refunded orders do not count."),
        "count",
        _order_count,
    ),
    Kpi(
        "average_order_value",
        gettext_lazy("Average order value"),
        gettext_lazy("Revenue divided by the number of orders (客单价)."),
        "money",
        _average_order,
    ),
    Kpi(
        "repeat_purchase_rate",
        gettext_lazy("Repeat purchase rate"),
        gettext_lazy("Of the customers who bought in the period, the share who bought two or more times."),
        "share",
        _repeat_rate,
    ),
    Kpi(
        "churn_rate",
        gettext_lazy("Churn rate"),
        gettext_lazy(
            "Of the customers who bought in the period of the same length before, the share who did not "
            "buy in this one."
        ),
        "share",
        _churn_rate,
    ),
    Kpi(
        "value_at_risk",
        gettext_lazy("Value at risk"),
        gettext_lazy(
            "The lifetime value that customers at risk of churning would take with them, from the last "
            "analytics refresh (BG/NBD and Gamma-Gamma models)."
        ),
        "money",
        _at_risk_value,
    ),
]


def kpi_values(*, actor: User, filters: BoardFilters) -> list[KpiValue]:
    ensure_can(actor, "analytics.view")
    return [KpiValue(k.key, str(k.label), str(k.help), k.compute(actor, filters), k.kind) for k in KPIS]


def kpi_table(values: list[KpiValue]) -> Table:
    return Table(
        "kpis",
        _("Key figures"),
        [_("Key figure"), _("Value"), _("How it is computed")],
        [[v.label, "" if v.value is None else v.value, v.help] for v in values],
    )


# -- the charts ---------------------------------------------------------------------------------------------


def revenue_by_month(*, actor: User, filters: BoardFilters) -> Table:
    ensure_can(actor, "analytics.view")
    zone = timezone.get_current_timezone()
    rows = (
        _orders(actor, filters)
        .annotate(month=TruncMonth("ordered_at", tzinfo=zone))
        .values("month")
        .annotate(
            revenue=Sum(NET),
            orders=Count("id", filter=~Q(status=Order.Status.REFUNDED)),
            customers=Count("customer_id", distinct=True, filter=~Q(status=Order.Status.REFUNDED)),
        )
        .order_by("month")
    )
    return Table(
        "revenue",
        _("Revenue by month"),
        [_("Month"), _("Revenue"), _("Orders"), _("Active customers")],
        [[r["month"].strftime("%Y-%m"), _cents(r["revenue"]), r["orders"], r["customers"]] for r in rows],
    )


def segment_table(*, actor: User, filters: BoardFilters) -> Table:
    """RFM segments of the last refresh: customers, their spend in the RFM window and its share."""
    ensure_can(actor, "analytics.view")
    rows = {
        r["segment"]: r
        for r in _metrics(actor, filters)
        .values("segment")
        .annotate(n=Count("pk"), spend=Sum("rfm_spend"))
        .order_by()
    }
    total = sum((_cents(r["spend"]) for r in rows.values()), ZERO)
    table = Table(
        "segments",
        _("RFM segments"),
        [_("Segment"), _("Customers"), _("Spend in the RFM window"), _("Share of spend"), _("What to do")],
    )
    for segment in Segment:
        row = rows.get(segment.value)
        spend = _cents(row["spend"] if row else None)
        share = float(spend / total) if total else 0.0
        action = segment_action(segment.value)
        table.rows.append([str(segment.label), row["n"] if row else 0, spend, round(share, 4), action])
    return table


def clv_table(*, actor: User, filters: BoardFilters) -> Table:
    """How many customers have a lifetime value in each bucket (last refresh)."""
    ensure_can(actor, "analytics.view")
    edges = list(CLV_EDGES)
    counts = {
        f"b{i}": Count(
            "pk", filter=Q(clv__gte=low) & (Q(clv__lt=edges[i + 1]) if i + 1 < len(edges) else Q())
        )
        for i, low in enumerate(edges)
    }
    found = _metrics(actor, filters).aggregate(**counts)
    table = Table("clv", _("Customer lifetime value"), [_("Lifetime value (CNY)"), _("Customers")])
    for i, low in enumerate(edges):
        label = f"{low:,}–{edges[i + 1]:,}" if i + 1 < len(edges) else f"{low:,}+"
        table.rows.append([label, found[f"b{i}"] or 0])
    return table


def band_table(*, actor: User, filters: BoardFilters) -> Table:
    """Customers by churn band (last refresh), with the value at risk in each."""
    ensure_can(actor, "analytics.view")
    rows = {
        r["band"]: r
        for r in _metrics(actor, filters)
        .values("band")
        .annotate(n=Count("pk"), risk=Sum("value_at_risk"))
        .order_by()
    }
    table = Table("bands", _("Churn early warning"), [_("Band"), _("Customers"), _("Value at risk")])
    for band in Band:
        row = rows.get(band.value)
        table.rows.append([str(band.label), row["n"] if row else 0, _cents(row["risk"] if row else None)])
    return table


CHARTS: dict[str, Callable[..., Table]] = {
    "revenue": revenue_by_month,
    "segments": segment_table,
    "clv": clv_table,
    "bands": band_table,
}


def last_run() -> ModelRun | None:
    return ModelRun.objects.filter(status=ModelRun.Status.SUCCEEDED).order_by("-finished_at", "-id").first()
