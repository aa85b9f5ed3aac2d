"""The demo leads: about a hundred, through the services, some merged, qualified, lost and converted."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from guanxi.customers.models import Customer
from guanxi.leads.demo import demo_leads
from guanxi.leads.models import Lead, LeadAssignmentRule, LeadForm
from guanxi.users.models import Team, User

pytestmark = pytest.mark.django_db


def test_demo_leads_look_like_a_month_at_a_dealer(
    admin: User, team_a: Team, team_b: Team, make_user: Callable[..., User]
) -> None:
    for team in (team_a, team_b):
        make_user("sales", team=team)
        make_user("sales", team=team)
    stats = demo_leads(actor=admin)
    assert 90 <= stats["created"] <= 115 and stats["merged"] >= 1
    assert Lead.objects.count() == stats["created"]
    assert stats["converted"] >= 5 and Lead.objects.filter(status="converted").count() == stats["converted"]
    assert Customer.objects.filter(leads__status="converted").distinct().count() == stats["converted"]
    assert (
        Lead.objects.filter(status="disqualified").exclude(disqualify_reason="").count()
        == stats["disqualified"]
    )
    assert LeadForm.objects.filter(slug="test-drive").exists() and LeadAssignmentRule.objects.count() >= 2
    assert not Lead.objects.filter(owner__isnull=True).exists()  # the catch-all rule took the rest
    assert Lead.objects.filter(web_form__isnull=False).count() > 10
    names = list(Lead.objects.values_list("name", flat=True))
    assert all(1 < len(name) <= 3 for name in names)
    ids_by_time = list(Lead.objects.order_by("created_at").values_list("id", flat=True))
    assert ids_by_time == sorted(ids_by_time)  # the newest lead has the highest id
