"""Creating opportunities and the default pipeline."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from guanxi.audit.models import AuditEvent
from guanxi.catalog.models import Product
from guanxi.core.errors import NotFound, PermissionDenied, ValidationFailed
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.opportunities.models import Opportunity, Pipeline, Stage, StageChange
from guanxi.opportunities.services import opportunity_create, pipeline_default
from guanxi.users.models import User


def test_default_pipeline_is_made_once_with_the_usual_stages(db: Any) -> None:
    first = pipeline_default()
    again = pipeline_default()
    assert first.pk == again.pk
    assert Pipeline.objects.count() == 1
    stages = list(first.stages.order_by("position").values_list("probability", "kind"))
    assert stages == [(10, "open"), (25, "open"), (50, "open"), (75, "open"), (100, "won"), (0, "lost")]


def test_default_pipeline_speaks_the_active_language(db: Any) -> None:
    from django.utils import translation

    with translation.override("en"):
        pipeline = pipeline_default()
    assert list(pipeline.stages.values_list("name", flat=True))[:2] == ["Initial contact", "Needs confirmed"]


def test_create_puts_it_in_the_first_open_stage_with_history_audit_and_timeline(
    rep: User, buyer: Customer, stages: dict[str, Stage]
) -> None:
    opportunity = opportunity_create(actor=rep, customer=buyer, name="汉EV 购车", amount="209800")

    assert opportunity.stage == stages["open1"]
    assert opportunity.status == Opportunity.Status.OPEN
    assert opportunity.probability == 10 and not opportunity.probability_manual
    assert opportunity.amount == Decimal("209800.00")
    assert opportunity.owner == rep and opportunity.team_id == rep.team_id
    change = StageChange.objects.get(opportunity=opportunity)
    assert (change.from_stage, change.to_stage, change.changed_by) == (None, stages["open1"], rep)
    assert AuditEvent.objects.filter(action="opportunity.create", target_id=str(opportunity.pk)).count() == 1
    entry = TimelineEntry.objects.get(customer=buyer, kind="opportunity.created")
    assert entry.data["opportunity_id"] == opportunity.pk


def test_create_with_lines_takes_their_total_and_the_products_prices(
    rep: User, buyer: Customer, car: Product, care: Product, stages: dict[str, Stage]
) -> None:
    opportunity = opportunity_create(
        actor=rep,
        customer=buyer,
        name="汉EV + 保养",
        stage=stages["open2"],
        lines=[{"product_id": car.pk}, {"product_id": care.pk, "quantity": "2", "unit_price": "4500"}],
    )
    assert opportunity.amount == Decimal("218800.00")
    assert opportunity.probability == 25
    assert [(line.product_id, line.quantity) for line in opportunity.lines.all()] == [
        (car.pk, Decimal("1.000")),
        (care.pk, Decimal("2.000")),
    ]


def test_a_probability_given_at_creation_counts_as_set_by_hand(
    rep: User, buyer: Customer, pipeline: Pipeline
) -> None:
    opportunity = opportunity_create(actor=rep, customer=buyer, name="A", probability=40)
    assert (opportunity.probability, opportunity.probability_manual) == (40, True)


def test_new_cards_go_to_the_top_of_their_column(rep: User, buyer: Customer, pipeline: Pipeline) -> None:
    first = opportunity_create(actor=rep, customer=buyer, name="A")
    second = opportunity_create(actor=rep, customer=buyer, name="B")
    assert second.position < first.position


def test_create_refuses_bad_input_and_changes_nothing(
    rep: User, buyer: Customer, stages: dict[str, Stage]
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        opportunity_create(
            actor=rep,
            customer=buyer,
            name=" ",
            stage=stages["won"],
            amount="-5",
            expected_close="31/12/2026",
            lines=[{"product_id": 999999}],
        )
    assert set(caught.value.details) == {"name", "stage", "amount", "expected_close", "lines.0.product_id"}
    assert not Opportunity.objects.exists()


def test_a_rep_cannot_create_for_another_reps_customer_nor_give_it_away(
    rep: User, other_rep: User, buyer: Customer, pipeline: Pipeline
) -> None:
    with pytest.raises(NotFound):
        opportunity_create(actor=other_rep, customer=buyer, name="A")
    with pytest.raises(ValidationFailed) as caught:
        opportunity_create(actor=rep, customer=buyer, name="A", owner=other_rep)
    assert "owner" in caught.value.details
    assert not Opportunity.objects.exists()


def test_a_manager_gives_it_to_a_rep_of_the_team(
    manager: User, rep: User, buyer: Customer, pipeline: Pipeline
) -> None:
    opportunity = opportunity_create(actor=manager, customer=buyer, name="A", owner=rep)
    assert opportunity.owner == rep and opportunity.created_by == manager


def test_a_viewer_cannot_create(viewer: User, buyer: Customer, pipeline: Pipeline) -> None:
    with pytest.raises(PermissionDenied):
        opportunity_create(actor=viewer, customer=buyer, name="A")
    assert not Opportunity.objects.exists()
