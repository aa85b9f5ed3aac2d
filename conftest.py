"""Fixtures shared by every test: users of each role in two teams, and customers they own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from guanxi.users.models import Team, User

PASSWORD = "Test-pass-9431!"


@pytest.fixture
def team_a(db: Any) -> Team:
    return Team.objects.create(name="华南一组")


@pytest.fixture
def team_b(db: Any) -> Team:
    return Team.objects.create(name="华东二组")


@pytest.fixture
def make_user(db: Any, team_a: Team) -> Callable[..., User]:
    """make_user(role, team=team_a, username=None): a user with that role, password PASSWORD."""
    counter = {"n": 0}

    def make(role: str = "sales", team: Team | str | None = "default", username: str | None = None) -> User:
        counter["n"] += 1
        user = User(
            username=username or f"{role}{counter['n']}",
            role=role,
            team=team_a if team == "default" else team,  # type: ignore[arg-type]
            is_staff=role == "admin",
            is_superuser=role == "admin",
        )
        user.set_password(PASSWORD)
        user.save()
        return user

    return make


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("admin", username="admin")


@pytest.fixture
def make_customer(db: Any) -> Callable[..., Any]:
    """make_customer(actor, name=…, **fields) through the service, as every write goes."""
    from guanxi.customers.services import customer_create

    def make(actor: User, name: str = "张伟", **fields: Any) -> Any:
        return customer_create(actor=actor, name=name, **fields)

    return make


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """PBKDF2 costs half a second a user; tests check behaviour, not hashing strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
