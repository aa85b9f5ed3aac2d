"""Fixtures shared by every test: users of each role in two teams, customers they own, and clients
that act for a user on the pages or through the API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import translation

from guanxi.users.models import Team, User
from guanxi.users.services import token_create

PASSWORD = "Test-pass-9431!"

# `smtp_server` (a real local SMTP server), `closed_smtp_port` and `tasks_immediate` for every test.
pytest_plugins = ["guanxi.channels.testing"]


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


@pytest.fixture
def client_for() -> Callable[[User | None], Client]:
    """client_for(user): a client signed in as `user` (None: signed out) that reads the pages in English."""

    def make(user: User | None) -> Client:
        client = Client()
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
        if user is not None:
            client.force_login(user)
        return client

    return make


def bearer(user: User, **options: Any) -> Client:
    """A client that sends `user`'s new API token, asking for English messages."""
    _token, secret = token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE="en", **options)


def api_me(secret: str) -> Any:
    """GET /api/v1/me with the API token `secret`."""
    return Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages in English unless a test switches language itself. Without this the language of a test
    depends on the request before it in the same worker (LocaleMiddleware leaves its language active)."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """PBKDF2 costs half a second a user; tests check behaviour, not hashing strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Tests marked `postgres_only` (real concurrent writers) belong to the PostgreSQL pass of the suite
    (scripts/test.sh runs both); on SQLite they are deselected, not skipped, and said so."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    kept = [item for item in items if item.get_closest_marker("postgres_only") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept
