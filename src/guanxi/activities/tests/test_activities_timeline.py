"""Activities on the customer's 360 timeline: in order with orders and changes, filtered by type, rendered
as sentences, in one query; and the activity selectors' scope."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

from guanxi.activities import selectors, services
from guanxi.activities.tests.activity_fixtures import *  # noqa: F403  (the fixtures)
from guanxi.activities.tests.activity_fixtures import make_lead
from guanxi.customers import selectors as customer_selectors
from guanxi.customers import services as customer_services
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.customers.templatetags.customer_tags import timeline_item
from guanxi.sales import services as sales_services
from guanxi.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(rep: User, buyer: Customer, admin: User) -> dict[str, Any]:
    """Over three days: an order, a call, a change of the customer, a visit, a back-dated order, a note."""
    now = timezone.now()
    order = sales_services.order_create(
        actor=admin, customer=buyer, amount="199.00", ordered_at=now - timedelta(days=3)
    )
    call = services.activity_log(
        actor=rep, customer=buyer, kind="call", direction="out", occurred_at=now - timedelta(days=2)
    )
    customer_services.customer_update(actor=rep, customer=buyer, city="深圳市")
    visit = services.activity_log(
        actor=rep, customer=buyer, kind="visit", outcome="interested", occurred_at=now - timedelta(hours=5)
    )
    # Entered last, but it happened between the order and the call.
    late_order = sales_services.order_create(
        actor=admin, customer=buyer, amount="88.00", ordered_at=now - timedelta(days=2, hours=12)
    )
    note = services.activity_log(actor=rep, customer=buyer, kind="note", body="客户喜欢白色")
    return {"order": order, "call": call, "visit": visit, "late_order": late_order, "note": note}


def _kinds(entries: list[TimelineEntry]) -> list[str]:
    return [entry.kind for entry in entries]


def test_activities_interleave_with_orders_and_changes_by_time(
    rep: User, buyer: Customer, history: dict[str, Any]
) -> None:
    entries = customer_selectors.customer_timeline(actor=rep, customer=buyer)

    # Newest first by the time each thing happened, not by when it was entered: the customer was
    # created just now, after the back-dated orders, call and visit.
    assert _kinds(entries) == [
        "activity.note",
        "customer.changed",
        "customer.created",
        "activity.visit",
        "activity.call",
        "order.created",
        "order.created",
    ]
    order_ids = [e.data["order_id"] for e in entries if e.kind == "order.created"]
    assert order_ids == [history["late_order"].pk, history["order"].pk]
    activity_ids = [e.data["activity_id"] for e in entries if e.kind.startswith("activity.")]
    assert activity_ids == [history["note"].pk, history["visit"].pk, history["call"].pk]


@pytest.mark.parametrize(
    "timeline_type,expected",
    [
        ("orders", ["order.created", "order.created"]),
        ("activities", ["activity.note", "activity.visit", "activity.call"]),
        ("activity.call", ["activity.call"]),
        ("activity.visit", ["activity.visit"]),
        ("activity.note", ["note", "activity.note"]),
        ("activity.email", []),
        ("changes", ["customer.changed", "customer.created"]),
    ],
)
def test_the_timeline_filters_by_type(
    rep: User, buyer: Customer, history: dict[str, Any], timeline_type: str, expected: list[str]
) -> None:
    if timeline_type == "activity.note":  # a note added the customers app's way counts as a note too
        customer_services.note_add(actor=rep, customer=buyer, body="老办法记的")
    entries = customer_selectors.customer_timeline(actor=rep, customer=buyer, timeline_type=timeline_type)
    assert _kinds(entries) == expected


def test_an_unknown_type_shows_everything(rep: User, buyer: Customer, history: dict[str, Any]) -> None:
    everything = customer_selectors.customer_timeline(actor=rep, customer=buyer)
    assert customer_selectors.timeline_type_q("activity.x; drop") is None
    assert (
        customer_selectors.customer_timeline(actor=rep, customer=buyer, timeline_type="bogus") == everything
    )


def test_a_filtered_timeline_pages_on_within_its_type(rep: User, buyer: Customer) -> None:
    now = timezone.now()
    for i in range(5):
        services.activity_log(actor=rep, customer=buyer, kind="call", occurred_at=now - timedelta(hours=i))
        services.activity_log(
            actor=rep,
            customer=buyer,
            kind="note",
            body=f"{i}",
            occurred_at=now - timedelta(hours=i, minutes=1),
        )
    first = customer_selectors.customer_timeline(
        actor=rep, customer=buyer, limit=3, timeline_type="activity.call"
    )
    rest = customer_selectors.customer_timeline(
        actor=rep, customer=buyer, limit=3, timeline_type="activity.call", before_id=first[-1].pk
    )
    assert _kinds(first + rest) == ["activity.call"] * 5
    assert len({entry.pk for entry in first + rest}) == 5


@pytest.mark.parametrize("timeline_type", ["", "activities", "activity.call", "changes"])
def test_the_timeline_is_one_query_whatever_the_type(
    rep: User, buyer: Customer, history: dict[str, Any], timeline_type: str, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        customer_selectors.customer_timeline(actor=rep, customer=buyer, timeline_type=timeline_type)


# ---------------------------------------------------------------------------------------------------
# Rendering


def _item(entry: TimelineEntry, customer: Customer, user: User | None = None, clear: bool = True) -> Any:
    customer.pii_clear = clear  # type: ignore[attr-defined]
    with translation.override("en"):
        return timeline_item(entry, customer, None, user)


def test_an_activity_reads_as_a_sentence_with_its_facts(rep: User, buyer: Customer) -> None:
    services.activity_log(
        actor=rep,
        customer=buyer,
        kind="call",
        direction="out",
        outcome="call_back",
        subject="<b>试驾</b>",
        body="周六再打",
        duration_minutes=7,
    )
    entry = TimelineEntry.objects.get(kind="activity.call")

    item = _item(entry, buyer, rep)

    assert str(item.title) == "Outgoing call: <strong>&lt;b&gt;试驾&lt;/b&gt;</strong>"
    assert item.css == "act-call" and item.body == "周六再打"
    facts = [(str(k), v) for k, v in item.facts]
    assert ("Outcome", "Asked to call back") in facts and ("Duration", "7 min") in facts
    [(label, url)] = item.links
    assert str(label) == "Edit" and url.startswith(f"/activities/{entry.data['activity_id']}/edit?next=")


def test_only_who_may_change_it_gets_the_edit_link(
    rep: User, buyer: Customer, manager: User, make_user: Callable[..., User]
) -> None:
    services.activity_log(actor=rep, customer=buyer, kind="note", body="记一下")
    entry = TimelineEntry.objects.get(kind="activity.note")
    assert _item(entry, buyer, manager).links
    assert not _item(entry, buyer, make_user("service")).links
    assert not _item(entry, buyer, make_user("viewer")).links
    assert not _item(entry, buyer, None).links


# ---------------------------------------------------------------------------------------------------
# The activity selectors


def test_a_rep_sees_their_own_and_those_on_their_customers(
    rep: User,
    mate: User,
    stranger: User,
    buyer: Customer,
    other_customer: Customer,
    manager: User,
    admin: User,
) -> None:
    mine = services.activity_log(actor=rep, customer=buyer, kind="call")
    # A manager logs on the rep's customer: the rep sees it, as on the timeline.
    on_mine = services.activity_log(actor=manager, customer=buyer, kind="visit")
    theirs = services.activity_log(actor=stranger, customer=other_customer, kind="call")
    lead_only = services.activity_log(actor=rep, lead=make_lead(rep), kind="call")

    seen = set(selectors.activity_list(actor=rep).values_list("pk", flat=True))
    assert seen == {mine.pk, on_mine.pk, lead_only.pk}
    assert set(selectors.activity_list(actor=mate).values_list("pk", flat=True)) == set()
    assert set(selectors.activity_list(actor=manager).values_list("pk", flat=True)) == {
        mine.pk,
        on_mine.pk,
        lead_only.pk,
    }
    assert set(selectors.activity_list(actor=stranger).values_list("pk", flat=True)) == {theirs.pk}
    everything = {mine.pk, on_mine.pk, theirs.pk, lead_only.pk}
    assert set(selectors.activity_list(actor=admin).values_list("pk", flat=True)) == everything


def test_the_list_filters(rep: User, buyer: Customer, make_customer: Callable[..., Customer]) -> None:
    second = make_customer(rep, name="李雷")
    now = timezone.now()
    old_call = services.activity_log(
        actor=rep, customer=buyer, kind="call", occurred_at=now - timedelta(days=10)
    )
    call = services.activity_log(actor=rep, customer=second, kind="call", occurred_at=now - timedelta(days=1))
    visit = services.activity_log(actor=rep, customer=buyer, kind="visit", occurred_at=now)

    def ids(**filters: Any) -> list[int]:
        return list(selectors.activity_list(actor=rep, **filters).values_list("pk", flat=True))

    assert ids() == [visit.pk, call.pk, old_call.pk]
    assert ids(kind="call") == [call.pk, old_call.pk]
    assert ids(customer_id=buyer.pk) == [visit.pk, old_call.pk]
    assert ids(since=now - timedelta(days=2)) == [visit.pk, call.pk]
    assert ids(until=now - timedelta(days=2)) == [old_call.pk]
    assert ids(owner_id=rep.pk, kind="visit") == [visit.pk]
    assert ids(q="李雷") == [call.pk]


def test_the_list_reads_a_page_in_one_query(
    rep: User, buyer: Customer, django_assert_num_queries: Any
) -> None:
    for kind in ("call", "visit", "note", "email"):
        services.activity_log(actor=rep, customer=buyer, kind=kind, body="x")
    with django_assert_num_queries(1):
        rows = list(selectors.activity_list(actor=rep)[:25])
        assert {row.customer.name for row in rows if row.customer} == {"张伟"}
        assert {row.owner.username for row in rows if row.owner} == {"li.na"}


def test_a_done_task_counts_among_the_activities(rep: User, buyer: Customer) -> None:
    TimelineEntry.objects.create(
        customer=buyer, occurred_at=timezone.now(), kind="task.done", actor=rep, data={"title": "回访"}
    )
    kinds = _kinds(
        customer_selectors.customer_timeline(actor=rep, customer=buyer, timeline_type="activities")
    )
    assert kinds == ["task.done"]
    changes = customer_selectors.customer_timeline(actor=rep, customer=buyer, timeline_type="changes")
    assert "task.done" not in _kinds(changes)
