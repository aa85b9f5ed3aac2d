"""The one NinjaAPI, mounted at /api/v1/. Errors are JSON {code, message, details} with a fitting status."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer

from guanxi.activities.api import router as activities_router
from guanxi.activities.api_tasks import router as tasks_router
from guanxi.analytics.api import router as analytics_router
from guanxi.audit.api import router as audit_router
from guanxi.catalog.api import router as catalog_router
from guanxi.core.errors import DomainError
from guanxi.customers.api import router as customers_router
from guanxi.customers.api_export import router as export_router
from guanxi.customers.api_merge import router as merge_router
from guanxi.imports.api import router as imports_router
from guanxi.leads.api import router as leads_router
from guanxi.opportunities.api import router as opportunities_router
from guanxi.quotes.api import router as quotes_router
from guanxi.sales.api import router as sales_router
from guanxi.users.api import router as users_router
from guanxi.users.services import token_authenticate


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return token_authenticate(secret=token)


class Session(APIKeyCookie):
    """The browser session; CSRF is checked on unsafe methods, and only for a signed-in session, so an
    anonymous request gets 401 rather than a CSRF 403."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return request.user if request.user.is_authenticated else None


api = NinjaAPI(
    title="Guanxi API",
    version="1",
    description=(
        "The Guanxi CRM API. Authenticate with `Authorization: Bearer <token>` (create a token on your "
        "profile page or with `guanxi token create <username>`) or a browser session. Errors are JSON "
        "`{code, message, details}`."
    ),
    auth=[BearerToken(), Session()],
    urls_namespace="api",
)


def _error(request: HttpRequest, status: int, code: str, message: str, details: Any = None) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "details": details or {}}, status=status
    )


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.message, exc.details)


REQUEST_PARTS = ("body", "query", "path", "header", "cookie", "form", "file")


def _field_name(location: Any) -> str:
    """The field an error is about: ("body", "payload", "phones", 0) → "phones.0".

    Only the leading parts go: where in the request (body, query, path) and, for the body, the view's
    parameter (every view names it `payload`), so a field called body or query keeps its name.
    """
    parts = list(location)
    source = parts.pop(0) if parts[:1] and parts[0] in REQUEST_PARTS else None
    if source == "body" and parts[:1] == ["payload"]:
        parts.pop(0)
    return ".".join(map(str, parts)) or "request"


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details: dict[str, list[str]] = {}
    for error in exc.errors:
        details.setdefault(_field_name(error.get("loc", ())), []).append(str(error.get("msg", "")))
    return _error(request, 422, "validation_failed", _("Some fields are not valid."), details)


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "not_authenticated", _("Sign in or send a valid bearer token."))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 404, "not_found", _("Not found."))


@api.exception_handler(ObjectDoesNotExist)
def on_object_missing(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 404, "not_found", _("Not found."))


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {
        400: "bad_request",
        401: "not_authenticated",
        403: "permission_denied",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        429: "throttled",
    }
    return _error(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc))


# The export router comes first: its /customers/export.csv must match before /customers/{customer_id}.
# Routers with fixed paths under /customers/ (export.csv, duplicates) come before /customers/{customer_id}.
api.add_router("/", export_router)
api.add_router("/", merge_router)
api.add_router("/", customers_router)
api.add_router("/", users_router)
api.add_router("/", imports_router)
api.add_router("/", catalog_router)
api.add_router("/", sales_router)
api.add_router("/audit", audit_router)
api.add_router("/analytics", analytics_router)
api.add_router("/", leads_router)
api.add_router("/", opportunities_router)
api.add_router("/", quotes_router)
api.add_router("/", activities_router)
api.add_router("/", tasks_router)
