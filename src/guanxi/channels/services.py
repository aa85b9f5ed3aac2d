"""The email outbox: queue a message inside the caller's transaction, send it once after commit.

Rules enforced here and nowhere else (DESIGN.md rule 6):
- Every email leaves through a row queued by `email_enqueue` with a unique key; the same key again
  returns the first message and queues nothing (also when two transactions race: the unique
  constraint decides, caught in a savepoint).
- The caller's service checks its own permission (quote.create, activity.create…); `actor` is kept
  for the audit log only and may be None for what the system sends (reminders).
- A message is sent at most once: a sender first claims it with one conditional UPDATE
  (queued, or failed and due → sending); whoever loses the claim sends nothing.
- A failed attempt is retried after 1, 5, 30, 120 and 360 minutes; after the last it is given up.
  A refusal of every recipient with a permanent (5xx) code is given up at once: retrying cannot help.
- "Retry now" (`email.view`) puts a failed or given-up message back in the queue, audited; also one
  stuck "sending" for STUCK_AFTER (its sender died mid-send), since only a person can judge whether it
  may have arrived.
"""

from __future__ import annotations

import mimetypes
import smtplib
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.audit.services import audit_record
from guanxi.channels.models import EmailAttachment, EmailMessage
from guanxi.core.errors import Conflict, Errors
from guanxi.core.permissions import ensure_can
from guanxi.core.tasks import task_enqueue_on_commit

SEND_TASK = "channels.email_send"
# Minutes to wait after the 1st, 2nd, … failed attempt; a failure after the last gives up.
BACKOFF_MINUTES = (1, 5, 30, 120, 360)
MAX_ATTEMPTS = len(BACKOFF_MINUTES) + 1
MAX_RECIPIENTS = 50
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024  # all attachments of one message together
KEY_MAX_LENGTH = EmailMessage._meta.get_field("key").max_length or 150
SUBJECT_MAX_LENGTH = EmailMessage._meta.get_field("subject").max_length or 300
FILENAME_MAX_LENGTH = EmailAttachment._meta.get_field("filename").max_length or 200
ERROR_MAX_LENGTH = EmailMessage._meta.get_field("last_error").max_length or 500
RETRYABLE = (EmailMessage.Status.FAILED, EmailMessage.Status.GIVEN_UP)
# An attempt takes at most the SMTP timeout (GUANXI_EMAIL_TIMEOUT) per step; one "sending" this long died.
STUCK_AFTER = timedelta(minutes=15)


class EmailNotRetryable(Conflict):
    code = "email_not_retryable"
    default_message = "Only a failed, given-up or interrupted email can be sent again."


def _clean_addresses(field: str, values: Sequence[str], errors: Errors, *, required: bool) -> list[str]:
    if isinstance(values, str):  # a lone string would be read letter by letter
        values = [values]
    cleaned = [str(value).strip() for value in values if str(value).strip()]
    if required and not cleaned:
        errors.add(field, _("Enter at least one email address."))
    if len(cleaned) > MAX_RECIPIENTS:
        errors.add(field, _("Send to at most %(limit)d addresses.") % {"limit": MAX_RECIPIENTS})
    for address in cleaned:
        try:
            validate_email(parseaddr(address)[1] if "<" in address else address)
        except ValidationError:
            errors.add(field, _("“%(value)s” is not a valid email address.") % {"value": address})
    return cleaned


def _clean_attachments(
    attachments: Sequence[tuple[str, bytes, str]], errors: Errors
) -> list[tuple[str, bytes, str]]:
    cleaned = []
    total = 0
    for index, (filename, content, content_type) in enumerate(attachments):
        name = str(filename or "").strip()
        if not name or len(name) > FILENAME_MAX_LENGTH or any(c in name for c in "\r\n/\\"):
            errors.add(
                f"attachments.{index}",
                _("Give the file a name of at most %(limit)d characters, without slashes.")
                % {"limit": FILENAME_MAX_LENGTH},
            )
        total += len(content)
        kind = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        cleaned.append((name, bytes(content), kind))
    if total > MAX_ATTACHMENT_BYTES:
        errors.add(
            "attachments",
            _("Attachments may take at most %(size)d MB together.") % {"size": MAX_ATTACHMENT_BYTES >> 20},
        )
    return cleaned


def email_enqueue(
    *,
    actor: Any,
    key: str,
    to: Sequence[str],
    subject: str,
    body: str,
    customer: Any = None,
    cc: Sequence[str] = (),
    reply_to: str = "",
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> EmailMessage:
    """Queue one email, to be sent once the caller's transaction commits.

    `key` names the message for good (e.g. "quote:42:v3"): the same key again returns the message
    queued first, with `replayed` True, and queues nothing. Addresses may be bare or "Name <addr>";
    attachments are (file name, content, content type). Raises ValidationFailed, naming each bad field.
    """
    errors = Errors()
    key = (key or "").strip()
    if not key or len(key) > KEY_MAX_LENGTH or not key.isprintable():
        errors.add("key", _("Send 1 to %(limit)d printable characters.") % {"limit": KEY_MAX_LENGTH})
    recipients = _clean_addresses("to", to, errors, required=True)
    copies = _clean_addresses("cc", cc, errors, required=False)
    reply = _clean_addresses("reply_to", [reply_to] if reply_to else [], errors, required=False)
    subject = " ".join((subject or "").split())  # a line break in a header would end it
    if not subject:
        errors.add("subject", _("This field is required."))
    elif len(subject) > SUBJECT_MAX_LENGTH:
        errors.add("subject", _("Enter at most %(limit)d characters.") % {"limit": SUBJECT_MAX_LENGTH})
    files = _clean_attachments(attachments, errors)
    errors.raise_if_any()

    existing = EmailMessage.objects.filter(key=key).first()
    if existing is not None:
        existing.replayed = True  # type: ignore[attr-defined]
        return existing
    try:
        with transaction.atomic():  # a savepoint inside the caller's transaction
            message = EmailMessage.objects.create(
                key=key,
                to=recipients,
                cc=copies,
                reply_to=reply[0] if reply else "",
                subject=subject,
                body=body or "",
                customer=customer,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:
        message = EmailMessage.objects.get(key=key)  # a concurrent caller queued it first
        message.replayed = True  # type: ignore[attr-defined]
        return message
    EmailAttachment.objects.bulk_create(
        EmailAttachment(message=message, filename=name, content=content, content_type=kind)
        for name, content, kind in files
    )
    audit_record(
        actor=actor,
        action="email.enqueue",
        target=message,
        data={"key": key, "to": recipients, "cc": copies, "attachments": [name for name, _c, _k in files]},
    )
    task_enqueue_on_commit(SEND_TASK, message.pk)
    message.replayed = False  # type: ignore[attr-defined]
    return message


def _claim(message_id: int) -> bool:
    """Take the message for this sender: one conditional UPDATE, so two senders never both win."""
    now = timezone.now()
    due = Q(status=EmailMessage.Status.QUEUED) | Q(
        status=EmailMessage.Status.FAILED, next_attempt_at__lte=now
    )
    claimed = EmailMessage.objects.filter(due, pk=message_id).update(
        status=EmailMessage.Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=None, attempted_at=now
    )
    return claimed == 1


def _from_domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "localhost"


def _permanent(exc: Exception) -> bool:
    """Every recipient refused with a 5xx code: the address is wrong, not the moment."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    return False


def _error_text(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text[:ERROR_MAX_LENGTH]


def email_send(*, message_id: int) -> EmailMessage | None:
    """Send one queued (or failed and due) message, at most once; None when another sender has it.

    The SMTP conversation happens outside any transaction: the claim is committed first, so a crash
    mid-send leaves the message "sending" (shown on the outbox page), never sent twice.
    """
    if not _claim(message_id):
        return None
    message = EmailMessage.objects.prefetch_related("attachments").get(pk=message_id)
    message_header = mail.make_msgid(domain=_from_domain())
    email = mail.EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=message.to,
        cc=message.cc,
        reply_to=[message.reply_to] if message.reply_to else None,
        headers={"Message-ID": message_header},
    )
    for attachment in message.attachments.all():
        email.attach(attachment.filename, bytes(attachment.content), attachment.content_type)
    try:
        email.send(fail_silently=False)
    except Exception as exc:  # SMTP, socket, TLS: any failure is one failed attempt
        _failed(message, exc)
    else:
        now = timezone.now()
        EmailMessage.objects.filter(pk=message.pk).update(
            status=EmailMessage.Status.SENT, sent_at=now, message_id=message_header, last_error=""
        )
        message.status, message.sent_at, message.message_id, message.last_error = (
            EmailMessage.Status.SENT,
            now,
            message_header,
            "",
        )
    return message


def _failed(message: EmailMessage, exc: Exception) -> None:
    attempts = message.attempts
    if attempts >= MAX_ATTEMPTS or _permanent(exc):
        status, next_attempt = EmailMessage.Status.GIVEN_UP, None
    else:
        status = EmailMessage.Status.FAILED
        next_attempt = timezone.now() + timedelta(minutes=BACKOFF_MINUTES[attempts - 1])
    error = _error_text(exc)
    EmailMessage.objects.filter(pk=message.pk).update(
        status=status, next_attempt_at=next_attempt, last_error=error
    )
    message.status, message.next_attempt_at, message.last_error = status, next_attempt, error


def email_retryable(message: EmailMessage) -> bool:
    """Failed, given up, or "sending" for longer than any attempt takes (its sender died mid-send)."""
    if message.status in RETRYABLE:
        return True
    return message.status == EmailMessage.Status.SENDING and _stuck(message.attempted_at)


def _stuck(attempted_at: datetime | None) -> bool:
    return attempted_at is None or attempted_at <= timezone.now() - STUCK_AFTER


@transaction.atomic
def email_retry(*, actor: Any, message: EmailMessage) -> EmailMessage:
    """Retry now: a failed, given-up or interrupted message goes back in the queue, sent after commit.

    Its attempts keep counting, so a given-up message that fails again is given up again. An
    interrupted one ("sending" for STUCK_AFTER) may have reached the server before its sender died:
    the page says so, and the person who retries it decides.
    """
    ensure_can(actor, "email.view")
    interrupted = Q(status=EmailMessage.Status.SENDING) & (
        Q(attempted_at__isnull=True) | Q(attempted_at__lte=timezone.now() - STUCK_AFTER)
    )
    updated = (
        EmailMessage.objects.filter(pk=message.pk)
        .filter(Q(status__in=RETRYABLE) | interrupted)
        .update(status=EmailMessage.Status.QUEUED, next_attempt_at=None)
    )
    if not updated:
        raise EmailNotRetryable(_("Only a failed, given-up or interrupted email can be sent again."))
    audit_record(
        actor=actor,
        action="email.retry",
        target=message,
        data={"status": message.status, "attempts": message.attempts},
    )
    message.status, message.next_attempt_at = EmailMessage.Status.QUEUED, None
    task_enqueue_on_commit(SEND_TASK, message.pk)
    return message
