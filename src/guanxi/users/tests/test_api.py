"""The users API: who am I, users and teams (read-only), with its errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import bearer
from django.test import Client

from guanxi.core.permissions import ROLES
from guanxi.users.models import Team, User

API = "/api/v1"


ENDPOINTS = ["/me", "/users", "/users/{user}", "/teams"]


def test_the_endpoint_table_lists_every_users_operation(admin: User) -> None:
    schema = bearer(admin).get(f"{API}/openapi.json").json()
    operations = {
        (method, path.removeprefix(API).replace("{user_id}", "{user}"))
        for path, items in schema["paths"].items()
        for method, operation in items.items()
        if "users" in operation["tags"]
    }
    assert operations == {("get", p) for p in ENDPOINTS}


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("authorization", [None, "Bearer gx_wrong", "Bearer ", "Token abc"])
def test_every_endpoint_answers_401_without_valid_credentials(
    admin: User, path: str, authorization: str | None
) -> None:
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = Client(HTTP_ACCEPT_LANGUAGE="en", **headers).get(API + path.replace("{user}", str(admin.pk)))
    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "message": "Sign in or send a valid bearer token.",
        "details": {},
    }


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_signed_in_role_reads_users_and_teams(
    make_user: Callable[..., User], admin: User, role: str, path: str
) -> None:
    user = make_user(role)
    response = bearer(user).get(API + path.replace("{user}", str(admin.pk)))
    assert response.status_code == 200


@pytest.mark.parametrize("role", sorted(ROLES))
def test_me_tells_the_role_scope_and_permissions(
    make_user: Callable[..., User], team_a: Team, role: str
) -> None:
    # given
    user = make_user(role, team=team_a)

    # when
    body = bearer(user).get(f"{API}/me").json()

    # then
    assert body == {
        "id": user.pk,
        "username": user.username,
        "full_name": "",
        "role": role,
        "team": {"id": team_a.pk, "name": team_a.name, "description": ""},
        "is_active": True,
        "scope": ROLES[role]["scope"],
        "sees_personal_data": ROLES[role]["pii"],
        "permissions": sorted(ROLES[role]["perms"]),
    }


def test_me_works_with_a_session(admin: User) -> None:
    client = Client()
    client.force_login(admin)
    assert client.get(f"{API}/me").json()["username"] == "admin"


def test_users_lists_active_users_without_secrets(admin: User, make_user: Callable[..., User]) -> None:
    # given
    gone = make_user("sales", username="gone")
    gone.is_active = False
    gone.save()
    make_user("viewer", username="viewer1")

    # when
    body = bearer(admin).get(f"{API}/users").json()

    # then
    assert [u["username"] for u in body] == ["admin", "viewer1"]
    assert all(set(u) == {"id", "username", "full_name", "role", "team", "is_active"} for u in body)


def test_user_get_and_its_404(admin: User, make_user: Callable[..., User]) -> None:
    client = bearer(admin)
    other = make_user("sales")
    assert client.get(f"{API}/users/{other.pk}").json()["username"] == other.username
    for missing in [987654, 2**63 + 1]:
        response = client.get(f"{API}/users/{missing}")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    malformed = client.get(f"{API}/users/abc")
    assert malformed.status_code == 422
    assert malformed.json()["details"] == {
        "user_id": ["Input should be a valid integer, unable to parse string as an integer"]
    }


def test_teams_lists_every_team(admin: User, team_a: Team, team_b: Team) -> None:
    body = bearer(admin).get(f"{API}/teams").json()
    assert [t["name"] for t in body] == sorted([team_a.name, team_b.name])


@pytest.mark.parametrize("path", ENDPOINTS)
def test_the_users_api_is_read_only(admin: User, path: str) -> None:
    client = bearer(admin)
    for method in ("post", "patch", "delete", "put"):
        response = getattr(client, method)(
            API + path.replace("{user}", str(admin.pk)), {}, content_type="application/json"
        )
        assert response.status_code == 405, (method, path)
