"""Captures and conversions racing on real connections in threads (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

from guanxi.customers.models import Customer
from guanxi.leads import services
from guanxi.leads.models import Lead, LeadAssignmentRule
from guanxi.users.models import Team, User

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


def _together(count: int, work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # the test asserts on it
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_a_double_submitted_conversion_makes_one_customer(rep: User) -> None:
    lead = services.lead_create(actor=rep, name="王芳", phone="13900139000")
    results = _together(4, lambda i: services.lead_convert(actor=rep, lead=lead, opportunity=True))
    assert sum(isinstance(r, Lead) for r in results) == 1, results
    assert all(isinstance(r, (Lead, services.LeadConverted)) for r in results), results
    assert Customer.objects.count() == 1


def test_captures_of_one_person_at_once_make_one_lead(rep: User) -> None:
    results = _together(
        4, lambda i: services.lead_create(actor=rep, name="王芳", phone="13900139000", message=f"第{i}次")
    )
    assert all(isinstance(r, Lead) for r in results), results
    lead = Lead.objects.get()
    assert lead.captures == 4 and lead.message.count("第") == 4


def test_round_robin_under_concurrency_stays_fair(
    manager: User, make_user: Callable[..., User], team_b: Team
) -> None:
    reps = [make_user("sales", team=team_b) for _ in range(3)]
    services.rule_create(actor=manager, name="Team B", team=team_b)
    results = _together(
        6, lambda i: services.lead_create(actor=manager, name=f"客户{i}", phone=f"+86139{i:08d}")
    )
    assert all(isinstance(r, Lead) for r in results), results
    owners = [lead.owner_id for lead in Lead.objects.all()]
    assert sorted(owners.count(rep.pk) for rep in reps) == [2, 2, 2]
    assert LeadAssignmentRule.objects.get().assigned_count == 6
