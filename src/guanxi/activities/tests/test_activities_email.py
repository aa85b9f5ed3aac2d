"""An email activity really sent: through the outbox to a real local SMTP server, recorded on the activity
with its delivery state; refused for a customer who opted out of email."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from guanxi.activities import services
from guanxi.activities.models import Activity
from guanxi.activities.tests.activity_fixtures import *  # noqa: F403  (the fixtures)
from guanxi.activities.tests.activity_fixtures import make_lead
from guanxi.channels.models import EmailMessage
from guanxi.channels.testing import LocalSMTPServer
from guanxi.core.errors import ValidationFailed
from guanxi.customers import selectors as customer_selectors
from guanxi.customers import services as customer_services
from guanxi.customers.models import Customer, TimelineEntry
from guanxi.customers.templatetags.customer_tags import timeline_item
from guanxi.users.models import User

pytestmark = pytest.mark.django_db(transaction=True)
HX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}


def _send(rep: User, customer: Customer, **fields: Any) -> Activity:
    return services.activity_log(
        actor=rep,
        customer=customer,
        kind="email",
        subject=fields.pop("subject", "您的试驾预约"),
        body=fields.pop("body", "张先生您好：\n周六上午十点，恭候光临。"),
        send_email=True,
        **fields,
    )


def test_an_email_activity_is_delivered_and_recorded(
    rep: User, buyer: Customer, smtp_server: LocalSMTPServer
) -> None:
    activity = _send(rep, buyer)

    [mail] = smtp_server.messages
    assert mail["To"] == "zhang.wei@example.com"
    assert mail["Subject"] == "您的试驾预约"
    assert mail["Reply-To"] == "li.na@dealer.example"
    assert smtp_server.text(mail).startswith("张先生您好：\n周六上午十点")
    activity.refresh_from_db()
    assert activity.email is not None and activity.email.key == f"activity:{activity.pk}"
    assert activity.email.status == EmailMessage.Status.SENT and activity.email.customer_id == buyer.pk
    assert activity.direction == "out"
    entry = TimelineEntry.objects.get(kind="activity.email")
    assert entry.data["email_id"] == activity.email_id and entry.data["to"] == ["zhang.wei@example.com"]


def test_the_timeline_shows_the_delivery_state_in_one_more_query(
    rep: User, buyer: Customer, smtp_server: LocalSMTPServer, django_assert_num_queries: Any
) -> None:
    _send(rep, buyer)
    services.activity_log(actor=rep, customer=buyer, kind="call")

    with django_assert_num_queries(2):  # the entries, then the page's emails' states
        entries = customer_selectors.customer_timeline(actor=rep, customer=buyer)
    email_entry = next(e for e in entries if e.kind == "activity.email")
    buyer.pii_clear = True  # type: ignore[attr-defined]
    with translation.override("en"):
        item = timeline_item(email_entry, buyer)
    assert item.badge == ("Sent", "email-sent")
    assert str(item.title) == "Email sent: <strong>您的试驾预约</strong>"
    assert ("To", "zhang.wei@example.com") in [(str(k), v) for k, v in item.facts]
    buyer.pii_clear = False  # type: ignore[attr-defined]
    with translation.override("en"):
        masked = timeline_item(email_entry, buyer)
    assert "zhang.wei@example.com" not in str([v for _k, v in masked.facts])


def test_a_failed_delivery_shows_on_the_timeline(rep: User, buyer: Customer, closed_smtp_port: int) -> None:
    activity = _send(rep, buyer)

    activity.refresh_from_db()
    assert activity.email is not None and activity.email.status == EmailMessage.Status.FAILED
    entry = customer_selectors.customer_timeline(actor=rep, customer=buyer, timeline_type="activity.email")[0]
    buyer.pii_clear = True  # type: ignore[attr-defined]
    with translation.override("en"):
        item = timeline_item(entry, buyer)
    assert item.badge == ("Failed, will retry", "email-failed")
    assert any(str(label) == "Error" for label, _v in item.facts)


@pytest.mark.parametrize("channel", ["email", "any"])
def test_a_customer_who_opted_out_of_email_is_refused(
    rep: User, buyer: Customer, smtp_server: LocalSMTPServer, channel: str
) -> None:
    customer_services.consent_record(
        actor=rep, customer=buyer, purpose="marketing", channel="email", granted=True, method="web"
    )
    customer_services.consent_record(
        actor=rep, customer=buyer, purpose="marketing", channel=channel, granted=False, method="verbal"
    )

    with pytest.raises(services.EmailOptedOut) as caught:
        _send(rep, buyer)

    assert caught.value.code == "email_opted_out" and "opted out of email" in caught.value.message
    assert smtp_server.messages == []
    assert not Activity.objects.exists() and not EmailMessage.objects.exists()


def test_consent_given_again_lets_the_email_go(
    rep: User, buyer: Customer, smtp_server: LocalSMTPServer
) -> None:
    for granted in (False, True):
        customer_services.consent_record(
            actor=rep, customer=buyer, purpose="marketing", channel="email", granted=granted, method="web"
        )
    _send(rep, buyer)
    assert len(smtp_server.messages) == 1


def test_an_email_goes_only_to_the_customers_own_addresses(
    rep: User, buyer: Customer, smtp_server: LocalSMTPServer, make_customer: Callable[..., Customer]
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        _send(rep, buyer, email_to="someone@elsewhere.example")
    assert "email_to" in caught.value.details
    without = make_customer(rep, name="无邮箱")
    with pytest.raises(ValidationFailed) as caught:
        _send(rep, without)
    assert "email_to" in caught.value.details
    with pytest.raises(ValidationFailed) as caught:
        _send(rep, buyer, subject="  ")
    assert "subject" in caught.value.details
    assert smtp_server.messages == [] and not Activity.objects.exists()


def test_a_contacts_address_may_be_chosen(
    rep: User, buyer: Customer, smtp_server: LocalSMTPServer, make_customer: Callable[..., Customer]
) -> None:
    company = make_customer(rep, name="鹏城建材", kind="company")
    customer_services.contact_create(
        actor=rep, customer=company, name="王经理", email="wang@pengcheng.example"
    )
    _send(rep, company, email_to="WANG@pengcheng.example")
    assert smtp_server.messages[0]["To"] == "wang@pengcheng.example"


def test_a_lead_can_be_emailed(rep: User, smtp_server: LocalSMTPServer) -> None:
    lead = make_lead(rep, email="sun.li@example.com")
    activity = services.activity_log(
        actor=rep, lead=lead, kind="email", subject="资料", body="附上车型资料", send_email=True
    )
    assert smtp_server.messages[0]["To"] == "sun.li@example.com" and activity.email_id


def test_a_sent_email_keeps_its_text(rep: User, buyer: Customer, smtp_server: LocalSMTPServer) -> None:
    activity = _send(rep, buyer)
    with pytest.raises(services.EmailAlreadySent):
        services.activity_update(actor=rep, activity=activity, body="改过的正文")
    services.activity_update(actor=rep, activity=activity, outcome="")  # nothing else is refused
    assert Activity.objects.get().body.startswith("张先生您好")


def test_the_360_page_sends_an_email(
    rep: User, buyer: Customer, smtp_server: LocalSMTPServer, client_for: Callable[[User], Client]
) -> None:
    client = client_for(rep)
    response = client.post(
        reverse("customer-activity-log", args=[buyer.pk]),
        {
            "kind": "email",
            "email_to": "zhang.wei@example.com",
            "subject": "报价",
            "body": "请查收",
            "send_email": "on",
        },
        **HX,
    )

    assert response.status_code == 200 and response["HX-Trigger"] == "timeline-changed"
    [mail] = smtp_server.messages
    assert mail["Subject"] == "报价"
    timeline = client.get(reverse("customer-timeline", args=[buyer.pk]), **HX).content.decode()
    assert "Email sent" in timeline and 'class="badge email-sent"' in timeline


def test_the_360_page_says_clearly_when_the_customer_opted_out(
    rep: User, buyer: Customer, smtp_server: LocalSMTPServer, client_for: Callable[[User], Client]
) -> None:
    customer_services.consent_record(
        actor=rep, customer=buyer, purpose="marketing", channel="any", granted=False, method="verbal"
    )
    response = client_for(rep).post(
        reverse("customer-activity-log", args=[buyer.pk]),
        {"kind": "email", "subject": "报价", "body": "请查收", "send_email": "on"},
        **HX,
    )
    html = response.content.decode()
    assert response.status_code == 200 and "HX-Trigger" not in response
    assert "张伟 has opted out of email (consent withdrawn): the email was not sent." in html
    assert smtp_server.messages == [] and not Activity.objects.exists()


def test_an_email_logged_without_sending_sends_nothing(
    rep: User, buyer: Customer, smtp_server: LocalSMTPServer, client_for: Callable[[User], Client]
) -> None:
    response = client_for(rep).post(
        reverse("customer-activity-log", args=[buyer.pk]),
        {"kind": "email", "direction": "in", "subject": "客户来信", "body": "问价格"},
        **HX,
    )
    assert response.status_code == 200
    activity = Activity.objects.get()
    assert activity.email_id is None and activity.direction == "in"
    assert smtp_server.messages == []


def test_the_edit_page_keeps_a_sent_emails_text(
    rep: User, buyer: Customer, smtp_server: LocalSMTPServer, client_for: Callable[[User], Client]
) -> None:
    activity = _send(rep, buyer)
    url = reverse("activity-edit", args=[activity.pk])
    client = client_for(rep)
    assert 'name="body" cols="40" rows="6" disabled' in client.get(url).content.decode()
    when = timezone.localtime(activity.occurred_at).strftime("%Y-%m-%dT%H:%M")

    response = client.post(
        url,
        {
            "kind": "call",
            "subject": "改",
            "body": "改过",
            "direction": "out",
            "outcome": "done",
            "occurred_at": when,
        },
    )

    assert response.status_code == 302
    activity.refresh_from_db()
    assert (activity.kind, activity.subject, activity.outcome) == ("email", "您的试驾预约", "")
    assert activity.body.startswith("张先生您好")
