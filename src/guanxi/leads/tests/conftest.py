"""Shared fixtures of the lead tests: a sales team of three reps, a manager, an administrator, a store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from guanxi.catalog import services as catalog_services
from guanxi.catalog.models import Store
from guanxi.leads import services
from guanxi.leads.models import Lead
from guanxi.users.models import Team, User


@pytest.fixture
def rep(make_user: Callable[..., User]) -> User:
    """A sales rep of team A: sees only the leads they own."""
    return make_user("sales", username="li.na")


@pytest.fixture
def mate(make_user: Callable[..., User]) -> User:
    return make_user("sales", username="zhao.lei")


@pytest.fixture
def stranger(make_user: Callable[..., User], team_b: Team) -> User:
    return make_user("sales", team=team_b, username="chen.jie")


@pytest.fixture
def manager(make_user: Callable[..., User]) -> User:
    return make_user("manager", username="wang.jl")


@pytest.fixture
def store(admin: User) -> Store:
    return catalog_services.store_create(actor=admin, code="SZ01", name="深圳南山展厅", city="深圳")


@pytest.fixture
def make_lead(db: Any) -> Callable[..., Lead]:
    """make_lead(actor, name=…, **fields) through the service."""

    def make(actor: User, name: str = "王芳", **fields: Any) -> Lead:
        fields.setdefault("phone", "13900139000")
        return services.lead_create(actor=actor, name=name, **fields)

    return make
