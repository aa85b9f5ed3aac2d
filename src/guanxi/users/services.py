"""Users, teams and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record, changes_between
from guanxi.core.errors import Conflict, PermissionDenied, ValidationFailed
from guanxi.core.permissions import ensure_can
from guanxi.users.models import ApiToken, Team, User

TOKEN_PREFIX = "gx_"


def _errors(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(details={field: [message]})


def _clean_user(fields: dict[str, Any]) -> dict[str, Any]:
    details: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for key in sorted(set(fields) - {"full_name", "email", "role", "team", "is_active"}):
        details[key] = [_("Unknown field.")]
    if "full_name" in fields:
        cleaned["full_name"] = str(fields["full_name"] or "").strip()[:100]
    if "email" in fields:
        email = str(fields["email"] or "").strip()
        if email:
            try:
                validate_email(email)
            except DjangoValidationError:
                details["email"] = [_("Enter a valid email address.")]
        cleaned["email"] = email
    if "role" in fields:
        if fields["role"] not in User.Role.values:
            details["role"] = [_("“%(value)s” is not one of the allowed values.") % {"value": fields["role"]}]
        cleaned["role"] = fields["role"]
    if "team" in fields:
        if fields["team"] is not None and not isinstance(fields["team"], Team):
            details["team"] = [_("Choose a team.")]
        cleaned["team"] = fields["team"]
    if "is_active" in fields:
        cleaned["is_active"] = bool(fields["is_active"])
    if details:
        raise ValidationFailed(details=details)
    return cleaned


def _user_snapshot(user: User) -> dict[str, Any]:
    return {
        "full_name": user.full_name,
        "email": user.email,
        "role": user.role,
        "team": user.team.name if user.team else None,
        "is_active": user.is_active,
    }


@transaction.atomic
def user_create(*, actor: User | None, username: str, password: str, **fields: Any) -> User:
    """Create a user with a role. `actor` None is the installer (createsuperuser, demo set-up)."""
    if actor is not None:
        ensure_can(actor, "user.manage")
    username = (username or "").strip()
    if not username or len(username) > 150:
        raise _errors("username", _("Enter a user name of at most 150 characters."))
    cleaned = _clean_user(fields)
    try:
        validate_password(password, User(username=username, email=cleaned.get("email", "")))
    except DjangoValidationError as exc:
        raise ValidationFailed(details={"password": list(exc.messages)}) from exc
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(
            _("The user name “%(name)s” is taken.") % {"name": username}, details={"username": username}
        )
    user = User(username=username, **cleaned)
    user.is_staff = user.is_superuser = cleaned.get("role") == User.Role.ADMIN
    user.set_password(password)
    user.save()
    audit_record(
        actor=actor, action="user.create", target=user, changes=changes_between({}, _user_snapshot(user))
    )
    return user


@transaction.atomic
def user_update(*, actor: User, user: User, **fields: Any) -> User:
    ensure_can(actor, "user.manage")
    cleaned = _clean_user(fields)
    if user.pk == actor.pk and (
        cleaned.get("role", user.role) != User.Role.ADMIN or cleaned.get("is_active") is False
    ):
        raise PermissionDenied(_("You cannot take away your own administrator role or deactivate yourself."))
    before = _user_snapshot(user)
    for key, value in cleaned.items():
        setattr(user, key, value)
    user.is_staff = user.is_superuser = user.role == User.Role.ADMIN
    user.save()
    changes = changes_between(before, _user_snapshot(user))
    if changes:
        audit_record(actor=actor, action="user.update", target=user, changes=changes)
    return user


@transaction.atomic
def user_set_password(*, actor: User, user: User, password: str) -> None:
    if actor.pk != user.pk:
        ensure_can(actor, "user.manage")
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(details={"password": list(exc.messages)}) from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(actor=actor, action="user.password", target=user)


@transaction.atomic
def team_create(*, actor: User, name: str, description: str = "") -> Team:
    ensure_can(actor, "user.manage")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise _errors("name", _("Enter a name of at most 100 characters."))
    if Team.objects.filter(name=name).exists():
        raise Conflict(_("The team “%(name)s” exists already.") % {"name": name}, details={"name": name})
    team = Team.objects.create(name=name, description=(description or "").strip()[:300])
    audit_record(actor=actor, action="team.create", target=team, changes=changes_between({}, {"name": name}))
    return team


@transaction.atomic
def team_update(*, actor: User, team: Team, name: str, description: str = "") -> Team:
    ensure_can(actor, "user.manage")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise _errors("name", _("Enter a name of at most 100 characters."))
    if Team.objects.filter(name=name).exclude(pk=team.pk).exists():
        raise Conflict(_("The team “%(name)s” exists already.") % {"name": name}, details={"name": name})
    changes = changes_between(
        {"name": team.name, "description": team.description}, {"name": name, "description": description}
    )
    team.name, team.description = name, (description or "").strip()[:300]
    team.save()
    if changes:
        audit_record(actor=actor, action="team.update", target=team, changes=changes)
    return team


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def token_create(*, actor: User, user: User, name: str) -> tuple[ApiToken, str]:
    """Create an API token for `user`; returns it with the secret, which is shown this once only."""
    if actor.pk != user.pk:
        ensure_can(actor, "user.manage")
    name = (name or "").strip() or "API"
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=secret[:10], digest=_digest(secret))
    audit_record(actor=actor, action="token.create", target=token, data={"user": user.username})
    return token, secret


@transaction.atomic
def token_revoke(*, actor: User, token: ApiToken) -> None:
    if actor.pk != token.user_id:
        ensure_can(actor, "user.manage")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="token.revoke", target=token, data={"user": token.user.username})


def token_authenticate(*, secret: str) -> User | None:
    """The active user behind a bearer token, or None. Marks the token used at most once a minute."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user", "user__team")
        .filter(digest=_digest(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
