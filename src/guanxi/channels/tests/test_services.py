"""The outbox against a real SMTP server on 127.0.0.1 (aiosmtpd): queue, send once, retry, give up."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone, translation

from guanxi.audit.models import AuditEvent
from guanxi.channels import services
from guanxi.channels.models import EmailMessage
from guanxi.channels.tasks import email_send_due_task
from guanxi.channels.testing import LocalSMTPServer
from guanxi.core.errors import PermissionDenied, ValidationFailed
from guanxi.users.models import User

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _enqueue(actor: Any, key: str = "quote:1:v1", **fields: Any) -> EmailMessage:
    values: dict[str, Any] = {
        "to": ["王芳 <wangfang@example.cn>"],
        "subject": "报价单 Q-0001：华南汽车服务",
        "body": "王女士您好：\n\n附件是您要的报价单，有效期至12月31日。\n\n李明",
    }
    values.update(fields)
    return services.email_enqueue(actor=actor, key=key, **values)


def test_a_queued_email_arrives_after_commit_with_chinese_text_and_attachment(
    smtp_server: LocalSMTPServer, django_capture_on_commit_callbacks: Any, make_user: Callable[..., User]
) -> None:
    sales = make_user("sales")
    with django_capture_on_commit_callbacks(execute=True):
        message = _enqueue(
            sales,
            cc=["manager@example.cn"],
            reply_to="liming@example.cn",
            attachments=[("报价单 Q-0001.pdf", PDF, "application/pdf")],
        )
        assert smtp_server.messages == []  # nothing leaves before the commit

    [delivery] = smtp_server.deliveries
    mail = delivery.message
    assert mail["Subject"] == "报价单 Q-0001：华南汽车服务"
    assert smtp_server.text(mail) == "王女士您好：\n\n附件是您要的报价单，有效期至12月31日。\n\n李明"
    assert mail["To"] == "王芳 <wangfang@example.cn>"
    assert mail["Cc"] == "manager@example.cn"
    assert mail["Reply-To"] == "liming@example.cn"
    assert mail["From"] == "关系 CRM <crm@guanxi.test>"
    assert sorted(delivery.rcpt_tos) == ["manager@example.cn", "wangfang@example.cn"]
    assert smtp_server.attachments(mail) == [("报价单 Q-0001.pdf", PDF, "application/pdf")]
    message.refresh_from_db()
    assert message.status == EmailMessage.Status.SENT
    assert message.attempts == 1
    assert message.sent_at is not None
    assert message.message_id == mail["Message-ID"]
    assert message.message_id.endswith("@guanxi.test>")
    event = AuditEvent.objects.get(action="email.enqueue")
    assert (event.actor, event.target_id) == (sales, str(message.pk))


def test_the_same_key_twice_queues_and_sends_one_email(
    smtp_server: LocalSMTPServer, django_capture_on_commit_callbacks: Any, make_user: Callable[..., User]
) -> None:
    sales = make_user("sales")
    with django_capture_on_commit_callbacks(execute=True):
        first = _enqueue(sales)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = _enqueue(sales, subject="another subject")
    assert callbacks == []
    assert again.pk == first.pk and again.replayed and not first.replayed
    assert again.subject == "报价单 Q-0001：华南汽车服务"
    assert len(smtp_server.messages) == 1
    assert EmailMessage.objects.count() == 1
    assert AuditEvent.objects.filter(action="email.enqueue").count() == 1


def test_a_system_email_has_no_author(
    smtp_server: LocalSMTPServer, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        message = _enqueue(None, key="reminder:7")
    assert message.created_by is None
    assert AuditEvent.objects.get(action="email.enqueue").actor_label == "system"
    assert len(smtp_server.messages) == 1


def test_a_rolled_back_transaction_sends_nothing(
    smtp_server: LocalSMTPServer, django_capture_on_commit_callbacks: Any, make_user: Callable[..., User]
) -> None:
    from django.db import transaction

    sales = make_user("sales")
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _enqueue(sales)
        raise RuntimeError("the caller's service failed")
    assert callbacks == []
    assert EmailMessage.objects.count() == 0
    assert smtp_server.messages == []


@translation.override("en")
def test_bad_addresses_and_fields_are_refused_with_every_problem_named() -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.email_enqueue(
            actor=None,
            key="",
            to=["wangfang@", "ok@example.cn"],
            cc=["no spaces@example.cn"],
            reply_to="nobody",
            subject="  ",
            body="",
            attachments=[("a/b.pdf", b"x", "application/pdf")],
        )
    details = caught.value.details
    assert sorted(details) == ["attachments.0", "cc", "key", "reply_to", "subject", "to"]
    assert details["to"] == ["“wangfang@” is not a valid email address."]
    with pytest.raises(ValidationFailed) as caught:
        services.email_enqueue(actor=None, key="k", to=[], subject="s", body="")
    assert caught.value.details == {"to": ["Enter at least one email address."]}
    assert EmailMessage.objects.count() == 0


def test_a_line_break_in_the_subject_cannot_add_a_header(
    smtp_server: LocalSMTPServer, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _enqueue(None, subject="你好\r\nBcc: victim@example.cn")
    [mail] = smtp_server.messages
    assert mail["Subject"] == "你好 Bcc: victim@example.cn"
    assert mail["Bcc"] is None


def _send_due_at(when: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timezone, "now", lambda: when)
    email_send_due_task.call_local()


def test_a_failed_send_is_retried_with_back_off_then_delivered(
    settings: Any,
    closed_smtp_port: int,
    django_capture_on_commit_callbacks: Any,
    make_user: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sales = make_user("sales")
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        message = _enqueue(sales)
    message.refresh_from_db()
    assert message.status == EmailMessage.Status.FAILED
    assert message.attempts == 1
    assert "ConnectionRefusedError" in message.last_error
    assert start + timedelta(minutes=1) <= message.next_attempt_at <= timezone.now() + timedelta(minutes=1)

    # Not due yet: the sweep leaves it alone.
    _send_due_at(message.next_attempt_at - timedelta(seconds=1), monkeypatch)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (EmailMessage.Status.FAILED, 1)

    # Due, the server still down: the second failure waits 5 minutes.
    second_try = message.next_attempt_at
    _send_due_at(second_try, monkeypatch)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (EmailMessage.Status.FAILED, 2)
    assert message.next_attempt_at == second_try + timedelta(minutes=5)

    # The server is back: the next due attempt delivers it.
    from aiosmtpd.controller import Controller

    server = LocalSMTPServer(host="127.0.0.1", port=closed_smtp_port)
    controller = Controller(server, hostname="127.0.0.1", port=closed_smtp_port)
    controller.start()
    try:
        _send_due_at(message.next_attempt_at, monkeypatch)
    finally:
        controller.stop()
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (EmailMessage.Status.SENT, 3, "")
    assert [m["Subject"] for m in server.messages] == ["报价单 Q-0001：华南汽车服务"]


def test_an_email_is_given_up_after_the_last_attempt(
    smtp_server: LocalSMTPServer,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    smtp_server.refuse(services.MAX_ATTEMPTS)
    with django_capture_on_commit_callbacks(execute=True):
        message = _enqueue(None)
    waits = []
    previous = timezone.now()
    for _attempt in range(services.MAX_ATTEMPTS - 1):
        message.refresh_from_db()
        assert message.status == EmailMessage.Status.FAILED
        due = message.next_attempt_at
        waits.append(due - previous)
        _send_due_at(due, monkeypatch)
        previous = due
    message.refresh_from_db()
    assert message.status == EmailMessage.Status.GIVEN_UP
    assert message.attempts == services.MAX_ATTEMPTS == 6
    assert message.next_attempt_at is None
    assert "451" in message.last_error
    assert [round(w.total_seconds() / 60) for w in waits] == [1, 5, 30, 120, 360]
    assert smtp_server.messages == []

    # The sweep never picks a given-up message again.
    _send_due_at(due + timedelta(days=1), monkeypatch)
    message.refresh_from_db()
    assert message.attempts == 6


def test_every_recipient_refused_for_good_is_given_up_at_once(
    smtp_server: LocalSMTPServer, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import smtplib

    def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise smtplib.SMTPRecipientsRefused({"wangfang@example.cn": (550, b"5.1.1 No such user")})

    monkeypatch.setattr(smtplib.SMTP, "sendmail", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        message = _enqueue(None)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (EmailMessage.Status.GIVEN_UP, 1)
    assert "No such user" in message.last_error


def test_a_message_is_sent_at_most_once_when_two_senders_race(
    smtp_server: LocalSMTPServer, make_user: Callable[..., User]
) -> None:
    message = _enqueue(make_user("sales"))  # no commit callbacks run: the task has not sent it
    first = services.email_send(message_id=message.pk)
    second = services.email_send(message_id=message.pk)
    assert first is not None and first.status == EmailMessage.Status.SENT
    assert second is None
    assert len(smtp_server.messages) == 1
    message.refresh_from_db()
    assert message.attempts == 1


def test_a_lost_queued_message_is_swept_up_after_the_grace_time(
    smtp_server: LocalSMTPServer, make_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _enqueue(make_user("sales"))  # its own task never runs here
    _send_due_at(message.created_at + timedelta(minutes=1), monkeypatch)
    assert smtp_server.messages == []
    _send_due_at(message.created_at + timedelta(minutes=2), monkeypatch)
    assert len(smtp_server.messages) == 1


def test_retry_now_puts_a_given_up_email_back_and_it_is_delivered(
    smtp_server: LocalSMTPServer, django_capture_on_commit_callbacks: Any, make_user: Callable[..., User]
) -> None:
    manager = make_user("manager")
    message = _enqueue(None)
    EmailMessage.objects.filter(pk=message.pk).update(
        status=EmailMessage.Status.GIVEN_UP, attempts=6, last_error="SMTPDataError: 451"
    )
    message.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.email_retry(actor=manager, message=message)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (EmailMessage.Status.SENT, 7)
    assert len(smtp_server.messages) == 1
    event = AuditEvent.objects.get(action="email.retry")
    assert event.actor == manager and event.data == {"status": "given_up", "attempts": 6}

    with pytest.raises(services.EmailNotRetryable):
        services.email_retry(actor=manager, message=message)


def test_retry_needs_email_view(make_user: Callable[..., User]) -> None:
    message = _enqueue(None)
    EmailMessage.objects.filter(pk=message.pk).update(status=EmailMessage.Status.FAILED)
    message.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.email_retry(actor=make_user("sales"), message=message)
    message.refresh_from_db()
    assert message.status == EmailMessage.Status.FAILED
    assert not AuditEvent.objects.filter(action="email.retry").exists()


def test_an_email_interrupted_mid_send_can_be_retried_once_it_is_stuck(
    smtp_server: LocalSMTPServer,
    django_capture_on_commit_callbacks: Any,
    make_user: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    manager = make_user("manager")
    message = _enqueue(None)
    claimed_at = timezone.now()
    EmailMessage.objects.filter(pk=message.pk).update(
        status=EmailMessage.Status.SENDING, attempts=1, attempted_at=claimed_at
    )
    message.refresh_from_db()
    assert not services.email_retryable(message)
    with pytest.raises(services.EmailNotRetryable):
        services.email_retry(actor=manager, message=message)  # its sender may still be at it

    # The sweep never resends it: it may have arrived.
    _send_due_at(claimed_at + timedelta(hours=1), monkeypatch)
    assert smtp_server.messages == []

    monkeypatch.setattr(timezone, "now", lambda: claimed_at + services.STUCK_AFTER)
    assert services.email_retryable(message)
    with django_capture_on_commit_callbacks(execute=True):
        services.email_retry(actor=manager, message=message)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (EmailMessage.Status.SENT, 2)
    assert message.attempted_at == claimed_at + services.STUCK_AFTER
    assert len(smtp_server.messages) == 1
