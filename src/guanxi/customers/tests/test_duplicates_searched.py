"""The duplicate finder says whether it has searched at all: "not searched yet" before the first run,
"searched at …, no likely duplicates" after a run that found none, the time of the last run beside pairs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from guanxi.audit.models import AuditEvent
from guanxi.audit.services import audit_record
from guanxi.core.errors import PermissionDenied
from guanxi.customers.duplicates import customer_duplicates_refresh
from guanxi.customers.models import CustomerDuplicate
from guanxi.customers.selectors import duplicates_searched_at
from guanxi.users.models import User

Make = Callable[..., Any]
ClientFor = Callable[[User | None], Client]
HX = {"HTTP_HX_REQUEST": "true"}
PAGE = "/customers/duplicates"
REFRESHED = "customer.duplicates_refresh"  # the audit event each run of the finder writes


def a_run_that_found_nothing(at: datetime) -> None:
    """What `customer_duplicates_refresh` leaves when it finds no pair: its audit event, no stored pair."""
    audit_record(actor=None, action=REFRESHED, data={"pairs": 0})
    AuditEvent.objects.filter(action=REFRESHED).update(occurred_at=at)


def searched_at(at: datetime) -> None:
    """Date the last run (its stored pairs, and its audit event where the run writes one) at `at`."""
    CustomerDuplicate.objects.update(computed_at=at)
    AuditEvent.objects.filter(action=REFRESHED).update(occurred_at=at)


def test_before_any_search_the_page_says_not_searched_and_offers_to_search(
    admin: User, client_for: ClientFor
) -> None:
    html = client_for(admin).get(PAGE).content.decode()

    assert "Not searched yet: duplicates are looked for every night." in html
    assert "The customers have not been compared with each other yet" in html
    assert '<button type="submit" class="button primary nowrap">Search now</button>' in html
    assert "No likely duplicates" not in html and "Last searched" not in html


def test_after_a_search_that_found_nothing_the_page_says_when_and_that_there_are_none(
    admin: User, client_for: ClientFor, db: Any
) -> None:
    a_run_that_found_nothing(datetime(2026, 12, 1, 18, 30, tzinfo=UTC))  # 02:30 in Shanghai

    html = client_for(admin).get(PAGE).content.decode()

    assert "Not searched yet" not in html
    assert "No likely duplicates." in html
    assert "Searched Dec. 2, 2026, 2:30 a.m.: no two customers you can see look like the same person." in html
    assert "Last searched Dec. 2, 2026, 2:30 a.m.;" in html
    assert '<button type="submit" class="button nowrap">Find again</button>' in html


def test_the_table_alone_with_htmx_tells_the_two_empty_cases_apart(
    admin: User, client_for: ClientFor, db: Any
) -> None:
    client = client_for(admin)
    before = client.get(PAGE, **HX).content.decode()
    a_run_that_found_nothing(datetime(2026, 12, 1, 18, 30, tzinfo=UTC))
    after = client.get(PAGE, **HX).content.decode()

    assert before.lstrip().startswith('<div class="card" id="duplicate-table">')
    assert "Not searched yet." in before and "No likely duplicates." not in before
    assert "No likely duplicates." in after and "Not searched yet." not in after


def test_beside_pairs_the_page_says_when_they_were_found(
    admin: User, make_customer: Make, client_for: ClientFor
) -> None:
    make_customer(admin, name="张伟", phones=["13800138000"])
    make_customer(admin, name="Zhang Wei", phones=["13800138000"])
    customer_duplicates_refresh()
    searched_at(datetime(2026, 12, 2, 1, 0, tzinfo=UTC))

    html = client_for(admin).get(PAGE).content.decode()

    assert "Last searched Dec. 2, 2026, 9 a.m.;" in html
    assert "Same mobile number" in html
    assert "Not searched yet" not in html and "No likely duplicates" not in html


def test_a_manager_whose_team_has_no_pair_sees_no_likely_duplicates_not_not_searched(
    admin: User, make_user: Make, make_customer: Make, client_for: ClientFor, team_b: Any
) -> None:
    other = make_user("manager", team=team_b)
    make_customer(admin, name="张伟", phones=["13800138000"], owner=other, team=team_b)
    make_customer(admin, name="张伟", phones=["13800138000"], owner=other, team=team_b)
    customer_duplicates_refresh()

    html = client_for(make_user("manager")).get(PAGE).content.decode()

    assert "No likely duplicates." in html and "Not searched yet" not in html


def test_a_real_run_that_finds_nothing_is_remembered(admin: User, client_for: ClientFor) -> None:
    customer_duplicates_refresh()

    assert duplicates_searched_at(actor=admin) is not None
    assert "No likely duplicates." in client_for(admin).get(PAGE).content.decode()


def test_the_last_search_is_the_newest_of_the_audited_runs_and_the_stored_pairs(
    admin: User, make_customer: Make, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(2):
        assert duplicates_searched_at(actor=admin) is None

    make_customer(admin, name="甲", emails=["a@example.com"])
    make_customer(admin, name="乙", emails=["a@example.com"])
    customer_duplicates_refresh()
    stored = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    searched_at(stored)
    assert duplicates_searched_at(actor=admin) == stored

    a_run_that_found_nothing(datetime(2026, 12, 1, 18, 30, tzinfo=UTC))  # older than the pairs
    assert duplicates_searched_at(actor=admin) == stored
    newer = datetime(2026, 12, 3, 18, 30, tzinfo=UTC)
    AuditEvent.objects.filter(action=REFRESHED).update(occurred_at=newer)
    assert duplicates_searched_at(actor=admin) == newer


def test_only_those_who_may_merge_read_when_the_finder_searched(make_user: Make) -> None:
    with pytest.raises(PermissionDenied):
        duplicates_searched_at(actor=make_user("sales"))
