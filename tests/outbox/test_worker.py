"""E-mail on the task runner, for real: rows in PostgreSQL, run by django-tasks-db's worker. Queued with
the change that causes it, sent once the change commits, retried with a growing wait while the mail
server refuses it, failed after EMAIL_MAX_ATTEMPTS, and never sent twice."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from appointments.reminders import send_booking_confirmation
from audit.models import Action, AuditEvent
from outbox.models import EmailStatus, OutboundEmail
from outbox.services import enqueue, queue_email, sweep
from tests.factories import AppointmentFactory, PatientFactory

from .conftest import FailingBackend, run_worker, sent_messages, worker_process

pytestmark = pytest.mark.usefixtures("database_tasks")


def note(key="test:1", to="pat@example.test"):
    with transaction.atomic():
        return queue_email(key=key, message=EmailMessage("Your appointment", "See you then.", None, [to]))


def test_a_booking_confirmation_waits_for_the_worker_and_goes_once_it_runs():
    appointment = AppointmentFactory(patient=PatientFactory(email="zoe@example.test"))
    assert send_booking_confirmation(appointment.pk)
    email = OutboundEmail.objects.get()
    assert (email.status, mail.outbox) == (EmailStatus.QUEUED, [])
    assert DBTaskResult.objects.get().task_path == "outbox.tasks.deliver_email"
    run_worker()
    (message,) = mail.outbox
    assert message.to == ["zoe@example.test"] and message.subject.startswith("Your appointment on ")
    assert message.attachments[0][0] == "appointment.ics"
    email.refresh_from_db()
    assert (email.status, email.attempts, email.sent_at is not None) == (EmailStatus.SENT, 1, True)
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert AuditEvent.objects.filter(action=Action.SEND, object_type="outbox.outboundemail").count() == 1


def test_a_rolled_back_change_queues_and_sends_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_email(key="test:1", message=EmailMessage("Your appointment", "x", None, ["pat@example.test"]))
        raise RuntimeError("the booking failed after the e-mail was asked for")
    run_worker()
    assert not OutboundEmail.objects.exists() and not DBTaskResult.objects.exists() and mail.outbox == []


def test_the_same_key_twice_queues_one_email():
    assert note() is not None
    assert note() is None
    assert OutboundEmail.objects.count() == 1 and DBTaskResult.objects.count() == 1
    run_worker()
    assert len(mail.outbox) == 1


def test_a_second_task_for_a_sent_email_sends_nothing():
    email = note()
    enqueue(email.pk)
    enqueue(email.pk)
    run_worker()
    run_worker()
    assert len(mail.outbox) == 1
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 3


def test_a_refused_send_is_retried_after_a_wait_that_doubles(settings):
    settings.EMAIL_RETRY_DELAY = 60
    FailingBackend.failures = 2
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        email = note()
        run_worker()
        email.refresh_from_db()
        assert (email.status, email.attempts, mail.outbox) == (EmailStatus.QUEUED, 1, [])
        assert "SMTPServerDisconnected" in email.last_error
        assert email.next_attempt_at == start + timedelta(seconds=60)
        clock.move_to(start + timedelta(seconds=59))
        run_worker()  # not due yet: the retry's task waits (run_after)
        assert OutboundEmail.objects.get().attempts == 1
        clock.move_to(start + timedelta(seconds=60))
        run_worker()
        email.refresh_from_db()
        assert (email.status, email.attempts) == (EmailStatus.QUEUED, 2)
        assert email.next_attempt_at == start + timedelta(seconds=60 + 120)
        clock.move_to(email.next_attempt_at)
        run_worker()
    email.refresh_from_db()
    assert (email.status, email.attempts, email.last_error, len(mail.outbox)) == (EmailStatus.SENT, 3, "", 1)


def test_after_the_last_attempt_it_is_failed_and_the_administrator_retries_it(client_for, settings):
    settings.EMAIL_MAX_ATTEMPTS = 3
    settings.EMAIL_RETRY_DELAY = 0
    FailingBackend.failures = 99
    email = note()
    run_worker()
    email.refresh_from_db()
    assert (email.status, email.attempts, mail.outbox) == (EmailStatus.FAILED, 3, [])
    assert "attempt 3: SMTPServerDisconnected" in email.last_error
    failed = AuditEvent.objects.filter(action=Action.SEND, detail__contains="failed after 3 attempt(s)")
    assert failed.exists()

    client = client_for("administrator")
    page = client.get("/outbox/?status=failed").content.decode()
    assert "Your appointment" in page and "Failed" in page and "Retry now</button>" in page
    assert "SMTPServerDisconnected" in page

    FailingBackend.failures = 0
    response = client.post(f"/outbox/{email.pk}/retry/", follow=True)
    assert "is queued again" in response.content.decode()
    retried = AuditEvent.objects.filter(action=Action.UPDATE, actor=client.user, object_id=str(email.pk))
    assert retried.exists()
    run_worker()
    email.refresh_from_db()
    assert (email.status, email.attempts, len(mail.outbox)) == (EmailStatus.SENT, 1, 1)


def test_a_worker_stopped_mid_send_leaves_it_failed_never_resent():
    email = note()
    # A worker claimed it and died before marking it sent: the mail server may or may not have it.
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=EmailStatus.SENDING, attempts=1, last_attempt_at=timezone.now()
    )
    run_worker()
    assert mail.outbox == [] and OutboundEmail.objects.get().status == EmailStatus.SENDING
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert sweep() == (1, 0)
        enqueue(email.pk)
        run_worker()
    email.refresh_from_db()
    assert (email.status, mail.outbox) == (EmailStatus.FAILED, [])
    assert "may have gone out" in email.last_error


def test_a_queued_email_whose_task_was_lost_is_enqueued_again_by_the_sweep():
    email = note()
    DBTaskResult.objects.all().delete()  # the process stopped between the commit and the enqueue
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert sweep() == (0, 1)
        run_worker()
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT and len(mail.outbox) == 1


def test_two_worker_processes_at_once_send_each_email_once(tmp_path):
    emails = [note(key=f"test:{n}", to=f"patient{n}@example.test") for n in range(4)]
    for email in emails:  # every e-mail has three tasks: the two workers race for them
        enqueue(email.pk)
        enqueue(email.pk)
    workers = [worker_process(tmp_path, "--batch"), worker_process(tmp_path, "--batch")]
    for worker in workers:
        output, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0, output
    messages = sent_messages(tmp_path)
    assert sorted(line for m in messages for line in m.splitlines() if line.startswith("To: ")) == [
        f"To: patient{n}@example.test" for n in range(4)
    ]
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 12
