"""Reads: the churn reason in words, the 360 card's selector (two queries) and its template, scopes and
query counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from guanxi.analytics import selectors
from guanxi.analytics.models import CustomerMetrics, ModelRun
from guanxi.analytics.services import analytics_refresh
from guanxi.analytics.tests.orders import UNTIL, order, product, synthetic_base
from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.users.models import Team, User


def metrics(**fields: Any) -> CustomerMetrics:
    run = ModelRun(pk=1, parameters={"r": 1.0, "alpha": 9.0, "settings": {"at_risk_below": 0.5}})
    defaults: dict[str, Any] = {
        "p_alive": 0.3,
        "typical_interval_days": 9.2,
        "last_purchase": date(2025, 5, 20),
    }
    m = CustomerMetrics(**{**defaults, **fields})
    m.run = run
    return m


def test_the_reason_says_the_usual_rhythm_against_the_silence() -> None:
    with translation.override("en"):
        assert selectors.churn_reason(metrics(), today=date(2025, 6, 30)) == (
            "Usually buys every 9 days; none for 41 days."
        )
        assert selectors.churn_reason(metrics(typical_interval_days=1.2), today=date(2025, 5, 21)) == (
            "Usually buys every day; none for 1 day."
        )


def test_the_reason_of_a_one_time_buyer_gives_the_bases_usual_wait() -> None:
    # r = 1, α = 9: a customer still buying comes back within α (0.5^(−1/r) − 1) = 9 days half the time
    one_time = metrics(p_alive=1.0, typical_interval_days=None)
    with translation.override("en"):
        assert selectors.churn_reason(one_time, today=date(2025, 6, 30)) == (
            "Bought once, 41 days ago; a customer here who still buys usually comes back within 9 days."
        )


def test_no_reason_without_a_model() -> None:
    assert selectors.churn_reason(metrics(p_alive=None), today=date(2025, 6, 30)) == ""


@pytest.fixture
def base(admin: User, make_user: Callable[..., User], team_a: Team, team_b: Team) -> dict[str, Any]:
    sales_user = make_user("sales", team=team_a)
    stranger = make_user("sales", team=team_b)
    mine = synthetic_base(admin, 30, owner=sales_user, team=team_a)
    theirs = synthetic_base(admin, 30, seed=3, owner=stranger, team=team_b)
    fuel, wash = product("F", "汽油"), product("W", "洗车")
    for customer in mine[:4]:
        order(customer, "2025-06-01", "230.00", lines=[(fuel, "200.00"), (wash, "30.00")])
    for customer in theirs[:4]:
        order(customer, "2025-06-02", "200.00", lines=[(fuel, "200.00")])
    oil = product("O", "机油")
    for customer in theirs[4:12]:  # orders without fuel: fuel → wash is then likelier than chance
        order(customer, "2025-06-03", "80.00", lines=[(oil, "80.00")])
    analytics_refresh(actor=admin, until=UNTIL)
    return {"sales": sales_user, "mine": mine, "theirs": theirs}


def test_the_360_card_reads_in_two_queries(base: dict[str, Any]) -> None:
    customer = base["theirs"][0]
    admin = User.objects.get(username="admin")
    with CaptureQueriesContext(connection) as queries:
        card = selectors.customer_analytics(actor=admin, customer=customer)
    assert len(queries) == 2
    assert card is not None and card.metrics is not None
    assert card.segment_label and card.segment_action
    assert [s.product.sku for s in card.recommendations][:1] == ["W"]
    with translation.override("en"):
        assert card.recommendations[0].reason == "Often bought with 汽油"


def test_the_360_card_is_none_for_a_reader_without_analytics(base: dict[str, Any], make_user: Any) -> None:
    service = make_user("service")
    with CaptureQueriesContext(connection) as queries:
        assert selectors.customer_analytics(actor=service, customer=base["mine"][0]) is None
    assert len(queries) == 0


def test_the_360_card_renders(base: dict[str, Any]) -> None:
    admin = User.objects.get(username="admin")
    customer = base["mine"][0]
    card = selectors.customer_analytics(actor=admin, customer=customer)
    m = CustomerMetrics.objects.get(customer=customer)
    with translation.override("en"):
        html = render_to_string("analytics/_customer_metrics.html", {"analytics": card, "customer": customer})
    assert 'id="analytics"' in html
    assert card is not None and card.segment_label in html
    assert f"{round(m.p_alive * 100)}%" in html
    assert "Customer lifetime value" in html
    with translation.override("en"):
        empty = render_to_string(
            "analytics/_customer_metrics.html",
            {"analytics": selectors.CustomerAnalytics(metrics=None), "customer": customer},
        )
    assert "No analytics yet" in empty


def test_lists_apply_the_scope_in_one_query(base: dict[str, Any]) -> None:
    sales_user = base["sales"]
    mine = {c.pk for c in base["mine"]}
    with CaptureQueriesContext(connection) as queries:
        rows = list(selectors.metrics_list(actor=sales_user, sort="value_at_risk"))
        names = [m.customer.name for m in rows]
    assert len(queries) == 1
    assert {m.customer_id for m in rows} == mine
    assert len(names) == len(mine)
    with CaptureQueriesContext(connection) as queries:
        warning = list(selectors.early_warning(actor=sales_user, bands=("at_risk", "churned")))
        reasons = [selectors.churn_reason(m) for m in warning]
    assert len(queries) == 1
    assert {m.customer_id for m in warning} <= mine
    assert all(reasons)


def test_one_customers_metrics_outside_the_scope_are_not_found(base: dict[str, Any]) -> None:
    with pytest.raises(NotFound):
        selectors.metrics_get(actor=base["sales"], customer_id=base["theirs"][0].pk)
    assert selectors.metrics_get(actor=base["sales"], customer_id=base["mine"][0].pk) is not None


def test_a_reader_without_analytics_is_denied(base: dict[str, Any], make_user: Any) -> None:
    viewer = make_user("viewer")
    for read in (
        lambda: selectors.metrics_list(actor=viewer),
        lambda: selectors.segment_summary(actor=viewer),
        lambda: selectors.run_list(actor=viewer),
        lambda: selectors.early_warning(actor=viewer),
    ):
        with pytest.raises(PermissionDenied):
            read()


def test_the_segment_summary_is_one_query_with_every_segment(base: dict[str, Any]) -> None:
    admin = User.objects.get(username="admin")
    with CaptureQueriesContext(connection) as queries:
        rows = selectors.segment_summary(actor=admin)
    assert len(queries) == 1
    assert len(rows) == 8
    assert sum(r.customers for r in rows) == CustomerMetrics.objects.count()
    assert [r.segment for r in rows][:4] == [
        "important_value",
        "important_develop",
        "important_keep",
        "important_retain",
    ]
