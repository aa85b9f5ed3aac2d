"""Reads of leads: scope, masking marks, and a constant number of queries however many rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.core.errors import NotFound, PermissionDenied
from guanxi.leads import selectors, services
from guanxi.leads.models import Lead
from guanxi.users.models import User

pytestmark = pytest.mark.django_db


def _many(actor: User, owner: User, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        services.lead_create(
            actor=actor, name=f"客户{i}", phone=f"+86139{i:08d}", owner=owner, company="芳华"
        )


def _queries(work: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as ctx:
        work()
    return len(ctx.captured_queries)


def test_the_list_costs_one_query_whatever_its_length(manager: User, rep: User) -> None:
    seen: list[Any] = []

    def read() -> None:
        for lead in selectors.lead_list(actor=manager, q="芳华")[:50]:
            seen.append((lead.owner, lead.team, lead.store, lead.customer, lead.display_phone))

    _many(manager, rep, 3)
    few = _queries(read)
    _many(manager, rep, 20, start=3)
    assert _queries(read) == few == 1


def test_one_lead_with_its_matches_and_history_in_constant_queries(
    manager: User, rep: User, make_customer: Callable[..., Any]
) -> None:
    make_customer(manager, name="王芳", phones=["13900139000"], emails=["wf@example.com"])
    lead = services.lead_create(
        actor=manager, name="王芳", phone="13900139000", email="wf@example.com", owner=rep
    )
    seen: list[Any] = []

    def read() -> None:
        got = selectors.lead_get(actor=manager, lead_id=lead.pk)
        seen.append((got.owner, got.customer, got.opportunity, got.web_form, got.rule, got.activity_count))
        matches = selectors.lead_matches(actor=manager, lead=got)
        [c.owner for c in matches["customers"]]
        [other.owner for other in matches["leads"]]
        [event.actor for event in selectors.lead_history(actor=manager, lead=got)]

    assert _queries(read) <= 7


def test_status_counts_are_one_group_by(manager: User, rep: User) -> None:
    _many(manager, rep, 4)
    services.lead_disqualify(actor=manager, lead=Lead.objects.first(), reason="spam")  # type: ignore[arg-type]
    with CaptureQueriesContext(connection) as ctx:
        counts = selectors.lead_status_counts(actor=manager)
    assert len(ctx.captured_queries) == 1
    assert counts["new"] == 3 and counts["disqualified"] == 1 and counts["open"] == 3


def test_scope_and_masking(rep: User, mate: User, make_user: Callable[..., User]) -> None:
    services.lead_create(actor=rep, name="王芳", phone="13900139000")
    services.lead_create(actor=mate, name="赵敏", phone="13600136000")
    assert [lead.name for lead in selectors.lead_list(actor=rep)] == ["王芳"]
    marketer = selectors.lead_list(actor=make_user("marketing"))
    assert {lead.name for lead in marketer} == {"王芳", "赵敏"}
    assert all(not lead.clear and lead.display_phone.count("*") == 4 for lead in marketer)
    with pytest.raises(NotFound):
        selectors.lead_get(actor=rep, lead_id=Lead.objects.get(name="赵敏").pk)
    with pytest.raises(PermissionDenied):
        selectors.lead_list(actor=make_user("service"))


def test_a_customers_leads_for_the_360_page(
    rep: User, mate: User, make_user: Callable[..., User], make_customer: Callable[..., Any]
) -> None:
    customer = make_customer(rep, name="王芳", phones=["13900139000"])
    mine = services.lead_create(actor=rep, name="王芳", phone="13900139000", interest="汉EV")
    services.lead_disqualify(actor=rep, lead=mine, reason="duplicate")
    services.lead_create(actor=mate, name="王芳", phone="13900139000")
    with CaptureQueriesContext(connection) as ctx:
        found = selectors.leads_for_customer(actor=rep, customer=customer)
    assert [lead.pk for lead in found] == [mine.pk] and len(ctx.captured_queries) == 1
    assert len(selectors.leads_for_customer(actor=make_user("admin"), customer=customer)) == 2
    assert selectors.leads_for_customer(actor=make_user("service"), customer=customer) == []
