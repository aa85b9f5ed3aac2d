"""The export downloads of the customer pages: the list's filters kept, scope and masking, who may."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from guanxi.audit.models import AuditEvent
from guanxi.customers.models import Customer
from guanxi.customers.tests.test_export import as_dicts, parse_vcards, read_csv, read_xlsx, unescape
from guanxi.users.models import Team, User

pytestmark = pytest.mark.django_db


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_csv_download_keeps_the_lists_filters(
    client_for: Callable[..., Client], admin: User, make_customer: Callable[..., Customer]
) -> None:
    # given
    make_customer(admin, name="张伟", stage="loyal", city="深圳市")
    make_customer(admin, name="王芳", stage="loyal", city="广州市")
    make_customer(admin, name="李强", stage="lead", city="深圳市")

    # when
    response = client_for(admin).get("/customers/export.csv?stage=loyal&city=深圳市&page=3")

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    assert response["Content-Disposition"].endswith('.csv"')
    assert response["Cache-Control"] == "no-store"
    rows = read_csv(body(response))
    assert rows[0][1] == "Name"  # the reader's language
    assert [row[1] for row in rows[1:]] == ["张伟"]
    event = AuditEvent.objects.get(action="customer.export")
    assert (event.via, event.actor) == ("web", admin)
    assert event.data["filters"] == {"stage": "loyal", "city": "深圳市"} and event.data["rows"] == 1


def test_xlsx_download_for_a_marketing_user_is_masked_and_sorted(
    client_for: Callable[..., Client],
    admin: User,
    make_user: Callable[..., User],
    make_customer: Callable[..., Customer],
) -> None:
    make_customer(admin, name="B客户", phones=["13800138000"])
    make_customer(admin, name="A客户", phones=["13900139000"])

    response = client_for(make_user("marketing")).get("/customers/export.xlsx?sort=name")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = as_dicts(read_xlsx(body(response)))
    assert [(row["Name"], row["Phones"]) for row in rows] == [
        ("A客户", "139****9000"),
        ("B客户", "138****8000"),
    ]


def test_a_manager_downloads_only_the_team(
    client_for: Callable[..., Client],
    admin: User,
    make_user: Callable[..., User],
    make_customer: Callable[..., Customer],
    team_b: Team,
) -> None:
    manager = make_user("manager")
    make_customer(admin, name="本组", team=manager.team)
    make_customer(admin, name="别组", team=team_b)

    rows = read_csv(body(client_for(manager).get("/customers/export.csv")))

    assert [row[1] for row in rows[1:]] == ["本组"]


@pytest.mark.parametrize("role", ["sales", "service", "viewer"])
def test_roles_without_the_export_permission_get_403(
    client_for: Callable[..., Client],
    make_user: Callable[..., User],
    admin: User,
    make_customer: Callable[..., Customer],
    role: str,
) -> None:
    customer = make_customer(admin, name="张伟")
    client = client_for(make_user(role))

    assert client.get("/customers/export.csv").status_code == 403
    assert client.get("/customers/export.xlsx").status_code == 403
    assert client.post("/customers/export.vcf", {"ids": [customer.pk]}).status_code == 403
    assert client.get(f"/customers/{customer.pk}/export.vcf").status_code == 403
    assert not AuditEvent.objects.filter(action="customer.export").exists()


def test_the_list_shows_export_links_with_its_filters_only_to_exporters(
    client_for: Callable[..., Client],
    admin: User,
    make_user: Callable[..., User],
    make_customer: Callable[..., Customer],
) -> None:
    make_customer(admin, name="张伟", stage="loyal")

    page = client_for(admin).get("/customers/?stage=loyal&page=1").content.decode()
    partial = client_for(admin).get("/customers/?stage=loyal", HTTP_HX_REQUEST="true").content.decode()
    sales_page = client_for(make_user("sales")).get("/customers/").content.decode()

    for html in (page, partial):
        assert 'href="/customers/export.csv?stage=loyal"' in html
        assert 'href="/customers/export.xlsx?stage=loyal"' in html
        assert 'formaction="/customers/export.vcf"' in html
    assert "/customers/export." not in sales_page


def test_selected_customers_download_as_vcards(
    client_for: Callable[..., Client], admin: User, make_customer: Callable[..., Customer]
) -> None:
    one = make_customer(admin, name="张伟", phones=["13800138000"])
    two = make_customer(admin, name="王芳")
    make_customer(admin, name="李强")

    response = client_for(admin).post("/customers/export.vcf", {"ids": [str(one.pk), str(two.pk), "x"]})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    assert response["Content-Disposition"].endswith('.vcf"')
    cards = parse_vcards(body(response).decode())
    assert sorted(unescape(card["FN"][0][1]) for card in cards) == ["张伟", "王芳"]
    assert AuditEvent.objects.get(action="customer.export").data["filters"] == {
        "ids": sorted([one.pk, two.pk])
    }


def test_a_vcard_post_without_selection_goes_back_to_the_list(
    client_for: Callable[..., Client], admin: User
) -> None:
    response = client_for(admin).post("/customers/export.vcf", {"next": "stage=loyal"})

    assert response.status_code == 302 and response.url == "/customers/?stage=loyal"
    assert not AuditEvent.objects.filter(action="customer.export").exists()


def test_one_customer_downloads_as_a_vcard_from_the_360_page(
    client_for: Callable[..., Client],
    admin: User,
    make_user: Callable[..., User],
    make_customer: Callable[..., Customer],
    team_b: Team,
) -> None:
    manager = make_user("manager")
    mine = make_customer(admin, name="本组", team=manager.team)
    other = make_customer(admin, name="别组", team=team_b)
    client = client_for(manager)

    page = client.get(f"/customers/{mine.pk}/").content.decode()
    response = client.get(f"/customers/{mine.pk}/export.vcf")

    assert f'href="/customers/{mine.pk}/export.vcf"' in page
    assert [card["FN"][0][1] for card in parse_vcards(body(response).decode())] == ["本组"]
    assert client.get(f"/customers/{other.pk}/export.vcf").status_code == 404


def test_without_filters_the_links_export_the_whole_list(
    client_for: Callable[..., Client], admin: User, make_customer: Callable[..., Customer]
) -> None:
    make_customer(admin, name="张伟")

    html = client_for(admin).get("/customers/").content.decode()

    assert 'href="/customers/export.csv"' in html and 'href="/customers/export.xlsx"' in html


def test_a_reader_who_chose_no_language_gets_chinese_headers(
    admin: User, make_customer: Callable[..., Customer]
) -> None:
    make_customer(admin, name="李娜", kind="company")
    client = Client()
    client.force_login(admin)

    rows = read_csv(body(client.get("/customers/export.csv")))

    assert rows[0][:3] == ["ID", "名称", "类型"] and rows[1][2] == "企业"


def test_an_xlsx_too_large_to_build_while_waiting_goes_back_to_the_list(
    client_for: Callable[..., Client],
    admin: User,
    make_customer: Callable[..., Customer],
    settings: Any,
) -> None:
    # given a filtered list longer than an XLSX made inside a request may be
    settings.GUANXI_EXPORT_XLSX_MAX_ROWS = 1
    make_customer(admin, name="张伟", stage="loyal")
    make_customer(admin, name="王芳", stage="loyal")
    client = client_for(admin)

    # when
    response = client.get("/customers/export.xlsx?stage=loyal&sort=name")

    # then the list comes back with its filters and a message pointing to CSV and the command
    assert response.status_code == 302
    assert response["Location"] == "/customers/?stage=loyal&sort=name"
    page = client.get(response["Location"]).content.decode()
    assert "This list has 2 customers" in page and "CSV" in page and "guanxi export customers" in page
    assert not AuditEvent.objects.filter(action="customer.export").exists()
