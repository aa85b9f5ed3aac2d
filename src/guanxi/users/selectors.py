from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from guanxi.core.errors import NotFound
from guanxi.core.permissions import ensure_can
from guanxi.users.models import ApiToken, Team, User


def user_list(*, actor: User, include_inactive: bool = False) -> QuerySet[User]:
    """Every signed-in user may read who the users are (to choose an owner); managing them is apart."""
    users = User.objects.select_related("team")
    return users if include_inactive else users.filter(is_active=True)


def user_get(*, actor: User, user_id: int) -> User:
    try:
        return User.objects.select_related("team").get(pk=user_id)
    except (User.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("User not found.")) from exc


def user_get_by_username(*, username: str) -> User:
    """For the CLI, which acts as the installer."""
    try:
        return User.objects.select_related("team").get(username=username)
    except User.DoesNotExist as exc:
        raise NotFound(_("No user “%(name)s”.") % {"name": username}) from exc


def team_list(*, actor: User) -> QuerySet[Team]:
    return Team.objects.all()


def team_get(*, actor: User, team_id: int) -> Team:
    try:
        return Team.objects.get(pk=team_id)
    except (Team.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("Team not found.")) from exc


def token_list(*, actor: User, user: User) -> QuerySet[ApiToken]:
    if actor.pk != user.pk:
        ensure_can(actor, "user.manage")
    return ApiToken.objects.filter(user=user)


def token_get(*, actor: User, token_id: int) -> ApiToken:
    tokens = ApiToken.objects.select_related("user")
    try:
        token = tokens.get(pk=token_id)
    except (ApiToken.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound(_("Token not found.")) from exc
    if token.user_id != actor.pk:
        ensure_can(actor, "user.manage")
    return token


def team_list_with_counts(*, actor: User) -> QuerySet[Team]:
    """Teams with `member_count` (active members) and `inactive_count`, for the users page."""
    ensure_can(actor, "user.manage")
    return Team.objects.annotate(
        member_count=Count("members", filter=Q(members__is_active=True)),
        inactive_count=Count("members", filter=Q(members__is_active=False)),
    )


def token_find_by_prefix(*, prefix: str) -> list[ApiToken]:
    """Tokens whose shown prefix is `prefix`, newest first. For the CLI, which acts as the installer."""
    prefix = (prefix or "").strip().rstrip("…").rstrip(".")
    if not prefix:
        return []
    return list(ApiToken.objects.select_related("user").filter(prefix=prefix[:12]))
