"""Every route × every role × own / team / other-team record, generated from the URL configuration.

A new page without an access rule (`@requires(...)` or `@public`) fails `test_every_route_declares_access`;
a new API operation that answers without authentication fails `test_every_api_operation_needs_auth`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from guanxi.activities import services as activity_services
from guanxi.activities import services_followups, services_tasks
from guanxi.activities.models import Notification
from guanxi.catalog import services as catalog_services
from guanxi.channels.services import email_enqueue
from guanxi.core.permissions import ROLES, can
from guanxi.customers import services as customer_services
from guanxi.imports import services as import_services
from guanxi.imports.models import ImportJob
from guanxi.leads import services as lead_services
from guanxi.opportunities.services import opportunity_create, pipeline_default
from guanxi.quotes import services as quote_services
from guanxi.sales import services as sales_services
from guanxi.users.models import Team, User
from guanxi.users.services import token_create

# Framework routes whose access Django itself decides.
FRAMEWORK = {"set_language": "public"}
OBJECT_KINDS = ("customer", "contact", "asset", "tag", "customfield", "user", "team", "token")
OBJECT_KINDS += ("product", "store")
# Records that belong to someone (a customer's, or an owner's and team's): 404 outside the reader's scope.
SCOPED_KINDS = (
    "customer",
    "contact",
    "asset",
    "order",
    "lead",
    "quote",
    "task",
    "message",
    "opportunity",
    "activity",
)
# Routes that change a record only its owner or a manager (customer.assign) may change: 403 for other
# readers who see it.
OWNER_OR_MANAGER = {"activity-edit", "activity-delete"}


def iter_routes(patterns: list[Any] | None = None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for item in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(item, URLResolver):
            if str(item.pattern).startswith("api/"):
                continue  # the API has its own matrix below
            yield from iter_routes(item.url_patterns, prefix + str(item.pattern))
        else:
            yield prefix + str(item.pattern), item


WEB_ROUTES = sorted(iter_routes(), key=lambda r: r[0])


def access_of(pattern: URLPattern) -> str | None:
    return FRAMEWORK.get(pattern.name or "") or getattr(pattern.callback, "guanxi_access", None)


def test_every_route_declares_access() -> None:
    missing = [route for route, pattern in WEB_ROUTES if access_of(pattern) is None]
    assert not missing, f"routes without @requires(...) or @public: {missing}"


@pytest.fixture
def world(
    make_user: Callable[..., User], team_a: Team, team_b: Team, settings: Any, tmp_path: Path
) -> dict[str, Any]:
    """Users of each role in team A; for each role, its own records, a team-mate's and another team's."""
    settings.MEDIA_ROOT = tmp_path / "files"  # the import jobs' uploaded files
    admin = make_user("admin", username="root")
    mate = make_user("sales", username="mate")
    stranger = make_user("sales", team=team_b, username="stranger")
    users = {role: make_user(role, username=f"u_{role}") for role in ROLES}
    tag = customer_services.tag_create(actor=admin, name="VIP")
    field = customer_services.custom_field_create(actor=admin, key="fleet", label="车队规模", type="number")

    def records(owner: User) -> dict[str, Any]:
        company = customer_services.customer_create(
            actor=admin, name=f"{owner.username}建材有限公司", kind="company", owner=owner, team=owner.team
        )
        contact = customer_services.contact_create(
            actor=admin, customer=company, name="王经理", phone="13800138000"
        )
        asset = customer_services.asset_create(
            actor=admin, customer=company, kind="site", address="深圳市南山区1号"
        )
        order = sales_services.order_create(actor=admin, customer=company, amount="10")
        lead = lead_services.lead_create(
            actor=admin, name="王芳", phone=f"+8613{9_000_000_00 + owner.pk:09d}", owner=owner
        )
        logger = owner if can(owner, "activity.create") else admin
        activity = activity_services.activity_log(actor=logger, customer=company, kind="note", body="matrix")
        opportunity = opportunity_create(actor=admin, customer=company, name="门店装修", owner=owner)
        quote = quote_services.quote_create(actor=admin, customer=company, owner=owner)
        task = services_tasks.task_create(
            actor=admin,
            title="回访",
            due_at=timezone.now(),
            customer=company,
            assignee=owner if can(owner, "activity.view") else admin,
        )
        # Queued by the owner about their customer: a manager sees the emails of their team's people.
        message = email_enqueue(
            actor=owner,
            key=f"matrix:{owner.pk}",
            to=["li@example.com"],
            subject="报价",
            body="您好",
            customer=company,
        )
        return {
            "customer": company,
            "contact": contact,
            "asset": asset,
            "order": order,
            "lead": lead,
            "quote": quote,
            "opportunity": opportunity,
            "activity": activity,
            "task": task,
            "message": message,
        }

    pipeline = pipeline_default()
    return {
        "admin": admin,
        "users": users,
        "records": {role: records(user) for role, user in users.items()},
        "team": records(mate),
        "other": records(stranger),
        "tag": tag,
        "customfield": field,
        "product": catalog_services.product_create(actor=admin, sku="92#", name="92号汽油", price="7.89"),
        "store": catalog_services.store_create(actor=admin, code="NS01", name="南山加油站"),
        "form": lead_services.form_create(actor=admin, slug="matrix", title="Matrix", fields=["phone"]),
        "pipeline": pipeline,
        # It holds opportunities, so the POST that would delete it is refused: the route still answers.
        "stage": pipeline.stages.filter(kind="open").order_by("position").first(),
        "team_obj": team_a,
        "stranger": stranger,
    }


def kind_of(route_name: str, kwarg: str) -> str:
    base = re.sub(r"(_id|_pk)$", "", kwarg)
    if base != "pk":
        return base
    return next((k for k in OBJECT_KINDS if route_name.startswith(k)), "customer")


def fill(route: str, pattern: URLPattern, actor: User, where: str, world: dict[str, Any]) -> tuple[str, str]:
    """The URL with its arguments filled for `where` in own/team/other; returns (url, kind of object)."""
    kinds = ""
    url = "/" + route

    def replace(match: re.Match[str]) -> str:
        nonlocal kinds
        kind = kind_of(pattern.name or "", match.group(2))
        kinds = kind
        if kind in SCOPED_KINDS:
            source = {"own": world["records"][actor.role], "team": world["team"], "other": world["other"]}[
                where
            ]
            return str(source[kind].pk)
        if kind == "user":
            return str(world["stranger"].pk)
        if kind == "team":
            return str(world["team_obj"].pk)
        if kind == "job":  # an import job is seen only by its importer (and an administrator)
            return str(import_job_for(actor if can(actor, "customer.import") else world["admin"]).pk)
        if kind == "key":  # a KPI board download
            return "revenue"
        if kind == "rule" and (pattern.name or "").startswith("lead-"):  # fresh: the delete route removes it
            return str(
                lead_services.rule_create(
                    actor=world["admin"], name="R", action="user", user=world["admin"]
                ).pk
            )
        if kind == "rule":  # a follow-up rule, fresh: the delete route removes it
            rule = services_followups.followup_rule_create(
                actor=world["admin"], name="购买后回访", trigger="purchase", title_template="回访 {customer}"
            )
            return str(rule.pk)
        if kind == "notification":  # a user opens only their own notifications
            note = Notification.objects.create(
                user=actor,
                key=f"matrix:{actor.pk}:{uuid4()}",
                text="提醒",
                link="/tasks/",
                created_at=timezone.now(),
            )
            return str(note.pk)
        if kind == "token":
            token, _secret = token_create(actor=actor, user=actor, name="matrix")
            return str(token.pk)
        return str(world[kind].pk)

    url = re.sub(r"<(?:(\w+):)?(\w+)>", replace, url)
    return url, kinds


def import_job_for(user: User) -> ImportJob:
    data = io.BytesIO("姓名,手机\n张伟,13800138000\n".encode())
    return import_services.import_job_create(actor=user, file=data, file_name="matrix.csv")


def visible(role: str, where: str) -> bool:
    scope = ROLES[role]["scope"]
    return where == "own" or scope == "all" or (scope == "team" and where == "team")


@pytest.mark.parametrize("route,pattern", WEB_ROUTES, ids=[r for r, _ in WEB_ROUTES])
def test_route_by_role_and_scope(route: str, pattern: URLPattern, world: dict[str, Any]) -> None:
    access = access_of(pattern)
    if access == "public" or ("<" not in route and access is None):
        return
    for role, user in world["users"].items():
        client = Client()
        client.force_login(user)
        for where in ("own", "team", "other"):
            url, kind = fill(route, pattern, user, where, world)
            response = client.get(url)
            method = "GET"
            if response.status_code == 405:
                method = "POST"
                response = client.post(url, {})
            status = response.status_code
            label = f"{method} {url} as {role} ({where})"
            if access not in ("signed-in", None) and not can(user, access):
                assert status == 403, label
            elif kind in SCOPED_KINDS and not visible(role, where):
                assert status == 404, label
            elif pattern.name in OWNER_OR_MANAGER and where != "own" and not can(user, "customer.assign"):
                assert status == 403, label
            else:
                assert status not in (403, 404) and status < 500, f"{label}: {status}"
            if kind not in SCOPED_KINDS:
                break  # the record does not depend on scope
    anonymous = Client().get(fill(route, pattern, world["admin"], "own", world)[0])
    assert anonymous.status_code in (302, 405), f"anonymous {route}: {anonymous.status_code}"
    if anonymous.status_code == 302:
        assert "/login/" in anonymous["Location"]


def test_every_api_operation_needs_auth(db: Any, admin: User) -> None:
    client = Client()
    client.force_login(admin)
    schema = client.get("/api/v1/openapi.json").json()
    anonymous = Client()
    checked = 0
    for path, operations in schema["paths"].items():
        url = re.sub(r"\{\w+\}", "1", path)
        for method in operations:
            response = anonymous.generic(method.upper(), url, "{}", content_type="application/json")
            assert response.status_code == 401, f"{method.upper()} {path}: {response.status_code}"
            assert response.json()["code"] == "not_authenticated"
            checked += 1
    assert checked >= 25
