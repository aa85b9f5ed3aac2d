"""The full refresh over real orders: purchase figures and refunds, RFM on a small base computed by hand,
lifecycle stage moves with their audit, recommendations, permissions and a failed run."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.analytics import predict
from guanxi.analytics.models import CustomerMetrics, ModelRun, ProductPair, ProductRecommendation
from guanxi.analytics.purchases import base_read, day_number
from guanxi.analytics.services import analytics_refresh
from guanxi.analytics.tests.orders import UNTIL, at, customers, order, product, synthetic_base
from guanxi.audit.models import AuditEvent
from guanxi.core.errors import PermissionDenied
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.sales import services as sales
from guanxi.users.models import User


def metrics_of(customer: Customer) -> CustomerMetrics:
    return CustomerMetrics.objects.get(customer=customer)


def suggestions(customer: Customer) -> list[ProductRecommendation]:
    return list(
        ProductRecommendation.objects.filter(key=metrics_of(customer).recommendation_key).order_by("rank")
    )


def test_refunds_and_local_days_make_the_purchase_figures(admin: User) -> None:
    # given a customer's orders, booked and refunded through the sales services
    (zhang, refunded_only) = customers(admin, ["张伟", "退货客户"])

    def book(day: str, amount: str, hour: int = 12, minute: int = 0) -> Any:
        return sales.order_create(
            actor=admin, customer=zhang, amount=amount, ordered_at=at(day, hour, minute)
        )

    book("2025-01-10", "100.00")
    full = book("2025-02-10", "200.00")
    sales.order_refund(actor=admin, order=full, reason="整单退货")
    partial = book("2025-03-10", "300.00")
    sales.order_refund(actor=admin, order=partial, reason="部分退款", amount="50.00")
    book("2025-04-01", "40.00", hour=23, minute=30)  # 15:30 UTC on April 1
    book("2025-04-02", "60.00", hour=0, minute=10)  # 16:10 UTC on April 1, but April 2 in Shanghai
    book("2025-04-02", "20.00", hour=18)  # the same local day again
    book("2025-07-01", "999.00")  # after the last day observed
    only = sales.order_create(
        actor=admin, customer=refunded_only, amount="80.00", ordered_at=at("2025-05-05")
    )
    sales.order_refund(actor=admin, order=only, reason="整单退货")

    # when
    run = analytics_refresh(actor=admin, until=UNTIL)

    # then the refunded order is no purchase, the partial refund lowers the spend, days are local days
    m = metrics_of(zhang)
    assert m.orders_count == 5  # 100, 300 − 50, 40, 60, 20
    assert m.net_spend == Decimal("470.00")
    assert m.average_order_value == Decimal("94.00")
    assert (m.first_purchase, m.last_purchase) == (date(2025, 1, 10), date(2025, 4, 2))
    assert m.frequency == 3  # purchase days Jan 10, Mar 10, Apr 1, Apr 2: three after the first
    assert m.t_x == 82  # Jan 10 → Apr 2: 21 + 28 + 31 + 2
    assert m.age == 171  # Jan 10 → Jun 30: 21 + 28 + 31 + 30 + 31 + 30
    assert m.recency_days == 89  # Apr 2 → Jun 30
    assert (m.rfm_orders, m.rfm_spend) == (5, Decimal("470.00"))
    assert m.typical_interval_days == pytest.approx(82 / 3)
    # and a customer whose only order was refunded in full has no metrics at all
    assert not CustomerMetrics.objects.filter(customer=refunded_only).exists()
    assert run.customers == 1
    assert run.orders == 5
    assert run.window_start == date(2025, 1, 10)
    assert run.window_end == UNTIL


def test_the_base_read_gives_the_repeat_days_average_spend(admin: User) -> None:
    # given purchase days worth 100 (the first), then 250, 40 and 80
    (zhang,) = customers(admin, ["张伟"])
    order(zhang, "2025-01-10", "100.00")
    order(zhang, "2025-03-10", "300.00", refunded="50.00")
    order(zhang, "2025-04-01", "40.00")
    order(zhang, "2025-04-02", "60.00")
    order(zhang, "2025-04-02", "20.00", hour=18)

    # when
    base = base_read(until=UNTIL, window_days=365)

    # then Gamma-Gamma's m̄ is the average of the repeat days: (250 + 40 + 80) / 3
    assert base.customer_id.tolist() == [zhang.pk]
    assert base.first_day_cents.tolist() == [10000]
    assert base.repeat_mean_cents[0] == pytest.approx(37000 / 3)
    assert base.first_day.tolist() == [day_number(date(2025, 1, 10))]


def test_rfm_scores_and_segments_of_a_small_base(admin: User) -> None:
    # given five customers who bought in the window and one whose only order is older than 365 days:
    #   days since the last order 2, 10, 30, 60, 100; orders 5, 3, 1, 1, 2; spend 500, 50, 800, 20, 100
    c1, c2, c3, c4, c5, lapsed = customers(admin, ["甲", "乙", "丙", "丁", "戊", "己"])
    for day in ("2025-06-24", "2025-06-25", "2025-06-26", "2025-06-27", "2025-06-28"):
        order(c1, day, "100.00")
    order(c2, "2025-06-18", "10.00")
    order(c2, "2025-06-19", "20.00")
    order(c2, "2025-06-20", "20.00")
    order(c3, "2025-05-31", "800.00")
    order(c4, "2025-05-01", "20.00")
    order(c5, "2025-03-21", "50.00")
    order(c5, "2025-03-22", "50.00")
    order(lapsed, "2024-05-26", "1000.00")

    # when
    run = analytics_refresh(actor=admin, until=UNTIL)

    # then the averages are 40.4 days, 2.4 orders and ¥294, the lapsed customer's not among them
    assert run.parameters["rfm_averages"] == {"recency": 40.4, "frequency": 2.4, "monetary": 294.0}
    scores = {
        c: (metrics_of(c).r_score, metrics_of(c).f_score, metrics_of(c).m_score) for c in (c1, c2, c3, c4, c5)
    }
    # R: 1 + ⌊5 × (customers with more days) / 5⌋; F and M: 1 + ⌊5 × (customers with less) / 5⌋
    assert scores == {c1: (5, 5, 4), c2: (4, 4, 2), c3: (3, 1, 5), c4: (2, 1, 1), c5: (1, 3, 3)}
    assert {c.name: metrics_of(c).segment for c in (c1, c2, c3, c4, c5, lapsed)} == {
        "甲": "important_value",  # 2 < 40.4 days, 5 > 2.4 orders, ¥500 > ¥294
        "乙": "general_value",  # recent and frequent, ¥50
        "丙": "important_develop",  # recent, once, ¥800
        "丁": "general_retain",
        "戊": "general_retain",
        "己": "general_retain",  # outside the window: 1, 1, 1
    }
    assert (metrics_of(lapsed).r_score, metrics_of(lapsed).rfm_orders, metrics_of(lapsed).rfm_spend) == (
        1,
        0,
        Decimal("0.00"),
    )
    # and six customers are too few to fit the models: no model figures, no band, no stage move
    assert run.bgnbd_log_likelihood is None
    assert "r" not in run.parameters
    assert metrics_of(c1).p_alive is None and metrics_of(c1).band == "" and metrics_of(c1).clv is None
    assert set(Customer.objects.values_list("stage", flat=True)) == {"lead"}


def test_stages_follow_the_bands_with_audit_and_timeline(admin: User) -> None:
    # given a base to fit on, a customer who bought every 5 days and stopped in October, one who came once
    # a year ago, one marked at risk who buys again, one churned who came back yesterday once, and a lead
    # without orders marked at risk by hand
    synthetic_base(admin, 60)
    gone, once, back, back_once, lead = customers(admin, ["走了", "来过一次", "回来了", "又来了", "线索"])
    for i in range(19):
        order(gone, date.fromordinal(date(2024, 7, 1).toordinal() + 5 * i), "300.00")
    order(once, "2024-07-01", "50.00")
    for day in ("2025-05-01", "2025-05-15", "2025-06-01", "2025-06-15", "2025-06-29"):
        order(back, day, "120.00")
    order(back_once, "2025-06-29", "60.00")
    Customer.objects.filter(pk__in=[gone.pk, back.pk]).update(stage="repeat")
    Customer.objects.filter(pk=back.pk).update(stage="at_risk")
    Customer.objects.filter(pk=back_once.pk).update(stage="churned")
    Customer.objects.filter(pk=lead.pk).update(stage="at_risk")

    # when
    run = analytics_refresh(actor=None, until=UNTIL)

    # then
    assert metrics_of(gone).band == "churned" and metrics_of(gone).p_alive < 0.15
    assert metrics_of(once).band == "churned" and metrics_of(once).p_alive == 1.0
    assert metrics_of(back).band == "active"
    stages = dict(
        Customer.objects.filter(pk__in=[gone.pk, once.pk, back.pk, back_once.pk, lead.pk]).values_list(
            "name", "stage"
        )
    )
    assert stages == {
        "走了": "churned",
        "来过一次": "churned",
        "回来了": "repeat",
        "又来了": "customer",
        "线索": "at_risk",
    }
    event = AuditEvent.objects.get(action="customer.update", target_id=str(gone.pk))
    assert event.changes == {"stage": ["repeat", "churned"]}
    assert event.data == {"analytics_run": run.pk}
    assert event.actor is None and event.actor_label == "system"
    assert event.target_type == "customers.customer" and event.target_label == "走了"
    entry = TimelineEntry.objects.get(customer=back, kind="customer.changed")
    assert entry.data["changes"] == {"stage": ["at_risk", "repeat"]}
    # every move has its event, and the run's own event counts them
    moved = {stage: n for stage, n in run.parameters["stage_moves"].items()}
    assert sum(moved.values()) == AuditEvent.objects.filter(action="customer.update").count()
    assert moved["repeat"] == 1 and moved["customer"] == 1
    summary = AuditEvent.objects.get(action="analytics.refresh")
    assert summary.target_id == str(run.pk)
    assert summary.data["stage_moves"] == moved
    every_band = dict(CustomerMetrics.objects.values_list("customer_id", "band"))
    for customer_id, stage in Customer.objects.filter(pk__in=every_band).values_list("pk", "stage"):
        if every_band[customer_id] != "active":
            assert stage == every_band[customer_id]

    # and a second run moves nobody again
    analytics_refresh(actor=None, until=UNTIL)
    assert AuditEvent.objects.filter(action="customer.update").count() == sum(moved.values())


def test_pairs_and_recommendations(admin: User) -> None:
    # given seven orders with lines: fuel with a wash three times, fuel alone, oil alone, oil with a snack
    # twice; an inactive product bought with fuel once
    synthetic_base(admin, 30)
    fuel, wash, oil, snack = (
        product("F", "汽油"),
        product("W", "洗车"),
        product("O", "机油"),
        product("S", "零食"),
    )
    old = product("X", "停售", active=False)
    a, b, c, d, e, f, g = customers(admin, ["甲", "乙", "丙", "丁", "戊", "己", "庚"])
    for who in (a, b, c):
        order(who, "2025-06-01", "230.00", lines=[(fuel, "200.00"), (wash, "30.00")])
    order(d, "2025-06-02", "210.00", lines=[(fuel, "200.00"), (old, "10.00")])
    order(e, "2025-06-03", "80.00", lines=[(oil, "80.00")])
    order(f, "2025-06-04", "90.00", lines=[(oil, "80.00"), (snack, "10.00")])
    order(g, "2025-06-05", "90.00", lines=[(oil, "80.00"), (snack, "10.00")])

    # when
    run = analytics_refresh(actor=admin, until=UNTIL)

    # then: 7 orders with lines; fuel in 4, wash in 3, both in 3; oil in 3, snack in 2, both in 2
    pair = ProductPair.objects.get(product_a=fuel, product_b=wash)
    assert (pair.orders_together, pair.support, pair.confidence, pair.lift) == (
        3,
        pytest.approx(3 / 7),
        pytest.approx(3 / 4),
        pytest.approx((3 / 4) / (3 / 7)),
    )
    back = ProductPair.objects.get(product_a=wash, product_b=fuel)
    assert back.confidence == pytest.approx(1.0)
    snack_pair = ProductPair.objects.get(product_a=oil, product_b=snack)
    assert (snack_pair.confidence, snack_pair.lift) == (pytest.approx(2 / 3), pytest.approx(7 / 3))
    assert not ProductPair.objects.filter(product_a=fuel, product_b=old).exists()  # one order: too few
    assert run.parameters["product_pairs"] == ProductPair.objects.count() // 2
    # d bought fuel (and the inactive product): the wash first, for the fuel; never what d bought
    first, *rest = suggestions(d)
    assert (first.product, first.reason, first.because_of) == (wash, "together", fuel)
    assert first.score == pytest.approx(0.75)
    assert not {s.product_id for s in [first, *rest]} & {fuel.pk, old.pk}
    assert suggestions(e)[0].product == snack
    # five at most a customer, and an inactive product is never offered
    assert ProductRecommendation.objects.filter(product=old).count() == 0
    assert max(ProductRecommendation.objects.values_list("rank", flat=True)) <= 5
    # customers without lines get the popular products of their segment
    plain = CustomerMetrics.objects.exclude(customer__in=[a, b, c, d, e, f, g]).first()
    assert plain is not None
    popular = suggestions(plain.customer)[0]
    assert popular.reason == "popular" and popular.because_of is None
    # customers who bought the same products in the same segment share one stored list
    same = CustomerMetrics.objects.filter(customer__in=[a, b, c]).values_list("segment", "recommendation_key")
    keys = {key for segment, key in same if segment == metrics_of(a).segment}
    assert len(keys) == 1
    assert run.parameters["recommendation_lists"] == len(
        set(ProductRecommendation.objects.values_list("key", flat=True))
    )
    assert (
        run.parameters["customers_with_recommendations"]
        == CustomerMetrics.objects.exclude(recommendation_key=None).count()
    )


def test_a_sales_user_may_not_refresh_and_nothing_is_written(admin: User, make_user: Any) -> None:
    sales_user = make_user("sales")
    (zhang,) = customers(admin, ["张伟"])
    order(zhang, "2025-06-01", "10.00")
    with pytest.raises(PermissionDenied):
        analytics_refresh(actor=sales_user, until=UNTIL)
    assert not ModelRun.objects.exists()
    assert not CustomerMetrics.objects.exists()


def test_a_failed_run_is_recorded_and_keeps_the_last_results(admin: User, monkeypatch: Any) -> None:
    # given stored results of a good run
    (zhang,) = customers(admin, ["张伟"])
    order(zhang, "2025-06-01", "10.00")
    good = analytics_refresh(actor=admin, until=UNTIL)

    def broken(base: Any) -> Any:
        raise RuntimeError("the optimiser did not converge")

    monkeypatch.setattr(predict, "fit_models", broken)

    # when
    with pytest.raises(RuntimeError):
        analytics_refresh(actor=admin, until=UNTIL)

    # then
    failed = ModelRun.objects.exclude(pk=good.pk).get()
    assert failed.status == "failed"
    assert failed.error == "RuntimeError: the optimiser did not converge"
    assert failed.finished_at is not None
    assert metrics_of(zhang).run_id == good.pk


def test_the_refresh_writes_in_a_bounded_number_of_statements(admin: User) -> None:
    # given 60 customers; the statements must not grow with them (SQLite executemany counts once)
    synthetic_base(admin, 60)
    with CaptureQueriesContext(connection) as small:
        analytics_refresh(actor=admin, until=UNTIL)
    synthetic_base(admin, 60, seed=99)
    with CaptureQueriesContext(connection) as larger:
        analytics_refresh(actor=admin, until=UNTIL)
    assert len(larger) <= len(small) + 2, [q["sql"][:80] for q in larger.captured_queries]
