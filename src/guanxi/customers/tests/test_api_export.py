"""GET /customers/export.csv|xlsx and POST /customers/export.vcf: the list's parameters, scope, masking."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from conftest import bearer

from guanxi.audit.models import AuditEvent
from guanxi.customers import services
from guanxi.customers.models import Customer
from guanxi.customers.tests.test_export import as_dicts, parse_vcards, read_csv, read_xlsx
from guanxi.customers.tests.test_views_export import body
from guanxi.users.models import Team, User

pytestmark = pytest.mark.django_db


def test_csv_takes_the_lists_query_parameters(admin: User, make_customer: Callable[..., Customer]) -> None:
    # given
    services.custom_field_create(actor=admin, key="fleet", label="车队", type="number")
    make_customer(admin, name="张伟", stage="loyal", custom_fields={"fleet": 5})
    make_customer(admin, name="王芳", stage="loyal", custom_fields={"fleet": 2})
    make_customer(admin, name="李强", stage="lead", custom_fields={"fleet": 5})

    # when
    response = bearer(admin).get("/api/v1/customers/export.csv?stage=loyal&cf_fleet=5")

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = read_csv(body(response))
    assert rows[0][1] == "Name"
    assert [row[1] for row in rows[1:]] == ["张伟"]
    event = AuditEvent.objects.get(action="customer.export")
    assert event.via == "api"
    assert event.data["filters"] == {"stage": "loyal", "custom": {"fleet": "5"}}


def test_xlsx_for_a_marketing_token_is_masked(
    admin: User, make_user: Callable[..., User], make_customer: Callable[..., Customer]
) -> None:
    make_customer(admin, name="张伟", phones=["13800138000"], emails=["zw@example.com"])

    response = bearer(make_user("marketing")).get("/api/v1/customers/export.xlsx")

    assert response.status_code == 200
    row = as_dicts(read_xlsx(body(response)))[0]
    assert (row["Phones"], row["Emails"]) == ("138****8000", "z***@example.com")


def test_the_export_paths_do_not_clash_with_one_customer(
    admin: User, make_customer: Callable[..., Customer]
) -> None:
    customer = make_customer(admin, name="张伟")
    client = bearer(admin)

    assert client.get(f"/api/v1/customers/{customer.pk}").json()["name"] == "张伟"
    assert client.get("/api/v1/customers/export.csv").status_code == 200
    assert client.get("/api/v1/customers/export.xlsx").status_code == 200


def test_a_manager_exports_only_the_team(
    admin: User, make_user: Callable[..., User], make_customer: Callable[..., Customer], team_b: Team
) -> None:
    manager = make_user("manager")
    make_customer(admin, name="本组", team=manager.team)
    outside = make_customer(admin, name="别组", team=team_b)
    client = bearer(manager)

    rows = read_csv(body(client.get("/api/v1/customers/export.csv")))
    vcf = client.post(
        "/api/v1/customers/export.vcf", json.dumps({"ids": [outside.pk]}), content_type="application/json"
    )

    assert [row[1] for row in rows[1:]] == ["本组"]
    assert vcf.status_code == 200 and parse_vcards(body(vcf).decode()) == []


@pytest.mark.parametrize("role", ["sales", "service", "viewer"])
def test_roles_without_the_export_permission_get_403(make_user: Callable[..., User], role: str) -> None:
    client = bearer(make_user(role))

    responses = [
        client.get("/api/v1/customers/export.csv"),
        client.get("/api/v1/customers/export.xlsx"),
        client.post("/api/v1/customers/export.vcf", '{"ids": [1]}', content_type="application/json"),
    ]

    for response in responses:
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert not AuditEvent.objects.filter(action="customer.export").exists()


def test_vcards_of_the_ids_posted(admin: User, make_customer: Callable[..., Customer]) -> None:
    one = make_customer(admin, name="深圳建材有限公司", kind="company", phones=["075588886666"])
    make_customer(admin, name="王芳")

    response = bearer(admin).post(
        "/api/v1/customers/export.vcf", json.dumps({"ids": [one.pk]}), content_type="application/json"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    (card,) = parse_vcards(body(response).decode())
    assert card["ORG"] == [("", "深圳建材有限公司")]
    assert card["TEL"] == [("TYPE=VOICE", "+8675588886666")]


@pytest.mark.parametrize("payload", ['{"ids": []}', '{"ids": [0]}', "[]", '{"ids": ["x"]}'])
def test_a_vcard_request_needs_valid_ids(admin: User, payload: str) -> None:
    response = bearer(admin).post("/api/v1/customers/export.vcf", payload, content_type="application/json")

    assert response.status_code == 422


def test_the_openapi_document_describes_the_downloads(admin: User) -> None:
    paths = bearer(admin).get("/api/v1/openapi.json").json()["paths"]

    csv_get = paths["/api/v1/customers/export.csv"]["get"]
    assert "text/csv" in csv_get["responses"]["200"]["content"]
    assert {p["name"] for p in csv_get["parameters"]} >= {"q", "stage", "tag", "owner", "team", "sort"}
    assert "limit" not in {p["name"] for p in csv_get["parameters"]}
    assert "post" in paths["/api/v1/customers/export.vcf"]


def test_an_xlsx_too_large_to_build_while_waiting_is_refused(
    admin: User, make_customer: Callable[..., Customer], settings: Any
) -> None:
    # given a list longer than an XLSX made inside a request may be
    settings.GUANXI_EXPORT_XLSX_MAX_ROWS = 1
    make_customer(admin, name="张伟")
    make_customer(admin, name="王芳")

    # when
    response = bearer(admin).get("/api/v1/customers/export.xlsx")

    # then
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "export_too_large" and error["details"] == {"rows": 2, "limit": 1}
    assert "CSV" in error["message"]
    assert not AuditEvent.objects.filter(action="customer.export").exists()
    # and CSV, which streams, has no limit
    assert len(read_csv(body(bearer(admin).get("/api/v1/customers/export.csv")))) == 3
