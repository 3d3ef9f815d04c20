"""An appointment's place (location, room) and notes change through booking.change_place(), the admin's
change page its door (its time and people are read-only there: reschedule() moves those). The room is a
party of an exclusion constraint, so the change locks the parties and runs again after a deadlock like
book() and reschedule(); a room already taken is a message on the form, never a 500.
"""

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from appointments.models import Appointment, AppointmentStatusChange, Room, Status
from appointments.services import booking
from audit.models import Action, AuditEvent
from tests.appointments.test_change_emails import calendar_of
from tests.appointments.test_overlapping_writers import request_deadlock
from tests.factories import AdminFactory, AppointmentFactory, LocationFactory, PatientFactory

from .test_admin import admin_data, local


@pytest.fixture
def room(db):
    return Room.objects.create(location=LocationFactory(), name="Room 1")


def change(client, appointment, **fields):
    data = {
        "location": appointment.location_id,
        "room": appointment.room_id or "",
        "notes": appointment.notes,
        "status_changes-TOTAL_FORMS": "0",
        "status_changes-INITIAL_FORMS": "0",
        **fields,
    }
    return client.post(reverse("admin:appointments_appointment_change", args=[appointment.pk]), data)


def changes_audited():
    return list(AuditEvent.objects.filter(action=Action.UPDATE).values_list("detail", flat=True))


def test_the_admin_puts_an_appointment_in_a_room(client_for, administrator, room, at):
    appointment = AppointmentFactory(start=at(9), location=room.location)
    response = change(client_for(administrator), appointment, room=room.pk, notes="Interpreter booked")
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = Appointment.objects.get(pk=appointment.pk)
    assert (saved.room, saved.notes, saved.start, saved.status) == (
        room,
        "Interpreter booked",
        appointment.start,
        Status.BOOKED,
    )
    assert changes_audited() == ["changed in the admin: notes, room"]
    event = AuditEvent.objects.get(action=Action.UPDATE)
    assert (event.actor, event.patient_id) == (administrator, appointment.patient_id)
    # Not a step of its status or a move in time: the history stays as it was.
    assert not AppointmentStatusChange.objects.exists()


def test_the_admin_refuses_a_room_taken_at_that_time_with_the_message(client_for, administrator, room, at):
    AppointmentFactory(start=at(9), room=room, location=room.location)
    appointment = AppointmentFactory(start=at(9, 15), location=room.location)
    response = change(client_for(administrator), appointment, room=room.pk, notes="moved")
    assert response.status_code == 200
    page = response.content.decode()
    assert f"{room} is already booked from {local(at(9)):%H:%M} to {local(at(9, 30)):%H:%M}" in page
    saved = Appointment.objects.get(pk=appointment.pk)
    assert (saved.room, saved.notes) == (None, "")
    assert changes_audited() == []


def test_the_change_page_asks_for_a_location(client_for, administrator, at):
    appointment = AppointmentFactory(start=at(9))
    response = change(client_for(administrator), appointment, location="", notes="moved")
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    saved = Appointment.objects.get(pk=appointment.pk)
    assert (saved.location_id, saved.notes) == (appointment.location_id, "")
    assert changes_audited() == []


def test_another_location_is_e_mailed_to_the_patient_as_a_move(
    client_for, administrator, patient, at, django_capture_on_commit_callbacks
):
    appointment = AppointmentFactory(start=at(9), patient=patient)
    west = LocationFactory(name="West clinic", address="9 West Road")
    with django_capture_on_commit_callbacks(execute=True):
        response = change(client_for(administrator), appointment, location=west.pk)
    assert response.status_code == 302, response.content.decode()[:3000]
    (message,) = mail.outbox
    assert message.subject == "Your IMS appointment has moved"
    assert "moved from Main clinic to another place; the time stays" in message.body
    assert "West clinic" in message.body and "9 West Road" in message.body
    _, event = calendar_of(message)
    assert event.decoded("sequence") == 1 and "West clinic" in str(event["location"])
    assert event.decoded("dtstart") == at(9)
    assert Appointment.objects.get(pk=appointment.pk).sequence == 1


def test_a_room_or_notes_change_e_mails_nobody(
    client_for, administrator, patient, room, at, django_capture_on_commit_callbacks
):
    appointment = AppointmentFactory(start=at(9), patient=patient, location=room.location)
    with django_capture_on_commit_callbacks(execute=True):
        response = change(client_for(administrator), appointment, room=room.pk, notes="parking")
    assert response.status_code == 302, response.content.decode()[:3000]
    assert mail.outbox == []
    assert Appointment.objects.get(pk=appointment.pk).sequence == 0


def test_a_past_visit_moved_to_another_location_e_mails_nobody(
    client_for, administrator, patient, at, django_capture_on_commit_callbacks
):
    """A record corrected after the visit (completed): the patient has nothing to go to."""
    appointment = AppointmentFactory(start=at(9, day_offset=-14), patient=patient, status=Status.COMPLETED)
    west = LocationFactory(name="West clinic")
    with django_capture_on_commit_callbacks(execute=True):
        response = change(client_for(administrator), appointment, location=west.pk)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert mail.outbox == []
    assert Appointment.objects.get(pk=appointment.pk).location == west


def test_a_cancelled_appointment_leaves_its_room_free(client_for, administrator, room, at):
    AppointmentFactory(
        start=at(9), room=room, location=room.location, status=Status.CANCELLED, cancel_reason="ill"
    )
    appointment = AppointmentFactory(start=at(9), location=room.location)
    response = change(client_for(administrator), appointment, room=room.pk)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Appointment.objects.get(pk=appointment.pk).room == room


def test_a_room_taken_after_the_forms_checks_is_told_on_the_form(
    client_for, administrator, room, at, monkeypatch
):
    """The other booking commits between the form's check and the save: the exclusion constraint refuses
    the row, and the page shows the form again with "that time was just taken" (not a 500)."""
    AppointmentFactory(start=at(9), room=room, location=room.location)
    appointment = AppointmentFactory(start=at(9), location=room.location)
    monkeypatch.setattr(booking, "_room_clash_message", lambda *args, **kwargs: None)
    response = change(client_for(administrator), appointment, room=room.pk, notes="moved")
    assert response.status_code == 200
    assert booking.TAKEN in response.content.decode()
    saved = Appointment.objects.get(pk=appointment.pk)
    assert (saved.room, saved.notes) == (None, "")
    assert changes_audited() == []


def test_the_change_page_cannot_move_the_time_or_the_people(client_for, administrator, at):
    appointment = AppointmentFactory(start=at(9))
    other = PatientFactory()
    response = change(
        client_for(administrator),
        appointment,
        patient=other.pk,
        start_0=local(at(11)).strftime("%Y-%m-%d"),
        start_1="11:00",
        notes="parking",
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = Appointment.objects.get(pk=appointment.pk)
    assert (saved.patient_id, saved.start, saved.notes) == (appointment.patient_id, at(9), "parking")


@pytest.mark.django_db(transaction=True)
def test_a_room_change_failed_by_a_deadlock_saves_once_when_run_again(room, at, client, monkeypatch):
    """A real deadlock (row locks taken in opposite orders, test_overlapping_writers.Deadlock) inside the
    admin's save: PostgreSQL fails the first run, which goes back to its savepoint inside the admin's own
    transaction, and the run again saves the room once, with one audit event."""
    connection.ensure_connection()
    appointment = AppointmentFactory(start=at(9), location=room.location)
    administrator = AdminFactory()
    client.force_login(administrator)
    deadlock = request_deadlock((PatientFactory(), PatientFactory()), monkeypatch)
    other = deadlock.start()
    response = change(client, appointment, room=room.pk)
    other.join()
    assert response.status_code == 302, response.content.decode()[:3000]
    assert deadlock.errors == [] and deadlock.runs == 2  # failed once, by PostgreSQL, then run again
    assert Appointment.objects.get(pk=appointment.pk).room == room
    assert changes_audited() == ["changed in the admin: room"]
    assert not AppointmentStatusChange.objects.exists()


# --- the add page books through book() ----------------------------------------------------------------
def test_the_add_page_books_through_the_service(
    client_for, administrator, therapist, follow_up, at, monkeypatch
):
    calls = []
    real_book = booking.book

    def book(**kwargs):
        calls.append(kwargs["start"])
        return real_book(**kwargs)

    monkeypatch.setattr(booking, "book", book)
    response = client_for(administrator).post(
        reverse("admin:appointments_appointment_add"),
        admin_data(PatientFactory(), therapist, follow_up, local(at(9)), local(at(9, 30))),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    appointment = Appointment.objects.get()
    assert calls == [appointment.start]
    assert AppointmentStatusChange.objects.filter(appointment=appointment, note="booked").count() == 1
    assert AuditEvent.objects.filter(action=Action.BOOK, object_id=str(appointment.pk)).count() == 1


def test_a_time_taken_after_the_add_forms_checks_is_told_on_the_form(
    client_for, administrator, therapist, follow_up, at, monkeypatch
):
    """book() meets the exclusion constraint's refusal (its checks and the form's passed before the other
    booking committed): the add page shows "that time was just taken" and saves nothing."""
    taken = AppointmentFactory(therapist=therapist, start=at(9))
    monkeypatch.setattr(booking, "_clash_message", lambda *args, **kwargs: None)
    monkeypatch.setattr(Appointment, "validate_constraints", lambda self, exclude=None: None)
    response = client_for(administrator).post(
        reverse("admin:appointments_appointment_add"),
        admin_data(PatientFactory(), therapist, follow_up, local(at(9, 15)), local(at(9, 45))),
    )
    assert response.status_code == 200
    assert booking.TAKEN in response.content.decode()
    assert list(Appointment.objects.values_list("pk", flat=True)) == [taken.pk]
    assert not AuditEvent.objects.filter(action=Action.BOOK).exists()


# --- the service, the door every writer of the place goes through -------------------------------------
def test_the_service_refuses_a_room_taken_at_that_time(room, at):
    AppointmentFactory(start=at(9), room=room, location=room.location)
    appointment = AppointmentFactory(start=at(9, 15), location=room.location)
    with pytest.raises(booking.BookingError, match="is already booked") as refused:
        booking.change_place(
            appointment, location=appointment.location, room=room, notes="", by=AdminFactory()
        )
    assert refused.value.code == "overlap"
    assert Appointment.objects.get(pk=appointment.pk).room is None


def test_the_service_tells_a_room_taken_meanwhile_as_taken(room, at, monkeypatch):
    AppointmentFactory(start=at(9), room=room, location=room.location)
    appointment = AppointmentFactory(start=at(9, 15), location=room.location)
    monkeypatch.setattr(booking, "_room_clash_message", lambda *args, **kwargs: None)
    with pytest.raises(booking.BookingError, match="just taken") as refused:
        booking.change_place(
            appointment, location=appointment.location, room=room, notes="", by=AdminFactory()
        )
    assert refused.value.code == "taken"
    assert Appointment.objects.get(pk=appointment.pk).room is None
    assert changes_audited() == []


def test_the_service_audits_nothing_when_nothing_changed(db, at):
    appointment = AppointmentFactory(start=at(9), notes="parking")
    booking.change_place(
        appointment, location=appointment.location, room=None, notes="parking", by=AdminFactory()
    )
    assert changes_audited() == []


def test_back_to_back_appointments_share_a_room(room, at):
    AppointmentFactory(start=at(9), room=room, location=room.location)  # 30 minutes: until at(9, 30)
    appointment = AppointmentFactory(start=at(9, 30), location=room.location)
    booking.change_place(
        appointment, location=appointment.location, room=room, notes="", by=AdminFactory(), how="at the desk"
    )
    assert Appointment.objects.get(pk=appointment.pk).room == room
    assert changes_audited() == ["changed at the desk: room"]


# --- a room is at its location: every door --------------------------------------------------------------
@pytest.fixture
def west_room(db):
    return Room.objects.create(location=LocationFactory(name="West clinic"), name="Room 9")


def test_the_service_refuses_a_room_at_another_location(west_room, at):
    appointment = AppointmentFactory(start=at(9))
    with pytest.raises(booking.BookingError, match="Room 9 is a room at West clinic, not at") as refused:
        booking.change_place(
            appointment, location=appointment.location, room=west_room, notes="moved", by=AdminFactory()
        )
    assert refused.value.code == "room_location"
    saved = Appointment.objects.get(pk=appointment.pk)
    assert (saved.room, saved.notes) == (None, "")
    assert changes_audited() == []


def test_the_change_page_refuses_a_room_at_another_location_with_the_message(
    client_for, administrator, west_room, at
):
    appointment = AppointmentFactory(start=at(9))
    response = change(client_for(administrator), appointment, room=west_room.pk, notes="moved")
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Room 9 is a room at West clinic, not at {appointment.location}" in page
    saved = Appointment.objects.get(pk=appointment.pk)
    assert (saved.room, saved.notes, saved.location) == (None, "", appointment.location)
    assert changes_audited() == []


def test_the_change_page_moves_to_another_location_with_a_room_there(
    client_for, administrator, west_room, at
):
    appointment = AppointmentFactory(start=at(9))
    response = change(
        client_for(administrator), appointment, location=west_room.location_id, room=west_room.pk
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = Appointment.objects.get(pk=appointment.pk)
    assert (saved.location, saved.room) == (west_room.location, west_room)
    assert changes_audited() == ["changed in the admin: location, room"]


def test_book_refuses_a_room_at_another_location(patient, therapist, follow_up, west_room, at):
    main = LocationFactory(name="Main street")
    with pytest.raises(booking.BookingError, match="not at Main street") as refused:
        booking.book(
            patient=patient,
            therapist=therapist,
            type=follow_up,
            start=at(9),
            location=main,
            room=west_room,
            by=AdminFactory(),
        )
    assert refused.value.code == "room_location"
    assert not Appointment.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.BOOK).exists()


def test_book_with_a_room_and_no_location_books_it_where_the_room_is(
    patient, therapist, follow_up, west_room, at
):
    booked = booking.book(
        patient=patient, therapist=therapist, type=follow_up, start=at(9), room=west_room, by=AdminFactory()
    )
    assert (booked.location, booked.room) == (west_room.location, west_room)


def test_the_add_page_refuses_a_room_at_another_location_with_the_message(
    client_for, administrator, therapist, follow_up, west_room, at
):
    main = LocationFactory(name="Main street")
    response = client_for(administrator).post(
        reverse("admin:appointments_appointment_add"),
        admin_data(
            PatientFactory(),
            therapist,
            follow_up,
            local(at(9)),
            local(at(9, 30)),
            location=main.pk,
            room=west_room.pk,
        ),
    )
    assert response.status_code == 200
    assert "Room 9 is a room at West clinic, not at Main street" in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_reschedule_to_another_location_leaves_the_room_behind(room, west_room, at):
    appointment = AppointmentFactory(start=at(9), room=room, location=room.location)
    moved = booking.reschedule(
        appointment, start=at(11), location=west_room.location, by=AdminFactory(), confirm_outside_hours=True
    )
    assert (moved.location, moved.room, moved.start) == (west_room.location, None, at(11))
    # Where it stays, its room stays.
    again = booking.reschedule(moved, start=at(13), by=AdminFactory(), confirm_outside_hours=True)
    assert (again.location, again.room) == (west_room.location, None)
    kept = AppointmentFactory(start=at(9), room=room, location=room.location)
    assert booking.reschedule(kept, start=at(15), by=AdminFactory(), confirm_outside_hours=True).room == room
