"""The audit log page: who may read it, its filters (full page and htmx partial), rows and pages."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from guanxi.audit.models import AuditEvent
from guanxi.core.context import origin
from guanxi.customers import services as customer_services
from guanxi.users import services as user_services
from guanxi.users.models import User

pytestmark = pytest.mark.django_db

URL = "/audit/"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def history(admin: User, make_user: Any, make_customer: Any) -> dict[str, Any]:
    """A customer created and edited on the web, a tag from the API, a token from the command line."""
    sales = make_user("sales", username="li.lei")
    with origin("web", ip="10.0.0.8"):
        customer = make_customer(admin, name="陈静")
        customer_services.customer_update(actor=admin, customer=customer, city="深圳")
    with origin("api", ip="10.0.0.9"):
        tag = customer_services.tag_create(actor=admin, name="VIP", color="#ff0000")
        customer_services.tag_update(actor=admin, tag=tag, name="贵宾", color="#ff0000")
    with origin("cli"):
        user_services.token_create(actor=sales, user=sales, name="cli")
    return {"customer": customer, "tag": tag, "sales": sales}


def _rows(response: Any) -> list[AuditEvent]:
    return [row["event"] for row in response.context["rows"]]


def _actions(response: Any) -> list[str]:
    """The action codes in the table, read from the HTML (a partial carries no template context)."""
    table = response.content.decode().split('id="audit-table"', 1)[1]
    return re.findall(r'<code class="action-code">([\w.]+)</code>', table)


def test_only_roles_with_audit_view_read_the_log(client_for: Any, make_user: Any) -> None:
    for role in ("sales", "manager", "service", "marketing", "viewer"):
        assert client_for(make_user(role)).get(URL).status_code == 403, role


def test_the_log_lists_events_newest_first_with_origin_and_changes(
    client_for: Any, admin: User, history: dict[str, Any]
) -> None:
    response = client_for(admin).get(URL)

    assert response.status_code == 200
    events = _rows(response)
    assert [e.action for e in events][:3] == ["token.create", "tag.update", "tag.create"]
    assert events == sorted(events, key=lambda e: (e.occurred_at, e.id), reverse=True)
    body = response.content.decode()
    assert reverse("customer-detail", args=[history["customer"].pk]) in body
    assert "10.0.0.9" in body and "Command line" in body and "Customer edited" in body
    assert re.search(r'City</span>:\s*<span class="new">深圳</span>', body)  # set where it was empty
    assert '<span class="old">VIP</span> → <span class="new">贵宾</span>' in body
    assert "<form" not in body.split('id="audit-table"')[1]  # read-only: no buttons on the rows


def test_times_show_in_shanghai_time(client_for: Any, admin: User, history: dict[str, Any]) -> None:
    event = AuditEvent.objects.latest("id")
    local = event.occurred_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")

    body = client_for(admin).get(URL).content.decode()

    assert local in body


@pytest.mark.parametrize(
    "query,expected",
    [
        ({"action": "tag.create"}, ["tag.create"]),
        ({"action": "customer."}, ["customer.update", "customer.create"]),
        ({"actor": "li.lei"}, ["token.create"]),
        ({"target_type": "customers.tag"}, ["tag.update", "tag.create"]),
        ({"action": "coupon.redeem"}, []),
    ],
)
def test_filters_narrow_the_list_with_and_without_htmx(
    client_for: Any, admin: User, history: dict[str, Any], query: dict[str, str], expected: list[str]
) -> None:
    client = client_for(admin)

    page = client.get(URL, query)
    partial = client.get(URL, query, HTTP_HX_REQUEST="true")

    assert [e.action for e in _rows(page)] == expected
    assert _actions(page) == _actions(partial) == expected
    assert "<html" in page.content.decode() and 'name="action"' in page.content.decode()
    fragment = partial.content.decode()
    assert "<html" not in fragment and 'name="action"' not in fragment
    assert fragment.lstrip().startswith('<div id="audit-table"')


def test_filter_by_target_id_and_dates(client_for: Any, admin: User, history: dict[str, Any]) -> None:
    client = client_for(admin)
    customer = history["customer"]
    today = datetime.now(SHANGHAI).date()

    by_target = client.get(URL, {"target_type": "customers.customer", "target_id": str(customer.pk)})
    today_only = client.get(URL, {"since": today.isoformat(), "until": today.isoformat()})
    tomorrow = client.get(URL, {"since": (today + timedelta(days=1)).isoformat()})
    yesterday = client.get(URL, {"until": (today - timedelta(days=1)).isoformat()})

    assert [e.action for e in _rows(by_target)] == ["customer.update", "customer.create"]
    assert len(_rows(today_only)) == AuditEvent.objects.count()
    assert _rows(tomorrow) == [] and _rows(yesterday) == []
    assert "No events match these filters." in tomorrow.content.decode()


def test_a_bad_filter_shows_an_error_and_filters_by_the_rest(
    client_for: Any, admin: User, history: dict[str, Any]
) -> None:
    response = client_for(admin).get(URL, {"since": "not-a-date", "actor": "li.lei"})

    assert response.status_code == 200
    assert response.context["form"].errors["since"]
    assert [e.action for e in _rows(response)] == ["token.create"]


def test_pages_of_fifty_without_counting_and_without_a_query_per_row(
    client_for: Any, admin: User, django_assert_max_num_queries: Any
) -> None:
    for n in range(60):
        customer_services.tag_create(actor=admin, name=f"标签{n}")
    client = client_for(admin)
    client.get(URL)

    with django_assert_max_num_queries(6) as queries:
        first = client.get(URL)
    second = client.get(URL, {"page": 2})

    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert len(_rows(first)) == 50 and first.context["page"].has_next
    assert len(_rows(second)) == 10 and not second.context["page"].has_next
    assert "page=1" in second.content.decode()


def test_long_changes_fold_into_details(client_for: Any, admin: User) -> None:
    with origin("web"):
        user_services.user_create(
            actor=admin,
            username="zhou",
            password="Grün-Tee-7319!",
            full_name="周",
            email="zhou@example.cn",
            role="manager",
        )

    body = client_for(admin).get(URL).content.decode()

    assert "<details><summary>4 fields changed<" in body
    assert reverse("user-edit", args=[User.objects.get(username="zhou").pk]) in body


def test_an_htmx_history_restore_gets_the_whole_page(
    client_for: Any, admin: User, history: dict[str, Any]
) -> None:
    response = client_for(admin).get(
        URL, {"action": "tag."}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )

    assert "<html" in response.content.decode()
    assert _actions(response) == ["tag.update", "tag.create"]
