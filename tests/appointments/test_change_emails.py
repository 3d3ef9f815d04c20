"""A reschedule e-mails the moved event (METHOD:REQUEST), a cancellation a CANCEL of it, both with the
booking's UID and a higher SEQUENCE, after the commit; a no-show sends nothing; the mail server being
down never undoes the change; a day-before reminder for the old time does not block the new time's."""

import logging
from datetime import timedelta

import icalendar
import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from appointments.models import Appointment, Reminder, ReminderKind, Status
from appointments.reminders import send_cancellation, send_moved_notice
from appointments.services.booking import BookingError, book, reschedule
from appointments.services.status_changes import cancel, mark_no_show
from audit.models import Action, AuditEvent
from outbox.models import EmailStatus, OutboundEmail
from tests.factories import AppointmentFactory, FrontDeskFactory, PatientFactory
from tests.markup import without_links


def calendar_of(message):
    """(calendar, event) of the message's .ics, checking the MIME type names the same METHOD."""
    (name, content, mimetype) = message.attachments[0]
    calendar = icalendar.Calendar.from_ical(content)
    assert (name, mimetype) == ("appointment.ics", f"text/calendar; method={calendar['method']}")
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def tomorrow_at(hour):
    local = timezone.localtime() + timedelta(days=1)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def sends(appointment):
    """The audit SEND events about the appointment's e-mails, oldest first."""
    ids = [str(pk) for pk in appointment.reminders.values_list("pk", flat=True)]
    return list(
        AuditEvent.objects.filter(
            action=Action.SEND, object_type="appointments.reminder", object_id__in=ids
        ).order_by("id")
    )


@pytest.fixture
def desk(db):
    return FrontDeskFactory()


@pytest.fixture
def booked(therapist, patient, follow_up, at, desk, django_capture_on_commit_callbacks):
    """Next Monday 09:00, booked through the service, its confirmation e-mail sent."""
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=desk)
    assert len(mail.outbox) == 1
    return appointment


@pytest.fixture
def broken_mail_server(monkeypatch):
    def broken(self, *args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", broken)


# --- reschedule ------------------------------------------------------------------------------------
def test_a_reschedule_emails_the_moved_event_with_the_same_uid_and_a_higher_sequence(
    booked, at, desk, django_capture_on_commit_callbacks
):
    _, booking_event = calendar_of(mail.outbox[0])
    with django_capture_on_commit_callbacks(execute=True):
        reschedule(booked, start=at(14), by=desk)
    assert len(mail.outbox) == 2
    message = mail.outbox[1]
    assert message.subject == "Your IMS appointment has moved"
    assert message.to == ["pat@example.test"]
    assert "14:00 to 14:30" in message.body and "at 09:00" in message.body
    calendar, event = calendar_of(message)
    assert calendar["method"] == "REQUEST"
    assert str(event["uid"]) == str(booking_event["uid"]) == f"appointment-{booked.pk}@ims-clinic"
    assert booking_event.decoded("sequence") == 0
    assert event.decoded("sequence") == 1
    assert event.decoded("dtstart") == at(14)
    assert event.decoded("dtend") == at(14, 30)
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["attendee"]) == "mailto:pat@example.test"
    reminder = Reminder.objects.get(appointment=booked, kind=ReminderKind.RESCHEDULED)
    assert (reminder.sent_to, reminder.appointment_start, reminder.sequence) == (
        "pat@example.test",
        at(14),
        1,
    )
    assert [e.detail for e in sends(booked)] == [
        f"booking e-mail for appointment {booked.pk}",
        f"rescheduled e-mail for appointment {booked.pk}",
    ]


def test_each_reschedule_raises_the_sequence_again(booked, at, desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reschedule(booked, start=at(14), by=desk)
    with django_capture_on_commit_callbacks(execute=True):
        reschedule(booked, start=at(10, day_offset=1), by=desk)
    events = [calendar_of(m)[1] for m in mail.outbox]
    assert [e.decoded("sequence") for e in events] == [0, 1, 2]
    assert len({str(e["uid"]) for e in events}) == 1
    assert events[2].decoded("dtstart") == at(10, day_offset=1)
    assert "moved from Monday" in mail.outbox[2].body and "at 14:00" in mail.outbox[2].body
    booked.refresh_from_db()
    assert booked.sequence == 2
    assert Reminder.objects.filter(appointment=booked, kind=ReminderKind.RESCHEDULED).count() == 2


def test_the_moved_e_mail_waits_for_the_commit(booked, at, desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        reschedule(booked, start=at(14), by=desk)
    # Two wait for the commit: the moved e-mail, then the waitlist's offer of the old time.
    assert len(mail.outbox) == 1 and len(callbacks) == 2
    with django_capture_on_commit_callbacks(execute=True):  # its own commit hands it to the task runner
        callbacks[0]()
    assert len(mail.outbox) == 2


def test_a_reschedule_rolled_back_sends_nothing(booked, at, desk, django_capture_on_commit_callbacks):
    Appointment.objects.filter(pk=booked.pk).update(status=Status.CANCELLED, cancel_reason="phoned")
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(BookingError, match="changed meanwhile"),
    ):
        reschedule(booked, start=at(14), by=desk)  # the object in hand still says booked
    assert callbacks == [] and len(mail.outbox) == 1
    assert Appointment.objects.get(pk=booked.pk).sequence == 0


def test_a_refused_reschedule_sends_nothing(booked, therapist, at, desk, django_capture_on_commit_callbacks):
    AppointmentFactory(therapist=therapist, start=at(14))
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(BookingError, match="already has an appointment"),
    ):
        reschedule(booked, start=at(14), by=desk)
    assert callbacks == [] and len(mail.outbox) == 1


def test_a_moved_e_mail_goes_once_per_sequence(booked, at, desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reschedule(booked, start=at(14), by=desk)
    assert send_moved_notice(booked.pk) is False
    assert len(mail.outbox) == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(
            appointment=booked,
            kind=ReminderKind.RESCHEDULED,
            sent_to="x@example.test",
            appointment_start=at(14),
            sequence=1,
        )


def test_no_moved_e_mail_for_an_appointment_cancelled_meanwhile(booked):
    Appointment.objects.filter(pk=booked.pk).update(status=Status.CANCELLED, cancel_reason="phoned")
    assert send_moved_notice(booked.pk) is False
    assert len(mail.outbox) == 1


# --- cancellation and no-show ----------------------------------------------------------------------
def test_a_cancellation_emails_a_calendar_cancel_of_the_same_event(
    booked, at, desk, django_capture_on_commit_callbacks
):
    _, booking_event = calendar_of(mail.outbox[0])
    with django_capture_on_commit_callbacks(execute=True):
        cancel(booked, by=desk, reason="Physio off sick (flu)")
    assert len(mail.outbox) == 2
    message = mail.outbox[1]
    assert message.subject == "Your IMS appointment has been cancelled"
    assert message.to == ["pat@example.test"]
    assert "09:00 to 09:30" in message.body
    assert "flu" not in without_links(message.body)  # the reason stays in the clinic
    calendar, event = calendar_of(message)
    assert calendar["method"] == "CANCEL"
    assert str(event["status"]) == "CANCELLED"
    assert str(event["uid"]) == str(booking_event["uid"])
    assert event.decoded("sequence") == 1
    assert event.decoded("dtstart") == at(9)
    reminder = Reminder.objects.get(appointment=booked, kind=ReminderKind.CANCELLED)
    assert (reminder.appointment_start, reminder.sequence) == (at(9), 1)
    assert sends(booked)[-1].detail == f"cancelled e-mail for appointment {booked.pk}"
    assert send_cancellation(booked.pk) is False  # never twice
    assert len(mail.outbox) == 2


def test_a_cancellation_after_a_reschedule_carries_the_highest_sequence(
    booked, at, desk, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reschedule(booked, start=at(14), by=desk)
    with django_capture_on_commit_callbacks(execute=True):
        cancel(booked, by=desk, reason="phoned")
    calendar, event = calendar_of(mail.outbox[-1])
    assert (calendar["method"], event.decoded("sequence"), event.decoded("dtstart")) == ("CANCEL", 2, at(14))


def test_a_refused_cancellation_sends_nothing(desk, django_capture_on_commit_callbacks):
    appointment = AppointmentFactory(patient=PatientFactory(email="a@example.test"), status=Status.COMPLETED)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(BookingError):
        cancel(appointment, by=desk, reason="phoned")
    assert callbacks == [] and mail.outbox == []


def test_a_no_show_sends_nothing(desk, django_capture_on_commit_callbacks):
    appointment = AppointmentFactory(
        patient=PatientFactory(email="a@example.test"), start=timezone.now() - timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        mark_no_show(appointment, by=desk)
    assert mail.outbox == [] and not Reminder.objects.exists()
    assert send_cancellation(appointment.pk) is False
    assert mail.outbox == []


def test_nothing_is_sent_to_a_patient_without_an_e_mail_address(
    therapist, follow_up, at, desk, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(
            patient=PatientFactory(email=""), therapist=therapist, type=follow_up, start=at(9), by=desk
        )
        reschedule(appointment, start=at(14), by=desk)
        cancel(appointment, by=desk, reason="phoned")
    assert mail.outbox == [] and not Reminder.objects.exists()
    assert Appointment.objects.get(pk=appointment.pk).sequence == 2


# --- the mail server down ----------------------------------------------------------------------------
def assert_waiting_for_a_retry(kind):
    reminder = Reminder.objects.get(kind=kind)
    email = OutboundEmail.objects.get(key=f"appointments.reminder:{reminder.pk}")
    assert (email.status, email.attempts) == (EmailStatus.QUEUED, 1)
    assert "mail server down" in email.last_error


def test_a_mail_server_down_does_not_undo_a_reschedule(
    booked, at, desk, broken_mail_server, caplog, django_capture_on_commit_callbacks
):
    with (
        caplog.at_level(logging.WARNING, logger="outbox.services"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        moved = reschedule(booked, start=at(14), by=desk)
    assert moved.start == at(14)
    stored = Appointment.objects.get(pk=booked.pk)
    assert (stored.start, stored.sequence) == (at(14), 1)
    # The e-mail waits in the outbox for its next attempt (tests/outbox/test_worker.py retries it).
    assert_waiting_for_a_retry(ReminderKind.RESCHEDULED)
    assert len(mail.outbox) == 1  # the booking's only
    assert "mail server down" in caplog.text


def test_a_mail_server_down_does_not_undo_a_cancellation(
    booked, desk, broken_mail_server, caplog, django_capture_on_commit_callbacks
):
    with (
        caplog.at_level(logging.WARNING, logger="outbox.services"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        cancel(booked, by=desk, reason="phoned")
    assert Appointment.objects.get(pk=booked.pk).status == Status.CANCELLED
    assert_waiting_for_a_retry(ReminderKind.CANCELLED)
    assert "mail server down" in caplog.text


# --- the day-before reminder -------------------------------------------------------------------------
def test_a_reminder_for_the_old_time_does_not_block_the_new_times(desk, django_capture_on_commit_callbacks):
    appointment = AppointmentFactory(patient=PatientFactory(email="a@example.test"), start=tomorrow_at(10))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders")
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        reschedule(appointment, start=tomorrow_at(15), by=desk, confirm_outside_hours=True)
    assert mail.outbox[1].subject == "Your IMS appointment has moved"

    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders")
    assert len(mail.outbox) == 3
    reminder = mail.outbox[2]
    assert reminder.subject == "Reminder: your appointment tomorrow at 15:00"
    calendar, event = calendar_of(reminder)
    # The reminder's event is the current one: a calendar app must not take it for an older version.
    assert (event.decoded("dtstart"), event.decoded("sequence")) == (tomorrow_at(15), 1)
    assert str(event["uid"]) == f"appointment-{appointment.pk}@ims-clinic"
    assert sorted(
        Reminder.objects.filter(kind=ReminderKind.DAY_BEFORE).values_list("appointment_start", flat=True)
    ) == [tomorrow_at(10), tomorrow_at(15)]

    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_reminders")
    assert len(mail.outbox) == 3
    assert Reminder.objects.filter(kind=ReminderKind.DAY_BEFORE).count() == 2


def test_the_database_refuses_a_second_reminder_for_one_time(db):
    appointment = AppointmentFactory(patient=PatientFactory(email="a@example.test"))
    fields = {
        "appointment": appointment,
        "kind": ReminderKind.DAY_BEFORE,
        "sent_to": "a@example.test",
        "appointment_start": appointment.start,
    }
    Reminder.objects.create(**fields)
    Reminder.objects.create(**{**fields, "appointment_start": appointment.start + timedelta(hours=2)})
    with pytest.raises(IntegrityError), transaction.atomic():
        Reminder.objects.create(**fields)


# --- through the appointment page ----------------------------------------------------------------------
@pytest.fixture
def desk_client(client_for):
    return client_for(Role.FRONT_DESK)


def test_rescheduling_on_the_page_emails_the_moved_event(
    desk_client, booked, therapist, at, monday, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = desk_client.post(
            reverse("appointments:reschedule", args=[booked.pk]),
            {"therapist": therapist.pk, "date": monday.isoformat(), "time": "13:00"},
        )
    assert response.status_code == 302
    assert [m.subject for m in mail.outbox][1:] == ["Your IMS appointment has moved"]
    calendar, event = calendar_of(mail.outbox[1])
    assert calendar["method"] == "REQUEST"
    assert str(event["uid"]) == f"appointment-{booked.pk}@ims-clinic"
    assert (event.decoded("sequence"), event.decoded("dtstart")) == (1, at(13))
    event = sends(booked)[-1]
    assert event.detail == f"rescheduled e-mail for appointment {booked.pk}"


def test_cancelling_on_the_page_emails_a_calendar_cancel(
    desk_client, booked, at, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = desk_client.post(
            reverse("appointments:cancel", args=[booked.pk]), {"reason": "Clinic closed (snow)"}
        )
    assert response.status_code == 302
    calendar, event = calendar_of(mail.outbox[1])
    assert (calendar["method"], str(event["status"])) == ("CANCEL", "CANCELLED")
    assert str(event["uid"]) == f"appointment-{booked.pk}@ims-clinic"
    assert (event.decoded("sequence"), event.decoded("dtstart")) == (1, at(9))


def test_a_refused_cancellation_on_the_page_sends_nothing(
    desk_client, booked, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        desk_client.post(reverse("appointments:cancel", args=[booked.pk]), {"reason": ""})
    assert len(mail.outbox) == 1
    assert Appointment.objects.get(pk=booked.pk).status == Status.BOOKED


def test_a_no_show_on_the_page_sends_nothing(desk_client, django_capture_on_commit_callbacks):
    appointment = AppointmentFactory(
        patient=PatientFactory(email="a@example.test"), start=timezone.now() - timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        desk_client.post(reverse("appointments:no_show", args=[appointment.pk]))
    assert Appointment.objects.get(pk=appointment.pk).status == Status.NO_SHOW
    assert mail.outbox == []


def test_rescheduling_on_the_page_with_the_mail_server_down_still_moves_it(
    desk_client, booked, therapist, at, monday, broken_mail_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = desk_client.post(
            reverse("appointments:reschedule", args=[booked.pk]),
            {"therapist": therapist.pk, "date": monday.isoformat(), "time": "13:00"},
            follow=True,
        )
    assert response.status_code == 200
    assert f"Rescheduled to {at(13):%a %d %b at 13:00}." in response.content.decode()
    assert Appointment.objects.get(pk=booked.pk).start == at(13)
    assert len(mail.outbox) == 1


def test_cancelling_on_the_page_with_the_mail_server_down_still_cancels(
    desk_client, booked, broken_mail_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = desk_client.post(
            reverse("appointments:cancel", args=[booked.pk]), {"reason": "phoned"}, follow=True
        )
    assert "Cancelled: the time is free again." in response.content.decode()
    assert Appointment.objects.get(pk=booked.pk).status == Status.CANCELLED
