"""Assignment rules: the first active matching rule gives the lead an owner; round robin is fair."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from guanxi.catalog.models import Store
from guanxi.core.errors import PermissionDenied, ValidationFailed
from guanxi.leads import services
from guanxi.leads.models import Lead, LeadAssignmentRule
from guanxi.users.models import Team, User

pytestmark = pytest.mark.django_db


def _phone(i: int) -> str:
    return f"+86139{i:08d}"


def test_round_robin_gives_each_active_member_the_same_number_of_leads(
    manager: User, make_user: Callable[..., User], team_b: Team
) -> None:
    reps = [make_user("sales", team=team_b, username=f"rep{i}") for i in range(3)]
    make_user("viewer", team=team_b)  # may not work leads: never in the turn
    gone = make_user("sales", team=team_b, username="gone")
    gone.is_active = False
    gone.save()
    services.rule_create(actor=manager, name="All to team B", team=team_b)
    owners = [services.lead_create(actor=manager, name=f"客户{i}", phone=_phone(i)).owner for i in range(30)]
    assert Counter(owners) == {rep: 10 for rep in reps}
    assert owners[:6] == [*reps, *reps]  # in turn, by id
    assert LeadAssignmentRule.objects.get().assigned_count == 30
    assert {lead.team for lead in Lead.objects.all()} == {team_b}


def test_a_new_member_joins_the_turn_after_the_last_one(
    manager: User, make_user: Callable[..., User], team_b: Team
) -> None:
    first = make_user("sales", team=team_b)
    services.rule_create(actor=manager, name="Team B", team=team_b)
    assert services.lead_create(actor=manager, name="甲", phone=_phone(1)).owner == first
    second = make_user("sales", team=team_b)
    assert [
        services.lead_create(actor=manager, name=n, phone=_phone(i)).owner for i, n in enumerate("乙丙丁", 2)
    ] == [
        second,
        first,
        second,
    ]


def test_rules_match_on_source_city_and_store_in_order(
    manager: User, rep: User, mate: User, stranger: User, store: Store, team_b: Team
) -> None:
    services.rule_create(actor=manager, name="Referrals", action="user", user=mate, match_source="referral")
    services.rule_create(actor=manager, name="Shanghai", action="user", user=stranger, match_city="上海市")
    services.rule_create(actor=manager, name="Showroom", action="user", user=rep, match_store=store)

    def owner(**fields: object) -> User | None:
        owner.n += 1  # type: ignore[attr-defined]
        return services.lead_create(actor=manager, name="客户", phone=_phone(owner.n), **fields).owner  # type: ignore[attr-defined,arg-type]

    owner.n = 0  # type: ignore[attr-defined]
    assert owner(source="referral", city="上海") == mate  # first rule wins
    assert owner(source="web", city=" 上海 ") == stranger  # 上海 is 上海市
    assert owner(source="web", city="深圳", store=store) == rep
    assert owner(source="web", city="深圳") is None  # nothing matched: unassigned


def test_inactive_rules_and_rules_without_anyone_are_passed_over(
    manager: User, rep: User, team_b: Team
) -> None:
    services.rule_create(actor=manager, name="Off", action="user", user=rep, active=False)
    services.rule_create(actor=manager, name="Empty team", team=team_b)  # nobody in team B
    services.rule_create(actor=manager, name="Fallback", action="user", user=rep)
    lead = services.lead_create(actor=manager, name="客户", phone=_phone(1))
    assert lead.owner == rep and lead.rule is not None and lead.rule.name == "Fallback"


def test_an_explicit_owner_beats_the_rules(manager: User, rep: User, mate: User) -> None:
    services.rule_create(actor=manager, name="All to rep", action="user", user=rep)
    lead = services.lead_create(actor=manager, name="客户", phone=_phone(1), owner=mate)
    assert lead.owner == mate and lead.rule is None


def test_rules_need_the_assign_permission_and_a_target(rep: User, manager: User) -> None:
    with pytest.raises(PermissionDenied):
        services.rule_create(actor=rep, name="Mine", action="user", user=rep)
    with pytest.raises(ValidationFailed) as exc:
        services.rule_create(actor=manager, name="", action="round_robin")
    assert set(exc.value.details) == {"name", "team"}
    assert LeadAssignmentRule.objects.count() == 0


def test_rules_move_up_and_down(manager: User, rep: User) -> None:
    a = services.rule_create(actor=manager, name="A", action="user", user=rep)
    b = services.rule_create(actor=manager, name="B", action="user", user=rep)
    c = services.rule_create(actor=manager, name="C", action="user", user=rep)
    services.rule_move(actor=manager, rule=c, up=True)
    assert list(LeadAssignmentRule.objects.values_list("name", flat=True)) == ["A", "C", "B"]
    services.rule_move(actor=manager, rule=a, up=False)
    assert list(LeadAssignmentRule.objects.values_list("name", flat=True)) == ["C", "A", "B"]
    assert b.pk


def test_manual_assignment_needs_the_permission(
    rep: User, mate: User, manager: User, make_lead: Callable[..., Lead]
) -> None:
    lead = make_lead(rep)
    with pytest.raises(PermissionDenied):
        services.lead_assign(actor=rep, lead=lead, owner=mate)
    services.lead_assign(actor=manager, lead=lead, owner=mate)
    lead.refresh_from_db()
    assert lead.owner == mate and lead.team == mate.team
