"""The audit log: what an event holds, who may read it, its filters and its API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from conftest import bearer
from django.test import Client
from django.utils import timezone

from guanxi.audit.models import AuditEvent
from guanxi.audit.selectors import audit_action_names, audit_list
from guanxi.audit.services import audit_record, audit_record_many, changes_between
from guanxi.core.context import origin
from guanxi.core.errors import PermissionDenied
from guanxi.core.permissions import ROLES
from guanxi.customers import services
from guanxi.customers.models import Customer
from guanxi.users.models import Team, User

API = "/api/v1"


# changes_between


def test_changes_between_lists_each_changed_field_old_then_new() -> None:
    old = {"name": "张伟", "city": "深圳", "tags": ["VIP"], "notes": ""}
    new = {"name": "张伟明", "city": "深圳", "tags": [], "notes": None, "stage": "lead"}
    assert changes_between(old, new) == {
        "name": ["张伟", "张伟明"],
        "tags": [["VIP"], None],
        "stage": [None, "lead"],
    }


def test_changes_between_makes_values_json_safe(team_a: Team) -> None:
    changes = changes_between({}, {"team": team_a, "amount": Decimal("9.90"), "ids": (1, 2), "on": True})
    assert changes == {
        "team": [None, "华南一组"],
        "amount": [None, "9.90"],
        "ids": [None, [1, 2]],
        "on": [None, True],
    }


def test_changes_between_of_equal_records_is_empty() -> None:
    assert changes_between({"a": 1, "b": ""}, {"a": 1, "b": None}) == {}


# audit_record


def test_audit_record_writes_who_what_when_and_from_where(admin: User, team_a: Team) -> None:
    # when
    with origin("web", ip="192.168.1.20", user_agent="Mozilla/5.0 " + "x" * 300):
        event = audit_record(
            actor=admin,
            action="team.update",
            target=team_a,
            changes={"name": ["a", "b"]},
            data={"team": team_a},
        )

    # then
    event.refresh_from_db()
    assert (event.actor, event.actor_label, event.via, event.ip) == (admin, "admin", "web", "192.168.1.20")
    assert len(event.user_agent) == 200
    assert (event.action, event.target_type, event.target_id, event.target_label) == (
        "team.update",
        "users.team",
        str(team_a.pk),
        "华南一组",
    )
    assert (event.changes, event.data) == ({"name": ["a", "b"]}, {"team": "华南一组"})
    assert abs(event.occurred_at - timezone.now()) < timedelta(seconds=10)


def test_audit_record_without_a_signed_in_actor_is_the_system(db: Any) -> None:
    event = audit_record(actor=None, action="demo.load")
    assert (event.actor, event.actor_label, event.via, event.target_type, event.target_id) == (
        None,
        "system",
        "system",
        "",
        "",
    )


def test_audit_record_many_writes_one_event_per_target_in_one_insert(
    admin: User, django_assert_num_queries: Any
) -> None:
    customers = [Customer.objects.create(name=f"客户{i}") for i in range(5)]
    with origin("api", ip="::1"), django_assert_num_queries(1):
        audit_record_many(actor=admin, action="customer.tag", targets=customers, data={"tag": "VIP"})
    events = AuditEvent.objects.filter(action="customer.tag")
    assert sorted(int(e.target_id) for e in events) == sorted(c.pk for c in customers)
    assert {(e.via, e.ip, e.actor_label, str(e.data)) for e in events} == {
        ("api", "::1", "admin", "{'tag': 'VIP'}")
    }


def test_the_actor_label_survives_the_actors_deletion(admin: User, make_user: Callable[..., User]) -> None:
    user = make_user("sales", username="leaver")
    audit_record(actor=user, action="customer.note")
    user.delete()
    event = AuditEvent.objects.get(action="customer.note")
    assert (event.actor, event.actor_label) == (None, "leaver")


# audit_list


@pytest.mark.parametrize("role", sorted(ROLES))
def test_only_roles_with_audit_view_read_the_log(make_user: Callable[..., User], role: str) -> None:
    user = make_user(role)
    audit_record(actor=user, action="customer.note")
    if "audit.view" in ROLES[role]["perms"]:
        assert [e.action for e in audit_list(actor=user)] == ["customer.note"]
    else:
        with pytest.raises(PermissionDenied) as caught:
            audit_list(actor=user)
        assert caught.value.details == {"permission": "audit.view"}


def test_audit_list_filters(admin: User, make_user: Callable[..., User], team_a: Team) -> None:
    # given
    sales = make_user("sales", username="alice")
    customer = services.customer_create(actor=sales, name="张伟")
    services.customer_update(actor=sales, customer=customer, city="深圳")
    services.note_add(actor=admin, customer=customer, body="备注")
    old = audit_record(actor=admin, action="team.update", target=team_a)
    AuditEvent.objects.filter(pk=old.pk).update(occurred_at=timezone.now() - timedelta(days=10))

    def actions(**filters: Any) -> list[str]:
        return [e.action for e in audit_list(actor=admin, **filters)]

    # then newest first
    assert actions() == ["customer.note", "customer.update", "customer.create", "team.update"]
    assert actions(action="customer") == ["customer.note", "customer.update", "customer.create"]
    assert actions(action="customer.update") == ["customer.update"]
    assert actions(actor_username="alice") == ["customer.update", "customer.create"]
    assert actions(target_type="users.team") == ["team.update"]
    assert actions(target_type="customers.customer", target_id=str(customer.pk)) == [
        "customer.note",
        "customer.update",
        "customer.create",
    ]
    assert actions(since=timezone.now() - timedelta(days=1)) == [
        "customer.note",
        "customer.update",
        "customer.create",
    ]
    assert actions(until=timezone.now() - timedelta(days=1)) == ["team.update"]
    assert actions(action="nothing") == []


def test_audit_list_reads_the_actor_in_the_same_query(admin: User, django_assert_num_queries: Any) -> None:
    for i in range(5):
        audit_record(actor=admin, action=f"x.{i}")
    with django_assert_num_queries(1):
        assert [e.actor.username for e in audit_list(actor=admin)] == ["admin"] * 5


def test_audit_action_names(admin: User) -> None:
    for action in ["b.two", "a.one", "b.two"]:
        audit_record(actor=admin, action=action)
    assert audit_action_names() == ["a.one", "b.two"]


# GET /api/v1/audit


def test_audit_api_pages_newest_first(admin: User) -> None:
    # given (the token's own creation is the first event)
    client = bearer(admin)
    for i in range(4):
        audit_record(actor=admin, action=f"x.{i}")

    # when
    first = client.get(f"{API}/audit", {"limit": 2}).json()
    second = client.get(f"{API}/audit", {"limit": 2, "offset": first["next_offset"]}).json()
    third = client.get(f"{API}/audit", {"limit": 2, "offset": second["next_offset"]}).json()

    # then
    assert [e["action"] for e in first["items"]] == ["x.3", "x.2"]
    assert (first["limit"], first["offset"], first["next_offset"]) == (2, 0, 2)
    assert [e["action"] for e in second["items"]] == ["x.1", "x.0"]
    assert [e["action"] for e in third["items"]] == ["token.create"]
    assert third["next_offset"] is None
    item = first["items"][0]
    assert set(item) == {
        "id",
        "occurred_at",
        "actor",
        "via",
        "ip",
        "action",
        "target_type",
        "target_id",
        "target_label",
        "changes",
        "data",
    }
    assert (item["actor"], item["via"]) == ("admin", "system")


def test_audit_api_records_api_writes_with_via_and_ip(admin: User) -> None:
    client = bearer(admin)
    client.post(f"{API}/customers", {"name": "张伟"}, content_type="application/json", REMOTE_ADDR="10.9.8.7")
    [event] = client.get(f"{API}/audit", {"action": "customer.create"}).json()["items"]
    assert (event["actor"], event["via"], event["ip"], event["target_label"]) == (
        "admin",
        "api",
        "10.9.8.7",
        "张伟",
    )
    assert event["changes"]["name"] == [None, "张伟"]


def test_audit_api_filters(admin: User, make_user: Callable[..., User]) -> None:
    alice = make_user("sales", username="alice")
    customer = services.customer_create(actor=alice, name="张伟")
    client = bearer(admin)
    by_actor = client.get(f"{API}/audit", {"actor": "alice"}).json()["items"]
    by_target = client.get(
        f"{API}/audit", {"target_type": "customers.customer", "target_id": str(customer.pk)}
    ).json()["items"]
    later = client.get(f"{API}/audit", {"since": (timezone.now() + timedelta(hours=1)).isoformat()}).json()[
        "items"
    ]
    assert [e["action"] for e in by_actor] == ["customer.create"]
    assert [e["action"] for e in by_target] == ["customer.create"]
    assert later == []


@pytest.mark.parametrize("role", sorted(r for r in ROLES if "audit.view" not in ROLES[r]["perms"]))
def test_audit_api_answers_403_without_audit_view(make_user: Callable[..., User], role: str) -> None:
    response = bearer(make_user(role)).get(f"{API}/audit")
    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "message": "You are not allowed to do this.",
        "details": {"permission": "audit.view"},
    }


@pytest.mark.parametrize("authorization", [None, "Bearer gx_wrong"])
def test_audit_api_answers_401_without_valid_credentials(db: Any, authorization: str | None) -> None:
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = Client(**headers).get(f"{API}/audit")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_audit_api_keeps_limit_and_offset_in_bounds(admin: User, settings: Any) -> None:
    settings.GUANXI_API_MAX_LIMIT = 2
    client = bearer(admin)
    body = client.get(f"{API}/audit", {"limit": 1000, "offset": -3}).json()
    assert (body["limit"], body["offset"]) == (2, 0)
    assert client.get(f"{API}/audit", {"limit": 0}).json()["limit"] == 1


@pytest.mark.parametrize(
    "params",
    [{"since": "yesterday"}, {"until": "2024-13-01"}, {"limit": "many"}, {"offset": "x"}],
)
def test_audit_api_answers_422_for_malformed_filters(admin: User, params: dict[str, str]) -> None:
    response = bearer(admin).get(f"{API}/audit", params)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_failed"
    assert list(body["details"]) == list(params)


@pytest.mark.parametrize(
    "params",
    [{"action": "😀" * 100}, {"actor": "'; DROP TABLE audit_auditevent; --"}, {"target_id": "x" * 1000}],
)
def test_audit_api_takes_any_text_filter_without_error(admin: User, params: dict[str, str]) -> None:
    response = bearer(admin).get(f"{API}/audit", params)
    assert (response.status_code, response.json()["items"]) == (200, [])


def test_audit_api_with_a_huge_offset_never_answers_500(admin: User) -> None:
    response = bearer(admin, raise_request_exception=False).get(f"{API}/audit", {"offset": 10**20})
    assert response.status_code < 500


def test_the_audit_api_is_read_only(admin: User) -> None:
    client = bearer(admin)
    before = AuditEvent.objects.count()
    for method in ("post", "patch", "delete", "put"):
        assert getattr(client, method)(f"{API}/audit", {}, content_type="application/json").status_code == 405
    assert AuditEvent.objects.count() == before
