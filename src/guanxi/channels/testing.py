"""A real SMTP server for tests: the `smtp_server` fixture (loaded for every test by the root conftest.py).

    def test_quote_is_emailed(smtp_server, django_capture_on_commit_callbacks, ...):
        with django_capture_on_commit_callbacks(execute=True):
            quote_send(actor=..., quote=...)          # calls channels.services.email_enqueue
        [mail] = smtp_server.messages                  # email.message.EmailMessage, parsed
        assert mail["Subject"] == "报价单 Q-0001"
        assert mail.get_body(("plain",)).get_content().startswith("您好")
        [pdf] = smtp_server.attachments(mail)          # (file name, bytes, content type)

The fixture starts aiosmtpd on a free port of 127.0.0.1, points Django's email settings at it and
runs background tasks inline (Huey's immediate mode), so a message is in `messages` as soon as the
transaction that queued it has committed. `smtp_server.refuse(n, code)` makes the next n messages fail
with that SMTP reply (a temporary 451 by default); a port with nothing listening is `closed_smtp_port`.
"""

from __future__ import annotations

import email
import email.policy
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage as ParsedEmail
from typing import Any

import pytest


@dataclass
class Delivery:
    """One message as the server received it: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: ParsedEmail


@dataclass
class LocalSMTPServer:
    host: str
    port: int
    deliveries: list[Delivery] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    @property
    def messages(self) -> list[ParsedEmail]:
        return [delivery.message for delivery in self.deliveries]

    def refuse(self, count: int = 1, reply: str = "451 4.3.0 Try again later") -> None:
        """Answer the next `count` messages' DATA with `reply` instead of accepting them."""
        self.refusals.extend([reply] * count)

    @staticmethod
    def attachments(message: ParsedEmail) -> list[tuple[str, bytes, str]]:
        """(file name, content, content type) of each attachment, decoded."""
        found = []
        for part in message.iter_attachments():
            content = part.get_payload(decode=True)
            found.append(
                (
                    part.get_filename() or "",
                    content if isinstance(content, bytes) else b"",
                    part.get_content_type(),
                )
            )
        return found

    @staticmethod
    def text(message: ParsedEmail) -> str:
        """The plain-text body, decoded, with the wire's CRLF line ends read as "\n"."""
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        return str(text).replace("\r\n", "\n")

    # aiosmtpd calls this for each message; its signature is aiosmtpd's.
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusals:
            return self.refusals.pop(0)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.deliveries.append(
            Delivery(mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos), message=parsed)
        )
        return "250 OK"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _point_email_at(settings: Any, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "关系 CRM <crm@guanxi.test>"


@pytest.fixture
def tasks_immediate() -> Iterator[None]:
    """Background tasks run inline when queued (Huey's immediate mode), for this test only."""
    from huey.contrib.djhuey import HUEY

    was = HUEY.immediate
    HUEY.immediate = True
    try:
        yield
    finally:
        HUEY.immediate = was


@pytest.fixture
def smtp_server(settings: Any, tasks_immediate: None) -> Iterator[LocalSMTPServer]:
    """A real SMTP server on 127.0.0.1 that keeps what it receives; Django's email settings point at it."""
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command
    port = free_port()
    server = LocalSMTPServer(host="127.0.0.1", port=port)
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    _point_email_at(settings, port)
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def closed_smtp_port(settings: Any, tasks_immediate: None) -> int:
    """Django's email settings point at a port of 127.0.0.1 with nothing listening: every send fails."""
    port = free_port()
    _point_email_at(settings, port)
    return port
