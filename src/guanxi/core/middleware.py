from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from guanxi.core.context import origin


class RequestContextMiddleware:
    """Records where a request comes from, so the audit log can say it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        via = "api" if request.path.startswith("/api/") else "web"
        ip = request.META.get("REMOTE_ADDR")
        with origin(via, ip=ip, user_agent=request.META.get("HTTP_USER_AGENT", "")):
            return self.get_response(request)
