"""Setting up pipelines and stages, and the demo data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from guanxi.core.errors import Conflict, PermissionDenied, ValidationFailed
from guanxi.customers.models import Customer
from guanxi.opportunities.models import Opportunity, Pipeline, Stage, StageChange
from guanxi.opportunities.services import (
    StageNotEmpty,
    opportunity_create,
    opportunity_move,
    pipeline_create,
    pipeline_update,
    stage_create,
    stage_delete,
    stage_reorder,
    stage_update,
)
from guanxi.users.models import User


def names(pipeline: Pipeline) -> list[str]:
    return list(pipeline.stages.filter(active=True).order_by("position").values_list("name", flat=True))


def test_a_pipeline_with_its_own_stages(manager: User) -> None:
    pipeline = pipeline_create(
        actor=manager,
        name="装修项目",
        stages=[
            {"name": "量房", "probability": 20},
            {"name": "签约", "kind": "won"},
            {"name": "设计", "probability": 40},
            {"name": "放弃", "kind": "lost", "probability": 30},
        ],
    )
    assert names(pipeline) == ["量房", "设计", "签约", "放弃"]
    assert list(pipeline.stages.order_by("position").values_list("probability", flat=True)) == [
        20,
        40,
        100,
        0,
    ]


def test_a_pipeline_needs_one_won_and_one_lost_stage(manager: User) -> None:
    with pytest.raises(ValidationFailed) as caught:
        pipeline_create(actor=manager, name="X", stages=[{"name": "A", "probability": 10}])
    assert "stages" in caught.value.details
    assert not Pipeline.objects.filter(name="X").exists()


def test_stages_are_added_renamed_and_reordered(
    manager: User, pipeline: Pipeline, stages: dict[str, Stage]
) -> None:
    added = stage_create(actor=manager, pipeline=pipeline, name="试驾", probability=40)
    assert names(pipeline)[4] == "试驾"  # after the last open stage, before won and lost
    stage_update(actor=manager, stage=added, name="到店试驾", probability=45)
    added.refresh_from_db()
    assert (added.name, added.probability) == ("到店试驾", 45)
    order = [stages["open2"].pk, stages["open1"].pk, added.pk, stages["open3"].pk, stages["open4"].pk]
    stage_reorder(actor=manager, pipeline=pipeline, stage_ids=order)
    assert (
        list(pipeline.stages.filter(kind="open").order_by("position").values_list("pk", flat=True)) == order
    )
    with pytest.raises(ValidationFailed):
        stage_reorder(actor=manager, pipeline=pipeline, stage_ids=order[:2])


def test_a_new_default_probability_applies_from_the_next_move(
    manager: User, rep: User, buyer: Customer, stages: dict[str, Stage]
) -> None:
    deal = opportunity_create(actor=rep, customer=buyer, name="A", stage=stages["open2"])
    stage_update(actor=manager, stage=stages["open2"], probability=30)
    deal.refresh_from_db()
    assert deal.probability == 25
    opportunity_move(actor=rep, opportunity=deal, stage=stages["open1"])
    opportunity_move(actor=rep, opportunity=deal, stage=stages["open2"])
    deal.refresh_from_db()
    assert deal.probability == 30


def test_a_stage_holding_opportunities_cannot_be_deleted(
    manager: User, rep: User, buyer: Customer, stages: dict[str, Stage]
) -> None:
    deal = opportunity_create(actor=rep, customer=buyer, name="A", stage=stages["open2"])
    with pytest.raises(StageNotEmpty):
        stage_delete(actor=manager, stage=stages["open2"])
    assert Stage.objects.get(pk=stages["open2"].pk).active
    # Emptied, it stays (inactive) because the history mentions it
    opportunity_move(actor=rep, opportunity=deal, stage=stages["open3"])
    stage_delete(actor=manager, stage=stages["open2"])
    assert not Stage.objects.get(pk=stages["open2"].pk).active
    assert StageChange.objects.filter(from_stage=stages["open2"]).exists()
    # Never used: really deleted
    stage_delete(actor=manager, stage=stages["open4"])
    assert not Stage.objects.filter(pk=stages["open4"].pk).exists()
    with pytest.raises(Conflict):
        stage_delete(actor=manager, stage=stages["won"])


def test_the_kind_of_a_stage_in_use_does_not_change(
    manager: User, rep: User, buyer: Customer, stages: dict[str, Stage]
) -> None:
    opportunity_create(actor=rep, customer=buyer, name="A", stage=stages["open1"])
    with pytest.raises(ValidationFailed):
        stage_update(actor=manager, stage=stages["open1"], kind="won")


def test_the_last_active_pipeline_stays_on(manager: User, pipeline: Pipeline) -> None:
    with pytest.raises(ValidationFailed):
        pipeline_update(actor=manager, pipeline=pipeline, active=False)
    other = pipeline_create(actor=manager, name="二手车")
    pipeline_update(actor=manager, pipeline=other, active=False, name="二手车置换")
    other.refresh_from_db()
    assert (other.active, other.name) == (False, "二手车置换")


def test_reps_cannot_manage_pipelines(rep: User, pipeline: Pipeline, stages: dict[str, Stage]) -> None:
    for call in (
        lambda: pipeline_create(actor=rep, name="X"),
        lambda: stage_create(actor=rep, pipeline=pipeline, name="X", probability=5),
        lambda: stage_update(actor=rep, stage=stages["open1"], name="X"),
        lambda: stage_delete(actor=rep, stage=stages["open4"]),
    ):
        with pytest.raises(PermissionDenied):
            call()
    assert names(pipeline)[0] == stages["open1"].name


def test_the_pipelines_page(
    client_for: Callable[..., Client], manager: User, pipeline: Pipeline, stages: dict[str, Stage]
) -> None:
    client = client_for(manager)
    assert client.get("/opportunities/pipelines/").status_code == 200
    response = client.post(
        f"/opportunities/pipelines/{pipeline.pk}/stages", {"name": "试驾", "probability": "40"}
    )
    assert response.status_code == 302
    added = Stage.objects.get(name="试驾")
    client.post(f"/opportunities/stages/{added.pk}/move", {"direction": "up"})
    assert names(pipeline).index("试驾") == 3
    client.post(f"/opportunities/stages/{added.pk}/", {"name": "试驾体验", "probability": "45"})
    client.post(f"/opportunities/stages/{added.pk}/delete")
    assert not Stage.objects.filter(pk=added.pk).exists()
    client.post("/opportunities/pipelines/new", {"name": "装修项目"})
    assert Pipeline.objects.filter(name="装修项目").exists()


def test_demo_opportunities(admin: User, make_user: Callable[..., User], make_customer: Any) -> None:
    from guanxi.opportunities.demo import demo_opportunities

    reps = [make_user("sales", username=f"rep{i}") for i in range(3)]
    for rep in reps:
        for index in range(5):
            make_customer(rep, name=f"客户{rep.pk}{index}")
    stats = demo_opportunities(actor=admin, count=30)
    assert stats.created == 30 and Opportunity.objects.count() == 30
    assert stats.won + stats.lost == Opportunity.objects.exclude(status="open").count()
    assert Opportunity.objects.filter(status="open").exists()
    # Histories are spread back in time, in order
    for opportunity in Opportunity.objects.all():
        times = list(
            StageChange.objects.filter(opportunity=opportunity)
            .order_by("id")
            .values_list("changed_at", flat=True)
        )
        assert times == sorted(times)
    assert demo_opportunities(actor=admin).created == 0  # once only
