"""activity_log, activity_update, activity_delete: each kind, scope, who may change, the timeline in step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from guanxi.activities import services
from guanxi.activities.models import Activity
from guanxi.activities.tests.activity_fixtures import *  # noqa: F403  (the fixtures)
from guanxi.activities.tests.activity_fixtures import make_lead, make_opportunity
from guanxi.audit.models import AuditEvent
from guanxi.core.errors import NotFound, PermissionDenied, ValidationFailed
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.users.models import User

pytestmark = pytest.mark.django_db


def _entry(activity: Activity) -> TimelineEntry:
    return TimelineEntry.objects.get(kind__startswith="activity.", data__activity_id=activity.pk)


@pytest.mark.parametrize(
    "kind,direction,outcome,kept_direction,kept_outcome",
    [
        ("call", "out", "reached", "out", "reached"),
        ("visit", "out", "interested", "", "interested"),
        ("meeting", "", "done", "", "done"),
        ("sms", "in", "reached", "in", ""),
        ("email", "in", "", "in", ""),
        ("wechat", "out", "call_back", "out", "call_back"),
        ("note", "out", "reached", "", ""),
    ],
)
def test_each_kind_is_logged_with_its_timeline_entry_and_audit_event(
    rep: User,
    buyer: Customer,
    kind: str,
    direction: str,
    outcome: str,
    kept_direction: str,
    kept_outcome: str,
) -> None:
    when = timezone.now() - timedelta(hours=2)

    activity = services.activity_log(
        actor=rep,
        customer=buyer,
        kind=kind,
        direction=direction,
        outcome=outcome,
        subject=" 试驾预约 ",
        body="客户想周六来试驾",
        occurred_at=when,
        duration_minutes=12,
    )

    activity.refresh_from_db()
    assert (activity.kind, activity.direction, activity.outcome) == (kind, kept_direction, kept_outcome)
    assert activity.subject == "试驾预约" and activity.body == "客户想周六来试驾"
    assert activity.owner == rep and activity.team_id == rep.team_id
    assert activity.occurred_at == when and activity.duration_minutes == 12
    entry = _entry(activity)
    assert entry.customer_id == buyer.pk and entry.kind == f"activity.{kind}"
    assert entry.occurred_at == when and entry.actor == rep
    assert entry.data["body"] == "客户想周六来试驾" and entry.data["outcome"] == kept_outcome
    event = AuditEvent.objects.get(action="activity.log")
    assert event.target_id == str(activity.pk) and event.data["customer"] == buyer.pk


def test_time_defaults_to_now(rep: User, buyer: Customer) -> None:
    before = timezone.now()
    activity = services.activity_log(actor=rep, customer=buyer, kind="call", direction="out")
    assert before <= activity.occurred_at <= timezone.now()


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"kind": "note", "body": "  "}, "body"),
        ({"kind": "fax"}, "kind"),
        ({"kind": "call", "direction": "sideways"}, "direction"),
        ({"kind": "call", "outcome": "maybe"}, "outcome"),
        ({"kind": "call", "subject": "长" * 201}, "subject"),
        ({"kind": "call", "duration_minutes": 24 * 60 + 1}, "duration_minutes"),
        ({"kind": "call", "occurred_at": timezone.now() + timedelta(hours=1)}, "occurred_at"),
    ],
)
def test_invalid_fields_are_refused_and_nothing_is_logged(
    rep: User, buyer: Customer, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.activity_log(actor=rep, customer=buyer, **fields)
    assert field in caught.value.details
    assert not Activity.objects.exists()
    assert not TimelineEntry.objects.filter(kind__startswith="activity.").exists()


def test_a_rep_logs_only_on_customers_they_see(rep: User, other_customer: Customer) -> None:
    with pytest.raises(NotFound):
        services.activity_log(actor=rep, customer=other_customer, kind="call")
    assert not Activity.objects.exists()


def test_a_viewer_cannot_log(viewer: User, buyer: Customer) -> None:
    with pytest.raises(PermissionDenied):
        services.activity_log(actor=viewer, customer=buyer, kind="note", body="hi")
    assert not Activity.objects.exists()


def test_the_opportunity_names_the_customer(rep: User, buyer: Customer) -> None:
    opportunity = make_opportunity(buyer, rep)

    activity = services.activity_log(actor=rep, opportunity=opportunity, kind="visit", outcome="interested")

    assert activity.customer_id == buyer.pk and activity.opportunity_id == opportunity.pk
    assert _entry(activity).data["opportunity"] == {"id": opportunity.pk, "name": "比亚迪汉 换购"}


def test_an_opportunity_of_another_customer_is_refused(
    rep: User, buyer: Customer, make_customer: Callable[..., Customer]
) -> None:
    second = make_customer(rep, name="李雷")
    opportunity = make_opportunity(second, rep)
    with pytest.raises(ValidationFailed) as caught:
        services.activity_log(actor=rep, customer=buyer, opportunity=opportunity, kind="call")
    assert "opportunity" in caught.value.details


def test_an_opportunity_out_of_scope_is_not_found(
    rep: User, stranger: User, other_customer: Customer, buyer: Customer
) -> None:
    opportunity = make_opportunity(other_customer, stranger)
    with pytest.raises(NotFound):
        services.activity_log(actor=rep, customer=buyer, opportunity=opportunity, kind="call")


def test_a_lead_without_a_customer_is_logged_off_the_timeline(rep: User) -> None:
    lead = make_lead(rep, phone="+8613700137000")

    activity = services.activity_log(actor=rep, lead=lead, kind="call", direction="out", outcome="no_answer")

    assert activity.lead_id == lead.pk and activity.customer_id is None
    assert not TimelineEntry.objects.filter(kind__startswith="activity.").exists()


def test_a_matched_lead_logs_on_its_customer(rep: User, buyer: Customer) -> None:
    lead = make_lead(rep, customer=buyer)
    activity = services.activity_log(actor=rep, lead=lead, kind="wechat", direction="in")
    assert activity.customer_id == buyer.pk
    assert _entry(activity).data["lead"] == {"id": lead.pk, "name": "孙俪"}


def test_another_reps_lead_is_not_found(rep: User, stranger: User) -> None:
    with pytest.raises(NotFound):
        services.activity_log(actor=rep, lead=make_lead(stranger), kind="call")


def test_neither_customer_nor_lead_is_refused(rep: User) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.activity_log(actor=rep, kind="call")
    assert "customer" in caught.value.details


# ---------------------------------------------------------------------------------------------------
# Changing and deleting


def test_update_changes_the_activity_and_its_timeline_entry(rep: User, buyer: Customer) -> None:
    activity = services.activity_log(actor=rep, customer=buyer, kind="call", direction="out", body="没接")
    earlier = timezone.now() - timedelta(days=1)

    services.activity_update(
        actor=rep, activity=activity, kind="visit", outcome="interested", body="到店看车", occurred_at=earlier
    )

    activity.refresh_from_db()
    assert (activity.kind, activity.direction, activity.outcome) == ("visit", "", "interested")
    entry = _entry(activity)
    assert entry.kind == "activity.visit" and entry.occurred_at == earlier
    assert entry.data["body"] == "到店看车" and entry.data["outcome"] == "interested"
    event = AuditEvent.objects.get(action="activity.update")
    assert event.changes["kind"] == ["call", "visit"] and event.changes["body"] == ["没接", "到店看车"]


def test_an_update_that_changes_nothing_writes_nothing(rep: User, buyer: Customer) -> None:
    activity = services.activity_log(actor=rep, customer=buyer, kind="note", body="记一下")
    services.activity_update(actor=rep, activity=activity, body="记一下")
    assert not AuditEvent.objects.filter(action="activity.update").exists()


def test_a_team_mate_in_own_scope_does_not_even_see_it(rep: User, mate: User, buyer: Customer) -> None:
    activity = services.activity_log(actor=rep, customer=buyer, kind="note", body="记一下")
    with pytest.raises(NotFound):
        services.activity_update(actor=mate, activity=activity, body="改了")
    with pytest.raises(NotFound):
        services.activity_delete(actor=mate, activity=activity)
    activity.refresh_from_db()
    assert activity.body == "记一下"


def test_a_service_colleague_who_sees_it_may_not_change_it(
    rep: User, buyer: Customer, make_user: Callable[..., User]
) -> None:
    colleague = make_user("service")  # team scope: sees the customer, is not a manager
    activity = services.activity_log(actor=rep, customer=buyer, kind="note", body="记一下")
    with pytest.raises(PermissionDenied):
        services.activity_update(actor=colleague, activity=activity, body="改了")
    with pytest.raises(PermissionDenied):
        services.activity_delete(actor=colleague, activity=activity)
    assert Activity.objects.get().body == "记一下"


def test_a_manager_may_change_and_delete_a_reps_activity(rep: User, manager: User, buyer: Customer) -> None:
    activity = services.activity_log(actor=rep, customer=buyer, kind="note", body="记一下")

    services.activity_update(actor=manager, activity=activity, body="经理补充")
    assert _entry(activity).data["body"] == "经理补充"

    services.activity_delete(actor=manager, activity=activity)
    assert not Activity.objects.exists()


def test_a_manager_of_another_team_does_not_see_it(
    rep: User, buyer: Customer, make_user: Callable[..., User], team_b: Any
) -> None:
    other_manager = make_user("manager", team=team_b)
    activity = services.activity_log(actor=rep, customer=buyer, kind="note", body="记一下")
    with pytest.raises(NotFound):
        services.activity_delete(actor=other_manager, activity=activity)


def test_delete_removes_the_timeline_entry_and_audits_what_it_said(rep: User, buyer: Customer) -> None:
    kept = services.activity_log(actor=rep, customer=buyer, kind="call", body="第一次")
    activity = services.activity_log(actor=rep, customer=buyer, kind="call", body="第二次")

    services.activity_delete(actor=rep, activity=activity)

    assert list(Activity.objects.values_list("pk", flat=True)) == [kept.pk]
    assert list(
        TimelineEntry.objects.filter(kind__startswith="activity.").values_list("data__body", flat=True)
    ) == ["第一次"]
    event = AuditEvent.objects.get(action="activity.delete")
    assert event.target_id == str(activity.pk) and event.data["body"] == "第二次"


def test_update_refuses_unknown_fields(rep: User, buyer: Customer) -> None:
    activity = services.activity_log(actor=rep, customer=buyer, kind="call")
    with pytest.raises(ValidationFailed) as caught:
        services.activity_update(actor=rep, activity=activity, customer_id=5)
    assert "customer_id" in caught.value.details


def test_an_administrator_may_change_and_delete_any_activity(
    stranger: User, other_customer: Customer, admin: User
) -> None:
    activity = services.activity_log(actor=stranger, customer=other_customer, kind="note", body="记一下")
    services.activity_update(actor=admin, activity=activity, body="管理员改")
    assert _entry(activity).data["body"] == "管理员改"
    services.activity_delete(actor=admin, activity=activity)
    assert not Activity.objects.exists()
