"""Moving opportunities between and within stages, closing them won or lost, reopening them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from guanxi.catalog.models import Product
from guanxi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.opportunities.models import Opportunity, Stage, StageChange
from guanxi.opportunities.services import (
    OpportunityAlreadyClosed,
    opportunity_close_lost,
    opportunity_close_won,
    opportunity_create,
    opportunity_move,
    opportunity_reopen,
    opportunity_update,
)
from guanxi.sales.models import Order
from guanxi.users.models import User


@pytest.fixture
def deal(rep: User, buyer: Customer, stages: dict[str, Stage]) -> Opportunity:
    return opportunity_create(actor=rep, customer=buyer, name="汉EV 购车", amount="209800")


def column(stage: Stage) -> list[str]:
    return list(
        Opportunity.objects.filter(stage=stage).order_by("position", "id").values_list("name", flat=True)
    )


def test_a_stage_change_keeps_who_when_and_from_to(
    rep: User, deal: Opportunity, stages: dict[str, Stage]
) -> None:
    before = timezone.now()
    opportunity_move(actor=rep, opportunity=deal, stage=stages["open3"])
    opportunity_move(actor=rep, opportunity=deal, stage=stages["open2"])

    history = list(StageChange.objects.filter(opportunity=deal).order_by("changed_at", "id"))
    assert [(c.from_stage, c.to_stage) for c in history] == [
        (None, stages["open1"]),
        (stages["open1"], stages["open3"]),
        (stages["open3"], stages["open2"]),
    ]
    assert all(change.changed_by == rep for change in history)
    assert before <= history[1].changed_at <= history[2].changed_at <= timezone.now()
    deal.refresh_from_db()
    assert deal.stage_changed_at == history[2].changed_at
    kinds = list(TimelineEntry.objects.filter(customer=deal.customer).values_list("kind", flat=True))
    assert kinds.count("opportunity.stage_changed") == 2


def test_probability_follows_the_stage_unless_set_by_hand(
    rep: User, deal: Opportunity, stages: dict[str, Stage]
) -> None:
    opportunity_move(actor=rep, opportunity=deal, stage=stages["open3"])
    deal.refresh_from_db()
    assert deal.probability == 50

    opportunity_update(actor=rep, opportunity=deal, probability=65)
    opportunity_move(actor=rep, opportunity=deal, stage=stages["open4"])
    deal.refresh_from_db()
    assert (deal.probability, deal.probability_manual) == (65, True)

    opportunity_update(actor=rep, opportunity=deal, probability=None)
    deal.refresh_from_db()
    assert (deal.probability, deal.probability_manual) == (75, False)


def test_a_drop_between_two_cards_lands_between_them(
    rep: User, buyer: Customer, stages: dict[str, Stage]
) -> None:
    cards = {n: opportunity_create(actor=rep, customer=buyer, name=n, stage=stages["open2"]) for n in "CBA"}
    moving = opportunity_create(actor=rep, customer=buyer, name="X")
    assert column(stages["open2"]) == ["A", "B", "C"]

    opportunity_move(actor=rep, opportunity=moving, stage=stages["open2"], after=cards["A"])
    assert column(stages["open2"]) == ["A", "X", "B", "C"]
    opportunity_move(actor=rep, opportunity=moving, before=cards["C"].pk)
    assert column(stages["open2"]) == ["A", "B", "X", "C"]
    opportunity_move(actor=rep, opportunity=moving, after=cards["C"])
    assert column(stages["open2"]) == ["A", "B", "C", "X"]
    opportunity_move(actor=rep, opportunity=moving)
    assert column(stages["open2"]) == ["X", "A", "B", "C"]
    # Moves within a column are not stage changes.
    assert StageChange.objects.filter(opportunity=moving).count() == 2


def test_a_drop_between_touching_cards_opens_a_gap(
    rep: User, buyer: Customer, stages: dict[str, Stage]
) -> None:
    first = opportunity_create(actor=rep, customer=buyer, name="A", stage=stages["open2"])
    second = opportunity_create(actor=rep, customer=buyer, name="B", stage=stages["open2"])
    Opportunity.objects.filter(pk=first.pk).update(position=5)
    Opportunity.objects.filter(pk=second.pk).update(position=6)
    moving = opportunity_create(actor=rep, customer=buyer, name="X", stage=stages["open2"])

    opportunity_move(actor=rep, opportunity=moving, after=first.pk)
    assert column(stages["open2"]) == ["A", "X", "B"]


def test_an_anchor_from_another_column_is_refused(
    rep: User, deal: Opportunity, buyer: Customer, stages: dict[str, Stage]
) -> None:
    elsewhere = opportunity_create(actor=rep, customer=buyer, name="B", stage=stages["open4"])
    with pytest.raises(ValidationFailed) as caught:
        opportunity_move(actor=rep, opportunity=deal, stage=stages["open2"], after=elsewhere)
    assert "after" in caught.value.details
    deal.refresh_from_db()
    assert deal.stage == stages["open1"]


def test_another_reps_card_cannot_be_a_neighbour(
    rep: User, other_rep: User, deal: Opportunity, make_customer: Any, stages: dict[str, Stage]
) -> None:
    theirs = opportunity_create(actor=other_rep, customer=make_customer(other_rep, name="李四"), name="B")
    with pytest.raises(ValidationFailed) as caught:
        opportunity_move(actor=rep, opportunity=deal, after=theirs)
    assert "after" in caught.value.details


def test_a_stage_of_another_pipeline_is_refused(rep: User, admin: User, deal: Opportunity) -> None:
    from guanxi.opportunities.services import pipeline_create

    other = pipeline_create(actor=admin, name="装修项目")
    with pytest.raises(ValidationFailed):
        opportunity_move(actor=rep, opportunity=deal, stage=other.stages.first())


def test_moving_into_the_won_stage_closes_it(rep: User, deal: Opportunity, stages: dict[str, Stage]) -> None:
    opportunity_move(actor=rep, opportunity=deal, stage=stages["won"])
    deal.refresh_from_db()
    assert (deal.status, deal.probability, deal.stage) == ("won", 100, stages["won"])
    assert deal.closed_at is not None
    assert TimelineEntry.objects.filter(kind="opportunity.won", customer=deal.customer).count() == 1
    with pytest.raises(OpportunityAlreadyClosed):
        opportunity_move(actor=rep, opportunity=deal, stage=stages["open2"])


def test_moving_into_the_lost_stage_needs_a_reason(
    rep: User, deal: Opportunity, stages: dict[str, Stage]
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        opportunity_move(actor=rep, opportunity=deal, stage=stages["lost"])
    assert "lost_reason" in caught.value.details
    deal.refresh_from_db()
    assert deal.status == "open"

    opportunity_move(actor=rep, opportunity=deal, stage=stages["lost"], lost_reason="price", note="贵了两万")
    deal.refresh_from_db()
    assert (deal.status, deal.probability, deal.lost_reason, deal.close_note) == (
        "lost",
        0,
        "price",
        "贵了两万",
    )


@pytest.mark.parametrize("reason", [choice.value for choice in Opportunity.LostReason])
def test_every_lost_reason_is_accepted(rep: User, deal: Opportunity, reason: str) -> None:
    opportunity_close_lost(actor=rep, opportunity=deal, reason=reason)
    deal.refresh_from_db()
    assert deal.lost_reason == reason
    entry = TimelineEntry.objects.get(kind="opportunity.lost", customer=deal.customer)
    assert entry.data["lost_reason"] == reason


def test_an_unknown_lost_reason_is_refused(rep: User, deal: Opportunity) -> None:
    with pytest.raises(ValidationFailed):
        opportunity_close_lost(actor=rep, opportunity=deal, reason="weather")
    deal.refresh_from_db()
    assert deal.status == "open"


def test_won_with_lines_books_the_order_once(
    rep: User, buyer: Customer, car: Product, care: Product, stages: dict[str, Stage]
) -> None:
    deal = opportunity_create(
        actor=rep,
        customer=buyer,
        name="汉EV + 保养",
        lines=[{"product_id": car.pk}, {"product_id": care.pk, "quantity": 1, "unit_price": "4000"}],
    )
    opportunity_close_won(actor=rep, opportunity=deal, create_order=True, note="全款")
    deal.refresh_from_db()
    order = Order.objects.get(customer=buyer)
    assert deal.order == order and deal.status == "won"
    assert order.total == Decimal("213800.00")
    assert sorted(order.lines.values_list("name", "total")) == [
        ("三年保养套餐", Decimal("4000.00")),
        ("比亚迪汉EV", Decimal("209800.00")),
    ]

    with pytest.raises(OpportunityAlreadyClosed):
        opportunity_close_won(actor=rep, opportunity=deal, create_order=True)
    assert Order.objects.count() == 1


def test_won_without_lines_books_the_amount(rep: User, deal: Opportunity) -> None:
    opportunity_close_won(actor=rep, opportunity=deal, create_order=True)
    assert Order.objects.get().total == Decimal("209800.00")


def test_won_without_an_amount_cannot_book_an_order_and_stays_open(
    rep: User, buyer: Customer, stages: dict[str, Stage]
) -> None:
    deal = opportunity_create(actor=rep, customer=buyer, name="A")
    with pytest.raises(ValidationFailed):
        opportunity_close_won(actor=rep, opportunity=deal, create_order=True)
    deal.refresh_from_db()
    assert deal.status == "open"
    assert not Order.objects.exists()
    assert StageChange.objects.filter(opportunity=deal).count() == 1


def test_reopen_goes_back_to_the_last_open_stage(
    rep: User, deal: Opportunity, stages: dict[str, Stage]
) -> None:
    opportunity_move(actor=rep, opportunity=deal, stage=stages["open3"])
    opportunity_close_lost(actor=rep, opportunity=deal, reason="timing")
    opportunity_reopen(actor=rep, opportunity=deal)
    deal.refresh_from_db()
    assert (deal.status, deal.stage, deal.probability, deal.lost_reason) == ("open", stages["open3"], 50, "")
    assert deal.closed_at is None
    with pytest.raises(Conflict):
        opportunity_reopen(actor=rep, opportunity=deal)


def test_a_rep_cannot_touch_another_reps_opportunity(
    other_rep: User, deal: Opportunity, stages: dict[str, Stage]
) -> None:
    for call in (
        lambda: opportunity_move(actor=other_rep, opportunity=deal, stage=stages["open2"]),
        lambda: opportunity_update(actor=other_rep, opportunity=deal, name="X"),
        lambda: opportunity_close_won(actor=other_rep, opportunity=deal),
        lambda: opportunity_close_lost(actor=other_rep, opportunity=deal, reason="price"),
    ):
        with pytest.raises(NotFound):
            call()
    deal.refresh_from_db()
    assert (deal.stage, deal.name, deal.status) == (stages["open1"], "汉EV 购车", "open")


def test_a_viewer_cannot_move(viewer: User, deal: Opportunity, stages: dict[str, Stage]) -> None:
    with pytest.raises(PermissionDenied):
        opportunity_move(actor=viewer, opportunity=deal, stage=stages["open2"])
    deal.refresh_from_db()
    assert deal.stage == stages["open1"]


def test_a_manager_moves_the_teams_opportunities(
    manager: User, deal: Opportunity, stages: dict[str, Stage]
) -> None:
    opportunity_move(actor=manager, opportunity=deal, stage=stages["open2"])
    assert StageChange.objects.filter(opportunity=deal).last().changed_by == manager  # type: ignore[union-attr]


def test_update_records_the_changes(rep: User, deal: Opportunity, car: Product) -> None:
    from guanxi.audit.models import AuditEvent

    opportunity_update(
        actor=rep,
        opportunity=deal,
        next_step="周五试驾",
        expected_close="2027-01-15",
        lines=[{"product_id": car.pk}],
    )
    deal.refresh_from_db()
    assert deal.next_step == "周五试驾" and str(deal.expected_close) == "2027-01-15"
    assert deal.amount == Decimal("209800.00") and deal.lines.count() == 1
    event = AuditEvent.objects.get(action="opportunity.update")
    assert event.changes["next_step"] == [None, "周五试驾"]


def test_update_refuses_unknown_fields(rep: User, deal: Opportunity, **_: Any) -> None:
    with pytest.raises(ValidationFailed):
        opportunity_update(actor=rep, opportunity=deal, status="won")
