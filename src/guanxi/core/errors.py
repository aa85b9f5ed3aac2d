"""Domain errors with stable codes. The web maps them to form errors, the API to 4xx JSON."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


class DomainError(Exception):
    code = "error"
    status = 400
    default_message = "The request cannot be carried out."

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        self.message = str(message or self.default_message)
        self.details = details if details is not None else {}
        super().__init__(self.message)


class ValidationFailed(DomainError):
    """Input that breaks a rule; `details` maps each field to its messages."""

    code = "validation_failed"
    status = 422
    default_message = "Some fields are not valid."


class Errors:
    """Collects field errors so one response reports every problem, not the first."""

    def __init__(self) -> None:
        self.details: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.details.setdefault(field, []).append(str(message))

    def raise_if_any(self) -> None:
        if self.details:
            raise ValidationFailed(_("Some fields are not valid."), details=self.details)


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    default_message = "You are not allowed to do this."


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = "Not found."


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = "This conflicts with an existing record."
