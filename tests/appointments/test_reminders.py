"""E-mails on booking and the day before, each with an .ics; the daily run never sends twice."""

from datetime import timedelta

import icalendar
import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from appointments.models import Reminder, ReminderKind
from appointments.services.booking import book
from outbox.models import EmailStatus, OutboundEmail
from outbox.services import deliver
from tests.factories import AppointmentFactory, FrontDeskFactory, PatientFactory

# Its outcome depends on the clock: `make test-clock` runs it at awkward instants too.
pytestmark = pytest.mark.clock


def ics_event(message):
    (name, content, mimetype) = message.attachments[0]
    assert (name, mimetype) == ("appointment.ics", "text/calendar; method=PUBLISH")
    calendar = icalendar.Calendar.from_ical(content)
    assert calendar["method"] == "PUBLISH"
    return next(iter(calendar.walk("VEVENT")))


def tomorrow_at(hour):
    local = timezone.localtime() + timedelta(days=1)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def test_booking_sends_a_confirmation_with_ics_once_committed(
    therapist, patient, follow_up, at, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(
            patient=patient, therapist=therapist, type=follow_up, start=at(9), by=FrontDeskFactory()
        )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["pat@example.test"]
    assert "Dana Physio" in message.body and "09:00" in message.body
    event = ics_event(message)
    assert event.decoded("dtstart") == appointment.start
    assert event.decoded("dtend") == appointment.end
    assert str(event["location"]).startswith("Main clinic")
    assert Reminder.objects.filter(appointment=appointment, kind=ReminderKind.BOOKING).count() == 1


def test_no_confirmation_without_an_email_address(
    therapist, follow_up, at, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        book(
            patient=PatientFactory(email=""),
            therapist=therapist,
            type=follow_up,
            start=at(9),
            by=FrontDeskFactory(),
        )
    assert mail.outbox == []


def send_reminders(capture, **options):
    """manage.py send_reminders; the reminders it queues are sent once it commits (the test settings run
    each task at once: TASKS_BACKEND=immediate)."""
    with capture(execute=True):
        call_command("send_reminders", **options)


def test_send_reminders_is_safe_to_run_twice(db, django_capture_on_commit_callbacks):
    due = AppointmentFactory(patient=PatientFactory(email="a@example.test"), start=tomorrow_at(10))
    AppointmentFactory(
        patient=PatientFactory(email="b@example.test"),
        start=tomorrow_at(11),
        status="cancelled",
        cancel_reason="x",
    )
    AppointmentFactory(
        patient=PatientFactory(email="c@example.test"), start=tomorrow_at(10) + timedelta(days=1)
    )
    AppointmentFactory(patient=PatientFactory(email=""), start=tomorrow_at(12))
    send_reminders(django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["a@example.test"]]
    assert ics_event(mail.outbox[0]).decoded("dtstart") == due.start
    send_reminders(django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    reminder = Reminder.objects.get()
    assert (reminder.appointment, reminder.kind, reminder.sent_to) == (
        due,
        ReminderKind.DAY_BEFORE,
        "a@example.test",
    )


def test_a_failed_send_is_retried_by_the_task_runner_not_queued_again(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    AppointmentFactory(patient=PatientFactory(email="a@example.test"), start=tomorrow_at(10))

    def broken(self, *args, **kwargs):
        raise OSError("mail server down")

    with monkeypatch.context() as patched:
        patched.setattr("django.core.mail.EmailMessage.send", broken)
        send_reminders(django_capture_on_commit_callbacks)
    reminder = Reminder.objects.get()
    email = OutboundEmail.objects.get(key=f"appointments.reminder:{reminder.pk}")
    assert (email.status, email.attempts, mail.outbox) == (EmailStatus.QUEUED, 1, [])
    assert "mail server down" in email.last_error
    send_reminders(django_capture_on_commit_callbacks)
    assert OutboundEmail.objects.count() == 1 and mail.outbox == []
    with time_machine.travel(email.next_attempt_at, tick=False):
        assert deliver(email.pk) == EmailStatus.SENT
    assert [m.to for m in mail.outbox] == [["a@example.test"]] and Reminder.objects.count() == 1


def test_send_reminders_for_a_given_day(db, django_capture_on_commit_callbacks):
    later = timezone.localdate() + timedelta(days=5)
    AppointmentFactory(
        patient=PatientFactory(email="d@example.test"), start=tomorrow_at(9) + timedelta(days=4)
    )
    send_reminders(django_capture_on_commit_callbacks, day=later.isoformat())
    assert [m.to for m in mail.outbox] == [["d@example.test"]]


def test_send_reminders_rejects_a_bad_day(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_reminders", day="tomorrow")
