"""Outgoing e-mail, sent by background tasks on the PostgreSQL task runner (docs/architecture.md
"Background tasks").

A service that wants an e-mail sent calls queue_email() inside its own transaction: the OutboundEmail row
is written with the change that caused it (a rolled-back booking leaves no e-mail), and the task that
sends it is enqueued once that transaction commits. The key names what the e-mail is about and is unique
in the database, so asking twice queues one e-mail.

Never twice: deliver() claims the row under a row lock (queued -> sending, committed) before it talks to
the mail server, and marks it sent afterwards. A second worker, or a second task for the same row, finds
it sending or sent and does nothing. A worker that dies between the claim and the mark leaves the row
sending; sweep() turns it into failed after SENDING_STALE ("it may have gone out"), for the administrator
to retry or not, rather than risk a second copy in the patient's inbox.

Retries: a refused send (smtplib.SMTPException, OSError: the server down, a timeout, a refused login)
is tried again after EMAIL_RETRY_DELAY seconds, doubled at each attempt, up to EMAIL_MAX_ATTEMPTS; then
the e-mail is failed and shown on the administrator's E-mail page, where "Retry now" queues it again."""

import base64
import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import audited_transaction, record

from .models import EmailStatus, OutboundEmail

log = logging.getLogger(__name__)

# Errors worth another attempt: the mail server or the network, not the message.
TRANSIENT_ERRORS = (smtplib.SMTPException, OSError)
# A row still `sending` this long after its attempt began was left by a worker that stopped mid-send.
SENDING_STALE = timedelta(minutes=15)
# A row still `queued` this long past its due time lost its task (a process stopped between the commit and
# the enqueue, or a worker died running it): the sweep enqueues it again.
QUEUED_STALE = timedelta(minutes=5)


class NotRetryable(Exception):
    """Only a failed e-mail can be retried now."""


def queue_email(*, key, message, patient_id=None):
    """Queue `message` (an EmailMessage) under `key` and enqueue its delivery once the current transaction
    commits. Returns the new OutboundEmail, or None when an e-mail with this key was queued before (then
    nothing is queued). Refuses a message with no recipient (ValueError)."""
    recipients = list(message.to) + list(message.cc) + list(message.bcc)
    if not recipients:
        raise ValueError(f"E-mail {key} has no recipient.")
    attachments = []
    for filename, content, mimetype in message.attachments:
        if isinstance(content, str):
            content = content.encode()
        attachments.append(
            {"filename": filename, "content": base64.b64encode(content).decode(), "mimetype": mimetype}
        )
    email, created = OutboundEmail.objects.get_or_create(
        key=key,
        defaults={
            "recipients": recipients,
            "subject": message.subject,
            "body": message.body,
            "from_email": message.from_email or "",
            "attachments": attachments,
            "patient_id": patient_id,
            "next_attempt_at": timezone.now(),
        },
    )
    if not created:
        return None
    pk = email.pk
    transaction.on_commit(lambda: enqueue(pk))
    return email


def enqueue(email_id, run_after=None):
    """Hand e-mail `email_id` to the task runner (not before `run_after`, when the backend can defer)."""
    from .tasks import deliver_email

    task = deliver_email
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return None  # the sweep enqueues it once it is due
        task = task.using(run_after=run_after)
    return task.enqueue(email_id)


def message_of(email):
    """The stored e-mail as an EmailMessage, attachment included."""
    message = EmailMessage(
        subject=email.subject,
        body=email.body,
        from_email=email.from_email or settings.DEFAULT_FROM_EMAIL,
        to=email.recipients,
    )
    for attachment in email.attachments:
        content = base64.b64decode(attachment["content"])
        message.attach(attachment["filename"], content, attachment["mimetype"])
    return message


def retry_delay(attempts):
    """How long to wait after the `attempts`-th failed attempt: EMAIL_RETRY_DELAY, doubled each time."""
    return timedelta(seconds=settings.EMAIL_RETRY_DELAY * 2 ** (attempts - 1))


def deliver(email_id):
    """Send e-mail `email_id` once: nothing if it is not queued or not due yet (sent, failed, being sent by
    another worker, or waiting for its next attempt). Returns the status it leaves."""
    now = timezone.now()
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None:
            return "missing"
        if email.status != EmailStatus.QUEUED or email.next_attempt_at > now:
            return email.status
        email.status = EmailStatus.SENDING
        email.attempts += 1
        email.last_attempt_at = now
        email.save(update_fields=["status", "attempts", "last_attempt_at"])
    try:
        message_of(email).send()
    except TRANSIENT_ERRORS as error:
        return _attempt_failed(email, error, may_retry=True)
    except Exception as error:
        # Not the server: the message itself (an address the backend refuses...). Another try would fail
        # the same way, so it is failed at once; the administrator sees why.
        log.exception("outbox e-mail %s could not be sent", email.pk)
        return _attempt_failed(email, error, may_retry=False)
    with audited_transaction():
        OutboundEmail.objects.filter(pk=email.pk).update(
            status=EmailStatus.SENT, sent_at=timezone.now(), last_error=""
        )
        record(
            Action.SEND,
            obj=email,
            patient_id=email.patient_id,
            detail=f"e-mail {email.key} sent (attempt {email.attempts})",
        )
    return EmailStatus.SENT


def _attempt_failed(email, error, *, may_retry):
    reason = f"attempt {email.attempts}: {type(error).__name__}: {error}"[:2000]
    with audited_transaction():
        if may_retry and email.attempts < settings.EMAIL_MAX_ATTEMPTS:
            due = timezone.now() + retry_delay(email.attempts)
            OutboundEmail.objects.filter(pk=email.pk).update(
                status=EmailStatus.QUEUED, next_attempt_at=due, last_error=reason
            )
            pk = email.pk
            transaction.on_commit(lambda: enqueue(pk, run_after=due))
            log.warning("outbox e-mail %s: %s; next attempt at %s", email.pk, reason, due)
            return EmailStatus.QUEUED
        OutboundEmail.objects.filter(pk=email.pk).update(status=EmailStatus.FAILED, last_error=reason)
        record(
            Action.SEND,
            obj=email,
            patient_id=email.patient_id,
            detail=f"e-mail {email.key} failed after {email.attempts} attempt(s): {reason}",
        )
    log.error("outbox e-mail %s failed: %s", email.pk, reason)
    return EmailStatus.FAILED


def retry_now(email, *, by, request=None):
    """Queue a failed e-mail again, with a fresh set of attempts, due now; audited. Refuses (NotRetryable)
    an e-mail that is not failed: a queued one is on its way, a sent one must not go twice."""
    with audited_transaction():
        updated = OutboundEmail.objects.filter(pk=email.pk, status=EmailStatus.FAILED).update(
            status=EmailStatus.QUEUED, attempts=0, next_attempt_at=timezone.now()
        )
        if not updated:
            raise NotRetryable(
                f"Only a failed e-mail can be retried; this one is {email.get_status_display().lower()}."
            )
        record(
            Action.UPDATE,
            request=request,
            user=by,
            obj=email,
            patient_id=email.patient_id,
            detail=f"e-mail {email.key} queued again (retry now)",
        )
        pk = email.pk
        transaction.on_commit(lambda: enqueue(pk))


def sweep():
    """Put right what a stopped process left: e-mails left `sending` by a worker that died mid-send become
    failed (they may have gone out: never resent by themselves), and queued e-mails long past due are
    enqueued again. Returns (failed, requeued). Run by the worker's scheduler every minute."""
    now = timezone.now()
    failed = 0
    stale = OutboundEmail.objects.filter(status=EmailStatus.SENDING, last_attempt_at__lt=now - SENDING_STALE)
    for email in stale:
        with audited_transaction():
            reason = (
                f"attempt {email.attempts}: the worker stopped while sending; the e-mail may have gone out. "
                "Retry only if the recipient did not get it."
            )
            if OutboundEmail.objects.filter(pk=email.pk, status=EmailStatus.SENDING).update(
                status=EmailStatus.FAILED, last_error=reason
            ):
                record(
                    Action.SEND,
                    obj=email,
                    patient_id=email.patient_id,
                    detail=f"e-mail {email.key} failed: {reason}",
                )
                failed += 1
    due = list(
        OutboundEmail.objects.filter(
            status=EmailStatus.QUEUED, next_attempt_at__lt=now - QUEUED_STALE
        ).values_list("pk", flat=True)[:1000]
    )
    OutboundEmail.objects.filter(pk__in=due).update(next_attempt_at=now)
    for pk in due:
        enqueue(pk)
    return failed, len(due)
