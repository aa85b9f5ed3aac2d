"""Shared fixtures of the opportunity tests: the default pipeline, reps, a manager, customers, products."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from guanxi.catalog import services as catalog_services
from guanxi.catalog.models import Product
from guanxi.customers.models import Customer
from guanxi.opportunities.models import Pipeline, Stage
from guanxi.opportunities.services import pipeline_default
from guanxi.users.models import User


@pytest.fixture
def rep(make_user: Callable[..., User]) -> User:
    """A sales rep: sees and moves only the opportunities they own."""
    return make_user("sales", username="li.na")


@pytest.fixture
def other_rep(make_user: Callable[..., User]) -> User:
    return make_user("sales", username="zhao.lei")


@pytest.fixture
def manager(make_user: Callable[..., User]) -> User:
    return make_user("manager", username="wang.jl")


@pytest.fixture
def viewer(make_user: Callable[..., User]) -> User:
    return make_user("viewer", username="chen.kan")


@pytest.fixture
def pipeline(db: Any) -> Pipeline:
    return pipeline_default()


@pytest.fixture
def stages(pipeline: Pipeline) -> dict[str, Stage]:
    """The default pipeline's stages by kind and order: open1…open4, won, lost."""
    found = list(pipeline.stages.order_by("position"))
    named = {f"open{i + 1}": stage for i, stage in enumerate(s for s in found if s.kind == Stage.Kind.OPEN)}
    named["won"] = next(s for s in found if s.kind == Stage.Kind.WON)
    named["lost"] = next(s for s in found if s.kind == Stage.Kind.LOST)
    return named


@pytest.fixture
def buyer(rep: User, make_customer: Callable[..., Any]) -> Customer:
    """A customer of the rep."""
    return make_customer(rep, name="张伟", phones=["13800138000"])


@pytest.fixture
def car(admin: User) -> Product:
    return catalog_services.product_create(
        actor=admin, sku="HAN-EV", name="比亚迪汉EV", category="整车", unit="台", price="209800.00"
    )


@pytest.fixture
def care(admin: User) -> Product:
    return catalog_services.product_create(
        actor=admin, sku="CARE-3Y", name="三年保养套餐", category="服务", unit="套", price="4800.00"
    )
