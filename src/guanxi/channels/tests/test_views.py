"""The outbox page: who may open it, what each role sees, the filter, the detail and "retry now"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.audit.models import AuditEvent
from guanxi.channels import selectors, services
from guanxi.channels.models import EmailMessage
from guanxi.channels.testing import LocalSMTPServer
from guanxi.users.models import Team, User

pytestmark = pytest.mark.django_db


def _email(
    actor: Any, key: str, *, customer: Any = None, status: str = "sent", **fields: Any
) -> EmailMessage:
    message = services.email_enqueue(
        actor=actor,
        key=key,
        to=fields.pop("to", ["wangfang@example.cn"]),
        subject=fields.pop("subject", f"报价单 {key}"),
        body="您好",
        customer=customer,
        attachments=fields.pop("attachments", ()),
    )
    EmailMessage.objects.filter(pk=message.pk).update(status=status, **fields)
    message.refresh_from_db()
    return message


@pytest.mark.parametrize("role", ["sales", "service", "marketing", "viewer"])
def test_the_outbox_is_refused_without_email_view(
    role: str, make_user: Callable[..., User], client_for: Callable[..., Any]
) -> None:
    message = _email(None, "k1")
    client = client_for(make_user(role))
    assert client.get("/outbox/").status_code == 403
    assert client.get(f"/outbox/{message.pk}/").status_code == 403
    assert client.post(f"/outbox/{message.pk}/retry").status_code == 403


def test_signed_out_goes_to_the_login(client_for: Callable[..., Any]) -> None:
    response = client_for(None).get("/outbox/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_a_manager_sees_the_team_emails_and_an_admin_all(
    make_user: Callable[..., User],
    make_customer: Callable[..., Any],
    team_b: Team,
    client_for: Callable[..., Any],
) -> None:
    admin, manager = make_user("admin"), make_user("manager")
    sales_a, sales_b = make_user("sales"), make_user("sales", team=team_b)
    customer_a = make_customer(admin, name="王芳", owner=sales_a, team=sales_a.team)
    mine = _email(sales_a, "team-a")  # queued by someone of the manager's team
    about = _email(None, "about-a", customer=customer_a)  # a system email to a team customer
    other = _email(sales_b, "team-b")
    system = _email(None, "system")

    def keys(user: User) -> list[str]:
        return sorted(selectors.email_list(actor=user).values_list("key", flat=True))

    assert keys(manager) == ["about-a", "team-a"]
    assert keys(admin) == ["about-a", "system", "team-a", "team-b"]
    page = client_for(manager).get("/outbox/")
    assert page.status_code == 200
    assert "报价单 team-a" in page.text and "报价单 about-a" in page.text
    assert "报价单 team-b" not in page.text
    assert client_for(manager).get(f"/outbox/{other.pk}/").status_code == 404
    assert client_for(manager).get(f"/outbox/{system.pk}/").status_code == 404
    assert client_for(manager).get(f"/outbox/{mine.pk}/").status_code == 200
    assert client_for(manager).get(f"/outbox/{about.pk}/").status_code == 200


def test_the_list_filters_by_status_and_text(
    make_user: Callable[..., User], client_for: Callable[..., Any]
) -> None:
    admin = make_user("admin")
    _email(None, "a", subject="发票 A")
    _email(
        None, "b", subject="报价单 B", status="failed", attempts=2, last_error="ConnectionRefusedError: 111"
    )
    _email(None, "c", subject="报价单 C", status="given_up", to=["zhao@example.cn"])
    client = client_for(admin)
    page = client.get("/outbox/?status=failed")
    assert "报价单 B" in page.text and "报价单 C" not in page.text and "发票 A" not in page.text
    assert "ConnectionRefusedError: 111" in page.text
    assert "Failed, will retry" in page.text
    page = client.get("/outbox/?q=zhao@")
    assert "报价单 C" in page.text and "报价单 B" not in page.text
    assert "No emails match" in client.get("/outbox/?q=nothing-like-this").text


def test_the_list_costs_the_same_queries_for_one_or_many_emails(
    make_user: Callable[..., User], make_customer: Callable[..., Any], client_for: Callable[..., Any]
) -> None:
    admin = make_user("admin")
    client = client_for(admin)
    customer = make_customer(admin)
    _email(admin, "first", customer=customer)
    client.get("/outbox/")
    with CaptureQueriesContext(connection) as one:
        assert client.get("/outbox/").status_code == 200
    for n in range(10):
        _email(make_user("sales"), f"more-{n}", customer=make_customer(admin, name=f"客户{n}"))
    with CaptureQueriesContext(connection) as many:
        assert client.get("/outbox/").status_code == 200
    assert len(many) == len(one)


def test_the_list_selector_takes_one_query(
    make_user: Callable[..., User], make_customer: Callable[..., Any]
) -> None:
    manager = make_user("manager")
    for n in range(5):
        _email(manager, f"k{n}", customer=make_customer(manager, name=f"客户{n}"))
    with CaptureQueriesContext(connection) as queries:
        rows = [(m.customer.name, str(m.created_by)) for m in selectors.email_list(actor=manager)]
    assert len(rows) == 5
    assert len(queries) == 1


def test_the_detail_shows_the_delivery_and_the_attachments(
    make_user: Callable[..., User], client_for: Callable[..., Any]
) -> None:
    admin = make_user("admin")
    message = _email(
        admin,
        "q-9",
        status="failed",
        attempts=2,
        last_error="SMTPDataError: (451, b'Try again later')",
        attachments=[("报价单.pdf", b"x" * 2048, "application/pdf")],
    )
    page = client_for(admin).get(f"/outbox/{message.pk}/")
    assert page.status_code == 200
    assert "报价单.pdf" in page.text and "2.0\xa0KB" in page.text
    assert "2 of 6" in page.text
    assert "Try again later" in page.text
    assert "Retry now" in page.text
    sent = _email(admin, "q-10")
    assert "Retry now" not in client_for(admin).get(f"/outbox/{sent.pk}/").text


def test_retry_now_sends_a_given_up_email(
    smtp_server: LocalSMTPServer,
    django_capture_on_commit_callbacks: Any,
    make_user: Callable[..., User],
    client_for: Callable[..., Any],
) -> None:
    manager = make_user("manager")
    message = _email(manager, "q-11", status="given_up", attempts=6, last_error="timed out")
    client = client_for(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/outbox/{message.pk}/retry")
    assert response.status_code == 302 and response["Location"] == f"/outbox/{message.pk}/"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (EmailMessage.Status.SENT, 7)
    assert [m["Subject"] for m in smtp_server.messages] == ["报价单 q-11"]
    assert AuditEvent.objects.filter(action="email.retry", actor=manager).count() == 1
    page = client.get(response["Location"])
    assert "The email is queued again" in page.text


def test_retry_of_a_sent_email_is_refused_and_changes_nothing(
    make_user: Callable[..., User], client_for: Callable[..., Any]
) -> None:
    admin = make_user("admin")
    message = _email(admin, "q-12")
    response = client_for(admin).post(f"/outbox/{message.pk}/retry", follow=True)
    assert "Only a failed, given-up or interrupted email can be sent again." in response.text
    message.refresh_from_db()
    assert message.status == EmailMessage.Status.SENT
    assert not AuditEvent.objects.filter(action="email.retry").exists()
