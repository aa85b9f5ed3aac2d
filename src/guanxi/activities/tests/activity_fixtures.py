"""Fixtures of the activity tests (imported by name into each test_activities*.py): a sales rep, a
team-mate, a rep of another team, a manager and a viewer, and customers, a lead and an opportunity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.leads.models import Lead
from guanxi.opportunities.models import Opportunity, Pipeline, Stage
from guanxi.users.models import Team, User


@pytest.fixture
def rep(make_user: Callable[..., User]) -> User:
    """A sales rep of team A: sees only the customers they own."""
    user = make_user("sales", username="li.na")
    user.email = "li.na@dealer.example"
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def mate(make_user: Callable[..., User]) -> User:
    return make_user("sales", username="mate")


@pytest.fixture
def stranger(make_user: Callable[..., User], team_b: Team) -> User:
    return make_user("sales", team=team_b, username="stranger")


@pytest.fixture
def manager(make_user: Callable[..., User]) -> User:
    return make_user("manager", username="wang.jl")


@pytest.fixture
def viewer(make_user: Callable[..., User]) -> User:
    return make_user("viewer", username="viewer")


@pytest.fixture
def buyer(rep: User, make_customer: Callable[..., Any]) -> Customer:
    """The rep's customer, with a phone and an email address."""
    return make_customer(rep, name="张伟", phones=["13800138000"], emails=["zhang.wei@example.com"])


@pytest.fixture
def other_customer(stranger: User, make_customer: Callable[..., Any]) -> Customer:
    """A customer of another team's rep: the rep does not see it."""
    return make_customer(stranger, name="赵敏", emails=["zhao.min@example.com"])


def make_opportunity(customer: Customer, owner: User, name: str = "比亚迪汉 换购") -> Opportunity:
    pipeline, _ = Pipeline.objects.get_or_create(name="新车销售")
    stage, _ = Stage.objects.get_or_create(pipeline=pipeline, name="意向", defaults={"probability": 20})
    return Opportunity.objects.create(
        name=name,
        customer=customer,
        pipeline=pipeline,
        stage=stage,
        owner=owner,
        team=owner.team,
        stage_changed_at=timezone.now(),
    )


def make_lead(owner: User, name: str = "孙俪", **fields: Any) -> Lead:
    return Lead.objects.create(name=name, owner=owner, team=owner.team, **fields)
