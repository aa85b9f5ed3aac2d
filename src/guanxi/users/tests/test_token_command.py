"""`guanxi token create|list|revoke`: the secret alone on stdout, audit via=cli, clear errors."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from conftest import api_me
from django.core.management import call_command
from django.core.management.base import CommandError

from guanxi.audit.models import AuditEvent
from guanxi.users.models import ApiToken, User

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_prints_only_a_token_that_authenticates(make_user: Any) -> None:
    alice = make_user("sales", username="alice")

    out, err = run("create", "alice")

    secret = out.strip()
    assert out == secret + "\n" and secret.startswith("gx_") and " " not in secret
    assert "shown only this once" in err
    response = api_me(secret)
    assert response.status_code == 200 and response.json()["username"] == "alice"
    token = ApiToken.objects.get(user=alice)
    assert token.name == "CLI"
    event = AuditEvent.objects.get(action="token.create")
    assert (event.via, event.actor, event.target_id) == ("cli", alice, str(token.pk))


def test_create_takes_a_name(make_user: Any) -> None:
    make_user("manager", username="alice")

    run("create", "alice", "--name", "ERP sync")

    assert ApiToken.objects.get().name == "ERP sync"


def test_list_shows_prefixes_but_never_secrets(make_user: Any) -> None:
    make_user("sales", username="alice")
    secret = run("create", "alice", "--name", "ERP")[0].strip()

    out, _err = run("list", "alice")

    token = ApiToken.objects.get()
    assert token.prefix in out and "ERP" in out and "active" in out
    assert secret not in out


def test_revoke_by_prefix_stops_the_token(make_user: Any) -> None:
    make_user("sales", username="alice")
    secret = run("create", "alice")[0].strip()
    prefix = ApiToken.objects.get().prefix

    _out, err = run("revoke", prefix)

    assert "revoked" in err
    assert api_me(secret).status_code == 401
    assert AuditEvent.objects.get(action="token.revoke").via == "cli"
    with pytest.raises(CommandError, match="No active token"):
        run("revoke", prefix)


def test_an_unknown_user_is_a_clear_error(db: Any) -> None:
    with pytest.raises(CommandError, match="No user named 'nobody'") as caught:
        run("create", "nobody")

    assert caught.value.returncode != 0
    assert not ApiToken.objects.exists()
    with pytest.raises(CommandError, match="No user named"):
        run("list", "nobody")


def test_an_inactive_user_gets_no_token(make_user: Any) -> None:
    user = make_user("sales", username="gone")
    User.objects.filter(pk=user.pk).update(is_active=False)

    with pytest.raises(CommandError, match="inactive"):
        run("create", "gone")

    assert not ApiToken.objects.exists()
