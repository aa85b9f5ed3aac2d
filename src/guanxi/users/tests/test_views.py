"""Users, teams and roles pages; the profile with its password change and API tokens."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from conftest import api_me
from django.urls import reverse

from guanxi.audit.models import AuditEvent
from guanxi.users.models import ApiToken, Team, User
from guanxi.users.services import token_create

pytestmark = pytest.mark.django_db

STRONG = "Grün-Tee-7319!"


def _secret_in(body: str) -> str:
    match = re.search(r'id="token-secret"[^>]*value="(gx_[^"]+)"', body)
    assert match, "the page shows no token"
    return match.group(1)


# ---- Access ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,args", [("user-list", []), ("user-create", []), ("team-create", []), ("user-edit", ["self"])]
)
def test_a_sales_user_is_refused_every_administration_page(
    client_for: Any, make_user: Any, name: str, args: list[Any]
) -> None:
    sales = make_user("sales")
    url = reverse(name, args=[sales.pk if a == "self" else a for a in args])
    assert client_for(sales).get(url).status_code == 403


def test_a_sales_user_cannot_create_or_change_users_teams_or_tokens(
    client_for: Any, make_user: Any, team_a: Team
) -> None:
    sales, other = make_user("sales"), make_user("sales")
    client = client_for(sales)
    events = AuditEvent.objects.count()

    created = client.post(
        reverse("user-create"),
        {"username": "intruder", "role": "admin", "password": STRONG, "password_again": STRONG},
    )
    edited = client.post(reverse("user-edit", args=[sales.pk]), {"role": "admin", "is_active": "on"})
    team = client.post(reverse("team-create"), {"name": "黑客组"})
    team_edit = client.post(reverse("team-edit", args=[team_a.pk]), {"name": "renamed"})
    token = client.post(reverse("user-token-create", args=[other.pk]), {"name": "steal"})

    assert [r.status_code for r in (created, edited, team, team_edit, token)] == [403] * 5
    assert not User.objects.filter(username="intruder").exists()
    assert User.objects.get(pk=sales.pk).role == "sales"
    assert list(Team.objects.values_list("name", flat=True)) == ["华南一组"]
    assert not ApiToken.objects.exists()
    assert AuditEvent.objects.count() == events


def test_pages_send_a_signed_out_visitor_to_sign_in(client_for: Any) -> None:
    for url in (reverse("user-list"), reverse("profile")):
        response = client_for(None).get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_post_only_actions_refuse_get(client_for: Any, admin: User) -> None:
    assert client_for(admin).get(reverse("token-create")).status_code == 405
    assert client_for(admin).get(reverse("password-change")).status_code == 405


# ---- Users page -----------------------------------------------------------------------------------------


def test_users_page_lists_users_teams_with_counts_and_the_roles_table(
    client_for: Any, admin: User, make_user: Any, team_b: Team, django_assert_max_num_queries: Any
) -> None:
    make_user("sales", username="li.lei")
    retired = make_user("viewer", username="old.hand", team=team_b)
    retired.is_active = False
    retired.save()

    client = client_for(admin)
    client.get(reverse("profile"))  # the session is in place before counting

    with django_assert_max_num_queries(6):
        response = client.get(reverse("user-list"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "li.lei" in body and "old.hand" in body and "Inactive" in body
    teams = {team.name: team for team in response.context["teams"]}
    assert (teams["华南一组"].member_count, teams["华南一组"].inactive_count) == (2, 0)
    assert (teams["华东二组"].member_count, teams["华东二组"].inactive_count) == (0, 1)
    for text in ("Manage users and teams", "Read the audit log", "Own records", "Masked", "In clear"):
        assert text in body


def test_the_create_page_explains_each_role(client_for: Any, admin: User) -> None:
    body = client_for(admin).get(reverse("user-create")).content.decode()
    assert body.count('name="role"') == 6
    assert "Team records · personal data masked" in body  # viewer
    assert "Define custom fields" in body


# ---- Create and edit users ------------------------------------------------------------------------------


def test_creating_a_user_through_the_page_records_an_audit_event(
    client_for: Any, admin: User, team_a: Team
) -> None:
    response = client_for(admin).post(
        reverse("user-create"),
        {
            "username": "wang.fang",
            "full_name": "王芳",
            "email": "wang.fang@example.cn",
            "role": "manager",
            "team": team_a.pk,
            "password": STRONG,
            "password_again": STRONG,
        },
    )

    assert response.status_code == 302 and response["Location"] == reverse("user-list")
    user = User.objects.get(username="wang.fang")
    assert (user.full_name, user.role, user.team, user.is_active) == ("王芳", "manager", team_a, True)
    assert user.check_password(STRONG)
    event = AuditEvent.objects.get(action="user.create")
    assert (event.actor, event.via, event.target_id) == (admin, "web", str(user.pk))
    assert event.changes["role"] == [None, "manager"]


def test_a_duplicate_user_name_is_a_form_error(client_for: Any, admin: User, make_user: Any) -> None:
    make_user("sales", username="zhao")
    data = {"username": "ZHAO", "role": "sales", "password": STRONG, "password_again": STRONG}

    response = client_for(admin).post(reverse("user-create"), data)

    assert response.status_code == 422
    assert "is taken" in response.context["form"].errors["username"][0]
    assert User.objects.filter(username__iexact="zhao").count() == 1


@pytest.mark.parametrize(
    "password,again,field",
    [
        ("12345678", "12345678", "password"),
        ("short", "short", "password"),
        (STRONG, STRONG + "x", "password_again"),
    ],
)
def test_weak_or_mismatched_passwords_are_refused(
    client_for: Any, admin: User, password: str, again: str, field: str
) -> None:
    data = {"username": "newbie", "role": "sales", "password": password, "password_again": again}

    response = client_for(admin).post(reverse("user-create"), data)

    assert response.status_code == 422
    assert response.context["form"].errors[field]
    assert not User.objects.filter(username="newbie").exists()
    assert not AuditEvent.objects.filter(action="user.create").exists()


def test_editing_a_user_changes_role_team_and_password(
    client_for: Any, admin: User, make_user: Any, team_b: Team
) -> None:
    user = make_user("sales")
    data = {"full_name": "李雷", "email": "", "role": "service", "team": team_b.pk, "is_active": "on"}

    response = client_for(admin).post(
        reverse("user-edit", args=[user.pk]), {**data, "password": STRONG, "password_again": STRONG}
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.full_name, user.role, user.team) == ("李雷", "service", team_b)
    assert user.check_password(STRONG)
    assert AuditEvent.objects.filter(action="user.update", target_id=str(user.pk)).count() == 1
    assert AuditEvent.objects.filter(action="user.password", target_id=str(user.pk)).count() == 1


def test_a_refused_new_password_keeps_the_other_edits_unmade(
    client_for: Any, admin: User, make_user: Any
) -> None:
    user = make_user("sales")
    data = {
        "full_name": "改了",
        "role": "manager",
        "is_active": "on",
        "password": "password",
        "password_again": "password",
    }

    response = client_for(admin).post(reverse("user-edit", args=[user.pk]), data)

    assert response.status_code == 422
    assert response.context["form"].errors["password"]
    user.refresh_from_db()
    assert (user.full_name, user.role) == ("", "sales")
    assert not AuditEvent.objects.filter(action="user.update").exists()


def test_an_administrator_cannot_demote_themselves(client_for: Any, admin: User) -> None:
    response = client_for(admin).post(
        reverse("user-edit", args=[admin.pk]), {"role": "sales", "is_active": "on"}
    )

    assert response.status_code == 422
    assert "administrator role" in str(response.context["form"].non_field_errors())
    admin.refresh_from_db()
    assert admin.role == "admin"


def test_deactivating_a_user_stops_their_token(client_for: Any, admin: User, make_user: Any) -> None:
    user = make_user("sales")
    _token, secret = token_create(actor=user, user=user, name="script")
    assert api_me(secret).status_code == 200

    client_for(admin).post(reverse("user-edit", args=[user.pk]), {"role": "sales"})

    assert User.objects.get(pk=user.pk).is_active is False
    assert api_me(secret).status_code == 401


# ---- Teams ----------------------------------------------------------------------------------------------


def test_creating_and_renaming_a_team_records_audit_events(client_for: Any, admin: User) -> None:
    client = client_for(admin)

    created = client.post(reverse("team-create"), {"name": "西南三组", "description": "成都、重庆"})
    team = Team.objects.get(name="西南三组")
    renamed = client.post(
        reverse("team-edit", args=[team.pk]), {"name": "西南大区", "description": "成都、重庆"}
    )

    assert created.status_code == renamed.status_code == 302
    team.refresh_from_db()
    assert (team.name, team.description) == ("西南大区", "成都、重庆")
    actions = list(AuditEvent.objects.filter(target_type="users.team").values_list("action", flat=True))
    assert sorted(actions) == ["team.create", "team.update"]


def test_a_duplicate_team_name_is_a_form_error(client_for: Any, admin: User, team_a: Team) -> None:
    response = client_for(admin).post(reverse("team-create"), {"name": team_a.name})

    assert response.status_code == 422
    assert "exists already" in response.context["form"].errors["name"][0]
    assert Team.objects.filter(name=team_a.name).count() == 1


# ---- Profile, password, tokens --------------------------------------------------------------------------


def test_every_role_sees_its_profile_with_scope_and_personal_data_rule(
    client_for: Any, make_user: Any
) -> None:
    viewer = make_user("viewer")

    response = client_for(viewer).get(reverse("profile"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Team records" in body and "Masked" in body and "View customers" in body
    assert "Manage users and teams" not in body


def test_a_token_secret_shows_once_and_only_its_digest_is_stored(client_for: Any, make_user: Any) -> None:
    user = make_user("sales")
    client = client_for(user)

    response = client.post(reverse("token-create"), {"name": "ERP sync"})

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    secret = _secret_in(body)
    assert f"Authorization: Bearer {secret}" in body and "/api/v1/customers?q=" in body
    token = ApiToken.objects.get(user=user)
    assert token.name == "ERP sync" and secret.startswith(token.prefix)
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values()]
    assert secret not in stored
    profile = client.get(reverse("profile")).content.decode()
    assert secret not in profile and f"{token.prefix}…" in profile
    assert AuditEvent.objects.get(action="token.create").via == "web"
    me = api_me(secret)
    assert me.status_code == 200 and me.json()["username"] == user.username


def test_revoking_a_token_makes_the_api_refuse_it(client_for: Any, make_user: Any) -> None:
    user = make_user("service")
    token, secret = token_create(actor=user, user=user, name="script")

    response = client_for(user).post(reverse("token-revoke", args=[token.pk]), {"next": reverse("profile")})

    assert response.status_code == 302 and response["Location"] == reverse("profile")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_me(secret).status_code == 401
    assert AuditEvent.objects.filter(action="token.revoke", target_id=str(token.pk)).count() == 1


def test_a_user_cannot_revoke_someone_elses_token(client_for: Any, make_user: Any) -> None:
    owner, other = make_user("sales"), make_user("manager")
    token, secret = token_create(actor=owner, user=owner, name="mine")

    response = client_for(other).post(reverse("token-revoke", args=[token.pk]))

    assert response.status_code == 403
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert api_me(secret).status_code == 200


def test_revoke_does_not_redirect_off_site(client_for: Any, make_user: Any) -> None:
    user = make_user("sales")
    token, _secret = token_create(actor=user, user=user, name="x")

    response = client_for(user).post(
        reverse("token-revoke", args=[token.pk]), {"next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("profile")


def test_an_administrator_creates_a_token_for_another_user(
    client_for: Any, admin: User, make_user: Any
) -> None:
    user = make_user("sales")

    edit_page = client_for(admin).get(reverse("user-edit", args=[user.pk]))
    response = client_for(admin).post(reverse("user-token-create", args=[user.pk]), {"name": "门店收银"})

    assert reverse("user-token-create", args=[user.pk]) in edit_page.content.decode()
    assert response.status_code == 200
    secret = _secret_in(response.content.decode())
    assert api_me(secret).json()["username"] == user.username
    event = AuditEvent.objects.get(action="token.create")
    assert (event.actor, event.data["user"]) == (admin, user.username)


def test_changing_my_password(client_for: Any, make_user: Any) -> None:
    from conftest import PASSWORD

    user = make_user("sales")
    client = client_for(user)

    wrong = client.post(
        reverse("password-change"),
        {"current_password": "nope", "password": STRONG, "password_again": STRONG},
    )
    weak = client.post(
        reverse("password-change"),
        {"current_password": PASSWORD, "password": "abc", "password_again": "abc"},
    )
    right = client.post(
        reverse("password-change"),
        {"current_password": PASSWORD, "password": STRONG, "password_again": STRONG},
    )

    assert wrong.status_code == weak.status_code == 422
    assert wrong.context["password_form"].errors["current_password"]
    assert weak.context["password_form"].errors["password"]
    assert right.status_code == 302
    user.refresh_from_db()
    assert user.check_password(STRONG)
    assert client.get(reverse("profile")).status_code == 200  # still signed in
    assert AuditEvent.objects.filter(action="user.password", actor=user).count() == 1
