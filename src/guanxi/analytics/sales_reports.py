"""The sales forecast and reports of the KPI board (销售预测与报表), for `sales_report.view`.

Every figure is one SQL aggregate over opportunities (`opportunities.Opportunity`) or leads (`leads.Lead`)
in the actor's scope (own, team, all: the record's owner and team), narrowed by the board's team filter
(the record's team). The period applies to what happened in it (leads created, opportunities closed);
the pipeline is today's open opportunities, whatever the period, since a forecast looks ahead. Only
leads have a store, so the store filter narrows the funnel alone.

Each chart comes back as a `Table`, drawn on the page and downloaded as CSV from the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.analytics.kpis import BoardFilters, KpiValue, Table
from guanxi.catalog.money import round_money
from guanxi.core.permissions import ensure_can, scope_q
from guanxi.leads.models import Lead
from guanxi.opportunities.models import Opportunity
from guanxi.users.models import User

PERMISSION = "sales_report.view"
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
CYCLE = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())
CLOSED = (Opportunity.Status.WON, Opportunity.Status.LOST)


def _cents(value: Any) -> Decimal:
    """A sum of money as the database gives it, to the cent (SQLite adds decimals as floating point)."""
    return round_money(Decimal(str(value))) if value is not None else ZERO


def _weighted(value: Any) -> Decimal:
    """Σ amount × probability (in percent) as the database gives it, as money."""
    return _cents(Decimal(str(value)) / HUNDRED) if value is not None else ZERO


def _days(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 86400, 1)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _rep(row: dict[str, Any]) -> str:
    if row["owner_id"] is None:
        return _("Unassigned")
    return row["owner__full_name"] or row["owner__username"]


# -- the querysets every figure starts from ---------------------------------------------------------------


def _opportunities(actor: User, f: BoardFilters) -> QuerySet[Opportunity]:
    opportunities = Opportunity.objects.filter(scope_q(actor))
    if f.team_id:
        opportunities = opportunities.filter(team_id=f.team_id)
    return opportunities


def _open(actor: User, f: BoardFilters) -> QuerySet[Opportunity]:
    return _opportunities(actor, f).filter(status=Opportunity.Status.OPEN)


def _closed(actor: User, f: BoardFilters) -> QuerySet[Opportunity]:
    """Opportunities won or lost in the period."""
    start, end = f.bounds()
    return _opportunities(actor, f).filter(status__in=CLOSED, closed_at__gte=start, closed_at__lt=end)


def _leads(actor: User, f: BoardFilters) -> QuerySet[Lead]:
    """Leads that came in during the period, of the team and store chosen."""
    start, end = f.bounds()
    leads = Lead.objects.filter(scope_q(actor), created_at__gte=start, created_at__lt=end)
    if f.team_id:
        leads = leads.filter(team_id=f.team_id)
    if f.store_id:
        leads = leads.filter(store_id=f.store_id)
    return leads


PIPELINE = {"n": Count("pk"), "total": Sum("amount"), "weighted": Sum(F("amount") * F("probability"))}


# -- the KPIs -----------------------------------------------------------------------------------------------


def _pipeline_totals(actor: User, f: BoardFilters) -> dict[str, Any]:
    return _open(actor, f).aggregate(**PIPELINE)


def _closed_totals(actor: User, f: BoardFilters) -> dict[str, Any]:
    won = Q(status=Opportunity.Status.WON)
    return _closed(actor, f).aggregate(
        won=Count("pk", filter=won),
        lost=Count("pk", filter=Q(status=Opportunity.Status.LOST)),
        won_amount=Sum("amount", filter=won),
        cycle=Avg(CYCLE, filter=won),
    )


def _funnel_counts(actor: User, f: BoardFilters) -> dict[str, Any]:
    return _leads(actor, f).aggregate(
        leads=Count("pk"),
        converted=Count("pk", filter=Q(opportunity__isnull=False)),
        won=Count("pk", filter=Q(opportunity__status=Opportunity.Status.WON)),
    )


# key, label, how it is computed, kind (as the board's KPIs).
SALES_KPIS: list[tuple[str, Any, Any, str]] = [
    (
        "weighted_pipeline",
        gettext_lazy("Weighted pipeline"),
        gettext_lazy(
            "Open opportunities today, each amount times its probability; the period does not apply."
        ),
        "money",
    ),
    (
        "open_pipeline",
        gettext_lazy("Open pipeline"),
        gettext_lazy("The amounts of the open opportunities today; the period does not apply."),
        "money",
    ),
    (
        "won_amount",
        gettext_lazy("Won"),
        gettext_lazy("The amounts of the opportunities won in the period."),
        "money",
    ),
    (
        "win_rate",
        gettext_lazy("Win rate"),
        gettext_lazy("Of the opportunities closed in the period, the share won: won ÷ (won + lost)."),
        "share",
    ),
    (
        "sales_cycle",
        gettext_lazy("Average sales cycle"),
        gettext_lazy(
            "Days from creating an opportunity to winning it, averaged over those won in the period."
        ),
        "days",
    ),
    (
        "lead_conversion",
        gettext_lazy("Lead conversion"),
        gettext_lazy("Of the leads that came in during the period, the share that became an opportunity."),
        "share",
    ),
]


def sales_kpi_values(*, actor: User, filters: BoardFilters) -> list[KpiValue]:
    """The section's key figures, in three queries (pipeline, closed, funnel)."""
    ensure_can(actor, PERMISSION)
    pipeline, closed, funnel = (
        _pipeline_totals(actor, filters),
        _closed_totals(actor, filters),
        _funnel_counts(actor, filters),
    )
    values = {
        "weighted_pipeline": _weighted(pipeline["weighted"]),
        "open_pipeline": _cents(pipeline["total"]),
        "won_amount": _cents(closed["won_amount"]),
        "win_rate": _rate(closed["won"], closed["won"] + closed["lost"]),
        "sales_cycle": _days(closed["cycle"]),
        "lead_conversion": _rate(funnel["converted"], funnel["leads"]),
    }
    return [
        KpiValue(key, str(label), str(help_), values[key], kind) for key, label, help_, kind in SALES_KPIS
    ]


def sales_kpi_table(values: list[KpiValue]) -> Table:
    return Table(
        "sales_kpis",
        _("Sales key figures"),
        [_("Key figure"), _("Value"), _("How it is computed")],
        [[v.label, "" if v.value is None else v.value, v.help] for v in values],
    )


# -- the charts ---------------------------------------------------------------------------------------------


def pipeline_by_month(*, actor: User, filters: BoardFilters) -> Table:
    """Open opportunities by the month they are expected to close; those without a date last."""
    ensure_can(actor, PERMISSION)
    rows = (
        _open(actor, filters)
        .annotate(month=TruncMonth("expected_close"))
        .values("month")
        .annotate(**PIPELINE)
        .order_by(F("month").asc(nulls_last=True))
    )
    return Table(
        "pipeline_months",
        _("Weighted pipeline by expected close"),
        [_("Month"), _("Open opportunities"), _("Amount"), _("Weighted amount")],
        [
            [
                r["month"].strftime("%Y-%m") if r["month"] else _("No date"),
                r["n"],
                _cents(r["total"]),
                _weighted(r["weighted"]),
            ]
            for r in rows
        ],
    )


def pipeline_by_rep(*, actor: User, filters: BoardFilters) -> Table:
    """Open opportunities by owner (with the owner's team), the largest weighted amount first."""
    ensure_can(actor, PERMISSION)
    rows = (
        _open(actor, filters)
        .values("owner_id", "owner__full_name", "owner__username", "owner__team__name")
        .annotate(**PIPELINE)
        .order_by("-weighted", "owner__username")
    )
    return Table(
        "pipeline_reps",
        _("Weighted pipeline by sales rep"),
        [_("Sales rep"), _("Team"), _("Open opportunities"), _("Amount"), _("Weighted amount")],
        [
            [_rep(r), r["owner__team__name"] or "", r["n"], _cents(r["total"]), _weighted(r["weighted"])]
            for r in rows
        ],
    )


def pipeline_by_team(*, actor: User, filters: BoardFilters) -> Table:
    """Open opportunities by the opportunity's team, the largest weighted amount first."""
    ensure_can(actor, PERMISSION)
    rows = (
        _open(actor, filters)
        .values("team_id", "team__name")
        .annotate(**PIPELINE)
        .order_by("-weighted", "team__name")
    )
    return Table(
        "pipeline_teams",
        _("Weighted pipeline by team"),
        [_("Team"), _("Open opportunities"), _("Amount"), _("Weighted amount")],
        [
            [r["team__name"] or _("No team"), r["n"], _cents(r["total"]), _weighted(r["weighted"])]
            for r in rows
        ],
    )


def lead_funnel(*, actor: User, filters: BoardFilters) -> Table:
    """Leads that came in during the period → those that became opportunities → those won (so far)."""
    ensure_can(actor, PERMISSION)
    counts = _funnel_counts(actor, filters)
    steps = [
        (_("Leads"), counts["leads"]),
        (_("Became opportunities"), counts["converted"]),
        (_("Won"), counts["won"]),
    ]
    table = Table(
        "funnel",
        _("Conversion funnel"),
        [_("Step"), _("Leads"), _("Share of the step before"), _("Share of all leads")],
    )
    for index, (label, count) in enumerate(steps):
        before = steps[index - 1][1] if index else count
        table.rows.append([label, count, _rate(count, before) or 0.0, _rate(count, counts["leads"]) or 0.0])
    return table


def win_rate_by_rep(*, actor: User, filters: BoardFilters) -> Table:
    """Opportunities closed in the period by owner: won, lost and the share won."""
    ensure_can(actor, PERMISSION)
    rows = (
        _closed(actor, filters)
        .values("owner_id", "owner__full_name", "owner__username", "owner__team__name")
        .annotate(
            won=Count("pk", filter=Q(status=Opportunity.Status.WON)),
            lost=Count("pk", filter=Q(status=Opportunity.Status.LOST)),
        )
        .order_by("-won", "lost", "owner__username")
    )
    return Table(
        "win_rate",
        _("Win rate by sales rep"),
        [_("Sales rep"), _("Team"), _("Won"), _("Lost"), _("Win rate")],
        [
            [
                _rep(r),
                r["owner__team__name"] or "",
                r["won"],
                r["lost"],
                _rate(r["won"], r["won"] + r["lost"]),
            ]
            for r in rows
        ],
    )


def sales_cycle_by_month(*, actor: User, filters: BoardFilters) -> Table:
    """Opportunities won in the period by month of winning: how many, and their average days to win."""
    ensure_can(actor, PERMISSION)
    zone = timezone.get_current_timezone()
    rows = (
        _closed(actor, filters)
        .filter(status=Opportunity.Status.WON)
        .annotate(month=TruncMonth("closed_at", tzinfo=zone))
        .values("month")
        .annotate(won=Count("pk"), total=Sum("amount"), cycle=Avg(CYCLE))
        .order_by("month")
    )
    return Table(
        "sales_cycle",
        _("Sales cycle by month won"),
        [_("Month"), _("Won"), _("Amount won"), _("Average days to win")],
        [[r["month"].strftime("%Y-%m"), r["won"], _cents(r["total"]), _days(r["cycle"])] for r in rows],
    )


def lost_reasons(*, actor: User, filters: BoardFilters) -> Table:
    """Opportunities lost in the period by reason: how many and their amount; every reason listed."""
    ensure_can(actor, PERMISSION)
    found = {
        r["lost_reason"]: r
        for r in _closed(actor, filters)
        .filter(status=Opportunity.Status.LOST)
        .values("lost_reason")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by()
    }
    table = Table("lost_reasons", _("Lost reasons"), [_("Reason"), _("Lost"), _("Amount lost")])
    for reason in Opportunity.LostReason:
        row = found.pop(reason.value, None)
        table.rows.append([str(reason.label), row["n"] if row else 0, _cents(row["total"] if row else None)])
    unknown = list(found.values())  # blank, or a code no longer offered
    if unknown:
        table.rows.append(
            [
                _("Not given"),
                sum(r["n"] for r in unknown),
                sum((_cents(r["total"]) for r in unknown), ZERO),
            ]
        )
    return table


# How each chart is computed, shown under its title.
SALES_CHART_HELP = {
    "pipeline_months": gettext_lazy(
        "Open opportunities today by the month they are expected to close: their amounts and their "
        "amounts times probability. Past months are overdue."
    ),
    "pipeline_reps": gettext_lazy(
        "Open opportunities today by owner: amounts and amounts times probability, the largest first."
    ),
    "pipeline_teams": gettext_lazy(
        "Open opportunities today by the opportunity's team: amounts and amounts times probability."
    ),
    "funnel": gettext_lazy(
        "Leads that came in during the period, those of them that became opportunities, and those "
        "opportunities won so far. The store filter applies here only."
    ),
    "win_rate": gettext_lazy(
        "Opportunities closed in the period by owner: won, lost, and won ÷ (won + lost)."
    ),
    "sales_cycle": gettext_lazy(
        "Opportunities won in the period by month: how many, and the average days from creating each "
        "to winning it."
    ),
    "lost_reasons": gettext_lazy(
        "Opportunities lost in the period by the reason recorded when closing them: how many and "
        "their amounts."
    ),
}

SALES_CHARTS: dict[str, Callable[..., Table]] = {
    "pipeline_months": pipeline_by_month,
    "pipeline_reps": pipeline_by_rep,
    "pipeline_teams": pipeline_by_team,
    "funnel": lead_funnel,
    "win_rate": win_rate_by_rep,
    "sales_cycle": sales_cycle_by_month,
    "lost_reasons": lost_reasons,
}
