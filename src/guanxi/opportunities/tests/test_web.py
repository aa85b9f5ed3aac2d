"""Pages and API: permissions on every route, the board's constant queries, the move through htmx."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from conftest import bearer
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from guanxi.customers.models import Customer
from guanxi.opportunities.models import Opportunity, Stage, StageChange
from guanxi.opportunities.services import opportunity_close_lost, opportunity_create
from guanxi.sales.models import Order
from guanxi.users.models import User

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def deal(rep: User, buyer: Customer, stages: dict[str, Stage]) -> Opportunity:
    return opportunity_create(actor=rep, customer=buyer, name="汉EV 购车", amount="209800", next_step="试驾")


def test_the_board_shows_the_reps_cards_with_sums(
    client_for: Callable[..., Client], rep: User, deal: Opportunity
) -> None:
    response = client_for(rep).get("/opportunities/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "汉EV 购车" in html and "¥209,800.00" in html and "¥20,980.00" in html
    assert 'aria-label="Move 汉EV 购车 on to Needs confirmed"' in html


def test_the_board_costs_the_same_queries_for_3_or_300_cards(
    client_for: Callable[..., Client], rep: User, buyer: Customer, stages: dict[str, Stage]
) -> None:
    client = client_for(rep)
    for index in range(3):
        opportunity_create(actor=rep, customer=buyer, name=f"A{index}", stage=stages[f"open{index + 1}"])
    client.get("/opportunities/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/opportunities/").status_code == 200
    now = Opportunity.objects.order_by("id").last()
    assert now is not None
    Opportunity.objects.bulk_create(
        Opportunity(
            name=f"B{i}",
            customer=buyer,
            pipeline_id=now.pipeline_id,
            stage=stages[f"open{i % 4 + 1}"],
            owner=rep,
            team_id=rep.team_id,
            amount=Decimal("100"),
            position=i,
            stage_changed_at=now.stage_changed_at,
        )
        for i in range(300)
    )
    with CaptureQueriesContext(connection) as many:
        response = client.get("/opportunities/?q=B")
    assert response.status_code == 200
    assert len(many) <= len(few) + 1  # the search adds its one subquery-free lookup at most
    with CaptureQueriesContext(connection) as plain:
        response = client.get("/opportunities/")
    assert len(plain) == len(few)
    html = response.content.decode()
    assert html.count('" data-id="') == 4 * 50  # capped per column
    assert "Show 26 more" in html


def test_show_more_returns_the_next_cards(
    client_for: Callable[..., Client], rep: User, buyer: Customer, stages: dict[str, Stage]
) -> None:
    for index in range(55):
        opportunity_create(actor=rep, customer=buyer, name=f"C{index:02d}")
    response = client_for(rep).get(f"/opportunities/board/stages/{stages['open1'].pk}/more?offset=50", **HTMX)
    assert response.status_code == 200
    assert response.content.decode().count('" data-id="') == 5


def test_a_drop_posts_the_move_and_redraws_the_board(
    client_for: Callable[..., Client], rep: User, deal: Opportunity, stages: dict[str, Stage]
) -> None:
    response = client_for(rep).post(
        f"/opportunities/{deal.pk}/move", {"stage": stages["open3"].pk, "region": "board"}, **HTMX
    )
    assert response.status_code == 200
    assert 'id="board"' in response.content.decode()
    assert "<html" not in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == stages["open3"]
    assert StageChange.objects.filter(opportunity=deal).count() == 2


def test_a_drop_on_lost_asks_for_the_reason_first(
    client_for: Callable[..., Client], rep: User, deal: Opportunity, stages: dict[str, Stage]
) -> None:
    client = client_for(rep)
    response = client.post(f"/opportunities/{deal.pk}/move", {"stage": stages["lost"].pk}, **HTMX)
    assert response["HX-Retarget"] == "#dialog-slot"
    assert 'name="reason"' in response.content.decode()
    deal.refresh_from_db()
    assert deal.status == "open"
    response = client.post(
        f"/opportunities/{deal.pk}/close-lost",
        {"reason": "competitor", "note": "", "origin": "board"},
        **HTMX,
    )
    assert response["HX-Retarget"] == "#board"
    deal.refresh_from_db()
    assert (deal.status, deal.lost_reason) == ("lost", "competitor")


def test_close_won_from_the_page_books_the_order(
    client_for: Callable[..., Client], rep: User, deal: Opportunity
) -> None:
    response = client_for(rep).post(
        f"/opportunities/{deal.pk}/close-won", {"create_order": "on", "payment_method": "other"}
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.status == "won" and deal.order is not None
    assert Order.objects.get().total == Decimal("209800.00")


def test_create_and_edit_through_the_pages(
    client_for: Callable[..., Client], rep: User, buyer: Customer, stages: dict[str, Stage]
) -> None:
    client = client_for(rep)
    assert client.get(f"/opportunities/new/?customer={buyer.pk}").status_code == 200
    response = client.post(
        "/opportunities/new/",
        {
            "customer": buyer.pk,
            "name": "新车",
            "stage": stages["open2"].pk,
            "amount": "1000",
            "owner": rep.pk,
        },
    )
    assert response.status_code == 302
    created = Opportunity.objects.get(name="新车")
    assert (created.stage, created.probability) == (stages["open2"], 25)
    response = client.post(
        f"/opportunities/{created.pk}/edit",
        {"name": "新车 2", "amount": "1200", "probability": "40", "owner": rep.pk},
    )
    assert response.status_code == 302
    created.refresh_from_db()
    assert (created.name, created.amount, created.probability, created.probability_manual) == (
        "新车 2",
        Decimal("1200.00"),
        40,
        True,
    )
    page = client.get(f"/opportunities/{created.pk}/").content.decode()
    assert "Stage history" in page and "Needs confirmed" in page
    # The edit form shows the close date as a date input reads it, so saving it again keeps it
    client.post(
        f"/opportunities/{created.pk}/edit",
        {"name": "新车 2", "amount": "1200", "expected_close": "2027-01-15", "owner": rep.pk},
    )
    assert 'value="2027-01-15"' in client.get(f"/opportunities/{created.pk}/edit").content.decode()


@pytest.mark.parametrize(
    ("method", "path", "viewer_status"),
    [
        ("get", "/opportunities/", 200),
        ("get", "/opportunities/list/", 200),
        ("get", "/opportunities/{id}/", 200),
        ("get", "/opportunities/new/", 403),
        ("post", "/opportunities/{id}/move", 403),
        ("get", "/opportunities/{id}/edit", 403),
        ("post", "/opportunities/{id}/close-won", 403),
        ("post", "/opportunities/{id}/close-lost", 403),
        ("post", "/opportunities/{id}/reopen", 403),
        ("post", "/opportunities/{id}/stage", 403),
        ("get", "/opportunities/pipelines/", 403),
    ],
)
def test_page_permissions(
    client_for: Callable[..., Client],
    viewer: User,
    other_rep: User,
    deal: Opportunity,
    method: str,
    path: str,
    viewer_status: int,
) -> None:
    url = path.format(id=deal.pk)
    assert getattr(client_for(None), method)(url).status_code == 302  # signed out: to the login
    assert getattr(client_for(viewer), method)(url).status_code == viewer_status
    if "{id}" in path:
        # Another rep does not see this rep's opportunity at all.
        assert getattr(client_for(other_rep), method)(url).status_code == 404
    deal.refresh_from_db()
    assert (deal.status, deal.name) == ("open", "汉EV 购车")


def test_the_board_of_another_rep_hides_the_card(
    client_for: Callable[..., Client], other_rep: User, deal: Opportunity
) -> None:
    assert "汉EV 购车" not in client_for(other_rep).get("/opportunities/").content.decode()
    assert "汉EV 购车" not in client_for(other_rep).get("/opportunities/list/").content.decode()


def test_the_customer_partial_lists_the_opportunities(rep: User, buyer: Customer, deal: Opportunity) -> None:
    from django.template.loader import render_to_string

    from guanxi.opportunities.selectors import opportunity_list_for_customer

    with CaptureQueriesContext(connection) as queries:
        opportunities = opportunity_list_for_customer(actor=rep, customer=buyer)
    assert len(queries) == 1
    html = render_to_string(
        "opportunities/_customer_opportunities.html",
        {"opportunities": opportunities, "customer": buyer, "perms_gx": {"opportunity_create": True}},
    )
    assert "汉EV 购车" in html


def test_timeline_renderers_read_every_kind(rep: User, deal: Opportunity) -> None:
    from guanxi.customers.models import TimelineEntry
    from guanxi.customers.templatetags.customer_tags import TIMELINE_KINDS, TimelineReader

    opportunity_close_lost(actor=rep, opportunity=deal, reason="price", note="太贵")
    for entry in TimelineEntry.objects.filter(kind__startswith="opportunity."):
        item = TIMELINE_KINDS[entry.kind](entry, TimelineReader(clear=True))
        assert "汉EV 购车" in item.title


# --- API ---------------------------------------------------------------------------------------------


def test_api_create_move_close_and_history(rep: User, buyer: Customer, stages: dict[str, Stage]) -> None:
    api = bearer(rep)
    pipelines = api.get("/api/v1/pipelines").json()
    assert [s["kind"] for s in pipelines[0]["stages"]] == ["open"] * 4 + ["won", "lost"]
    created = api.post(
        "/api/v1/opportunities",
        json.dumps({"customer_id": buyer.pk, "name": "API 商机", "amount": "5000.00"}),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    oid = created.json()["id"]
    assert created.json()["stage"]["id"] == stages["open1"].pk
    moved = api.post(
        f"/api/v1/opportunities/{oid}/move",
        json.dumps({"stage_id": stages["open3"].pk}),
        content_type="application/json",
    )
    assert moved.json()["probability"] == 50
    patched = api.patch(
        f"/api/v1/opportunities/{oid}", json.dumps({"next_step": "报价"}), content_type="application/json"
    )
    assert patched.json()["next_step"] == "报价"
    won = api.post(
        f"/api/v1/opportunities/{oid}/close-won",
        json.dumps({"create_order": True}),
        content_type="application/json",
    )
    assert won.status_code == 200 and won.json()["order_id"]
    again = api.post(
        f"/api/v1/opportunities/{oid}/close-won",
        json.dumps({"create_order": True}),
        content_type="application/json",
    )
    assert again.status_code == 409 and again.json()["code"] == "opportunity_already_closed"
    assert Order.objects.count() == 1
    history = api.get(f"/api/v1/opportunities/{oid}/stage-history").json()
    assert [(h["from_stage"] and h["from_stage"]["id"], h["to_stage"]["id"]) for h in history] == [
        (None, stages["open1"].pk),
        (stages["open1"].pk, stages["open3"].pk),
        (stages["open3"].pk, stages["won"].pk),
    ]
    assert history[0]["changed_by"]["username"] == rep.username
    listed = api.get("/api/v1/opportunities?status=won").json()
    assert [item["id"] for item in listed["items"]] == [oid]


def test_api_pages_with_a_cursor(rep: User, buyer: Customer, pipeline: Any) -> None:
    for index in range(5):
        opportunity_create(actor=rep, customer=buyer, name=f"P{index}")
    api = bearer(rep)
    first = api.get("/api/v1/opportunities?limit=3").json()
    second = api.get(f"/api/v1/opportunities?limit=3&cursor={first['next_cursor']}").json()
    assert [i["name"] for i in first["items"] + second["items"]] == ["P4", "P3", "P2", "P1", "P0"]
    assert second["next_cursor"] is None


def test_nonsense_numbers_are_refused_not_crashed(
    client_for: Callable[..., Client], rep: User, deal: Opportunity, stages: dict[str, Stage]
) -> None:
    huge = "9" * 30
    client = client_for(rep)
    response = client.post(
        f"/opportunities/{deal.pk}/move", {"stage": huge, "after": huge, "region": "board"}, **HTMX
    )
    assert response.status_code == 200
    assert client.get(f"/opportunities/?pipeline={huge}&owner={huge}").status_code == 200
    more = client.get(f"/opportunities/board/stages/{stages['open1'].pk}/more?offset={huge}", **HTMX)
    assert more.status_code == 200
    api = bearer(rep)
    assert api.get(f"/api/v1/opportunities?cursor={huge}").status_code == 422
    assert api.get(f"/api/v1/opportunities?owner={huge}").status_code == 200


def test_api_lost_needs_a_known_reason(rep: User, deal: Opportunity) -> None:
    api = bearer(rep)
    bad = api.post(
        f"/api/v1/opportunities/{deal.pk}/close-lost",
        json.dumps({"reason": "weather"}),
        content_type="application/json",
    )
    assert bad.status_code == 422
    ok = api.post(
        f"/api/v1/opportunities/{deal.pk}/close-lost",
        json.dumps({"reason": "no_budget"}),
        content_type="application/json",
    )
    assert ok.json()["lost_reason"] == "no_budget"


def test_api_permissions(viewer: User, other_rep: User, deal: Opportunity, stages: dict[str, Stage]) -> None:
    seen = bearer(viewer)
    assert seen.get(f"/api/v1/opportunities/{deal.pk}").status_code == 200
    body = json.dumps({"stage_id": stages["open2"].pk})
    assert (
        seen.post(f"/api/v1/opportunities/{deal.pk}/move", body, content_type="application/json").status_code
        == 403
    )
    stranger = bearer(other_rep)
    assert stranger.get(f"/api/v1/opportunities/{deal.pk}").status_code == 404
    assert (
        stranger.post(
            f"/api/v1/opportunities/{deal.pk}/move", body, content_type="application/json"
        ).status_code
        == 404
    )
    assert stranger.get("/api/v1/opportunities").json()["items"] == []
    assert Client().get("/api/v1/opportunities").status_code == 401
    deal.refresh_from_db()
    assert deal.stage == stages["open1"]
