"""Leads arriving: normalised, de-duplicated against open leads and customers, owned by someone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from guanxi.audit.models import AuditEvent
from guanxi.core.errors import PermissionDenied, ValidationFailed
from guanxi.leads import services
from guanxi.leads.models import Lead
from guanxi.users.models import User

pytestmark = pytest.mark.django_db


def test_a_lead_is_stored_with_an_e164_phone_and_a_lower_case_email(rep: User) -> None:
    lead = services.lead_create(
        actor=rep, name=" 王芳 ", phone="139 0013 9000", email="Wang.Fang@Example.COM", source="web"
    )
    lead.refresh_from_db()
    assert (lead.name, lead.phone, lead.email) == ("王芳", "+8613900139000", "wang.fang@example.com")
    assert lead.owner == rep and lead.team == rep.team
    assert lead.status == Lead.Status.NEW and lead.captures == 1
    assert lead.merged is False
    assert AuditEvent.objects.filter(action="lead.create", target_id=str(lead.pk)).count() == 1


def test_a_lead_needs_a_name_and_a_way_to_reach_them(rep: User) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.lead_create(actor=rep, name="", phone="", email="")
    assert set(exc.value.details) == {"name", "phone"}
    with pytest.raises(ValidationFailed) as exc:
        services.lead_create(actor=rep, name="王芳", phone="12345", email="not-an-email")
    assert set(exc.value.details) == {"phone", "email"}
    assert Lead.objects.count() == 0


def test_a_second_capture_with_the_same_phone_merges_into_the_open_lead(rep: User, manager: User) -> None:
    first = services.lead_create(
        actor=rep, name="王芳", phone="13900139000", message="想看看汉EV", source="web"
    )
    again = services.lead_create(
        actor=manager,
        name="王女士",
        phone="+86 139-0013-9000",
        email="wf@example.com",
        company="芳华贸易",
        city="深圳",
        message="周末能试驾吗？",
    )
    assert again.pk == first.pk and again.merged is True
    assert Lead.objects.count() == 1
    lead = Lead.objects.get()
    assert lead.name == "王芳"  # kept
    assert (lead.email, lead.company, lead.city) == ("wf@example.com", "芳华贸易", "深圳")  # filled
    assert lead.message.startswith("想看看汉EV") and lead.message.endswith("周末能试驾吗？")
    assert lead.captures == 2 and lead.owner == rep
    event = AuditEvent.objects.get(action="lead.capture_again")
    assert event.data["captures"] == 2 and set(event.data["filled"]) == {"email", "company", "city"}


def test_a_capture_with_the_same_email_merges_and_keeps_the_stored_values(rep: User) -> None:
    services.lead_create(actor=rep, name="王芳", email="wf@example.com", company="芳华贸易")
    again = services.lead_create(actor=rep, name="王芳", email="WF@example.com", company="别的公司")
    assert again.merged is True and Lead.objects.count() == 1
    assert Lead.objects.get().company == "芳华贸易"


def test_a_closed_lead_does_not_take_captures(rep: User, make_lead: Callable[..., Lead]) -> None:
    old = make_lead(rep)
    services.lead_disqualify(actor=rep, lead=old, reason="no_budget")
    new = make_lead(rep)
    assert new.pk != old.pk and new.merged is False
    assert Lead.objects.count() == 2


def test_a_lead_with_a_customers_phone_is_linked_to_that_customer(
    rep: User, make_customer: Callable[..., Any]
) -> None:
    customer = make_customer(rep, name="李强", phones=["13700137000"], emails=["Li.Qiang@Example.com"])
    by_phone = services.lead_create(actor=rep, name="李先生", phone="137 0013 7000")
    by_email = services.lead_create(actor=rep, name="李先生", email="li.qiang@example.com")
    assert by_phone.customer == customer
    assert by_email.pk != by_phone.pk and by_email.customer == customer


def test_a_rep_owns_what_they_enter_and_may_not_give_it_away(rep: User, mate: User) -> None:
    with pytest.raises(PermissionDenied):
        services.lead_create(actor=rep, name="王芳", phone="13900139000", owner=mate)
    assert Lead.objects.count() == 0


def test_a_viewer_may_not_enter_leads(make_user: Callable[..., User]) -> None:
    with pytest.raises(PermissionDenied):
        services.lead_create(actor=make_user("viewer"), name="王芳", phone="13900139000")


def test_a_manager_without_matching_rule_leaves_the_lead_unassigned_in_their_team(manager: User) -> None:
    lead = services.lead_create(actor=manager, name="王芳", phone="13900139000")
    assert lead.owner is None and lead.team == manager.team


def test_an_edit_may_not_give_an_open_lead_another_open_leads_phone(
    rep: User, make_lead: Callable[..., Lead]
) -> None:
    make_lead(rep, name="王芳", phone="13900139000")
    other = make_lead(rep, name="赵敏", phone="13600136000")
    with pytest.raises(ValidationFailed) as exc:
        services.lead_update(actor=rep, lead=other, phone="13900139000")
    assert "phone" in exc.value.details
    other.refresh_from_db()
    assert other.phone == "+8613600136000"
