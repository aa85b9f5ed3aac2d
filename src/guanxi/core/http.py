from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

if TYPE_CHECKING:
    from guanxi.users.models import User


class ApiRequest(HttpRequest):
    """A request that passed the API's authentication: `auth` is the acting user."""

    auth: Any


class AuthedRequest(HttpRequest):
    """A page request behind `@requires(...)`: the user is signed in."""

    user: User
