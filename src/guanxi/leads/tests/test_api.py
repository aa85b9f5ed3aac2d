"""The lead endpoints: scope, de-duplication answers, masking, actions and their errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import bearer

from guanxi.customers.models import Customer
from guanxi.leads.models import Lead
from guanxi.opportunities.models import Opportunity
from guanxi.users.models import User

pytestmark = pytest.mark.django_db
JSON = "application/json"


def test_a_rep_lists_only_their_own_leads(rep: User, mate: User, make_lead: Callable[..., Lead]) -> None:
    mine = make_lead(rep, name="王芳", phone="13900139000")
    make_lead(mate, name="赵敏", phone="13600136000")
    body = bearer(rep).get("/api/v1/leads").json()
    assert [item["id"] for item in body["items"]] == [mine.pk]
    assert body["items"][0]["phone"] == "+8613900139000" and body["items"][0]["pii_masked"] is False
    assert (
        bearer(rep).get(f"/api/v1/leads/{make_lead(mate, name='孙丽', phone='13500135000').pk}").status_code
        == 404
    )


def test_the_list_pages_with_a_cursor_and_filters(
    manager: User, rep: User, make_lead: Callable[..., Lead]
) -> None:
    leads = [make_lead(rep, name=f"客户{i}", phone=f"+86139{i:08d}", source="web") for i in range(5)]
    client = bearer(manager)
    first = client.get("/api/v1/leads?limit=2").json()
    assert [item["id"] for item in first["items"]] == [leads[4].pk, leads[3].pk]
    second = client.get(f"/api/v1/leads?limit=2&cursor={first['next_cursor']}").json()
    assert [item["id"] for item in second["items"]] == [leads[2].pk, leads[1].pk]
    assert client.get("/api/v1/leads?q=00000003").json()["items"][0]["id"] == leads[3].pk
    assert (
        client.get(f"/api/v1/leads?owner={rep.pk}&status=open&source=web").json()["items"][0]["id"]
        == leads[4].pk
    )
    assert client.get("/api/v1/leads?owner=none").json()["items"] == []
    assert client.get("/api/v1/leads?cursor=abc").status_code == 422
    assert client.get("/api/v1/leads?owner=abc").status_code == 422


def test_create_answers_201_then_200_with_the_merged_lead(rep: User) -> None:
    client = bearer(rep)
    payload = {"name": "王芳", "phone": "139 0013 9000", "source": "referral", "interest": "汉EV"}
    created = client.post("/api/v1/leads", payload, content_type=JSON)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["merged"] is False and body["owner"]["username"] == "li.na"
    assert body["score"] == 20 + 15 + 10
    assert body["score_reasons"][0]["text"] == "Came through a referral +20"
    again = client.post(
        "/api/v1/leads", {"name": "王女士", "phone": "+8613900139000", "email": "WF@x.cn"}, content_type=JSON
    )
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert (
        again.json()["merged"] is True
        and again.json()["captures"] == 2
        and again.json()["email"] == "wf@x.cn"
    )


def test_create_merged_into_a_colleagues_lead_answers_409_and_keeps_the_details(
    rep: User, mate: User, make_lead: Callable[..., Lead]
) -> None:
    theirs = make_lead(mate, name="王芳", phone="13900139000")
    response = bearer(rep).post(
        "/api/v1/leads", {"name": "王芳", "phone": "13900139000", "message": "又来电"}, content_type=JSON
    )
    assert response.status_code == 409
    assert response.json()["code"] == "lead_exists" and response.json()["details"] == {"lead_id": theirs.pk}
    theirs.refresh_from_db()
    assert theirs.captures == 2 and "又来电" in theirs.message


def test_create_refuses_bad_input_and_missing_permission(rep: User, make_user: Callable[..., User]) -> None:
    response = bearer(rep).post("/api/v1/leads", {"name": "王芳", "phone": "123"}, content_type=JSON)
    assert response.status_code == 422 and "phone" in response.json()["details"]
    viewer = bearer(make_user("viewer")).post(
        "/api/v1/leads", {"name": "王芳", "phone": "13900139000"}, content_type=JSON
    )
    assert viewer.status_code == 403
    assert Lead.objects.count() == 0


def test_a_reader_without_personal_data_sees_masked_contacts(
    rep: User, make_user: Callable[..., User], make_lead: Callable[..., Lead]
) -> None:
    make_lead(rep, phone="13900139000", email="wangfang@example.com", wechat_id="wf88")
    item = bearer(make_user("marketing")).get("/api/v1/leads").json()["items"][0]
    assert (item["phone"], item["email"], item["wechat_id"]) == ("139****9000", "w***@example.com", "w***")
    assert item["pii_masked"] is True


def test_update_qualify_disqualify_and_assign(
    rep: User, mate: User, manager: User, make_lead: Callable[..., Lead]
) -> None:
    lead = make_lead(rep)
    client = bearer(rep)
    patched = client.patch(
        f"/api/v1/leads/{lead.pk}", {"company": "芳华贸易", "status": "working"}, content_type=JSON
    )
    assert patched.status_code == 200 and patched.json()["status"] == "working"
    assert (
        client.post(f"/api/v1/leads/{lead.pk}/qualify", {"note": "预算明确"}, content_type=JSON).json()[
            "status"
        ]
        == "qualified"
    )
    refused = client.post(f"/api/v1/leads/{lead.pk}/qualify", {}, content_type=JSON)
    assert refused.status_code == 409 and refused.json()["code"] == "lead_not_open"
    bad = client.post(f"/api/v1/leads/{lead.pk}/disqualify", {"reason": "bored"}, content_type=JSON)
    assert bad.status_code == 422
    done = client.post(f"/api/v1/leads/{lead.pk}/disqualify", {"reason": "spam"}, content_type=JSON)
    assert done.json()["status"] == "disqualified" and done.json()["disqualify_reason"] == "spam"
    assert (
        client.post(f"/api/v1/leads/{lead.pk}/assign", {"owner_id": mate.pk}, content_type=JSON).status_code
        == 403
    )
    assigned = bearer(manager).post(
        f"/api/v1/leads/{lead.pk}/assign", {"owner_id": mate.pk}, content_type=JSON
    )
    assert assigned.status_code == 200 and assigned.json()["owner"]["id"] == mate.pk
    assert client.get(f"/api/v1/leads/{lead.pk}").status_code == 404  # not the rep's any more


def test_convert_with_an_opportunity_then_refuse_twice(rep: User, make_lead: Callable[..., Lead]) -> None:
    lead = make_lead(rep, interest="汉EV")
    client = bearer(rep)
    payload = {"opportunity": {"name": "王芳 · 汉EV", "amount": "259800.00", "expected_close": "2027-01-15"}}
    response = client.post(f"/api/v1/leads/{lead.pk}/convert", payload, content_type=JSON)
    assert response.status_code == 200, response.content
    body = response.json()
    customer, opportunity = Customer.objects.get(), Opportunity.objects.get()
    assert body["status"] == "converted"
    assert body["customer"] == {"id": customer.pk, "name": "王芳"}
    assert body["opportunity"] == {"id": opportunity.pk, "name": "王芳 · 汉EV"}
    again = client.post(f"/api/v1/leads/{lead.pk}/convert", payload, content_type=JSON)
    assert again.status_code == 409 and again.json()["code"] == "lead_converted"
    assert Customer.objects.count() == 1 and Opportunity.objects.count() == 1


def test_convert_onto_an_existing_customer(
    rep: User, make_lead: Callable[..., Lead], make_customer: Callable[..., Any]
) -> None:
    customer = make_customer(rep, name="王芳", phones=["13900139000"])
    lead = make_lead(rep)
    assert lead.customer == customer  # matched on arrival
    response = bearer(rep).post(
        f"/api/v1/leads/{lead.pk}/convert", {"customer_id": customer.pk}, content_type=JSON
    )
    assert response.status_code == 200 and response.json()["customer"]["id"] == customer.pk
    assert Customer.objects.count() == 1
    missing = bearer(rep).post(
        f"/api/v1/leads/{make_lead(rep, phone='13600136000').pk}/convert",
        {"customer_id": 999999},
        content_type=JSON,
    )
    assert missing.status_code == 422


# endpoint → (method, path, permission, body)
ENDPOINTS = [
    ("get", "/api/v1/leads/{id}", "lead.view", None),
    ("patch", "/api/v1/leads/{id}", "lead.change", {"city": "深圳"}),
    ("post", "/api/v1/leads/{id}/assign", "lead.assign", {"owner_id": None}),
    ("post", "/api/v1/leads/{id}/qualify", "lead.change", {}),
    ("post", "/api/v1/leads/{id}/disqualify", "lead.change", {"reason": "spam"}),
    ("post", "/api/v1/leads/{id}/convert", "lead.change", {}),
]


@pytest.mark.parametrize("method,path,perm,body", ENDPOINTS, ids=[f"{m} {p}" for m, p, _p, _b in ENDPOINTS])
def test_every_lead_endpoint_by_role_and_scope(
    method: str, path: str, perm: str, body: Any, make_user: Callable[..., User], admin: User, team_b: Any
) -> None:
    from guanxi.core.permissions import ROLES, can
    from guanxi.leads import services

    mate = make_user("sales", username="mate")
    stranger = make_user("sales", team=team_b, username="stranger")
    for role in ROLES:
        user = make_user(role, username=f"u_{role}")
        client = bearer(user)
        for where, owner in {"own": user, "team": mate, "other": stranger}.items():
            phone = f"+8613{Lead.objects.count() + 200000000:09d}"
            lead = services.lead_create(actor=admin, name="王芳", phone=phone, owner=owner)
            url = path.format(id=lead.pk)
            response = getattr(client, method)(url, body or {}, content_type=JSON)
            label = f"{method.upper()} {url} as {role} ({where}): {response.status_code}"
            scope = ROLES[role]["scope"]
            sees = where == "own" or scope == "all" or (scope == "team" and where == "team")
            if not sees and can(user, "lead.view"):
                assert response.status_code == 404, label
            elif not can(user, perm) or not can(user, "lead.view"):
                assert response.status_code in (403, 404), label
                assert response.status_code == 403 or not sees, label
            else:
                assert response.status_code == 200, label


def test_the_list_endpoint_by_role(
    rep: User, mate: User, stranger: User, make_user: Callable[..., User], make_lead: Callable[..., Lead]
) -> None:
    from guanxi.core.permissions import ROLES

    for owner in (rep, mate, stranger):
        make_lead(owner, name=owner.username, phone=f"+86139{owner.pk:08d}")
    expected = {"all": {"li.na", "zhao.lei", "chen.jie"}, "team": {"li.na", "zhao.lei"}}
    for role, rules in ROLES.items():
        response = bearer(make_user(role, username=f"x_{role}")).get("/api/v1/leads")
        if "lead.view" not in rules["perms"]:
            assert response.status_code == 403, role
            continue
        names = {item["name"] for item in response.json()["items"]}
        assert names == expected.get(rules["scope"], set()), role
    assert {item["name"] for item in bearer(rep).get("/api/v1/leads").json()["items"]} == {"li.na"}
