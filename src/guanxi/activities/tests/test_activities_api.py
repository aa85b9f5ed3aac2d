"""The activity API: list with filters and keyset pages, log (and send), get, change, delete; each in the
caller's scope."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from conftest import bearer
from django.test import Client
from django.utils import timezone

from guanxi.activities import services
from guanxi.activities.models import Activity
from guanxi.activities.tests.activity_fixtures import *  # noqa: F403  (the fixtures)
from guanxi.activities.tests.activity_fixtures import make_lead, make_opportunity
from guanxi.channels.testing import LocalSMTPServer
from guanxi.customers import services as customer_services
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.users.models import User

pytestmark = pytest.mark.django_db
URL = "/api/v1/activities"


def _post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _patch(client: Client, url: str, body: Any) -> Any:
    return client.patch(url, json.dumps(body), content_type="application/json")


def test_log_a_call_and_read_it_back(rep: User, buyer: Customer) -> None:
    client = bearer(rep)
    opportunity = make_opportunity(buyer, rep)

    response = _post(
        client,
        URL,
        {
            "opportunity_id": opportunity.pk,
            "kind": "call",
            "direction": "out",
            "outcome": "interested",
            "subject": "试驾",
            "body": "约周六",
            "occurred_at": "2026-11-30T10:15:00",
            "duration_minutes": 9,
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["customer"] == {"id": buyer.pk, "name": "张伟"}
    assert body["opportunity"] == {"id": opportunity.pk, "name": "比亚迪汉 换购"}
    assert body["owner"] == "li.na" and body["email"] is None and body["lead"] is None
    assert body["occurred_at"] == "2026-11-30T02:15:00Z"  # sent in Asia/Shanghai, stored and read in UTC
    assert client.get(f"{URL}/{body['id']}").json() == body
    assert TimelineEntry.objects.get(kind="activity.call").data["activity_id"] == body["id"]


def test_log_on_a_lead(rep: User) -> None:
    lead = make_lead(rep)
    response = _post(bearer(rep), URL, {"lead_id": lead.pk, "kind": "wechat", "direction": "in"})
    assert response.status_code == 201
    assert response.json()["lead"] == {"id": lead.pk, "name": "孙俪"} and response.json()["customer"] is None


@pytest.mark.parametrize(
    "body,status,code",
    [
        ({"kind": "call"}, 422, "validation_failed"),
        ({"kind": "fax", "customer_id": 0}, 422, "validation_failed"),
        ({"kind": "note", "customer_id": "mine"}, 422, "validation_failed"),
        ({"kind": "call", "lead_id": 99999}, 404, "not_found"),
    ],
)
def test_bad_requests_are_refused(rep: User, body: dict[str, Any], status: int, code: str) -> None:
    response = _post(bearer(rep), URL, body)
    assert response.status_code == status and response.json()["code"] == code
    assert not Activity.objects.exists()


def test_scope_on_every_endpoint(
    rep: User, stranger: User, viewer: User, buyer: Customer, other_customer: Customer
) -> None:
    theirs = services.activity_log(actor=stranger, customer=other_customer, kind="call")
    client = bearer(rep)

    assert _post(client, URL, {"customer_id": other_customer.pk, "kind": "call"}).status_code == 404
    assert client.get(f"{URL}/{theirs.pk}").status_code == 404
    assert _patch(client, f"{URL}/{theirs.pk}", {"body": "x"}).status_code == 404
    assert client.delete(f"{URL}/{theirs.pk}").status_code == 404
    assert client.get(URL).json()["items"] == []
    assert client.get(URL, {"customer_id": other_customer.pk}).json()["items"] == []
    # A viewer reads (in team scope) but may not write.
    mine = services.activity_log(actor=rep, customer=buyer, kind="call")
    reader = bearer(viewer)
    assert [item["id"] for item in reader.get(URL).json()["items"]] == [mine.pk]
    response = _post(reader, URL, {"customer_id": buyer.pk, "kind": "note", "body": "hi"})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert _patch(reader, f"{URL}/{mine.pk}", {"body": "x"}).status_code == 403
    assert reader.delete(f"{URL}/{mine.pk}").status_code == 403
    assert Activity.objects.get(pk=mine.pk).body == ""


def test_only_the_owner_or_a_manager_changes_it(
    rep: User, buyer: Customer, make_user: Callable[..., User], manager: User
) -> None:
    activity = services.activity_log(actor=rep, customer=buyer, kind="note", body="原文")
    url = f"{URL}/{activity.pk}"
    colleague = bearer(make_user("service"))
    assert colleague.get(url).status_code == 200
    response = _patch(colleague, url, {"body": "改"})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"

    response = _patch(bearer(manager), url, {"body": "经理改", "outcome": "done"})

    assert response.status_code == 200
    assert response.json()["body"] == "经理改" and response.json()["outcome"] == ""  # a note has no outcome
    assert TimelineEntry.objects.get(kind="activity.note").data["body"] == "经理改"


def test_patch_changes_only_what_is_sent_and_delete_removes_it(rep: User, buyer: Customer) -> None:
    activity = services.activity_log(
        actor=rep, customer=buyer, kind="call", direction="out", outcome="no_answer", body="没人接"
    )
    client = bearer(rep)
    url = f"{URL}/{activity.pk}"

    changed = _patch(client, url, {"outcome": "reached"}).json()

    assert (changed["direction"], changed["outcome"], changed["body"]) == ("out", "reached", "没人接")
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert not TimelineEntry.objects.filter(kind="activity.call").exists()


def test_the_list_filters_and_pages_by_cursor(
    rep: User, buyer: Customer, make_customer: Callable[..., Any]
) -> None:
    second = make_customer(rep, name="李雷")
    now = timezone.now()
    made = [
        services.activity_log(
            actor=rep,
            customer=buyer if i % 2 else second,
            kind="call" if i % 3 else "visit",
            occurred_at=now - timedelta(hours=i),
        )
        for i in range(7)
    ]
    client = bearer(rep)

    seen: list[int] = []
    cursor = ""
    while True:
        page = client.get(URL, {"limit": "3", "cursor": cursor}).json()
        seen += [item["id"] for item in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]
    assert seen == [a.pk for a in made]

    def ids(**params: Any) -> list[int]:
        return [item["id"] for item in client.get(URL, params).json()["items"]]

    assert ids(customer_id=buyer.pk) == [a.pk for a in made if a.customer_id == buyer.pk]
    assert ids(kind="visit") == [made[0].pk, made[3].pk, made[6].pk]
    assert ids(since=(now - timedelta(hours=2, minutes=30)).isoformat()) == [a.pk for a in made[:3]]
    assert ids(until=(now - timedelta(hours=5, minutes=30)).isoformat()) == [made[6].pk]
    assert ids(owner_id=rep.pk, kind="call") == [a.pk for a in made if a.kind == "call"]
    assert client.get(URL, {"cursor": "nonsense!"}).status_code == 422


def test_the_list_takes_constant_queries(rep: User, buyer: Customer, django_assert_num_queries: Any) -> None:
    client = bearer(rep)
    for i in range(20):
        services.activity_log(actor=rep, customer=buyer, kind="call", subject=f"{i}")
    # token, token's last use, the page (activities with customer, lead, opportunity, owner, email)
    with django_assert_num_queries(3):
        assert len(client.get(URL).json()["items"]) == 20


@pytest.mark.django_db(transaction=True)
def test_an_email_is_sent_through_the_api_and_its_delivery_shows(
    rep: User, buyer: Customer, smtp_server: LocalSMTPServer, make_user: Callable[..., User]
) -> None:
    response = _post(
        bearer(rep),
        URL,
        {
            "customer_id": buyer.pk,
            "kind": "email",
            "subject": "保养提醒",
            "body": "您的车该保养了",
            "send_email": True,
        },
    )

    assert response.status_code == 201, response.json()
    assert [m["Subject"] for m in smtp_server.messages] == ["保养提醒"]
    activity_id = response.json()["id"]
    email = bearer(rep).get(f"{URL}/{activity_id}").json()["email"]
    assert email["status"] == "sent" and email["to"] == ["zhang.wei@example.com"]
    # A reader without personal data in clear sees the address masked.
    masked = bearer(make_user("viewer")).get(f"{URL}/{activity_id}").json()["email"]["to"]
    assert masked != ["zhang.wei@example.com"] and "*" in masked[0]


@pytest.mark.django_db(transaction=True)
def test_the_api_refuses_an_email_to_a_customer_who_opted_out(
    rep: User, buyer: Customer, smtp_server: LocalSMTPServer
) -> None:
    customer_services.consent_record(
        actor=rep, customer=buyer, purpose="marketing", channel="email", granted=False, method="web"
    )
    response = _post(
        bearer(rep),
        URL,
        {"customer_id": buyer.pk, "kind": "email", "subject": "促销", "body": "…", "send_email": True},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "email_opted_out"
    assert "opted out of email" in response.json()["message"]
    assert smtp_server.messages == [] and not Activity.objects.exists()
