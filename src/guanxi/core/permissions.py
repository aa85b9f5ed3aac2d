"""Roles, what each may do, and which records each sees.

A role gives a user a set of permissions, a record scope (own, team, all) and whether personal data
shows in clear. The table below is the one place these rules live; docs/permissions.md prints it.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from guanxi.core.errors import PermissionDenied

M = TypeVar("M", bound=Model)


class Actor(Protocol):
    """Who acts: a signed-in user (or the anonymous user, who may do nothing)."""

    @property
    def pk(self) -> Any: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def is_authenticated(self) -> bool: ...


OWN, TEAM, ALL = "own", "team", "all"
SCOPE_LABELS = {OWN: _("Own records"), TEAM: _("Team records"), ALL: _("All records")}

PERMISSIONS = {
    "customer.view": _("View customers"),
    "customer.create": _("Create customers"),
    "customer.change": _("Edit customers, contacts and assets"),
    "customer.delete": _("Delete customers"),
    "customer.assign": _("Change a customer's owner and team"),
    "customer.merge": _("Merge duplicate customers"),
    "customer.import": _("Import customers from files"),
    "customer.export": _("Export customer lists"),
    "customer.note": _("Add notes"),
    "consent.change": _("Record consent"),
    "tag.apply": _("Tag customers"),
    "tag.manage": _("Create and delete tags"),
    "customfield.manage": _("Define custom fields"),
    "user.manage": _("Manage users and teams"),
    "audit.view": _("Read the audit log"),
    "catalog.manage": _("Manage products and stores"),
    "order.view": _("View orders"),
    "order.create": _("Book orders"),
    "order.refund": _("Refund orders"),
    "order.import": _("Import orders from files"),
    "analytics.view": _("View analytics: RFM segments, churn risk, lifetime value, recommendations"),
    "analytics.refresh": _("Recompute the analytics and change their settings"),
    "lead.view": _("View leads"),
    "lead.create": _("Enter leads"),
    "lead.change": _("Work leads: edit, qualify, disqualify, convert"),
    "lead.assign": _("Assign leads and set the assignment rules"),
    "opportunity.view": _("View opportunities"),
    "opportunity.create": _("Create opportunities"),
    "opportunity.change": _("Edit opportunities, move them between stages, close them"),
    "pipeline.manage": _("Set up pipelines and their stages"),
    "quote.view": _("View quotes"),
    "quote.create": _("Prepare and send quotes"),
    "activity.view": _("View activities and tasks"),
    "activity.create": _("Log activities and manage tasks"),
    "followup.manage": _("Set the follow-up rules"),
    "email.view": _("View the outgoing email queue"),
    "sales_report.view": _("View the sales forecast and reports"),
}

_WORK = {
    "customer.view",
    "customer.create",
    "customer.change",
    "customer.note",
    "consent.change",
    "tag.apply",
    "activity.view",
    "activity.create",
}

# Selling: leads, opportunities and quotes, within the role's record scope.
_SELL = {
    "lead.view",
    "lead.create",
    "lead.change",
    "opportunity.view",
    "opportunity.create",
    "opportunity.change",
    "quote.view",
    "quote.create",
}

ROLES: dict[str, dict[str, Any]] = {
    "admin": {"scope": ALL, "pii": True, "perms": set(PERMISSIONS)},
    "manager": {
        "scope": TEAM,
        "pii": True,
        "perms": _WORK
        | {
            "customer.delete",
            "customer.assign",
            "customer.merge",
            "customer.import",
            "customer.export",
            "tag.manage",
            "catalog.manage",
            "order.view",
            "order.create",
            "order.refund",
            "order.import",
            "analytics.view",
            "analytics.refresh",
            "lead.assign",
            "pipeline.manage",
            "followup.manage",
            "email.view",
            "sales_report.view",
        }
        | _SELL,
    },
    "sales": {
        "scope": OWN,
        "pii": True,
        "perms": _WORK | _SELL | {"order.view", "order.create", "analytics.view"},
    },
    "service": {"scope": TEAM, "pii": True, "perms": (_WORK - {"customer.create"}) | {"order.view"}},
    "marketing": {
        "scope": ALL,
        "pii": False,
        "perms": {
            "customer.view",
            "customer.export",
            "tag.apply",
            "tag.manage",
            "order.view",
            "analytics.view",
            "lead.view",
            "sales_report.view",
        },
    },
    "viewer": {
        "scope": TEAM,
        "pii": False,
        "perms": {
            "customer.view",
            "order.view",
            "lead.view",
            "opportunity.view",
            "quote.view",
            "activity.view",
        },
    },
}


def role_rules(actor: Actor) -> dict[str, Any]:
    return ROLES.get(getattr(actor, "role", ""), {"scope": OWN, "pii": False, "perms": set()})


def can(actor: Actor, perm: str) -> bool:
    if not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        return False
    return perm in role_rules(actor)["perms"]


def ensure_can(actor: Actor, perm: str) -> None:
    if not can(actor, perm):
        raise PermissionDenied(details={"permission": perm})


def sees_pii(actor: Actor) -> bool:
    return bool(role_rules(actor)["pii"])


def scope_of(actor: Actor) -> str:
    return str(role_rules(actor)["scope"])


def scope_q(actor: Actor, *, owner: str = "owner", team: str = "team") -> Q:
    """The records `actor` may see, as a filter on the owner and team fields given."""
    if not getattr(actor, "is_authenticated", False):
        return Q(pk__in=[])
    scope = scope_of(actor)
    if scope == ALL:
        return Q()
    mine = Q(**{f"{owner}_id": actor.pk})
    team_id = getattr(actor, "team_id", None)
    if scope == TEAM and team_id is not None:
        return mine | Q(**{f"{team}_id": team_id})
    return mine


def visible(actor: Actor, queryset: QuerySet[M], *, owner: str = "owner", team: str = "team") -> QuerySet[M]:
    return queryset.filter(scope_q(actor, owner=owner, team=team))
