"""Conversion in one step: nothing lost, nothing doubled, refused twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from guanxi.audit.models import AuditEvent
from guanxi.core.errors import NotFound, PermissionDenied, ValidationFailed
from guanxi.customers.models import Contact, Customer, TimelineEntry
from guanxi.leads import services
from guanxi.leads.models import Lead
from guanxi.opportunities.models import Opportunity
from guanxi.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead(rep: User) -> Lead:
    return services.lead_create(
        actor=rep,
        name="王芳",
        phone="13900139000",
        email="wf@example.com",
        wechat_id="wangfang88",
        company="芳华贸易",
        city="深圳",
        source="referral",
        interest="汉EV 四驱版",
        message="周末想试驾, 下午三点后方便",
    )


def test_converting_to_a_new_customer_keeps_every_detail(rep: User, lead: Lead) -> None:
    converted = services.lead_convert(
        actor=rep,
        lead=lead,
        opportunity=True,
        opportunity_name="王芳 · 汉EV",
        amount="259800",
        expected_close=date(2027, 1, 15),
    )
    customer = Customer.objects.get()
    assert (customer.name, customer.kind, customer.city, customer.source) == (
        "王芳",
        "person",
        "深圳",
        "referral",
    )
    assert customer.wechat_id == "wangfang88" and customer.owner == rep
    assert list(customer.phones.values_list("number", flat=True)) == ["+8613900139000"]
    assert list(customer.emails.values_list("address", flat=True)) == ["wf@example.com"]
    note = TimelineEntry.objects.get(customer=customer, kind="note")
    for text in ("芳华贸易", "汉EV 四驱版", "周末想试驾"):
        assert text in note.data["body"]
    opportunity = Opportunity.objects.get()
    assert (opportunity.customer, opportunity.name, opportunity.amount) == (
        customer,
        "王芳 · 汉EV",
        Decimal("259800.00"),
    )
    assert opportunity.expected_close == date(2027, 1, 15)
    converted.refresh_from_db()
    assert converted.status == Lead.Status.CONVERTED and converted.converted_at is not None
    assert (converted.customer, converted.opportunity) == (customer, opportunity)
    entry = TimelineEntry.objects.get(customer=customer, kind="lead.converted")
    assert entry.data["lead_id"] == lead.pk and entry.data["new_customer"] is True
    assert AuditEvent.objects.filter(action="lead.convert", target_id=str(lead.pk)).count() == 1


def test_converting_as_a_company_makes_the_person_its_contact(rep: User, lead: Lead) -> None:
    services.lead_convert(actor=rep, lead=lead, as_company=True)
    customer = Customer.objects.get()
    assert (customer.name, customer.kind) == ("芳华贸易", "company")
    contact = Contact.objects.get(customer=customer)
    assert (contact.name, contact.phone, contact.email, contact.wechat_id) == (
        "王芳",
        "+8613900139000",
        "wf@example.com",
        "wangfang88",
    )
    assert contact.is_primary


def test_converting_onto_an_existing_customer_adds_what_it_lacks(
    rep: User, lead: Lead, make_customer: Callable[..., Any]
) -> None:
    customer = make_customer(rep, name="王芳", phones=["13800138000"], city="")
    services.lead_convert(actor=rep, lead=lead, customer=customer)
    assert Customer.objects.count() == 1
    customer.refresh_from_db()
    assert set(customer.phones.values_list("number", flat=True)) == {"+8613800138000", "+8613900139000"}
    assert list(customer.emails.values_list("address", flat=True)) == ["wf@example.com"]
    assert (customer.city, customer.source, customer.wechat_id) == ("深圳", "referral", "wangfang88")
    lead.refresh_from_db()
    assert lead.customer == customer and lead.opportunity is None
    entry = TimelineEntry.objects.get(customer=customer, kind="lead.converted")
    assert entry.data["new_customer"] is False


def test_converting_twice_is_refused_and_makes_nothing_more(rep: User, lead: Lead) -> None:
    services.lead_convert(actor=rep, lead=lead, opportunity=True)
    with pytest.raises(services.LeadConverted) as exc:
        services.lead_convert(actor=rep, lead=lead, opportunity=True)
    assert exc.value.status == 409 and exc.value.code == "lead_converted"
    assert Customer.objects.count() == 1 and Opportunity.objects.count() == 1
    assert TimelineEntry.objects.filter(kind="lead.converted").count() == 1


def test_a_failed_opportunity_undoes_the_whole_conversion(rep: User, lead: Lead) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.lead_convert(actor=rep, lead=lead, opportunity=True, amount="-5")
    assert "opportunity_amount" in exc.value.details
    assert Customer.objects.count() == 0 and Opportunity.objects.count() == 0
    lead.refresh_from_db()
    assert lead.status == Lead.Status.NEW and lead.customer is None


def test_a_rep_may_not_convert_onto_a_customer_they_cannot_see(
    rep: User, stranger: User, lead: Lead, make_customer: Callable[..., Any]
) -> None:
    theirs = make_customer(stranger, name="王芳", phones=["13900139000"])
    with pytest.raises(NotFound):
        services.lead_convert(actor=rep, lead=lead, customer=theirs)
    lead.refresh_from_db()
    assert lead.status == Lead.Status.NEW


def test_a_rep_may_not_convert_someone_elses_lead(mate: User, lead: Lead) -> None:
    with pytest.raises(NotFound):
        services.lead_convert(actor=mate, lead=lead)
    assert Customer.objects.count() == 0


def test_a_viewer_may_not_convert(make_user: Callable[..., User], lead: Lead) -> None:
    with pytest.raises(PermissionDenied):
        services.lead_convert(actor=make_user("viewer"), lead=lead)


def test_a_disqualified_lead_is_not_converted(rep: User, lead: Lead) -> None:
    services.lead_disqualify(actor=rep, lead=lead, reason="competitor", note="买了别家")
    with pytest.raises(services.LeadNotOpen):
        services.lead_convert(actor=rep, lead=lead)
    assert Customer.objects.count() == 0


def test_qualify_and_disqualify_follow_the_rules(rep: User, lead: Lead) -> None:
    services.lead_qualify(actor=rep, lead=lead, note="预算明确")
    with pytest.raises(services.LeadNotOpen):
        services.lead_qualify(actor=rep, lead=lead)
    with pytest.raises(ValidationFailed) as exc:
        services.lead_disqualify(actor=rep, lead=lead, reason="other")
    assert set(exc.value.details) == {"note"}
    with pytest.raises(ValidationFailed):
        services.lead_disqualify(actor=rep, lead=lead, reason="bored")
    services.lead_disqualify(actor=rep, lead=lead, reason="no_budget", note="预算不够")
    lead.refresh_from_db()
    assert (lead.status, lead.disqualify_reason, lead.status_note) == (
        "disqualified",
        "no_budget",
        "预算不够",
    )
    services.lead_update(actor=rep, lead=lead, status="working")  # reopened
    lead.refresh_from_db()
    assert (lead.status, lead.disqualify_reason) == ("working", "")
