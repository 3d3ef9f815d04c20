"""The patient's link to their appointment (issue 15): the booking e-mails carry it; it opens a public page
(no login) showing when and where, nothing clinical; until ONLINE_CHANGE_CUTOFF_HOURS before the start the
patient cancels or moves the appointment there, through the desk's own services (history, audit, e-mails,
constraints); past the cut-off, or once the appointment is over, the page says to call; a link that is not
ours answers one plain 404 page, never a 500."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatusChange, Reminder, ReminderKind, Status
from appointments.services import online_links
from appointments.services.booking import BookingError, book
from appointments.services.status_changes import complete, mark_in_treatment
from audit.models import Action, AuditEvent
from clinic.patient_links import LinkExpired, LinkRefused, make_token, read_token
from outbox.models import OutboundEmail
from tests.factories import FrontDeskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db):
    return FrontDeskFactory()


@pytest.fixture
def booked(therapist, patient, follow_up, at, desk, django_capture_on_commit_callbacks, settings):
    """Monday in two weeks at 09:00 (always past the cut-off), booked at the desk; its confirmation sent."""
    settings.CLINIC_PHONE = "604-555-0100"
    settings.ONLINE_CHANGE_CUTOFF_HOURS = 24
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(
            patient=patient, therapist=therapist, type=follow_up, start=at(9, day_offset=7), by=desk,
            notes="Left upper trapezius, 3 points, twitch",
        )  # fmt: skip
    assert len(mail.outbox) == 1
    return appointment


def link_in(message):
    return re.search(r"https?://\S+(/p/appointment/\S+/)", message.body).group(1)


def assert_refused(response):
    assert response.status_code == 404
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "This link does not open" in page and "Please call the clinic" in page
    assert "Dana Physio" not in page and "IMS follow-up" not in page


# --- the link in the e-mails -----------------------------------------------------------------------
def test_the_desks_booking_confirmation_carries_the_link_and_the_ics(booked, client, settings):
    (message,) = mail.outbox
    path = link_in(message)
    assert message.body.count(settings.CLINIC_URL + path) == 1
    assert "up to 24 hours before it starts" in message.body
    assert message.attachments[0][0] == "appointment.ics"
    # No clinical detail by e-mail: not the desk's notes.
    assert "trapezius" not in message.body
    assert client.get(path).status_code == 200


def test_send_booking_confirmation_queues_one_email_however_often_it_is_called(
    booked, django_capture_on_commit_callbacks
):
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            assert online_links.send_booking_confirmation(booked) is False
    assert Reminder.objects.filter(appointment=booked, kind=ReminderKind.BOOKING).count() == 1
    assert OutboundEmail.objects.filter(patient_id=booked.patient_id).count() == 1
    assert len(mail.outbox) == 1


def test_an_email_sent_past_the_cut_off_carries_no_link(booked, django_capture_on_commit_callbacks):
    from appointments.reminders import send_day_before_reminders

    with (
        time_machine.travel(booked.start - timedelta(hours=20), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        send_day_before_reminders(day=timezone.localtime(booked.start).date())
    reminder = mail.outbox[-1]
    assert "tomorrow" in reminder.subject
    assert "/p/appointment/" not in reminder.body


# --- the page --------------------------------------------------------------------------------------
def test_the_page_shows_when_where_and_with_whom_and_nothing_clinical(booked, client):
    response = client.get(online_links.manage_path(booked))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    for shown in ("Dana Physio", "IMS follow-up", "Main clinic", "09:00 to 09:30", "Cancel my appointment"):
        assert shown in page
    assert "trapezius" not in page and "Côté" not in page
    event = AuditEvent.objects.get(action=Action.VIEW, object_id=str(booked.pk))
    assert event.actor is None and event.patient_id == booked.patient_id


def test_the_page_queries_a_constant_number_of_times(
    booked, client, therapist, patient, follow_up, at, desk, django_assert_max_num_queries
):
    path = online_links.manage_path(booked)
    with django_assert_max_num_queries(12) as before:
        client.get(path)
    for day in range(1, 4):
        for hour in (10, 11, 13):
            book(
                patient=patient, therapist=therapist, type=follow_up, start=at(hour, day_offset=day), by=desk
            )
    with django_assert_max_num_queries(len(before.captured_queries)):
        assert client.get(path + "?with=anyone").status_code == 200


# --- links that are not ours --------------------------------------------------------------------------
def test_a_tampered_or_foreign_link_answers_a_plain_404(booked, client):
    token = make_token(online_links.LINK_PURPOSE, booked.pk)
    other_id = token.replace(f"{booked.pk}:", f"{booked.pk + 1}:", 1)
    for bad in [
        token[:-2],
        token + "x",
        other_id,
        "sample",
        "1",
        "%00",
        "x" * 500,
        make_token("aftercare", booked.pk),
    ]:
        assert_refused(client.get(reverse("appointment-link:manage", args=[bad])))
        assert_refused(client.post(reverse("appointment-link:manage", args=[bad]), {"action": "cancel"}))
    assert not AuditEvent.objects.filter(action=Action.VIEW).exists()
    assert Appointment.objects.get(pk=booked.pk).status == Status.BOOKED


def test_a_link_to_an_appointment_that_is_gone_is_refused(client):
    with pytest.raises(LinkRefused):
        online_links.appointment_from_token(make_token(online_links.LINK_PURPOSE, 999999))
    assert_refused(client.get(reverse("appointment-link:manage", args=[make_token("appointment", 999999)])))


@pytest.mark.clock
def test_the_link_expires_after_patient_link_days(booked, client, settings):
    settings.PATIENT_LINK_DAYS = 3
    made = booked.start - timedelta(days=6)
    with time_machine.travel(made, tick=False):
        path = online_links.manage_path(booked)
    with time_machine.travel(made + timedelta(days=3) - timedelta(minutes=1), tick=False):
        assert client.get(path).status_code == 200
    with time_machine.travel(made + timedelta(days=3, minutes=1), tick=False):
        assert_refused(client.get(path))
        with pytest.raises(LinkExpired):
            read_token(online_links.LINK_PURPOSE, path.split("/")[3])


# --- cancelling -------------------------------------------------------------------------------------
def test_the_patient_cancels_through_the_link_with_history_audit_and_email(
    booked, client, django_capture_on_commit_callbacks
):
    path = online_links.manage_path(booked)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, {"action": "cancel", "reason": "  Away   that week "})
    assert response.status_code == 200
    assert "Your appointment is cancelled" in response.content.decode()
    booked.refresh_from_db()
    assert booked.status == Status.CANCELLED
    step = booked.status_changes.last()
    assert step.to_status == Status.CANCELLED and step.by is None
    assert step.note == "cancelled by the patient through the link in their e-mail: Away that week"
    event = AuditEvent.objects.get(action=Action.CANCEL, object_id=str(booked.pk))
    assert event.actor is None and "by the patient through the link" in event.detail
    assert mail.outbox[-1].subject == "Your IMS appointment has been cancelled"
    assert "Away that week" not in mail.outbox[-1].body


def test_the_desk_sees_in_the_history_that_the_patient_cancelled(booked, client, client_for):
    client.post(online_links.manage_path(booked), {"action": "cancel"})
    page = client_for("front_desk").get(reverse("appointments:detail", args=[booked.pk])).content.decode()
    assert "the patient · Booked → Cancelled (cancelled by the patient through the link" in " ".join(
        page.split()
    )


def test_the_cancellation_reason_is_optional(booked, client):
    client.post(online_links.manage_path(booked), {"action": "cancel", "reason": ""})
    booked.refresh_from_db()
    assert booked.status == Status.CANCELLED
    assert booked.cancel_reason == "cancelled by the patient through the link in their e-mail"


@pytest.mark.parametrize(
    "data,error",
    [
        ({"action": "cancel", "reason": "x" * 201}, "Keep the reason under 200 characters."),
        ({"action": "cancel", "reason": "ok", "website": "http://spam"}, "Something went wrong"),
        ({"action": "delete"}, "Choose to cancel or to move"),
        ({}, "Choose to cancel or to move"),
        ({"action": "reschedule", "slot": "1|2020-01-01T09:00:00+00:00"}, "That time is no longer free"),
        ({"action": "reschedule", "slot": "\x00"}, ""),
        ({"action": "reschedule"}, "Choose one of the times shown."),
    ],
)
def test_bad_input_changes_nothing_and_says_why(booked, client, data, error):
    response = client.post(online_links.manage_path(booked), data)
    assert response.status_code == 400
    assert error in response.content.decode()
    booked_now = Appointment.objects.get(pk=booked.pk)
    assert (booked_now.status, booked_now.start) == (Status.BOOKED, booked.start)
    assert booked.status_changes.count() == 1


@pytest.mark.clock
def test_the_cut_off_closes_the_page_to_changes(booked, client, settings):
    settings.ONLINE_CHANGE_CUTOFF_HOURS = 48
    path = online_links.manage_path(booked)
    with time_machine.travel(booked.start - timedelta(hours=48, minutes=1), tick=False):
        assert "Cancel my appointment" in client.get(path).content.decode()
    with time_machine.travel(booked.start - timedelta(hours=47, minutes=59), tick=False):
        page = client.get(path).content.decode()
        assert "Cancel my appointment" not in page
        assert "up to 48 hours before they start" in page and "604-555-0100" in page
        response = client.post(path, {"action": "cancel"})
        assert response.status_code == 409
        with pytest.raises(BookingError) as refused:
            online_links.cancel_by_patient(booked)
        assert refused.value.code == "too_late"
    assert Appointment.objects.get(pk=booked.pk).status == Status.BOOKED


def test_a_cancelled_or_completed_appointment_says_to_call(booked, client, desk):
    from appointments.services.status_changes import cancel

    cancel(booked, by=desk, reason="clinic closed")
    page = client.get(online_links.manage_path(booked)).content.decode()
    assert "This appointment is cancelled" in page and "Please call the clinic" in page
    assert "Move my appointment" not in page and "clinic closed" not in page
    assert client.post(online_links.manage_path(booked), {"action": "cancel"}).status_code == 409


@pytest.mark.clock
def test_a_completed_appointment_cannot_be_changed(booked, desk):
    with time_machine.travel(booked.start + timedelta(minutes=5), tick=False):
        complete(mark_in_treatment(booked, by=booked.therapist), by=booked.therapist)
    with pytest.raises(BookingError) as refused:
        online_links.cancel_by_patient(booked)
    assert refused.value.code == "status"
    assert "completed" in refused.value.messages[0]


# --- moving -----------------------------------------------------------------------------------------
def test_the_patient_moves_it_to_a_free_time_through_the_link(
    booked, client, django_capture_on_commit_callbacks
):
    path = online_links.manage_path(booked)
    slots = online_links.slots_for_patient(booked)
    assert slots and all(s.therapist == booked.therapist for s in slots)
    chosen = slots[-1]
    assert online_links.slot_key(chosen) in client.get(path).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, {"action": "reschedule", "slot": online_links.slot_key(chosen)})
    assert response.status_code == 200
    assert "Your appointment has moved" in response.content.decode()
    booked.refresh_from_db()
    assert (booked.start, booked.status, booked.sequence) == (chosen.start, Status.BOOKED, 1)
    step = booked.status_changes.last()
    assert step.is_reschedule and step.by is None
    assert step.note.endswith(", by the patient through the link in their e-mail")
    assert AuditEvent.objects.filter(action=Action.RESCHEDULE, object_id=str(booked.pk), actor=None).exists()
    assert mail.outbox[-1].subject == "Your IMS appointment has moved"
    # The moved notice carries the link again, to the same appointment.
    assert read_token("appointment", link_in(mail.outbox[-1]).split("/")[3]) == booked.pk


def test_the_free_times_start_after_the_cut_off_and_follow_the_desks_rules(booked, settings):
    slots = online_links.slots_for_patient(booked, anyone=True)
    assert slots
    assert all(s.start >= timezone.now() + timedelta(hours=24) for s in slots)
    assert all(timezone.localtime(s.start).weekday() < 5 for s in slots)  # Dana works Monday to Friday


def test_a_time_taken_meanwhile_is_refused_clearly(booked, client, patient, follow_up, desk):
    from tests.factories import PatientFactory

    path = online_links.manage_path(booked)
    chosen = online_links.slots_for_patient(booked)[0]
    book(patient=PatientFactory(), therapist=chosen.therapist, type=follow_up, start=chosen.start, by=desk)
    response = client.post(path, {"action": "reschedule", "slot": online_links.slot_key(chosen)})
    assert response.status_code == 400
    assert "That time is no longer free" in response.content.decode()
    assert Appointment.objects.get(pk=booked.pk).start == booked.start
    assert not AppointmentStatusChange.objects.filter(
        appointment=booked, note__contains="rescheduled"
    ).exists()
