from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class ApiRequest(HttpRequest):
    """A request that passed the API's authentication: `auth` is the acting user."""

    auth: Any
