"""The analytics API: every route by role and scope (sales see their own customers only, a role without
analytics.view gets 403, a customer outside the scope 404, anonymous 401), its filters and its shapes."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from huey.contrib.djhuey import HUEY

from guanxi.analytics.models import AnalyticsSettings, CustomerMetrics, ModelRun
from guanxi.analytics.services import analytics_refresh
from guanxi.analytics.tests.orders import UNTIL, order, product, synthetic_base
from guanxi.audit.models import AuditEvent
from guanxi.core.permissions import ROLES, can
from guanxi.users.models import Team, User
from guanxi.users.services import token_create

API = "/api/v1/analytics"


def bearer(user: User) -> Client:
    _token, secret = token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE="en")


def send(client: Client, method: str, url: str, body: Any = None) -> HttpResponse:
    data = "" if body is None else json.dumps(body)
    return client.generic(method, url, data, content_type="application/json")


@pytest.fixture
def world(admin: User, make_user: Callable[..., User], team_a: Team, team_b: Team) -> dict[str, Any]:
    """A user of each role in team A; 25 customers of the sales user, 25 of a team mate and 25 of a sales
    person of team B, each with a purchase history; the analytics refreshed."""
    users = {role: make_user(role, team=team_a) for role in ROLES if role != "admin"}
    users["admin"] = admin
    mate = make_user("sales", team=team_a)
    stranger = make_user("sales", team=team_b)
    owners = {"own": users["sales"], "team": mate, "other": stranger}
    bases = {
        where: synthetic_base(admin, 25, seed=i, owner=owner, team=owner.team)
        for i, (where, owner) in enumerate(owners.items())
    }
    wash = product("W1", "洗车")
    fuel = product("F92", "92号汽油")
    for customer in bases["own"][:3]:
        order(customer, "2025-06-01", "230.00", lines=[(fuel, "200.00"), (wash, "30.00")])
    order(bases["team"][0], "2025-06-02", "200.00", lines=[(fuel, "200.00")])
    oil = product("OIL", "机油")
    for customer in bases["other"][:3]:  # orders without fuel or wash: fuel → wash has a lift above 1
        order(customer, "2025-06-03", "80.00", lines=[(oil, "80.00")])
    run = analytics_refresh(actor=admin, until=UNTIL)
    assert run.status == ModelRun.Status.SUCCEEDED
    return {"users": users, "bases": bases, "run": run}


def ids(where: str, world: dict[str, Any]) -> set[int]:
    return {c.pk for c in world["bases"][where]}


def sees(role: str) -> set[str]:
    scope = ROLES[role]["scope"]
    return {"own", "team", "other"} if scope == "all" else {"own", "team"} if scope == "team" else {"own"}


ROUTES: list[tuple[str, str, str, Any, int]] = [
    ("GET", "/customers", "analytics.view", None, 200),
    ("GET", "/customers/{customer}", "analytics.view", None, 200),
    ("GET", "/early-warning?band=at_risk,churned", "analytics.view", None, 200),
    ("GET", "/segments", "analytics.view", None, 200),
    ("GET", "/runs", "analytics.view", None, 200),
    ("GET", "/product-pairs", "analytics.view", None, 200),
    ("GET", "/settings", "analytics.view", None, 200),
    ("PATCH", "/settings", "analytics.refresh", {"clv_horizon_months": 24}, 200),
    ("POST", "/refresh", "analytics.refresh", None, 202),
]


@pytest.mark.parametrize(
    "method,path,permission,body,success", ROUTES, ids=[f"{r[0]} {r[1]}" for r in ROUTES]
)
def test_every_route_by_role(
    method: str, path: str, permission: str, body: Any, success: int, world: dict[str, Any]
) -> None:
    own = world["bases"]["own"][0]
    url = API + path.replace("{customer}", str(own.pk))
    for role, user in world["users"].items():
        # given a user of the role (the customer is the sales user's, in team A: every scope holds it)
        client = bearer(user)

        # when
        response = send(client, method, url, body)

        # then
        if not can(user, permission):
            assert response.status_code == 403, f"{role}: {response.status_code}"
            assert response.json()["code"] == "permission_denied"
        else:
            assert response.status_code == success, (
                f"{role}: {response.status_code} {response.content[:300]!r}"
            )
    assert Client().generic(method, url).status_code == 401


def test_the_list_holds_exactly_the_customers_in_scope(world: dict[str, Any]) -> None:
    stored = set(CustomerMetrics.objects.values_list("customer_id", flat=True))
    for role in ("admin", "manager", "sales", "marketing"):
        # given
        client = bearer(world["users"][role])

        # when
        body = client.get(f"{API}/customers?limit=200").json()

        # then
        expected = set().union(*(ids(where, world) for where in sees(role))) & stored
        assert {item["customer_id"] for item in body["items"]} == expected, role
        assert body["next_offset"] is None


def test_a_customer_outside_the_scope_answers_404_and_unknown_too(world: dict[str, Any]) -> None:
    client = bearer(world["users"]["sales"])
    other = world["bases"]["other"][0]
    for url in (f"{API}/customers/{other.pk}", f"{API}/customers/999999999"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_the_filters_segment_and_risk(world: dict[str, Any]) -> None:
    # given the administrator, and the stored metrics
    client = bearer(world["users"]["admin"])
    metrics = list(CustomerMetrics.objects.all())
    retain = {m.customer_id for m in metrics if m.segment == "important_retain"}
    risky = {m.customer_id for m in metrics if m.churn_risk is not None and m.churn_risk > 0.7}
    assert risky, "the synthetic base has customers with a churn risk above 0.7"

    # when
    both = client.get(f"{API}/customers?segment=important_retain&risk_gt=0.7&limit=200").json()
    only_risk = client.get(f"{API}/customers?risk_gt=0.7&limit=200").json()
    alive = client.get(f"{API}/customers?p_alive_min=0.9&clv_min=1&limit=200").json()

    # then
    assert {i["customer_id"] for i in both["items"]} == retain & risky
    assert {i["customer_id"] for i in only_risk["items"]} == risky
    assert all(i["churn_risk"] > 0.7 for i in only_risk["items"])
    assert all(i["p_alive"] >= 0.9 and Decimal(str(i["clv"])) >= 1 for i in alive["items"])
    assert {i["customer_id"] for i in alive["items"]} == {
        m.customer_id for m in metrics if m.p_alive is not None and m.p_alive >= 0.9 and m.clv >= 1
    }


def test_the_list_sorts_by_clv_and_pages(world: dict[str, Any]) -> None:
    client = bearer(world["users"]["admin"])
    first = client.get(f"{API}/customers?limit=10").json()
    second = client.get(f"{API}/customers?limit=10&offset=10").json()
    values = [Decimal(str(i["clv"])) for i in first["items"] + second["items"]]
    assert values == sorted(values, reverse=True)
    assert first["next_offset"] == 10
    assert not {i["customer_id"] for i in first["items"]} & {i["customer_id"] for i in second["items"]}


def test_a_bad_filter_is_refused_with_422(world: dict[str, Any]) -> None:
    client = bearer(world["users"]["admin"])
    for query in ("segment=vip", "risk_gt=2", "band=gone", "sort=name"):
        response = client.get(f"{API}/customers?{query}")
        assert response.status_code == 422, query
        assert response.json()["code"] == "validation_failed"


def test_one_customer_with_metrics_and_recommendations(world: dict[str, Any]) -> None:
    # given a customer of the base who bought only fuel, while three others bought fuel with a car wash
    customer = world["bases"]["team"][0]
    client = bearer(world["users"]["admin"])

    # when
    body = client.get(f"{API}/customers/{customer.pk}").json()

    # then
    stored = CustomerMetrics.objects.get(customer=customer)
    assert body["customer_id"] == customer.pk
    assert body["metrics"]["segment"] == stored.segment
    assert body["metrics"]["p_alive"] == stored.p_alive
    assert body["metrics"]["customer_name"] == customer.name
    assert body["segment_action"]
    first = body["recommendations"][0]
    assert first["product"]["sku"] == "W1"
    assert first["reason"] == "together"
    assert first["because_of"]["sku"] == "F92"
    assert first["reason_text"] == "Often bought with 92号汽油"


def test_a_visible_customer_without_metrics_answers_null(
    world: dict[str, Any], make_customer: Callable[..., Any]
) -> None:
    admin = world["users"]["admin"]
    newcomer = make_customer(admin, name="新来的")
    body = bearer(admin).get(f"{API}/customers/{newcomer.pk}").json()
    assert body == {"customer_id": newcomer.pk, "metrics": None, "segment_action": "", "recommendations": []}


def test_segments_count_the_readers_scope_only(world: dict[str, Any]) -> None:
    admin_rows = bearer(world["users"]["admin"]).get(f"{API}/segments").json()
    sales_rows = bearer(world["users"]["sales"]).get(f"{API}/segments").json()
    assert [r["segment"] for r in admin_rows][:2] == ["important_value", "important_develop"]
    assert sum(r["customers"] for r in admin_rows) == CustomerMetrics.objects.count()
    mine = CustomerMetrics.objects.filter(customer__owner=world["users"]["sales"]).count()
    assert sum(r["customers"] for r in sales_rows) == mine
    assert abs(sum(r["share"] for r in sales_rows) - 1.0) < 1e-9
    assert all(r["action"] for r in sales_rows)


def test_early_warning_sorts_by_value_at_risk_and_says_why(world: dict[str, Any]) -> None:
    body = bearer(world["users"]["admin"]).get(f"{API}/early-warning?band=at_risk,churned&limit=200").json()
    assert body, "the synthetic base has customers at risk or churned"
    values = [Decimal(str(item["value_at_risk"])) for item in body]
    assert values == sorted(values, reverse=True)
    assert {item["band"] for item in body} <= {"at_risk", "churned"}
    for item in body:
        assert item["reason"].startswith(("Usually buys every", "Bought once")), item["reason"]


def test_runs_show_the_latest_parameters(world: dict[str, Any]) -> None:
    body = bearer(world["users"]["marketing"]).get(f"{API}/runs").json()
    latest = body[0]
    assert latest["id"] == world["run"].pk
    assert latest["status"] == "succeeded"
    assert latest["time_unit"] == "day"
    assert latest["window_end"] == UNTIL.isoformat()
    assert {"r", "alpha", "a", "b", "p", "q", "gamma"} <= set(latest["parameters"])
    assert latest["bgnbd_log_likelihood"] < 0


def test_refresh_queues_the_job_and_denies_others(
    world: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    # given queued jobs run at once, in this process
    runs = ModelRun.objects.count()
    was, HUEY.immediate = HUEY.immediate, True
    try:
        # when a sales user asks, then a manager
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            denied = send(bearer(world["users"]["sales"]), "POST", f"{API}/refresh")
            queued = send(bearer(world["users"]["manager"]), "POST", f"{API}/refresh")
    finally:
        HUEY.immediate = was

    # then only the manager's run happened, started by the manager, up to today
    assert denied.status_code == 403
    assert queued.status_code == 202
    assert queued.json() == {"queued": True}
    assert len(callbacks) == 1
    latest = ModelRun.objects.order_by("-id").first()
    assert ModelRun.objects.count() == runs + 1
    assert latest is not None and latest.started_by == world["users"]["manager"]
    assert latest.status == "succeeded"


def test_settings_change_is_checked_and_audited(world: dict[str, Any]) -> None:
    client = bearer(world["users"]["manager"])
    bad = send(client, "PATCH", f"{API}/settings", {"at_risk_below": 0.1, "churned_below": 0.2})
    assert bad.status_code == 422
    assert AnalyticsSettings.objects.get(pk=1).at_risk_below == 0.5

    good = send(
        client, "PATCH", f"{API}/settings", {"discount_rate_annual": "0.08", "clv_horizon_months": 24}
    )

    assert good.status_code == 200
    assert good.json()["clv_horizon_months"] == 24
    stored = AnalyticsSettings.objects.get(pk=1)
    assert (stored.discount_rate_annual, stored.clv_horizon_months) == (Decimal("0.0800"), 24)
    event = AuditEvent.objects.filter(action="analytics.settings").get()
    assert event.changes["clv_horizon_months"] == ["12", "24"]
