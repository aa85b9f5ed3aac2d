"""Roles: what each may do, which records each sees, and whether personal data shows in clear."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from guanxi.core.errors import PermissionDenied
from guanxi.core.permissions import (
    ALL,
    OWN,
    PERMISSIONS,
    ROLES,
    TEAM,
    can,
    ensure_can,
    role_rules,
    scope_of,
    sees_pii,
    visible,
)
from guanxi.customers.models import Customer
from guanxi.users.models import Team, User

# The role table as the product promises it (docs/permissions.md). A change to ROLES must change this too.
EXPECTED = {
    "admin": (ALL, True, set(PERMISSIONS)),
    "manager": (
        TEAM,
        True,
        {
            "customer.view",
            "customer.create",
            "customer.change",
            "customer.note",
            "consent.change",
            "tag.apply",
            "customer.delete",
            "customer.assign",
            "customer.merge",
            "customer.import",
            "customer.export",
            "tag.manage",
            "catalog.manage",
            "order.view",
            "order.create",
            "order.refund",
            "order.import",
            "analytics.view",
            "analytics.refresh",
            "lead.assign",
            "pipeline.manage",
            "followup.manage",
            "email.view",
            "sales_report.view",
            "lead.view",
            "lead.create",
            "lead.change",
            "opportunity.view",
            "opportunity.create",
            "opportunity.change",
            "quote.view",
            "quote.create",
            "activity.view",
            "activity.create",
        },
    ),
    "sales": (
        OWN,
        True,
        {
            "customer.view",
            "customer.create",
            "customer.change",
            "customer.note",
            "consent.change",
            "tag.apply",
            "order.view",
            "order.create",
            "analytics.view",
            "lead.view",
            "lead.create",
            "lead.change",
            "opportunity.view",
            "opportunity.create",
            "opportunity.change",
            "quote.view",
            "quote.create",
            "activity.view",
            "activity.create",
        },
    ),
    "service": (
        TEAM,
        True,
        {
            "customer.view",
            "customer.change",
            "customer.note",
            "consent.change",
            "tag.apply",
            "order.view",
            "activity.view",
            "activity.create",
        },
    ),
    "marketing": (
        ALL,
        False,
        {
            "customer.view",
            "customer.export",
            "tag.apply",
            "tag.manage",
            "order.view",
            "analytics.view",
            "lead.view",
            "sales_report.view",
        },
    ),
    "viewer": (
        TEAM,
        False,
        {"customer.view", "order.view", "lead.view", "opportunity.view", "quote.view", "activity.view"},
    ),
}


def test_the_role_table_is_the_documented_one() -> None:
    assert set(ROLES) == set(User.Role.values)
    for role, (scope, pii, perms) in EXPECTED.items():
        assert (ROLES[role]["scope"], ROLES[role]["pii"], set(ROLES[role]["perms"])) == (scope, pii, perms), (
            role
        )


def test_every_permission_a_role_names_exists() -> None:
    for rules in ROLES.values():
        assert set(rules["perms"]) <= set(PERMISSIONS)


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize("perm", sorted(PERMISSIONS))
def test_can_follows_the_role_table(make_user: Callable[..., User], role: str, perm: str) -> None:
    # given
    user = make_user(role)

    # when / then
    assert can(user, perm) is (perm in EXPECTED[role][2])
    if perm in EXPECTED[role][2]:
        ensure_can(user, perm)
    else:
        with pytest.raises(PermissionDenied) as caught:
            ensure_can(user, perm)
        assert caught.value.details == {"permission": perm}
        assert caught.value.status == 403


def test_an_inactive_user_may_do_nothing(make_user: Callable[..., User]) -> None:
    # given
    user = make_user("admin")
    user.is_active = False

    # then
    assert not any(can(user, perm) for perm in PERMISSIONS)


def test_an_anonymous_user_may_do_nothing_and_sees_nothing(db: Any, make_customer: Any, admin: User) -> None:
    # given
    make_customer(admin, name="张伟")

    # then
    assert not any(can(AnonymousUser(), perm) for perm in PERMISSIONS)
    assert list(visible(AnonymousUser(), Customer.objects.all())) == []  # type: ignore[arg-type]


def test_an_unknown_role_gets_no_permission_own_scope_and_masked_data(make_user: Callable[..., User]) -> None:
    # given a role that is not in the table (e.g. left over from an older version)
    user = make_user("sales")
    user.role = "intern"

    # then
    assert role_rules(user) == {"scope": OWN, "pii": False, "perms": set()}
    assert not any(can(user, perm) for perm in PERMISSIONS)
    assert scope_of(user) == OWN
    assert sees_pii(user) is False


@pytest.mark.parametrize(("role", "clear"), [(r, v[1]) for r, v in EXPECTED.items()])
def test_sees_pii_follows_the_role_table(make_user: Callable[..., User], role: str, clear: bool) -> None:
    assert sees_pii(make_user(role)) is clear


@pytest.mark.parametrize(
    ("role", "visible_names"),
    [
        ("admin", {"mine", "team mate's", "other team's", "mine in other team"}),
        ("manager", {"mine", "team mate's", "mine in other team"}),
        ("sales", {"mine", "mine in other team"}),
        ("service", {"mine", "team mate's", "mine in other team"}),
        ("marketing", {"mine", "team mate's", "other team's", "mine in other team"}),
        ("viewer", {"mine", "team mate's", "mine in other team"}),
    ],
)
def test_visible_applies_the_scope_of_the_role(
    make_user: Callable[..., User], team_a: Team, team_b: Team, role: str, visible_names: set[str]
) -> None:
    # given records owned by the reader, a team mate and someone in another team
    reader = make_user(role, team=team_a)
    mate = make_user("sales", team=team_a)
    stranger = make_user("sales", team=team_b)
    Customer.objects.create(name="mine", owner=reader, team=team_a)
    Customer.objects.create(name="team mate's", owner=mate, team=team_a)
    Customer.objects.create(name="other team's", owner=stranger, team=team_b)
    Customer.objects.create(name="mine in other team", owner=reader, team=team_b)

    # when
    names = set(visible(reader, Customer.objects.all()).values_list("name", flat=True))

    # then
    assert names == visible_names


def test_a_team_scoped_user_without_a_team_sees_only_their_own(make_user: Callable[..., User]) -> None:
    # given a manager in no team, and a customer with no team
    manager = make_user("manager", team=None)
    Customer.objects.create(name="mine", owner=manager, team=None)
    Customer.objects.create(name="nobody's", owner=None, team=None)

    # then
    assert list(visible(manager, Customer.objects.all()).values_list("name", flat=True)) == ["mine"]
