"""The customer API: every endpoint's happy path and its errors (401, 403, 404, 409, 422, 400); no 500."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import Client

from guanxi.audit.models import AuditEvent
from guanxi.core.permissions import ROLES
from guanxi.customers import services
from guanxi.customers.models import (
    Asset,
    Consent,
    Contact,
    Customer,
    CustomerEmail,
    CustomerPhone,
    CustomFieldDefinition,
    Tag,
    TimelineEntry,
)
from guanxi.users.models import Team, User
from guanxi.users.services import token_create, token_revoke

API = "/api/v1"
ON_POSTGRES = connection.vendor == "postgresql"


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    """The users these tests make need no strong hash; PBKDF2 would cost half a second each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def bearer(user: User, **options: Any) -> Client:
    """A client that sends `user`'s new API token, asking for English messages."""
    _token, secret = token_create(actor=user, user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE="en", **options)


def send(client: Client, method: str, url: str, body: Any = None) -> HttpResponse:
    data = "" if body is None else body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.generic(method, url, data, content_type="application/json")


MODELS = (
    Customer,
    CustomerPhone,
    CustomerEmail,
    Contact,
    Asset,
    Consent,
    Tag,
    CustomFieldDefinition,
    TimelineEntry,
    AuditEvent,
    Customer.tags.through,
)


def state() -> dict[str, Any]:
    """Everything a write could change: the row count of each table and every customer, contact and asset."""
    return {
        "counts": {model._meta.label: model.objects.count() for model in MODELS},
        "customers": list(Customer.objects.order_by("pk").values()),
        "contacts": list(Contact.objects.order_by("pk").values()),
        "assets": list(Asset.objects.order_by("pk").values()),
        "tags": list(Tag.objects.order_by("pk").values("name", "color")),
        "fields": list(CustomFieldDefinition.objects.order_by("pk").values()),
    }


def error(response: HttpResponse) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    body = response.json()
    assert set(body) == {"code", "message", "details"}, body
    return body


class Companies(dict[str, dict[str, Any]]):
    """A role's company, made the first time a test asks for it: most tests need one or two of them."""

    def __init__(self, make: Callable[[User], dict[str, Any]], users: dict[str, User]) -> None:
        super().__init__()
        self.make, self.users = make, users

    def __missing__(self, role: str) -> dict[str, Any]:
        self[role] = self.make(self.users[role])
        return self[role]


@pytest.fixture
def world(admin: User, make_user: Callable[..., User], team_a: Team, team_b: Team) -> dict[str, Any]:
    """A user of each role in team A, each with a company of their own (with a contact and an asset);
    the same for a sales person in team B; a team mate; a tag and a custom field."""
    users = {role: make_user(role, team=team_a) for role in ROLES if role != "admin"}
    users["admin"] = admin
    stranger = make_user("sales", team=team_b)

    def company(owner: User) -> dict[str, Any]:
        customer = services.customer_create(
            actor=admin, name=f"{owner.username}建材", kind="company", owner=owner, team=owner.team
        )
        contact = services.contact_create(actor=admin, customer=customer, name="李建国", phone="13711112222")
        asset = services.asset_create(actor=admin, customer=customer, plate="粤B12345")
        return {"customer": customer, "contact": contact, "asset": asset}

    own = Companies(company, users)
    own["admin"] = company(admin)  # most tests act as the administrator
    return {
        "users": users,
        "own": own,
        "other": company(stranger),
        "mate": make_user("sales", team=team_a),
        "stranger": stranger,
        "tag": services.tag_create(actor=admin, name="VIP"),
        "field": services.custom_field_create(actor=admin, key="fleet", label="车队规模", type="number"),
    }


# Every endpoint: (method, path, permission needed, a valid body, the status of success).
# Paths hold {customer}, {contact}, {asset}, {tag}, {field} for the records of `world`.
ENDPOINTS: list[tuple[str, str, str | None, Any, int]] = [
    ("GET", "/customers", "customer.view", None, 200),
    ("POST", "/customers", "customer.create", {"name": "新客户", "phones": ["138 0013 8000"]}, 201),
    ("GET", "/customers/{customer}", "customer.view", None, 200),
    ("PATCH", "/customers/{customer}", "customer.change", {"city": "广州"}, 200),
    ("DELETE", "/customers/{customer}", "customer.delete", None, 204),
    ("GET", "/customers/{customer}/timeline", "customer.view", None, 200),
    ("POST", "/customers/{customer}/notes", "customer.note", {"body": "来电"}, 201),
    ("POST", "/customers/bulk/tag", "tag.apply", {"ids": ["{customer}"], "tag": "VIP"}, 200),
    ("POST", "/customers/bulk/assign", "customer.assign", {"ids": ["{customer}"], "owner_id": "{mate}"}, 200),
    ("GET", "/customers/{customer}/contacts", "customer.view", None, 200),
    ("POST", "/customers/{customer}/contacts", "customer.change", {"name": "赵敏"}, 201),
    ("PATCH", "/contacts/{contact}", "customer.change", {"title": "经理"}, 200),
    ("DELETE", "/contacts/{contact}", "customer.change", None, 204),
    ("GET", "/customers/{customer}/assets", "customer.view", None, 200),
    ("POST", "/customers/{customer}/assets", "customer.change", {"plate": "粤B54321"}, 201),
    ("PATCH", "/assets/{asset}", "customer.change", {"mileage_km": 1000}, 200),
    ("DELETE", "/assets/{asset}", "customer.change", None, 204),
    ("GET", "/customers/{customer}/consents", "customer.view", None, 200),
    (
        "POST",
        "/customers/{customer}/consents",
        "consent.change",
        {"purpose": "marketing", "granted": True, "method": "verbal"},
        201,
    ),
    ("GET", "/tags", None, None, 200),
    ("POST", "/tags", "tag.manage", {"name": "新标签"}, 201),
    ("PATCH", "/tags/{tag}", "tag.manage", {"name": "大客户", "color": "#000000"}, 200),
    ("DELETE", "/tags/{tag}", "tag.manage", None, 204),
    ("GET", "/custom-fields", None, None, 200),
    ("POST", "/custom-fields", "customfield.manage", {"label": "车型", "type": "text"}, 201),
    ("PATCH", "/custom-fields/{field}", "customfield.manage", {"label": "车队数量"}, 200),
]
IDS = [f"{m} {p}" for m, p, *_ in ENDPOINTS]
WITH_BODY = [e for e in ENDPOINTS if e[0] in ("POST", "PATCH")]
WITH_ID = [e for e in ENDPOINTS if "{" in e[1]]
SCOPED = [e for e in ENDPOINTS if any(k in e[1] for k in ("{customer}", "{contact}", "{asset}"))]


def fill(template: Any, records: dict[str, Any], world: dict[str, Any]) -> Any:
    """The path or body with the ids of `records` (a company, its contact and asset) and of `world`."""
    ids = {
        "{customer}": records["customer"].pk,
        "{contact}": records["contact"].pk,
        "{asset}": records["asset"].pk,
        "{tag}": world["tag"].pk,
        "{field}": world["field"].pk,
        "{mate}": world["mate"].pk,
    }
    if isinstance(template, str):
        for key, value in ids.items():
            template = template.replace(key, str(value))
        return template
    if isinstance(template, dict):
        return {k: fill(v, records, world) for k, v in template.items()}
    if isinstance(template, list):
        return [ids.get(v, v) if isinstance(v, str) else v for v in template]
    return template


def test_the_endpoint_table_lists_every_customer_operation(db: Any, admin: User) -> None:
    # a new endpoint must be added to ENDPOINTS, so every test below covers it
    schema = bearer(admin).get(f"{API}/openapi.json").json()
    operations = {
        (method.upper(), path.removeprefix(API))
        for path, items in schema["paths"].items()
        for method, operation in items.items()
        if set(operation["tags"]) & {"customers", "tags", "custom fields"}
    }
    normal = {(m, p.replace("{customer_id}", "{customer}")) for m, p in operations}
    normal = {(m, p.replace("{contact_id}", "{contact}").replace("{asset_id}", "{asset}")) for m, p in normal}
    normal = {(m, p.replace("{tag_id}", "{tag}").replace("{field_id}", "{field}")) for m, p in normal}
    assert normal == {(m, p) for m, p, *_ in ENDPOINTS}


# 401: no token, a wrong one, a revoked one, an inactive user's


@pytest.mark.parametrize(("method", "path", "perm", "body", "ok"), ENDPOINTS, ids=IDS)
def test_every_endpoint_answers_401_without_valid_credentials(
    world: dict[str, Any], method: str, path: str, perm: str | None, body: Any, ok: int
) -> None:
    # given
    admin = world["users"]["admin"]
    url = API + fill(path, world["own"]["admin"], world)
    payload = fill(body, world["own"]["admin"], world)
    revoked_token, revoked_secret = token_create(actor=admin, user=admin, name="old")
    token_revoke(actor=admin, token=revoked_token)
    inactive = world["users"]["sales"]
    _t, inactive_secret = token_create(actor=inactive, user=inactive, name="t")
    inactive.is_active = False
    inactive.save()
    before = state()

    for headers in [
        {},
        {"HTTP_AUTHORIZATION": "Bearer gx_not-a-real-token"},
        {"HTTP_AUTHORIZATION": "Bearer not-even-the-prefix"},
        {"HTTP_AUTHORIZATION": "Bearer "},
        {"HTTP_AUTHORIZATION": "Basic YWRtaW46YWRtaW4="},
        {"HTTP_AUTHORIZATION": f"Bearer {revoked_secret}"},
        {"HTTP_AUTHORIZATION": f"Bearer {inactive_secret}"},
    ]:
        # when
        response = send(Client(**headers), method, url, payload)

        # then
        assert response.status_code == 401, headers
        assert error(response)["code"] == "not_authenticated"
    assert state() == before


# 403 and success: every role, every endpoint, on a record the role can see


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize(("method", "path", "perm", "body", "ok"), ENDPOINTS, ids=IDS)
def test_every_endpoint_follows_the_role_table(
    world: dict[str, Any], role: str, method: str, path: str, perm: str | None, body: Any, ok: int
) -> None:
    # given the role's own company (in every role's scope)
    user = world["users"][role]
    client = bearer(user)
    records = world["own"][role]
    before = state()

    # when
    response = send(client, method, API + fill(path, records, world), fill(body, records, world))

    # then
    if perm is None or perm in ROLES[role]["perms"]:
        assert response.status_code == ok, response.content[:300]
        if method != "GET":
            assert AuditEvent.objects.latest("id").actor == user
    else:
        assert response.status_code == 403, response.content[:300]
        body_out = error(response)
        assert body_out["code"] == "permission_denied"
        assert body_out["details"] == {"permission": perm}
        assert state() == before


# 404: a record outside the actor's scope, and a missing one


@pytest.mark.parametrize(
    ("method", "path", "perm", "body", "ok"), SCOPED, ids=[f"{m} {p}" for m, p, *_ in SCOPED]
)
def test_every_customer_endpoint_answers_404_outside_scope(
    world: dict[str, Any], method: str, path: str, perm: str | None, body: Any, ok: int
) -> None:
    # given a sales person and another team's company
    client = bearer(world["users"]["sales"])
    records = world["other"]
    before = state()

    # when
    response = send(client, method, API + fill(path, records, world), fill(body, records, world))

    # then
    assert response.status_code == 404, response.content[:300]
    assert error(response)["code"] == "not_found"
    assert state() == before


@pytest.mark.parametrize(
    ("method", "path", "perm", "body", "ok"), WITH_ID, ids=[f"{m} {p}" for m, p, *_ in WITH_ID]
)
@pytest.mark.parametrize("missing", [987654, 2**63 + 5])
def test_every_endpoint_with_an_id_answers_404_for_a_missing_record(
    world: dict[str, Any], method: str, path: str, perm: str | None, body: Any, ok: int, missing: int
) -> None:
    # given
    client = bearer(world["users"]["admin"])
    records = world["own"]["admin"]
    url = path
    for key in ("{customer}", "{contact}", "{asset}", "{tag}", "{field}"):
        url = url.replace(key, str(missing))
    before = state()

    # when
    response = send(client, method, API + url, fill(body, records, world))

    # then
    assert response.status_code == 404, response.content[:300]
    assert state() == before


def test_a_bulk_action_on_ids_outside_scope_changes_nothing(world: dict[str, Any]) -> None:
    # given a sales person, and another team's customer
    client = bearer(world["users"]["sales"])
    theirs = world["other"]["customer"]
    before = state()

    # when
    response = send(client, "POST", f"{API}/customers/bulk/tag", {"ids": [theirs.pk, 987654], "tag": "VIP"})

    # then
    assert (response.status_code, response.json()) == (200, {"changed": 0})
    assert state() == before


# 400: a body that is not JSON; 422: a body of the wrong shape


@pytest.mark.parametrize(
    ("method", "path", "perm", "body", "ok"), WITH_BODY, ids=[f"{m} {p}" for m, p, *_ in WITH_BODY]
)
@pytest.mark.parametrize("raw", ['{"name": ', "not json", "{'name': 'x'}", "\xff\xfe", "[1, 2"])
def test_every_endpoint_with_a_body_answers_400_for_malformed_json(
    world: dict[str, Any], method: str, path: str, perm: str | None, body: Any, ok: int, raw: str
) -> None:
    client = bearer(world["users"]["admin"])
    before = state()
    response = send(client, method, API + fill(path, world["own"]["admin"], world), raw)
    assert response.status_code == 400, response.content[:300]
    assert error(response)["code"] == "bad_request"
    assert state() == before


@pytest.mark.parametrize(
    ("method", "path", "perm", "body", "ok"), WITH_BODY, ids=[f"{m} {p}" for m, p, *_ in WITH_BODY]
)
@pytest.mark.parametrize("wrong", ['{"name": {"nested": 1}, "ids": "x", "label": [], "tag": 5, "body": 1}'])
def test_every_endpoint_with_a_body_answers_422_for_a_body_of_the_wrong_shape(
    world: dict[str, Any], method: str, path: str, perm: str | None, body: Any, ok: int, wrong: str
) -> None:
    client = bearer(world["users"]["admin"])
    before = state()
    response = send(client, method, API + fill(path, world["own"]["admin"], world), wrong)
    assert response.status_code == 422, response.content[:300]
    assert error(response)["code"] == "validation_failed"
    assert state() == before


POSTS = [e for e in WITH_BODY if e[0] == "POST"]
PATCHES = [e for e in WITH_BODY if e[0] == "PATCH" and e[1] != "/tags/{tag}"]  # TagIn requires a name


@pytest.mark.parametrize(
    ("method", "path", "perm", "body", "ok"), POSTS, ids=[f"{m} {p}" for m, p, *_ in POSTS]
)
@pytest.mark.parametrize("wrong", ["[]", '"text"', "42", "null", "true"])
def test_every_create_endpoint_answers_422_for_a_body_that_is_not_an_object(
    world: dict[str, Any], method: str, path: str, perm: str | None, body: Any, ok: int, wrong: str
) -> None:
    client = bearer(world["users"]["admin"])
    before = state()
    response = send(client, method, API + fill(path, world["own"]["admin"], world), wrong)
    assert response.status_code == 422, response.content[:300]
    assert error(response)["code"] == "validation_failed"
    assert state() == before


@pytest.mark.parametrize(
    ("method", "path", "perm", "body", "ok"), PATCHES, ids=[f"{m} {p}" for m, p, *_ in PATCHES]
)
@pytest.mark.parametrize("wrong", ["[]", '"text"', "42"])
def test_every_change_endpoint_answers_422_for_a_body_that_is_not_an_object(
    world: dict[str, Any], method: str, path: str, perm: str | None, body: Any, ok: int, wrong: str
) -> None:
    client = bearer(world["users"]["admin"])
    response = send(client, method, API + fill(path, world["own"]["admin"], world), wrong)
    assert response.status_code == 422, response.content[:300]


@pytest.mark.parametrize(
    ("method", "path", "perm", "body", "ok"),
    [e for e in WITH_BODY if e[0] == "POST"],
    ids=[f"{m} {p}" for m, p, *_ in WITH_BODY if m == "POST"],
)
def test_every_create_endpoint_answers_422_for_an_empty_body(
    world: dict[str, Any], method: str, path: str, perm: str | None, body: Any, ok: int
) -> None:
    client = bearer(world["users"]["admin"])
    before = state()
    for empty in ["", "{}"]:
        response = send(client, method, API + fill(path, world["own"]["admin"], world), empty)
        assert response.status_code == 422, (empty, response.content[:300])
        assert error(response)["code"] == "validation_failed"
    assert state() == before


# Customers: list, search, pagination


def test_customer_list_pages_with_items_and_next_offset(admin: User) -> None:
    # given
    for i in range(5):
        services.customer_create(actor=admin, name=f"客户{i}")
    client = bearer(admin)

    # when
    first = client.get(f"{API}/customers", {"limit": 2}).json()
    second = client.get(f"{API}/customers", {"limit": 2, "offset": first["next_offset"]}).json()
    last = client.get(f"{API}/customers", {"limit": 2, "offset": 4}).json()

    # then
    assert [c["name"] for c in first["items"]] == ["客户4", "客户3"]
    assert (first["limit"], first["offset"], first["next_offset"]) == (2, 0, 2)
    assert [c["name"] for c in second["items"]] == ["客户2", "客户1"]
    assert second["next_offset"] == 4
    assert [c["name"] for c in last["items"]] == ["客户0"]
    assert last["next_offset"] is None


@pytest.mark.parametrize(
    ("params", "limit", "offset"),
    [
        ({"limit": 10**6}, 200, 0),
        ({"limit": 0}, 1, 0),
        ({"limit": -5}, 1, 0),
        ({"offset": -10}, 25, 0),
        ({}, 25, 0),
    ],
)
def test_customer_list_keeps_limit_and_offset_in_bounds(
    admin: User, params: dict[str, int], limit: int, offset: int
) -> None:
    response = bearer(admin).get(f"{API}/customers", params)
    assert response.status_code == 200
    assert (response.json()["limit"], response.json()["offset"]) == (limit, offset)


def test_customer_list_limit_is_capped_by_the_setting(admin: User, settings: Any) -> None:
    settings.GUANXI_API_MAX_LIMIT = 3
    for i in range(5):
        services.customer_create(actor=admin, name=f"客户{i}")
    body = bearer(admin).get(f"{API}/customers", {"limit": 100}).json()
    assert (body["limit"], len(body["items"]), body["next_offset"]) == (3, 3, 3)


def test_customer_list_searches_with_q(admin: User) -> None:
    services.customer_create(actor=admin, name="张伟", phones=["138 0013 8000"])
    services.customer_create(actor=admin, name="王芳")
    client = bearer(admin)
    for q in ["zw", "ZW", "张伟", "zhang wei", "0013 8000"]:
        assert [c["name"] for c in client.get(f"{API}/customers", {"q": q}).json()["items"]] == ["张伟"], q


def test_customer_list_filters(admin: User, make_user: Callable[..., User], team_b: Team) -> None:
    other = make_user("sales", team=team_b)
    vip = services.tag_create(actor=admin, name="VIP")
    services.custom_field_create(actor=admin, key="grade", label="等级", type="choice", choices=["A", "B"])
    services.customer_create(
        actor=admin, name="甲", stage="customer", city="深圳", tags=["VIP"], custom_fields={"grade": "A"}
    )
    services.customer_create(actor=admin, name="乙", kind="company", owner=other, source="web")
    client = bearer(admin)

    def names(**params: Any) -> list[str]:
        response = client.get(f"{API}/customers", params)
        assert response.status_code == 200, response.content
        return [c["name"] for c in response.json()["items"]]

    assert names(stage="customer") == ["甲"]
    assert names(tag=vip.pk) == ["甲"]
    assert names(owner=other.pk) == ["乙"]
    assert names(team=team_b.pk) == ["乙"]
    assert names(source="web") == ["乙"]
    assert names(city="深圳") == ["甲"]
    assert names(kind="company") == ["乙"]
    assert names(cf_grade="A") == ["甲"]
    assert names(cf_grade="B") == []
    assert names(sort="oldest") == ["甲", "乙"]


def test_customer_list_shows_masked_personal_data_to_a_viewer(
    admin: User, make_user: Callable[..., User], team_a: Team
) -> None:
    # given
    services.customer_create(
        actor=admin,
        name="张伟",
        phones=["138 0013 8000"],
        emails=["zhang.wei@example.com"],
        wechat_id="wxid_abc",
        street="深南大道1号",
        birthday="1988-05-17",
        team=team_a,
    )
    viewer = make_user("viewer", team=team_a)

    # when
    [masked] = bearer(viewer).get(f"{API}/customers").json()["items"]
    [clear] = bearer(admin).get(f"{API}/customers").json()["items"]

    # then
    assert {k: masked[k] for k in ("phones", "emails", "wechat_id", "street", "birthday", "pii_masked")} == {
        "phones": ["138****8000"],
        "emails": ["z***@example.com"],
        "wechat_id": "w***",
        "street": "深***",
        "birthday": "****-05-17",
        "pii_masked": True,
    }
    assert {k: clear[k] for k in ("phones", "emails", "wechat_id", "street", "birthday", "pii_masked")} == {
        "phones": ["+8613800138000"],
        "emails": ["zhang.wei@example.com"],
        "wechat_id": "wxid_abc",
        "street": "深南大道1号",
        "birthday": "1988-05-17",
        "pii_masked": False,
    }
    assert "13800138000" not in json.dumps(bearer(viewer).get(f"{API}/customers/{masked['id']}").json())


def test_contacts_are_masked_for_a_viewer(admin: User, make_user: Callable[..., User], team_a: Team) -> None:
    company = services.customer_create(actor=admin, name="华强建材", kind="company", team=team_a)
    services.contact_create(
        actor=admin,
        customer=company,
        name="李建国",
        phone="13711112222",
        email="li@example.com",
        wechat_id="li_wx",
    )
    viewer = make_user("viewer", team=team_a)
    [contact] = bearer(viewer).get(f"{API}/customers/{company.pk}/contacts").json()
    assert (contact["phone"], contact["email"], contact["wechat_id"]) == (
        "137****2222",
        "l***@example.com",
        "l***",
    )


@pytest.mark.parametrize("n", [3, 30])
def test_customer_list_request_costs_the_same_whatever_its_length(
    admin: User, n: int, django_assert_num_queries: Any
) -> None:
    # given
    for i in range(n):
        services.customer_create(
            actor=admin, name=f"客户{i}", phones=[f"1380013{i:04d}"], emails=[f"c{i}@a.cn"], tags=["VIP"]
        )
    client = bearer(admin)

    # when / then: the token (+ its last-used mark), the customers, phones, emails, tags
    client.get(f"{API}/me")  # marks the token used, so the list does not
    with django_assert_num_queries(5):
        response = client.get(f"{API}/customers", {"limit": 100})
    assert len(response.json()["items"]) == n


# Customers: create, read, change, delete


def test_customer_create_answers_201_with_the_customer(admin: User) -> None:
    # when
    response = send(
        bearer(admin),
        "POST",
        f"{API}/customers",
        {
            "name": "张伟",
            "kind": "person",
            "phones": ["138 0013 8000", "+86 138-0013-8000"],
            "emails": ["zhang@example.com"],
            "tags": ["VIP"],
            "birthday": "1988-05-17",
            "external_ids": {"erp": "C-001"},
        },
    )

    # then
    assert response.status_code == 201, response.content
    body = response.json()
    customer = Customer.objects.get()
    assert body["id"] == customer.pk
    assert (body["name"], body["kind"], body["phones"], body["emails"], body["tags"]) == (
        "张伟",
        "person",
        ["+8613800138000"],
        ["zhang@example.com"],
        ["VIP"],
    )
    assert (body["birthday"], body["external_ids"], body["stage"]) == ("1988-05-17", {"erp": "C-001"}, "lead")
    assert body["owner"] == {"id": admin.pk, "name": admin.display_name}
    assert body["pii_masked"] is False


def test_api_writes_are_audited_as_coming_from_the_api_with_the_address(admin: User) -> None:
    client = bearer(admin)
    send(
        client,
        "POST",
        f"{API}/customers",
        {"name": "张伟"},
    )
    event = AuditEvent.objects.get(action="customer.create")
    assert (event.via, event.ip, event.actor) == ("api", "127.0.0.1", admin)


def test_customer_create_with_an_owner_and_team(
    admin: User, make_user: Callable[..., User], team_b: Team
) -> None:
    sales = make_user("sales", team=team_b)
    response = send(bearer(admin), "POST", f"{API}/customers", {"name": "张伟", "owner_id": sales.pk})
    assert response.status_code == 201
    assert (response.json()["owner"]["id"], response.json()["team"]) == (
        sales.pk,
        {"id": team_b.pk, "name": team_b.name},
    )


def test_customer_create_for_another_owner_needs_assign(make_user: Callable[..., User], team_a: Team) -> None:
    sales = make_user("sales", team=team_a)
    mate = make_user("sales", team=team_a)
    client = bearer(sales)
    before = state()
    response = send(client, "POST", f"{API}/customers", {"name": "张伟", "owner_id": mate.pk})
    assert response.status_code == 403
    assert error(response)["details"] == {"permission": "customer.assign"}
    assert state() == before


def test_customer_create_answers_422_with_every_field_error(admin: User) -> None:
    # given
    client = bearer(admin)
    before = state()

    # when the schema refuses it
    shape = send(
        client,
        "POST",
        f"{API}/customers",
        {"name": "x" * 201, "kind": "robot", "phones": "13800138000", "birthday": "17.05.1988"},
    )
    # and when the service refuses it
    rules = send(
        client,
        "POST",
        f"{API}/customers",
        {"name": " ", "phones": ["abc"], "emails": ["nope"], "birthday": "2999-01-01"},
    )

    # then
    assert shape.status_code == 422
    assert error(shape)["code"] == "validation_failed"
    assert set(error(shape)["details"]) == {"name", "kind", "phones", "birthday"}
    assert rules.status_code == 422
    assert error(rules) == {
        "code": "validation_failed",
        "message": "Some fields are not valid.",
        "details": {
            "name": ["This field is required."],
            "phones": ["“abc” is not a valid phone number."],
            "emails": ["“nope” is not a valid email address."],
            "birthday": ["Enter a birthday between 1900 and today."],
        },
    }
    assert state() == before


def test_customer_create_reports_custom_field_errors_by_field(admin: User) -> None:
    services.custom_field_create(actor=admin, key="fleet", label="车队规模", type="number", required=True)
    response = send(
        bearer(admin),
        "POST",
        f"{API}/customers",
        {"name": "华强", "custom_fields": {"fleet": "many", "x": 1}},
    )
    assert response.status_code == 422
    assert error(response)["details"] == {
        "custom_fields.fleet": ["Enter a number."],
        "custom_fields.x": ["There is no custom field “x”."],
    }


def test_customer_create_with_a_used_member_number_answers_409(admin: User) -> None:
    services.customer_create(actor=admin, name="张伟", member_no="M001")
    client = bearer(admin)
    before = state()
    response = send(client, "POST", f"{API}/customers", {"name": "王芳", "member_no": "M001"})
    assert response.status_code == 409
    assert error(response)["code"] == "conflict"
    assert error(response)["details"] == {"member_no": "M001"}
    assert state() == before


def test_customer_update_answers_409_for_a_used_member_number(admin: User) -> None:
    services.customer_create(actor=admin, name="张伟", member_no="M001")
    other = services.customer_create(actor=admin, name="王芳")
    client = bearer(admin)
    before = state()
    response = send(client, "PATCH", f"{API}/customers/{other.pk}", {"member_no": "M001", "city": "广州"})
    assert response.status_code == 409
    assert state() == before


def test_customer_get_answers_the_customer(admin: User) -> None:
    customer = services.customer_create(actor=admin, name="张伟", phones=["13800138000"])
    body = bearer(admin).get(f"{API}/customers/{customer.pk}").json()
    assert (body["id"], body["name"], body["phones"]) == (customer.pk, "张伟", ["+8613800138000"])


def test_customer_update_changes_only_what_is_sent(admin: User) -> None:
    # given
    customer = services.customer_create(actor=admin, name="张伟", phones=["13800138000"], city="深圳")

    # when
    response = send(
        bearer(admin), "PATCH", f"{API}/customers/{customer.pk}", {"city": "广州", "stage": "customer"}
    )

    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["city"], body["stage"], body["phones"]) == (
        "张伟",
        "广州",
        "customer",
        ["+8613800138000"],
    )
    assert AuditEvent.objects.get(action="customer.update").changes == {
        "city": ["深圳", "广州"],
        "stage": ["lead", "customer"],
    }


def test_customer_update_with_owner_assigns(
    admin: User, make_user: Callable[..., User], team_b: Team
) -> None:
    customer = services.customer_create(actor=admin, name="张伟")
    other = make_user("sales", team=team_b)
    response = send(bearer(admin), "PATCH", f"{API}/customers/{customer.pk}", {"owner_id": other.pk})
    assert response.status_code == 200
    assert (response.json()["owner"]["id"], response.json()["team"]["id"]) == (other.pk, team_b.pk)
    assert AuditEvent.objects.filter(action="customer.assign").count() == 1


def test_customer_update_refused_for_its_owner_change_changes_nothing(
    make_user: Callable[..., User], team_a: Team
) -> None:
    # given a sales person's own customer
    sales = make_user("sales", team=team_a)
    mate = make_user("sales", team=team_a)
    customer = services.customer_create(actor=sales, name="张伟")
    client = bearer(sales)
    before = state()

    # when
    response = send(client, "PATCH", f"{API}/customers/{customer.pk}", {"city": "广州", "owner_id": mate.pk})

    # then
    assert response.status_code == 403
    assert state() == before


def test_customer_update_answers_422_for_an_emptied_name(admin: User) -> None:
    customer = services.customer_create(actor=admin, name="张伟")
    client = bearer(admin)
    before = state()
    response = send(client, "PATCH", f"{API}/customers/{customer.pk}", {"name": None})
    assert response.status_code == 422
    assert error(response)["details"] == {"name": ["This field is required."]}
    assert state() == before


def test_customer_delete_answers_204_and_the_customer_is_gone(admin: User) -> None:
    customer = services.customer_create(actor=admin, name="张伟")
    client = bearer(admin)
    assert send(client, "DELETE", f"{API}/customers/{customer.pk}").status_code == 204
    assert client.get(f"{API}/customers/{customer.pk}").status_code == 404
    assert AuditEvent.objects.filter(action="customer.delete", target_id=str(customer.pk)).count() == 1


# Timeline, notes, bulk actions


def test_notes_go_on_the_timeline(admin: User) -> None:
    customer = services.customer_create(actor=admin, name="张伟")
    client = bearer(admin)
    assert (
        send(client, "POST", f"{API}/customers/{customer.pk}/notes", {"body": "来电咨询"}).status_code == 201
    )
    timeline = client.get(f"{API}/customers/{customer.pk}/timeline").json()
    assert [(e["kind"], e["actor"], e["data"]) for e in timeline] == [
        ("note", admin.username, {"body": "来电咨询"}),
        ("customer.created", admin.username, {}),
    ]
    too_long = send(client, "POST", f"{API}/customers/{customer.pk}/notes", {"body": "字" * 5001})
    assert too_long.status_code == 422
    empty = send(client, "POST", f"{API}/customers/{customer.pk}/notes", {"body": "  "})
    assert empty.status_code == 422 and error(empty)["details"] == {"body": ["This field is required."]}


def test_a_schema_error_names_a_field_called_body(admin: User) -> None:
    customer = services.customer_create(actor=admin, name="张伟")
    response = send(bearer(admin), "POST", f"{API}/customers/{customer.pk}/notes", {"body": "字" * 5001})
    assert list(error(response)["details"]) == ["body"]


def test_timeline_pages_with_limit_and_before_id(admin: User) -> None:
    customer = services.customer_create(actor=admin, name="张伟")
    for i in range(3):
        services.note_add(actor=admin, customer=customer, body=f"备注{i}")
    client = bearer(admin)
    first = client.get(f"{API}/customers/{customer.pk}/timeline", {"limit": 2}).json()
    rest = client.get(
        f"{API}/customers/{customer.pk}/timeline", {"limit": 2, "before_id": first[-1]["id"]}
    ).json()
    assert [e["data"].get("body") for e in first] == ["备注2", "备注1"]
    assert [e["data"].get("body") for e in rest] == ["备注0", None]
    assert len(client.get(f"{API}/customers/{customer.pk}/timeline", {"limit": 10**9}).json()) == 4
    assert len(client.get(f"{API}/customers/{customer.pk}/timeline", {"limit": -1}).json()) == 1


def test_bulk_tag_and_untag(admin: User) -> None:
    a = services.customer_create(actor=admin, name="甲")
    b = services.customer_create(actor=admin, name="乙", tags=["VIP"])
    client = bearer(admin)
    tagged = send(client, "POST", f"{API}/customers/bulk/tag", {"ids": [a.pk, b.pk], "tag": "VIP"})
    assert tagged.json() == {"changed": 1}
    untagged = send(
        client, "POST", f"{API}/customers/bulk/tag", {"ids": [a.pk, b.pk], "tag": "VIP", "remove": True}
    )
    assert untagged.json() == {"changed": 2}
    assert Customer.tags.through.objects.count() == 0


def test_bulk_tag_with_a_new_tag_creates_it_for_a_tag_manager_only(
    admin: User, make_user: Callable[..., User], team_a: Team
) -> None:
    sales = make_user("sales", team=team_a)
    customer = services.customer_create(actor=sales, name="甲")
    client = bearer(sales)
    before = state()
    refused = send(client, "POST", f"{API}/customers/bulk/tag", {"ids": [customer.pk], "tag": "新标签"})
    assert refused.status_code == 403
    assert state() == before
    done = send(bearer(admin), "POST", f"{API}/customers/bulk/tag", {"ids": [customer.pk], "tag": "新标签"})
    assert done.json() == {"changed": 1}
    assert list(customer.tags.values_list("name", flat=True)) == ["新标签"]


def test_bulk_actions_refuse_an_empty_id_list(admin: User) -> None:
    client = bearer(admin)
    for path, body in [("tag", {"ids": [], "tag": "VIP"}), ("assign", {"ids": [], "owner_id": admin.pk})]:
        response = send(client, "POST", f"{API}/customers/bulk/{path}", body)
        assert response.status_code == 422
        assert list(error(response)["details"]) == ["ids"]


def test_bulk_assign(admin: User, make_user: Callable[..., User], team_b: Team) -> None:
    a = services.customer_create(actor=admin, name="甲")
    b = services.customer_create(actor=admin, name="乙")
    other = make_user("sales", team=team_b)
    response = send(
        bearer(admin), "POST", f"{API}/customers/bulk/assign", {"ids": [a.pk, b.pk], "owner_id": other.pk}
    )
    assert response.json() == {"changed": 2}
    assert set(Customer.objects.values_list("owner", "team")) == {(other.pk, team_b.pk)}
    missing = send(bearer(admin), "POST", f"{API}/customers/bulk/assign", {"ids": [a.pk], "owner_id": 987654})
    assert missing.status_code == 404


# Contacts, assets, consents


def test_contacts_crud(admin: User) -> None:
    company = services.customer_create(actor=admin, name="华强建材", kind="company")
    person = services.customer_create(actor=admin, name="张伟")
    client = bearer(admin)

    created = send(
        client, "POST", f"{API}/customers/{company.pk}/contacts", {"name": "李建国", "phone": "137-1111-2222"}
    )
    assert created.status_code == 201
    contact = created.json()
    assert (contact["customer_id"], contact["name"], contact["phone"]) == (
        company.pk,
        "李建国",
        "+8613711112222",
    )

    changed = send(client, "PATCH", f"{API}/contacts/{contact['id']}", {"title": "采购经理"})
    assert (changed.status_code, changed.json()["title"]) == (200, "采购经理")
    assert [c["name"] for c in client.get(f"{API}/customers/{company.pk}/contacts").json()] == ["李建国"]

    invalid = send(client, "PATCH", f"{API}/contacts/{contact['id']}", {"phone": "12", "email": "nope"})
    assert invalid.status_code == 422 and set(error(invalid)["details"]) == {"phone", "email"}

    on_person = send(client, "POST", f"{API}/customers/{person.pk}/contacts", {"name": "王芳"})
    assert on_person.status_code == 422
    assert error(on_person)["details"] == {"customer": ["Contacts belong to company customers."]}

    assert send(client, "DELETE", f"{API}/contacts/{contact['id']}").status_code == 204
    assert Contact.objects.count() == 0


def test_assets_crud(admin: User) -> None:
    customer = services.customer_create(actor=admin, name="张伟")
    client = bearer(admin)

    created = send(
        client,
        "POST",
        f"{API}/customers/{customer.pk}/assets",
        {"plate": "粤b·12345", "vin": "lsvau2180n2183294"},
    )
    assert created.status_code == 201
    asset = created.json()
    assert (asset["plate"], asset["vin"], asset["kind"]) == ("粤B12345", "LSVAU2180N2183294", "vehicle")

    changed = send(client, "PATCH", f"{API}/assets/{asset['id']}", {"mileage_km": 12000})
    assert (changed.status_code, changed.json()["mileage_km"]) == (200, 12000)
    assert [a["plate"] for a in client.get(f"{API}/customers/{customer.pk}/assets").json()] == ["粤B12345"]

    invalid = send(
        client,
        "POST",
        f"{API}/customers/{customer.pk}/assets",
        {"plate": "粤", "vin": "SHORT", "mileage_km": -1},
    )
    assert invalid.status_code == 422 and set(error(invalid)["details"]) == {"mileage_km"}
    invalid = send(client, "POST", f"{API}/customers/{customer.pk}/assets", {"plate": "粤", "vin": "SHORT"})
    assert invalid.status_code == 422 and set(error(invalid)["details"]) == {"plate", "vin"}

    assert send(client, "DELETE", f"{API}/assets/{asset['id']}").status_code == 204
    assert Asset.objects.count() == 0


def test_consents_record_and_list(admin: User) -> None:
    customer = services.customer_create(actor=admin, name="张伟")
    client = bearer(admin)
    granted = send(
        client,
        "POST",
        f"{API}/customers/{customer.pk}/consents",
        {
            "purpose": "marketing",
            "channel": "sms",
            "granted": True,
            "method": "paper",
            "recorded_at": "2024-01-02T10:00:00+08:00",
        },
    )
    withdrawn = send(
        client,
        "POST",
        f"{API}/customers/{customer.pk}/consents",
        {"purpose": "marketing", "channel": "sms", "granted": False, "method": "sms"},
    )
    assert (granted.status_code, withdrawn.status_code) == (201, 201)
    history = client.get(f"{API}/customers/{customer.pk}/consents").json()
    assert [(c["granted"], c["method"], c["recorded_by"]) for c in history] == [
        (False, "sms", admin.username),
        (True, "paper", admin.username),
    ]
    future = send(
        client,
        "POST",
        f"{API}/customers/{customer.pk}/consents",
        {"purpose": "marketing", "granted": True, "method": "paper", "recorded_at": "2999-01-01T00:00:00Z"},
    )
    assert future.status_code == 422 and error(future)["details"] == {
        "recorded_at": ["Consent cannot be recorded in the future."]
    }
    wrong = send(
        client,
        "POST",
        f"{API}/customers/{customer.pk}/consents",
        {"purpose": "spam", "granted": "perhaps", "method": "x"},
    )
    assert wrong.status_code == 422 and set(error(wrong)["details"]) == {"purpose", "granted", "method"}


# Tags and custom fields


def test_tags_crud_and_conflicts(admin: User) -> None:
    client = bearer(admin)
    created = send(client, "POST", f"{API}/tags", {"name": "VIP", "color": "#ff0000"})
    assert created.status_code == 201
    tag = created.json()
    assert (tag["name"], tag["color"]) == ("VIP", "#ff0000")
    other = send(client, "POST", f"{API}/tags", {"name": "车队"}).json()

    duplicate = send(client, "POST", f"{API}/tags", {"name": "VIP"})
    assert duplicate.status_code == 409 and error(duplicate)["details"] == {"name": "VIP"}
    rename_clash = send(client, "PATCH", f"{API}/tags/{other['id']}", {"name": "VIP", "color": "#000000"})
    assert rename_clash.status_code == 409
    bad_colour = send(client, "POST", f"{API}/tags", {"name": "新", "color": "red"})
    assert bad_colour.status_code == 422 and error(bad_colour)["details"] == {
        "color": ["Enter a colour such as #2563eb."]
    }
    too_long = send(client, "POST", f"{API}/tags", {"name": "标" * 51})
    assert too_long.status_code == 422 and list(error(too_long)["details"]) == ["name"]

    renamed = send(client, "PATCH", f"{API}/tags/{tag['id']}", {"name": "大客户", "color": "#ff0000"})
    assert renamed.json()["name"] == "大客户"
    assert [t["name"] for t in client.get(f"{API}/tags").json()] == ["大客户", "车队"]
    assert send(client, "DELETE", f"{API}/tags/{tag['id']}").status_code == 204
    assert [t["name"] for t in client.get(f"{API}/tags").json()] == ["车队"]


def test_custom_fields_crud_and_conflicts(admin: User) -> None:
    client = bearer(admin)
    created = send(
        client,
        "POST",
        f"{API}/custom-fields",
        {"key": "grade", "label": "等级", "type": "choice", "choices": ["A", "B"]},
    )
    assert created.status_code == 201
    field = created.json()
    assert (field["key"], field["type"], field["choices"], field["active"]) == (
        "grade",
        "choice",
        ["A", "B"],
        True,
    )

    duplicate = send(
        client, "POST", f"{API}/custom-fields", {"key": "grade", "label": "等级2", "type": "text"}
    )
    assert duplicate.status_code == 409 and error(duplicate)["details"] == {"key": "grade"}
    no_choices = send(client, "POST", f"{API}/custom-fields", {"label": "类别", "type": "choice"})
    assert no_choices.status_code == 422 and error(no_choices)["details"] == {
        "choices": ["A choice field needs at least one choice."]
    }
    wrong_type = send(client, "POST", f"{API}/custom-fields", {"label": "颜色", "type": "colour"})
    assert wrong_type.status_code == 422 and list(error(wrong_type)["details"]) == ["type"]

    changed = send(
        client, "PATCH", f"{API}/custom-fields/{field['id']}", {"active": False, "label": "客户等级"}
    )
    assert (changed.json()["active"], changed.json()["label"]) == (False, "客户等级")
    assert client.get(f"{API}/custom-fields").json() == []
    assert [f["key"] for f in client.get(f"{API}/custom-fields", {"include_inactive": True}).json()] == [
        "grade"
    ]


# Session authentication: reads work; unsafe requests need the CSRF token


GETS = [e for e in ENDPOINTS if e[0] == "GET"]


@pytest.mark.parametrize(
    ("method", "path", "perm", "body", "ok"), GETS, ids=[f"{m} {p}" for m, p, *_ in GETS]
)
@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_every_read_endpoint_answers_a_signed_in_session(
    world: dict[str, Any], role: str, method: str, path: str, perm: str | None, body: Any, ok: int
) -> None:
    records = world["own"][role]
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["users"][role])
    response = client.get(API + fill(path, records, world))
    assert response.status_code == 200, response.content[:300]


def test_a_signed_in_session_reads_the_api(admin: User) -> None:
    customer = services.customer_create(actor=admin, name="张伟")
    client = Client()
    client.force_login(admin)
    assert client.get(f"{API}/customers").json()["items"][0]["id"] == customer.pk
    assert client.get(f"{API}/customers/{customer.pk}").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "perm", "body", "ok"),
    [e for e in ENDPOINTS if e[0] != "GET"],
    ids=[i for i, e in zip(IDS, ENDPOINTS, strict=True) if e[0] != "GET"],
)
def test_a_session_write_without_the_csrf_token_is_refused(
    world: dict[str, Any], method: str, path: str, perm: str | None, body: Any, ok: int
) -> None:
    # given an administrator's browser session, without the CSRF token
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["users"]["admin"])
    before = state()

    # when
    response = send(
        client,
        method,
        API + fill(path, world["own"]["admin"], world),
        fill(body, world["own"]["admin"], world),
    )

    # then
    assert response.status_code == 403, response.content[:300]
    assert error(response)["code"] == "permission_denied"
    assert state() == before


def test_a_session_write_with_the_csrf_token_is_carried_out(admin: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    secret = "a" * 32
    client.cookies["csrftoken"] = secret
    response = client.post(
        f"{API}/customers", {"name": "张伟"}, content_type="application/json", HTTP_X_CSRFTOKEN=secret
    )
    assert response.status_code == 201
    assert AuditEvent.objects.get(action="customer.create").via == "api"


def test_a_bearer_write_needs_no_csrf_token(admin: User) -> None:
    response = send(bearer(admin, enforce_csrf_checks=True), "POST", f"{API}/customers", {"name": "张伟"})
    assert response.status_code == 201


# Bad input of every kind answers 4xx JSON, never a 500.

NEVER_500_GET = [
    "/customers?limit=abc",
    "/customers?tag=abc",
    "/customers?owner=-1",
    "/customers?limit=99999999999999999999",
    "/customers?q=" + "字" * 2000,
    "/customers?q=%F0%9F%98%80%22*",
    "/customers?q=%27%3B%20DROP%20TABLE%20customers_customer%3B--",
    "/customers?stage=%E2%9C%93&sort=%27&kind=x&source=y&city=z",
    "/customers?cf_grade=A",
    "/customers?cf_=1",
    "/customers/{customer}/timeline?limit=abc",
    "/customers/{customer}/timeline?before_id=-5",
    "/customers/{customer}/timeline?before_id=99999999999999999999",
    "/customers/abc",
    "/customers/-1",
    "/customers/99999999999999999999",
    "/custom-fields?include_inactive=perhaps",
]


@pytest.mark.parametrize("path", NEVER_500_GET)
def test_bad_query_input_never_answers_500(world: dict[str, Any], path: str) -> None:
    client = bearer(world["users"]["admin"], raise_request_exception=False)
    response = client.get(API + fill(path, world["own"]["admin"], world))
    assert response.status_code < 500, response.content[:300]


def test_a_huge_offset_never_answers_500(admin: User) -> None:
    client = bearer(admin, raise_request_exception=False)
    response = client.get(f"{API}/customers", {"offset": 10**20})
    assert response.status_code < 500


def test_a_number_custom_field_filter_finds_the_customer(admin: User) -> None:
    services.custom_field_create(actor=admin, key="fleet", label="车队规模", type="number")
    services.customer_create(actor=admin, name="甲", custom_fields={"fleet": "12"})
    response = bearer(admin).get(f"{API}/customers", {"cf_fleet": "12"})
    assert [c["name"] for c in response.json()["items"]] == ["甲"]


def test_a_boolean_custom_field_filter_finds_the_customer(admin: User) -> None:
    services.custom_field_create(actor=admin, key="invoice", label="需要发票", type="boolean")
    services.customer_create(actor=admin, name="甲", custom_fields={"invoice": "yes"})
    response = bearer(admin).get(f"{API}/customers", {"cf_invoice": "true"})
    assert [c["name"] for c in response.json()["items"]] == ["甲"]


@pytest.mark.parametrize("param", ["cf_grade__contains", "cf_grade__regex", "cf_grade__in"])
def test_a_custom_field_filter_is_not_an_orm_lookup(admin: User, param: str) -> None:
    services.custom_field_create(actor=admin, key="grade", label="等级", type="text")
    services.customer_create(actor=admin, name="甲", custom_fields={"grade": "("})
    client = bearer(admin, raise_request_exception=False)
    response = client.get(f"{API}/customers", {param: "("})
    assert response.status_code < 500
    assert response.status_code == 422 or response.json()["items"] == []


NEVER_500_BODIES: list[tuple[str, str, Any]] = [
    ("POST", "/customers", {"name": "张伟", "phones": [None, 1, {"a": 1}]}),
    ("POST", "/customers", {"name": "张伟", "birthday": "0001-01-01"}),
    ("POST", "/customers", {"name": "张伟", "birthday": "9999-12-31"}),
    ("POST", "/customers", {"name": "张伟", "owner_id": 99999999999999999999}),
    ("POST", "/customers", {"name": "张伟", "team_id": -1}),
    ("POST", "/customers", {"name": "张伟", "tags": ["标" * 60]}),
    ("POST", "/customers", {"name": "张伟", "external_ids": {"erp": "x" * 5000}}),
    ("POST", "/customers", {"name": "张伟", "external_ids": {"erp": 1}}),
    ("POST", "/customers", {"name": "张伟", "custom_fields": {"fleet": [1, 2]}}),
    ("POST", "/customers", {"name": "😀" * 200, "notes": "\u202e\u200b"}),
    ("POST", "/customers", {"name": True}),
    ("PATCH", "/customers/{customer}", {"owner_id": 99999999999999999999}),
    ("PATCH", "/customers/{customer}", {"team_id": 987654}),
    ("PATCH", "/customers/{customer}", {"kind": None, "stage": None, "phones": None}),
    ("PATCH", "/customers/{customer}", {"birthday": None, "member_no": None}),
    ("POST", "/customers/{customer}/contacts", {"name": "李", "phone": "+" + "9" * 40}),
    ("PATCH", "/contacts/{contact}", {"name": None, "is_primary": None}),
    ("POST", "/customers/{customer}/assets", {"plate": "粤B12345", "site_stage": "roof"}),
    ("PATCH", "/assets/{asset}", {"kind": "site"}),
    ("PATCH", "/assets/{asset}", {"plate": None, "vin": None}),
    (
        "POST",
        "/customers/{customer}/consents",
        {"purpose": "marketing", "granted": True, "method": "web", "recorded_at": "soon"},
    ),
    ("POST", "/customers/bulk/tag", {"ids": ["{customer}"], "tag": ""}),
    ("POST", "/customers/bulk/assign", {"ids": ["{customer}"], "owner_id": 99999999999999999999}),
    ("POST", "/customers/bulk/assign", {"ids": list(range(1, 10002)), "owner_id": None}),
    ("POST", "/tags", {"name": "VIP", "color": None}),
    ("PATCH", "/tags/{tag}", {"name": "VIP"}),
    ("POST", "/custom-fields", {"label": "x", "type": "text", "key": "!!!"}),
    ("POST", "/custom-fields", {"label": "x", "type": "choice", "choices": ["字" * 5000]}),
    ("PATCH", "/custom-fields/{field}", {"type": None, "label": None}),
]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    NEVER_500_BODIES,
    ids=[f"{m} {p} {i}" for i, (m, p, _b) in enumerate(NEVER_500_BODIES)],
)
def test_bad_bodies_never_answer_500(world: dict[str, Any], method: str, path: str, body: Any) -> None:
    client = bearer(world["users"]["admin"], raise_request_exception=False)
    records = world["own"]["admin"]
    response = send(client, method, API + fill(path, records, world), fill(body, records, world))
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        error(response)


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/customers?q=a%00b", None, 200),
        ("/customers", {"name": "张\x00伟"}, 422),
        ("/tags", {"name": "V\x00IP"}, 422),
    ],
)
def test_a_nul_character_is_refused_without_a_500(admin: User, path: str, body: Any, status: int) -> None:
    client = bearer(admin, raise_request_exception=False)
    response = client.get(API + path) if body is None else send(client, "POST", API + path, body)
    assert response.status_code == status


# 308 characters: validate_email takes it (labels of 60, under 320 in all), its column holds 254.
TOO_LONG_EMAIL = "a" * 60 + "@" + ("b" * 60 + ".") * 4 + "com"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/customers", {"name": "张伟", "emails": [TOO_LONG_EMAIL]}),
        ("/customers/{customer}/contacts", {"name": "李", "email": TOO_LONG_EMAIL}),
    ],
)
def test_an_email_past_its_column_answers_422(world: dict[str, Any], path: str, body: Any) -> None:
    client = bearer(world["users"]["admin"], raise_request_exception=False)
    response = send(client, "POST", API + fill(path, world["own"]["admin"], world), body)
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/customers?owner=99999999999999999999", None),
        ("GET", "/customers?team=99999999999999999999", None),
        ("GET", "/customers?tag=99999999999999999999", None),
        ("POST", "/customers/bulk/tag", {"ids": [99999999999999999999], "tag": "VIP"}),
    ],
)
def test_an_id_past_64_bits_never_answers_500(
    world: dict[str, Any], method: str, path: str, body: Any
) -> None:
    client = bearer(world["users"]["admin"], raise_request_exception=False)
    response = send(client, method, API + path, body)
    assert response.status_code < 500


def test_a_consent_dated_in_year_one_never_answers_500(world: dict[str, Any]) -> None:
    client = bearer(world["users"]["admin"], raise_request_exception=False)
    customer = world["own"]["admin"]["customer"]
    response = send(
        client,
        "POST",
        f"{API}/customers/{customer.pk}/consents",
        {"purpose": "marketing", "granted": True, "method": "web", "recorded_at": "0001-01-01T00:00:00"},
    )
    assert response.status_code < 500


def test_a_member_number_too_long_answers_422(admin: User) -> None:
    client = bearer(admin, raise_request_exception=False)
    response = send(client, "POST", f"{API}/customers", {"name": "张伟", "member_no": "M" * 41})
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/customers/{customer}/assets", {"plate": "粤B12345", "mileage_km": 10**12}),
        ("/custom-fields", {"label": "车型", "type": "text", "position": 10**12}),
    ],
)
def test_a_number_past_its_column_answers_422(world: dict[str, Any], path: str, body: Any) -> None:
    client = bearer(world["users"]["admin"], raise_request_exception=False)
    response = send(client, "POST", API + fill(path, world["own"]["admin"], world), body)
    assert response.status_code == 422
