"""Fixtures of the task tests (imported by name into each test_tasks*, test_calendar*, test_followup*):
a sales rep with an email address, a team-mate, a rep of another team, a manager, a viewer, a marketing
user, the rep's customer, and a frozen clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from guanxi.activities import services_tasks
from guanxi.activities.models import Task
from guanxi.customers.models import Customer
from guanxi.users.models import Team, User

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Wednesday 2 December 2026, 09:00 in Shanghai: the frozen clock's start.
T0 = datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI)


class Clock:
    """django.utils.timezone.now, frozen at `now` until moved (every module calls timezone.now())."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def move(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now

    def set(self, when: datetime) -> datetime:
        self.now = when
        return when


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(T0)
    monkeypatch.setattr("django.utils.timezone.now", frozen)
    return frozen


def _user(make_user: Callable[..., User], role: str, username: str, **kwargs: Any) -> User:
    user = make_user(role, username=username, **kwargs)
    user.email = f"{username}@dealer.example"
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def rep(make_user: Callable[..., User]) -> User:
    """A sales rep of team A: sees only their own tasks and customers."""
    return _user(make_user, "sales", "li.na")


@pytest.fixture
def mate(make_user: Callable[..., User]) -> User:
    return _user(make_user, "sales", "chen.mate")


@pytest.fixture
def stranger(make_user: Callable[..., User], team_b: Team) -> User:
    return _user(make_user, "sales", "zhao.other", team=team_b)


@pytest.fixture
def manager(make_user: Callable[..., User]) -> User:
    """Team A's manager: sees and assigns the team's tasks; sets the follow-up rules."""
    return _user(make_user, "manager", "wang.jl")


@pytest.fixture
def viewer(make_user: Callable[..., User]) -> User:
    return _user(make_user, "viewer", "viewer")


@pytest.fixture
def marketer(make_user: Callable[..., User]) -> User:
    return _user(make_user, "marketing", "market")


@pytest.fixture
def buyer(rep: User, make_customer: Callable[..., Any]) -> Customer:
    return make_customer(rep, name="张伟", phones=["13800138000"])


@pytest.fixture
def make_task(rep: User) -> Callable[..., Task]:
    """make_task(actor=rep, title=…, due_at=…, **fields) through the service."""

    def make(
        actor: User | None = None, title: str = "回访张伟", due_at: datetime | None = None, **fields: Any
    ) -> Task:
        return services_tasks.task_create(actor=actor or rep, title=title, due_at=due_at or T0, **fields)

    return make
