"""The log form and the filterable timeline on the customer 360 page, the activity list, and changing or
deleting an activity: with and without htmx, for each role, with constant query counts."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from guanxi.activities import services
from guanxi.activities.models import Activity
from guanxi.activities.tests.activity_fixtures import *  # noqa: F403  (the fixtures)
from guanxi.customers import services as customer_services
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.sales import services as sales_services
from guanxi.users.models import User

pytestmark = pytest.mark.django_db
HX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}
ClientFor = Callable[[User], Client]


def _html(response: Any) -> str:
    return str(response.content.decode())


def _log_url(customer: Customer) -> str:
    return reverse("customer-activity-log", args=[customer.pk])


# ---------------------------------------------------------------------------------------------------
# The log form on the 360 page


def test_the_page_offers_the_log_form_with_a_call_now(
    client_for: ClientFor, rep: User, buyer: Customer
) -> None:
    html = _html(client_for(rep).get(reverse("customer-detail", args=[buyer.pk])))

    assert 'id="activity-form"' in html and "Log activity" in html
    assert re.search(r'<input type="radio" name="kind" value="call"[^>]* checked>', html)
    now = timezone.localtime().strftime("%Y-%m-%dT%H:")
    assert f'value="{now}' in html  # the time field starts at now
    assert '<option value="zhang.wei@example.com">' in html
    assert 'id="note-form"' not in html  # a note is one of the activity types now


def test_a_viewer_gets_no_form(client_for: ClientFor, viewer: User, rep: User, buyer: Customer) -> None:
    customer_services.customer_update(actor=rep, customer=buyer, city="深圳市")  # in the viewer's team scope
    html = _html(client_for(viewer).get(reverse("customer-detail", args=[buyer.pk])))
    assert 'id="activity-form"' not in html and 'id="note-form"' not in html
    assert 'id="timeline"' in html


def test_logging_a_call_with_htmx_answers_a_fresh_form_and_reloads_the_timeline(
    client_for: ClientFor, rep: User, buyer: Customer
) -> None:
    client = client_for(rep)
    response = client.post(
        _log_url(buyer),
        {
            "kind": "call",
            "direction": "in",
            "outcome": "reached",
            "body": "问保养价格",
            "duration_minutes": "6",
        },
        **HX,
    )

    assert response.status_code == 200 and response["HX-Trigger"] == "timeline-changed"
    html = _html(response)
    assert 'id="activity-form"' in html and "<html" not in html and "问保养价格" not in html
    activity = Activity.objects.get()
    assert (activity.kind, activity.direction, activity.outcome) == ("call", "in", "reached")
    assert activity.duration_minutes == 6 and activity.owner == rep
    timeline = _html(client.get(reverse("customer-timeline", args=[buyer.pk]), **HX))
    first = timeline.index('<li class="tl-')
    assert timeline[first:].startswith('<li class="tl-act-call">')
    assert "Incoming call" in timeline[first : first + 600] and "问保养价格" in timeline


def test_logging_without_htmx_goes_back_to_the_page(
    client_for: ClientFor, rep: User, buyer: Customer
) -> None:
    response = client_for(rep).post(_log_url(buyer), {"kind": "visit", "outcome": "interested"})
    assert response.status_code == 302
    assert response["Location"] == reverse("customer-detail", args=[buyer.pk]) + "#activity-form"
    assert Activity.objects.get().kind == "visit"


@pytest.mark.parametrize("htmx", [True, False])
def test_an_invalid_activity_shows_its_errors(
    client_for: ClientFor, rep: User, buyer: Customer, htmx: bool
) -> None:
    future = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client_for(rep).post(
        _log_url(buyer), {"kind": "call", "occurred_at": future}, **(HX if htmx else {})
    )
    assert response.status_code == (200 if htmx else 422)
    assert "plan it as a task" in _html(response)
    assert not Activity.objects.exists()


def test_a_note_needs_its_text(client_for: ClientFor, rep: User, buyer: Customer) -> None:
    response = client_for(rep).post(_log_url(buyer), {"kind": "note", "body": " "}, **HX)
    assert "Write the note." in _html(response) and not Activity.objects.exists()


@pytest.mark.parametrize(
    "role,status", [("viewer", 403), ("marketing", 403), ("sales", 404), ("service", 200), ("manager", 200)]
)
def test_who_may_log_on_the_reps_customer(
    client_for: ClientFor, make_user: Callable[..., User], buyer: Customer, role: str, status: int
) -> None:
    response = client_for(make_user(role)).post(_log_url(buyer), {"kind": "call"}, **HX)
    assert response.status_code == status
    assert Activity.objects.count() == (1 if status == 200 else 0)


def test_a_rep_cannot_log_on_another_teams_customer(
    client_for: ClientFor, rep: User, other_customer: Customer
) -> None:
    assert client_for(rep).post(_log_url(other_customer), {"kind": "call"}).status_code == 404
    assert not Activity.objects.exists()


def test_the_log_route_takes_only_posts(client_for: ClientFor, rep: User, buyer: Customer) -> None:
    assert client_for(rep).get(_log_url(buyer)).status_code == 405


# ---------------------------------------------------------------------------------------------------
# The timeline's filter


@pytest.fixture
def mixed(rep: User, buyer: Customer, admin: User) -> None:
    now = timezone.now()
    sales_services.order_create(
        actor=admin, customer=buyer, amount="66.00", ordered_at=now - timedelta(days=1)
    )
    services.activity_log(
        actor=rep, customer=buyer, kind="call", body="电话一", occurred_at=now - timedelta(hours=3)
    )
    services.activity_log(
        actor=rep, customer=buyer, kind="visit", body="到店", occurred_at=now - timedelta(hours=2)
    )
    services.activity_log(
        actor=rep, customer=buyer, kind="call", body="电话二", occurred_at=now - timedelta(hours=1)
    )


@pytest.mark.parametrize(
    "timeline_type,expected",
    [
        ("activity.call", ["tl-act-call", "tl-act-call"]),
        ("activities", ["tl-act-call", "tl-act-visit", "tl-act-call"]),
        ("orders", ["tl-order"]),
        ("changes", ["tl-created"]),
        ("", ["tl-created", "tl-act-call", "tl-act-visit", "tl-act-call", "tl-order"]),
    ],
)
def test_the_timeline_filters_by_type_with_htmx(
    client_for: ClientFor, rep: User, buyer: Customer, mixed: None, timeline_type: str, expected: list[str]
) -> None:
    rep.role = "manager"  # sees orders (order.view) as well
    rep.save(update_fields=["role"])
    html = _html(
        client_for(rep).get(reverse("customer-timeline", args=[buyer.pk]), {"type": timeline_type}, **HX)
    )
    classes = [part.split('"')[0] for part in html.split('<li class="')[1:]]
    assert classes == expected
    assert f'aria-current="true" data-type="{timeline_type or "all"}"' in html


def test_a_filtered_page_loads_older_entries_of_its_type(
    client_for: ClientFor, rep: User, buyer: Customer
) -> None:
    now = timezone.now()
    for i in range(55):
        services.activity_log(actor=rep, customer=buyer, kind="call", occurred_at=now - timedelta(minutes=i))
        services.activity_log(
            actor=rep,
            customer=buyer,
            kind="note",
            body="n",
            occurred_at=now - timedelta(minutes=i, seconds=30),
        )
    client = client_for(rep)
    first = _html(client.get(reverse("customer-detail", args=[buyer.pk]), {"type": "activity.call"}))
    assert first.count('<li class="tl-act-call">') == 50 and '<li class="tl-act-note">' not in first
    more = first.split("before_id=")[1].split("&")[0]
    assert "&amp;type=activity.call" in first
    older = _html(
        client.get(
            reverse("customer-timeline", args=[buyer.pk]), {"before_id": more, "type": "activity.call"}, **HX
        )
    )
    assert older.count('<li class="tl-act-call">') == 5 and "tl-act-note" not in older


def test_the_timeline_without_htmx_keeps_the_type(client_for: ClientFor, rep: User, buyer: Customer) -> None:
    response = client_for(rep).get(reverse("customer-timeline", args=[buyer.pk]), {"type": "activity.call"})
    assert (
        response["Location"] == reverse("customer-detail", args=[buyer.pk]) + "?type=activity.call#timeline"
    )


def test_the_page_and_the_timeline_take_constant_queries(
    client_for: ClientFor, rep: User, buyer: Customer, django_assert_num_queries: Any
) -> None:
    client = client_for(rep)
    detail = reverse("customer-detail", args=[buyer.pk])
    timeline = reverse("customer-timeline", args=[buyer.pk])

    def counts() -> list[int]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        found = []
        for url, extra in ((detail, {}), (timeline, HX), (timeline + "?type=activity.call", HX)):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url, **extra).status_code == 200
            found.append(len(queries))
        return found

    few = counts()
    for i in range(60):
        services.activity_log(actor=rep, customer=buyer, kind=("call", "visit", "note")[i % 3], body=f"{i}")
    assert counts() == few
    # The page as the customers app counts it (16; see its test of the page); the timeline card: session,
    # user, the customer with phones, emails, tags, contacts and assets, custom fields, the entries.
    assert few == [16, 10, 10]


# ---------------------------------------------------------------------------------------------------
# The list page


def test_the_list_shows_a_reps_activities_only(
    client_for: ClientFor, rep: User, buyer: Customer, stranger: User, other_customer: Customer
) -> None:
    services.activity_log(actor=rep, customer=buyer, kind="call", subject="我的电话")
    services.activity_log(actor=stranger, customer=other_customer, kind="call", subject="别人的电话")

    html = _html(client_for(rep).get(reverse("activity-list")))

    assert "我的电话" in html and "别人的电话" not in html
    assert f'href="/activities/{Activity.objects.get(subject="我的电话").pk}/edit' in html


def test_the_list_filters_by_kind_time_customer_and_whose(
    client_for: ClientFor, rep: User, buyer: Customer, manager: User, make_customer: Callable[..., Customer]
) -> None:
    second = make_customer(rep, name="李雷")
    now = timezone.now()
    services.activity_log(
        actor=rep, customer=buyer, kind="call", subject="旧电话", occurred_at=now - timedelta(days=9)
    )
    services.activity_log(actor=rep, customer=second, kind="visit", subject="拜访李雷")
    services.activity_log(actor=manager, customer=buyer, kind="note", body="经理的备注", subject="经理记的")
    client = client_for(rep)

    def subjects(**params: Any) -> set[str]:
        html = _html(client.get(reverse("activity-list"), params))
        return {s for s in ("旧电话", "拜访李雷", "经理记的") if s in html}

    assert subjects() == {"旧电话", "拜访李雷", "经理记的"}
    assert subjects(kind="call") == {"旧电话"}
    assert subjects(date_from=(now - timedelta(days=1)).date().isoformat()) == {"拜访李雷", "经理记的"}
    assert subjects(date_to=(now - timedelta(days=5)).date().isoformat()) == {"旧电话"}
    assert subjects(customer=second.pk) == {"拜访李雷"}
    assert subjects(q="李雷") == {"拜访李雷"}
    assert subjects(whose="mine") == {"旧电话", "拜访李雷"}


@pytest.mark.parametrize("role,status", [("viewer", 200), ("marketing", 403), ("manager", 200)])
def test_who_may_open_the_list(
    client_for: ClientFor, make_user: Callable[..., User], role: str, status: int
) -> None:
    assert client_for(make_user(role)).get(reverse("activity-list")).status_code == status


def test_the_list_takes_constant_queries(
    client_for: ClientFor, rep: User, buyer: Customer, django_assert_max_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(rep)
    services.activity_log(actor=rep, customer=buyer, kind="call")
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("activity-list"))
    for i in range(30):
        services.activity_log(actor=rep, customer=buyer, kind="email", subject=f"邮件{i}")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("activity-list"))
    assert len(many) == len(few) <= 4  # session, user, the page of activities (+ joins)


# ---------------------------------------------------------------------------------------------------
# Changing and deleting


def test_the_owner_changes_an_activity_and_its_timeline_follows(
    client_for: ClientFor, rep: User, buyer: Customer
) -> None:
    activity = services.activity_log(actor=rep, customer=buyer, kind="call", body="没接通")
    client = client_for(rep)
    url = reverse("activity-edit", args=[activity.pk])
    back = reverse("customer-detail", args=[buyer.pk]) + "#timeline"
    page = _html(client.get(url, {"next": back}))
    assert "没接通" in page

    when = timezone.localtime(activity.occurred_at).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        url,
        {
            "kind": "call",
            "direction": "out",
            "outcome": "reached",
            "occurred_at": when,
            "body": "接通了",
            "next": back,
        },
    )

    assert response.status_code == 302 and response["Location"] == back
    activity.refresh_from_db()
    assert activity.body == "接通了" and activity.outcome == "reached"
    entry = TimelineEntry.objects.get(kind="activity.call")
    assert entry.data["body"] == "接通了" and entry.occurred_at == activity.occurred_at


def test_a_foreign_next_is_not_followed(client_for: ClientFor, rep: User, buyer: Customer) -> None:
    activity = services.activity_log(actor=rep, customer=buyer, kind="note", body="a")
    when = timezone.localtime(activity.occurred_at).strftime("%Y-%m-%dT%H:%M")
    response = client_for(rep).post(
        reverse("activity-edit", args=[activity.pk]),
        {"kind": "note", "occurred_at": when, "body": "b", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("customer-detail", args=[buyer.pk]) + "#timeline"


@pytest.mark.parametrize("route", ["activity-edit", "activity-delete"])
@pytest.mark.parametrize("role,status", [("sales", 404), ("service", 403), ("viewer", 403), ("manager", 200)])
def test_who_may_change_or_delete_a_reps_activity(
    client_for: ClientFor,
    make_user: Callable[..., User],
    rep: User,
    buyer: Customer,
    route: str,
    role: str,
    status: int,
) -> None:
    activity = services.activity_log(actor=rep, customer=buyer, kind="note", body="原文")
    client = client_for(make_user(role))
    assert client.get(reverse(route, args=[activity.pk])).status_code == status
    if status != 200:
        client.post(reverse(route, args=[activity.pk]), {"kind": "note", "body": "改"})
        assert Activity.objects.get().body == "原文"


def test_delete_asks_first_then_removes_it_from_the_timeline(
    client_for: ClientFor, rep: User, buyer: Customer
) -> None:
    activity = services.activity_log(actor=rep, customer=buyer, kind="visit", subject="到店看车")
    client = client_for(rep)
    url = reverse("activity-delete", args=[activity.pk])
    assert "到店看车" in _html(client.get(url))
    assert Activity.objects.exists()

    response = client.post(url)

    assert response.status_code == 302
    assert response["Location"] == reverse("customer-detail", args=[buyer.pk]) + "#timeline"
    assert not Activity.objects.exists() and not TimelineEntry.objects.filter(kind="activity.visit").exists()


def test_the_time_left_as_shown_is_now_to_the_second(
    client_for: ClientFor, rep: User, buyer: Customer
) -> None:
    shown = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    earlier = (timezone.localtime() - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    client = client_for(rep)
    before = timezone.now()

    client.post(
        _log_url(buyer), {"kind": "call", "occurred_at": shown, "shown_at": shown, "body": "now"}, **HX
    )
    client.post(
        _log_url(buyer), {"kind": "call", "occurred_at": earlier, "shown_at": shown, "body": "then"}, **HX
    )

    now_call, earlier_call = Activity.objects.get(body="now"), Activity.objects.get(body="then")
    assert before <= now_call.occurred_at <= timezone.now()
    assert timezone.localtime(earlier_call.occurred_at).strftime("%Y-%m-%dT%H:%M:%S") == earlier + ":00"
