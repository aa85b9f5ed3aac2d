"""Task and notification endpoints: filters, paging, writes, scopes, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from conftest import bearer

from guanxi.activities import services_reminders
from guanxi.activities.models import Notification, Task
from guanxi.activities.tests.tasks_fixtures import *  # noqa: F403  (the fixtures)
from guanxi.activities.tests.tasks_fixtures import T0, Clock
from guanxi.customers.models import Customer
from guanxi.users.models import User


def _post(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _patch(client: Any, url: str, body: dict[str, Any]) -> Any:
    return client.patch(url, json.dumps(body), content_type="application/json")


def test_create_get_update_and_complete(rep: User, buyer: Customer, clock: Clock) -> None:
    api = bearer(rep)
    created = _post(
        api,
        "/api/v1/tasks",
        {
            "title": "回访张伟",
            "due_at": "2026-12-03T10:00:00",
            "customer_id": buyer.pk,
            "priority": 3,
            "remind_at": "2026-12-03T09:45:00+08:00",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["assignee"]["username"] == "li.na" and body["customer"] == {"id": buyer.pk, "name": "张伟"}
    assert body["due_at"] == "2026-12-03T02:00:00Z" and body["status"] == "open"
    task_id = body["id"]
    assert api.get(f"/api/v1/tasks/{task_id}").json()["title"] == "回访张伟"
    changed = _patch(api, f"/api/v1/tasks/{task_id}", {"title": "回访张伟 (改)", "remind_at": None})
    assert changed.status_code == 200 and changed.json()["title"] == "回访张伟 (改)"
    assert changed.json()["remind_at"] is None and changed.json()["customer"]["id"] == buyer.pk
    done = _post(api, f"/api/v1/tasks/{task_id}/complete", {"note": "客户满意"})
    assert done.status_code == 200 and done.json()["status"] == "done"
    again = _post(api, f"/api/v1/tasks/{task_id}/complete", {})
    assert again.status_code == 409 and again.json()["code"] == "task_not_open"
    assert _post(api, f"/api/v1/tasks/{task_id}/reopen", {}).json()["status"] == "open"
    assert _post(api, f"/api/v1/tasks/{task_id}/cancel", {}).json()["status"] == "cancelled"


def test_bad_input_names_each_field(
    rep: User, mate: User, make_customer: Callable[..., Any], stranger: User
) -> None:
    theirs = make_customer(stranger, name="赵敏")
    response = _post(
        bearer(rep),
        "/api/v1/tasks",
        {"title": "x", "due_at": "2026-12-03T10:00:00", "assignee_id": mate.pk, "customer_id": theirs.pk},
    )
    assert response.status_code == 422
    assert set(response.json()["details"]) == {"assignee_id", "customer_id"}
    assert not Task.objects.exists()


def test_the_list_filters_and_pages_within_the_scope(
    rep: User, mate: User, manager: User, buyer: Customer, make_task: Callable[..., Task], clock: Clock
) -> None:
    for n in range(5):
        make_task(title=f"我的{n}", due_at=T0 + timedelta(hours=n), customer=buyer if n % 2 else None)
    make_task(actor=mate, title="队友的", due_at=T0)
    api = bearer(rep)
    first = api.get("/api/v1/tasks", {"limit": 2}).json()
    assert [t["title"] for t in first["items"]] == ["我的0", "我的1"]
    second = api.get("/api/v1/tasks", {"limit": 2, "cursor": first["next_cursor"]}).json()
    third = api.get("/api/v1/tasks", {"limit": 2, "cursor": second["next_cursor"]}).json()
    assert [t["title"] for t in second["items"] + third["items"]] == ["我的2", "我的3", "我的4"]
    assert third["next_cursor"] is None
    by_customer = api.get("/api/v1/tasks", {"customer_id": buyer.pk}).json()["items"]
    assert [t["title"] for t in by_customer] == ["我的1", "我的3"]
    window = api.get(
        "/api/v1/tasks", {"due_from": "2026-12-02T10:00:00+08:00", "due_until": "2026-12-02T12:00:00+08:00"}
    ).json()["items"]
    assert [t["title"] for t in window] == ["我的1", "我的2"]
    assert api.get("/api/v1/tasks", {"status": "done"}).json()["items"] == []
    team = bearer(manager).get("/api/v1/tasks", {"assignee_id": mate.pk}).json()["items"]
    assert [t["title"] for t in team] == ["队友的"]
    assert api.get("/api/v1/tasks", {"assignee_id": mate.pk}).json()["items"] == []
    assert api.get("/api/v1/tasks", {"cursor": "garbage"}).status_code == 422


def test_scopes_and_permissions(
    rep: User, mate: User, viewer: User, marketer: User, make_task: Callable[..., Task]
) -> None:
    theirs = make_task(actor=mate, title="队友的")
    api = bearer(rep)
    assert api.get(f"/api/v1/tasks/{theirs.pk}").status_code == 404
    assert _patch(api, f"/api/v1/tasks/{theirs.pk}", {"title": "x"}).status_code == 404
    assert _post(api, f"/api/v1/tasks/{theirs.pk}/complete", {}).status_code == 404
    assert (
        _post(bearer(viewer), "/api/v1/tasks", {"title": "x", "due_at": "2026-12-03T10:00:00"}).status_code
        == 403
    )
    assert bearer(marketer).get("/api/v1/tasks").status_code == 403
    assert Task.objects.get(pk=theirs.pk).title == "队友的"


def test_notifications_list_and_mark_read(
    rep: User, mate: User, make_task: Callable[..., Task], clock: Clock
) -> None:
    for n in range(3):
        make_task(title=f"提醒{n}", remind_at=T0 - timedelta(minutes=n))
    make_task(actor=mate, title="队友的", remind_at=T0)
    services_reminders.reminders_send()
    api = bearer(rep)
    page = api.get("/api/v1/notifications", {"limit": 2}).json()
    assert page["unread"] == 3 and len(page["items"]) == 2 and page["next_cursor"]
    rest = api.get("/api/v1/notifications", {"limit": 2, "cursor": page["next_cursor"]}).json()
    assert len(rest["items"]) == 1
    one = page["items"][0]["id"]
    theirs = Notification.objects.get(user=mate).pk
    assert _post(api, "/api/v1/notifications/read", {"ids": [one, theirs]}).json() == {"marked": 1}
    assert Notification.objects.get(pk=theirs).read_at is None
    assert api.get("/api/v1/notifications", {"unread": True}).json()["unread"] == 2
    assert _post(api, "/api/v1/notifications/read", {}).json() == {"marked": 2}


def test_every_endpoint_by_role(
    rep: User, viewer: User, marketer: User, manager: User, make_task: Callable[..., Task]
) -> None:
    task = make_task()
    reads = [("get", "/api/v1/tasks"), ("get", f"/api/v1/tasks/{task.pk}")]
    writes = [
        ("post", "/api/v1/tasks", {"title": "x", "due_at": "2026-12-03T10:00:00"}),
        ("patch", f"/api/v1/tasks/{task.pk}", {"title": "y"}),
        ("post", f"/api/v1/tasks/{task.pk}/complete", {}),
        ("post", f"/api/v1/tasks/{task.pk}/reopen", {}),
        ("post", f"/api/v1/tasks/{task.pk}/cancel", {}),
    ]
    own = [("get", "/api/v1/notifications"), ("post", "/api/v1/notifications/read", {})]

    def call(api: Any, method: str, url: str, body: dict[str, Any] | None = None) -> int:
        if method == "get":
            return int(api.get(url).status_code)
        return int(
            getattr(api, method)(url, json.dumps(body or {}), content_type="application/json").status_code
        )

    for user, may_read, may_write in ((marketer, False, False), (viewer, True, False), (manager, True, True)):
        api = bearer(user)
        for method, url, *body in reads:
            status = call(api, method, url, *body)
            assert (status == 200) if may_read else (status == 403), (user.role, url, status)
        for method, url, *body in writes:
            status = call(api, method, url, *body)
            assert (status in (200, 201, 409)) if may_write else (status == 403), (
                user.role,
                method,
                url,
                status,
            )
        for method, url, *body in own:
            assert call(api, method, url, *body) == 200  # everyone reads and marks their own
    assert call(bearer(rep), "get", f"/api/v1/tasks/{task.pk}") == 200
