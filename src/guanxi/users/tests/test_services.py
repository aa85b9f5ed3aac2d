"""Users, teams and API tokens: who may manage them, what is validated, what is audited."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

from guanxi.audit.models import AuditEvent
from guanxi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from guanxi.core.permissions import ROLES
from guanxi.users import selectors
from guanxi.users.models import ApiToken, Team, User
from guanxi.users.services import (
    team_create,
    team_update,
    token_authenticate,
    token_create,
    token_revoke,
    user_create,
    user_set_password,
    user_update,
)

STRONG = "Kx9-long-enough-pass!"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def state() -> dict[str, Any]:
    return {
        "users": list(User.objects.order_by("pk").values()),
        "teams": list(Team.objects.order_by("pk").values()),
        "tokens": list(ApiToken.objects.order_by("pk").values()),
        "audit": AuditEvent.objects.count(),
    }


# user_create


def test_user_create_makes_a_user_with_a_role_and_audits_it(admin: User, team_a: Team) -> None:
    # when
    user = user_create(
        actor=admin,
        username=" wang.fang ",
        password=STRONG,
        full_name="王芳",
        email="wang@example.com",
        role="manager",
        team=team_a,
    )

    # then
    user.refresh_from_db()
    assert (user.username, user.full_name, user.role, user.team, user.is_active) == (
        "wang.fang",
        "王芳",
        "manager",
        team_a,
        True,
    )
    assert (user.is_staff, user.is_superuser) == (False, False)
    assert user.check_password(STRONG)
    event = AuditEvent.objects.get(action="user.create")
    assert (event.actor, event.target_label) == (admin, "王芳")
    assert event.changes == {
        "full_name": [None, "王芳"],
        "email": [None, "wang@example.com"],
        "role": [None, "manager"],
        "team": [None, team_a.name],
        "is_active": [None, True],
    }
    assert STRONG not in str(event.changes) + str(event.data)


def test_user_create_of_an_administrator_gives_django_admin_rights(admin: User) -> None:
    user = user_create(actor=admin, username="root2", password=STRONG, role="admin")
    assert (user.is_staff, user.is_superuser) == (True, True)


def test_user_create_by_the_installer_is_audited_as_system(db: Any) -> None:
    user_create(actor=None, username="first", password=STRONG, role="admin")
    event = AuditEvent.objects.get(action="user.create")
    assert (event.actor, event.actor_label) == (None, "system")


@pytest.mark.parametrize("password", ["123", "password", "first-user", "12345678901"])
def test_user_create_refuses_a_weak_password(admin: User, password: str) -> None:
    before = state()
    with pytest.raises(ValidationFailed) as caught:
        user_create(actor=admin, username="first-user", password=password)
    assert list(caught.value.details) == ["password"]
    assert caught.value.details["password"]
    assert state() == before


@pytest.mark.parametrize("username", ["admin", "ADMIN", " Admin "])
def test_user_create_with_a_taken_username_is_a_conflict(admin: User, username: str) -> None:
    before = state()
    with pytest.raises(Conflict) as caught:
        user_create(actor=admin, username=username, password=STRONG)
    assert caught.value.status == 409
    assert caught.value.details == {"username": username.strip()}
    assert state() == before


@pytest.mark.parametrize(
    ("fields", "details"),
    [
        ({"username": ""}, {"username": ["Enter a user name of at most 150 characters."]}),
        ({"username": "u" * 151}, {"username": ["Enter a user name of at most 150 characters."]}),
        ({"role": "king"}, {"role": ["“king” is not one of the allowed values."]}),
        ({"email": "nope"}, {"email": ["Enter a valid email address."]}),
        ({"team": "华南一组"}, {"team": ["Choose a team."]}),
        ({"shoe_size": 42}, {"shoe_size": ["Unknown field."]}),
    ],
)
def test_user_create_refuses_wrong_fields(
    admin: User, fields: dict[str, Any], details: dict[str, Any]
) -> None:
    before = state()
    with pytest.raises(ValidationFailed) as caught:
        user_create(actor=admin, **{"username": "newbie", "password": STRONG, **fields})
    assert caught.value.details == details
    assert state() == before


@pytest.mark.parametrize("role", sorted(r for r in ROLES if "user.manage" not in ROLES[r]["perms"]))
def test_only_a_user_manager_creates_users(make_user: Callable[..., User], role: str) -> None:
    actor = make_user(role)
    before = state()
    with pytest.raises(PermissionDenied) as caught:
        user_create(actor=actor, username="newbie", password=STRONG)
    assert caught.value.details == {"permission": "user.manage"}
    assert state() == before


# user_update and user_set_password


def test_user_update_records_changes(admin: User, make_user: Callable[..., User], team_b: Team) -> None:
    # given
    user = make_user("sales")

    # when
    user_update(actor=admin, user=user, role="admin", team=team_b, full_name="李雷")

    # then
    user.refresh_from_db()
    assert (user.role, user.team, user.full_name, user.is_staff, user.is_superuser) == (
        "admin",
        team_b,
        "李雷",
        True,
        True,
    )
    event = AuditEvent.objects.get(action="user.update")
    assert event.changes == {
        "full_name": [None, "李雷"],
        "role": ["sales", "admin"],
        "team": ["华南一组", "华东二组"],
    }


def test_user_update_without_a_change_writes_no_event(admin: User, make_user: Callable[..., User]) -> None:
    user = make_user("sales")
    user_update(actor=admin, user=user, role="sales")
    assert not AuditEvent.objects.filter(action="user.update").exists()


@pytest.mark.parametrize("fields", [{"role": "manager"}, {"role": "viewer"}, {"is_active": False}])
def test_an_administrator_cannot_remove_their_own_admin_role_or_deactivate_themselves(
    admin: User, fields: dict[str, Any]
) -> None:
    before = state()
    with pytest.raises(PermissionDenied):
        user_update(actor=admin, user=admin, **fields)
    assert state() == before
    admin.refresh_from_db()
    assert (admin.role, admin.is_active, admin.is_superuser) == ("admin", True, True)


def test_an_administrator_may_demote_another_administrator(
    admin: User, make_user: Callable[..., User]
) -> None:
    other = make_user("admin")
    user_update(actor=admin, user=other, role="viewer")
    other.refresh_from_db()
    assert (other.role, other.is_staff, other.is_superuser) == ("viewer", False, False)


def test_user_update_needs_user_manage(make_user: Callable[..., User]) -> None:
    manager = make_user("manager")
    sales = make_user("sales")
    before = state()
    with pytest.raises(PermissionDenied):
        user_update(actor=manager, user=sales, role="manager")
    with pytest.raises(PermissionDenied):
        user_update(actor=manager, user=manager, role="admin")
    assert state() == before


def test_a_user_sets_their_own_password(make_user: Callable[..., User]) -> None:
    user = make_user("sales")
    user_set_password(actor=user, user=user, password=STRONG)
    user.refresh_from_db()
    assert user.check_password(STRONG)
    event = AuditEvent.objects.get(action="user.password")
    assert (event.actor, event.changes, event.data) == (user, {}, {})


def test_setting_another_users_password_needs_user_manage(
    admin: User, make_user: Callable[..., User]
) -> None:
    sales = make_user("sales")
    other = make_user("sales")
    before = state()
    with pytest.raises(PermissionDenied):
        user_set_password(actor=sales, user=other, password=STRONG)
    assert state() == before
    user_set_password(actor=admin, user=other, password=STRONG)
    other.refresh_from_db()
    assert other.check_password(STRONG)


def test_a_weak_new_password_is_refused(make_user: Callable[..., User]) -> None:
    user = make_user("sales")
    before = state()
    with pytest.raises(ValidationFailed) as caught:
        user_set_password(actor=user, user=user, password="short")
    assert list(caught.value.details) == ["password"]
    assert state() == before


# teams


def test_team_create_and_update(admin: User) -> None:
    team = team_create(actor=admin, name=" 西南三组 ", description="成都")
    assert (team.name, team.description) == ("西南三组", "成都")
    team_update(actor=admin, team=team, name="西南四组", description="成都")
    team.refresh_from_db()
    assert team.name == "西南四组"
    assert AuditEvent.objects.get(action="team.update").changes == {"name": ["西南三组", "西南四组"]}


def test_team_names_are_unique_and_required(admin: User, team_a: Team, team_b: Team) -> None:
    before = state()
    with pytest.raises(Conflict):
        team_create(actor=admin, name=team_a.name)
    with pytest.raises(Conflict):
        team_update(actor=admin, team=team_b, name=team_a.name)
    with pytest.raises(ValidationFailed) as caught:
        team_create(actor=admin, name="  ")
    assert caught.value.details == {"name": ["Enter a name of at most 100 characters."]}
    assert state() == before


def test_teams_need_user_manage(make_user: Callable[..., User], team_a: Team) -> None:
    manager = make_user("manager")
    before = state()
    with pytest.raises(PermissionDenied):
        team_create(actor=manager, name="新组")
    with pytest.raises(PermissionDenied):
        team_update(actor=manager, team=team_a, name="新组")
    assert state() == before


# API tokens


def test_token_create_stores_only_the_sha256_of_the_secret(make_user: Callable[..., User]) -> None:
    # given
    user = make_user("sales")

    # when
    token, secret = token_create(actor=user, user=user, name=" 对账脚本 ")

    # then
    assert secret.startswith("gx_") and len(secret) > 40
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert row["digest"] == hashlib.sha256(secret.encode()).hexdigest()
    assert row["prefix"] == secret[:10]
    assert row["name"] == "对账脚本"
    stored = " ".join(str(v) for v in row.values())
    assert secret not in stored
    audit = AuditEvent.objects.get(action="token.create")
    assert secret not in str(audit.changes) + str(audit.data) + audit.target_label
    assert audit.data == {"user": user.username}


def test_two_tokens_have_different_secrets(make_user: Callable[..., User]) -> None:
    user = make_user("sales")
    secrets = {token_create(actor=user, user=user, name="t")[1] for _ in range(5)}
    assert len(secrets) == 5


def test_token_authenticate_returns_the_tokens_user(make_user: Callable[..., User]) -> None:
    user = make_user("sales")
    token, secret = token_create(actor=user, user=user, name="t")
    assert token_authenticate(secret=secret) == user
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_token_authenticate_marks_use_at_most_once_a_minute(
    make_user: Callable[..., User], django_assert_num_queries: Any
) -> None:
    user = make_user("sales")
    token, secret = token_create(actor=user, user=user, name="t")
    token_authenticate(secret=secret)
    with django_assert_num_queries(1):
        token_authenticate(secret=secret)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    with django_assert_num_queries(2):
        token_authenticate(secret=secret)


@pytest.mark.parametrize("secret", ["", "gx_", "gx_wrong", "Bearer gx_x", "not-a-token", "gx_" + "x" * 5000])
def test_token_authenticate_refuses_an_unknown_secret(make_user: Callable[..., User], secret: str) -> None:
    user = make_user("sales")
    token_create(actor=user, user=user, name="t")
    assert token_authenticate(secret=secret) is None


def test_a_revoked_token_is_refused(make_user: Callable[..., User]) -> None:
    # given
    user = make_user("sales")
    token, secret = token_create(actor=user, user=user, name="t")

    # when
    token_revoke(actor=user, token=token)
    token_revoke(actor=user, token=token)  # twice: the second is a no-op

    # then
    assert token_authenticate(secret=secret) is None
    token.refresh_from_db()
    assert token.revoked_at is not None and not token.is_active
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


def test_the_token_of_an_inactive_user_is_refused(admin: User, make_user: Callable[..., User]) -> None:
    user = make_user("sales")
    _token, secret = token_create(actor=user, user=user, name="t")
    user_update(actor=admin, user=user, is_active=False)
    assert token_authenticate(secret=secret) is None


def test_tokens_of_another_user_need_user_manage(admin: User, make_user: Callable[..., User]) -> None:
    sales = make_user("sales")
    other = make_user("sales")
    token, _secret = token_create(actor=other, user=other, name="t")
    before = state()
    with pytest.raises(PermissionDenied):
        token_create(actor=sales, user=other, name="mine now")
    with pytest.raises(PermissionDenied):
        token_revoke(actor=sales, token=token)
    with pytest.raises(PermissionDenied):
        selectors.token_list(actor=sales, user=other)
    with pytest.raises(PermissionDenied):
        selectors.token_get(actor=sales, token_id=token.pk)
    assert state() == before
    # an administrator may
    assert list(selectors.token_list(actor=admin, user=other)) == [token]
    token_revoke(actor=admin, token=token)


# selectors


def test_user_list_shows_active_users_unless_asked(admin: User, make_user: Callable[..., User]) -> None:
    gone = make_user("sales")
    gone.is_active = False
    gone.save()
    viewer = make_user("viewer")
    assert set(selectors.user_list(actor=viewer)) == {admin, viewer}
    assert set(selectors.user_list(actor=viewer, include_inactive=True)) == {admin, viewer, gone}


def test_user_and_team_get(admin: User, team_a: Team) -> None:
    assert selectors.user_get(actor=admin, user_id=admin.pk) == admin
    assert selectors.team_get(actor=admin, team_id=team_a.pk) == team_a
    assert selectors.user_get_by_username(username="admin") == admin
    for call in (
        lambda: selectors.user_get(actor=admin, user_id=10**6),
        lambda: selectors.user_get(actor=admin, user_id="abc"),  # type: ignore[arg-type]
        lambda: selectors.team_get(actor=admin, team_id=10**6),
        lambda: selectors.user_get_by_username(username="nobody"),
        lambda: selectors.token_get(actor=admin, token_id=10**6),
    ):
        with pytest.raises(NotFound):
            call()
