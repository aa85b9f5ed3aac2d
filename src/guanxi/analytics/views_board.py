"""The KPI board (数据看板): key figures and charts, each chart's data also as CSV."""

from __future__ import annotations

import csv
from decimal import Decimal
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.analytics import kpis, sales_reports, selectors, services
from guanxi.analytics.forms_board import BoardFilterForm
from guanxi.analytics.models import Band
from guanxi.catalog.selectors import store_list
from guanxi.core.permissions import ALL, can, scope_of
from guanxi.core.web import paginate, requires
from guanxi.customers.exports import FORMULA_STARTS
from guanxi.users import selectors as user_selectors
from guanxi.users.models import User


def _form(request: HttpRequest, actor: User) -> BoardFilterForm:
    teams = user_selectors.team_list(actor=actor) if scope_of(actor) == ALL else None
    return BoardFilterForm(request.GET or None, stores=store_list(actor=actor), teams=teams)


def _display(value: kpis.KpiValue) -> str:
    if value.value is None:
        return "—"
    if value.kind == "money":
        return f"¥{value.value:,.2f}"
    if value.kind == "share":
        return f"{value.value * 100:.1f}%"
    if value.kind == "days":
        return _("%(days)s days") % {"days": f"{value.value:,.1f}"}
    return f"{value.value:,}"


def _plain(value: object) -> object:
    """A cell as a chart reads it: money and shares as numbers."""
    return float(value) if isinstance(value, Decimal) else value


@requires("analytics.view")
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    actor = cast(User, request.user)
    form = _form(request, actor)
    filters = form.filters()
    values = kpis.kpi_values(actor=actor, filters=filters)
    charts = [chart(actor=actor, filters=filters) for chart in kpis.CHARTS.values()]
    sales_values, sales_charts = [], []
    if can(actor, sales_reports.PERMISSION):
        sales_values = sales_reports.sales_kpi_values(actor=actor, filters=filters)
        sales_charts = [chart(actor=actor, filters=filters) for chart in sales_reports.SALES_CHARTS.values()]
    data = {
        t.key: {"columns": t.columns, "rows": [[_plain(c) for c in row] for row in t.rows]}
        for t in charts + sales_charts
    }
    return render(
        request,
        "analytics/board.html",
        {
            "nav": "board",
            "form": form,
            "filters": filters,
            "kpis": [(v, _display(v)) for v in values],
            "charts": {t.key: t for t in charts},
            "sales_kpis": [(v, _display(v)) for v in sales_values],
            "sales_charts": [(t, sales_reports.SALES_CHART_HELP[t.key]) for t in sales_charts],
            "chart_data": data,
            "run": kpis.last_run(),
            "query": request.GET.urlencode(),
            "may_refresh": can(actor, "analytics.refresh"),
        },
    )


@requires("analytics.view")
@require_GET
def board_csv(request: HttpRequest, key: str) -> HttpResponse:
    """One chart's rows (or the key figures) as CSV, UTF-8 with BOM so Excel reads Chinese."""
    actor = cast(User, request.user)
    filters = _form(request, actor).filters()
    if key == "kpis":
        table = kpis.kpi_table(kpis.kpi_values(actor=actor, filters=filters))
    elif key in kpis.CHARTS:
        table = kpis.CHARTS[key](actor=actor, filters=filters)
    elif key == "sales_kpis":  # these check sales_report.view: a PermissionDenied answers 403
        table = sales_reports.sales_kpi_table(sales_reports.sales_kpi_values(actor=actor, filters=filters))
    elif key in sales_reports.SALES_CHARTS:
        table = sales_reports.SALES_CHARTS[key](actor=actor, filters=filters)
    else:
        raise Http404(_("There is no such chart."))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"guanxi-{key}-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(["'" + c if isinstance(c, str) and c[:1] in FORMULA_STARTS else c for c in row])
    return response


@requires("analytics.refresh")
@require_POST
def board_refresh(request: HttpRequest) -> HttpResponse:
    """Queue a full analytics refresh now rather than tonight."""
    services.analytics_refresh_queue(actor=request.user)
    messages.success(
        request,
        _("The analytics are being computed again in the background; reload this page in a minute or two."),
    )
    return redirect("analytics-board")


@requires("analytics.view")
@require_GET
def early_warning(request: HttpRequest) -> HttpResponse:
    """Customers at risk of churning (or churned), most value at risk first, each with why in words."""
    actor = cast(User, request.user)
    band = request.GET.get("band", Band.AT_RISK)
    band = band if band in (Band.AT_RISK, Band.CHURNED) else Band.AT_RISK
    page = paginate(
        request,
        selectors.early_warning(actor=actor, bands=(band,)).select_related("customer"),
        settings.GUANXI_PAGE_SIZE,
    )
    rows = [(m, selectors.churn_reason(m)) for m in page.items]
    return render(
        request,
        "analytics/warning.html",
        {"nav": "warning", "page": page, "rows": rows, "band": band, "bands": [Band.AT_RISK, Band.CHURNED]},
    )
