"""Rule 3 of DESIGN.md: no overlapping appointments for a therapist or a patient; the database refuses it.
Every door: book() (the rules every door, form, admin and import, goes through), the ORM skipping its
checks, raw deletes, and many people booking one slot at the same moment.

book()'s tests are marked `clock`: their outcome depends on the clock, so `make test-clock` runs them at
awkward instants too.

Many people booking one slot at the same moment: the database lets exactly one in.

Each thread has its own database connection (transaction=True: real commits, no shared test
transaction), and they all wait at a barrier so their INSERTs race.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatusChange, Status, TimeOff
from appointments.services.booking import TAKEN, BookingError, book
from audit.models import AuditEvent
from tests.factories import (
    AppointmentTypeFactory,
    FrontDeskFactory,
    LocationFactory,
    PatientFactory,
    PhysioFactory,
    WorkingHoursFactory,
)

# book(): the rules every door goes through.


@pytest.fixture
def desk(db):
    return FrontDeskFactory()


@pytest.mark.clock
def test_it_books_with_the_type_duration_history_and_audit(therapist, patient, follow_up, at, desk):
    appointment = book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=desk)
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED
    assert appointment.end - appointment.start == timedelta(minutes=30)
    assert appointment.booked_by == desk
    assert appointment.location.name == "Main clinic"
    history = list(AppointmentStatusChange.objects.filter(appointment=appointment))
    assert [(h.from_status, h.to_status, h.by) for h in history] == [("", Status.BOOKED, desk)]
    event = AuditEvent.objects.get(action="book", object_id=str(appointment.pk))
    assert event.patient_id == patient.pk and event.actor == desk


@pytest.mark.clock
def test_it_refuses_end_before_start(therapist, patient, follow_up, at, desk):
    with pytest.raises(BookingError, match="end must come after the start"):
        book(patient=patient, therapist=therapist, type=follow_up, start=at(10), end=at(9), by=desk)
    with pytest.raises(BookingError, match="end must come after the start"):
        book(patient=patient, therapist=therapist, type=follow_up, start=at(10), end=at(10), by=desk)
    assert not Appointment.objects.exists()


@pytest.mark.clock
def test_it_asks_confirmation_for_a_time_in_the_past(therapist, patient, follow_up, desk):
    yesterday = timezone.now() - timedelta(days=1)
    with pytest.raises(BookingError) as refused:
        book(patient=patient, therapist=therapist, type=follow_up, start=yesterday, by=desk)
    assert refused.value.code == "past"
    assert not Appointment.objects.exists()
    book(
        patient=patient,
        therapist=therapist,
        type=follow_up,
        start=yesterday,
        by=desk,
        confirm_past=True,
        confirm_outside_hours=True,
    )
    assert Appointment.objects.count() == 1


@pytest.mark.clock
def test_it_asks_confirmation_outside_working_hours(therapist, patient, follow_up, at, desk):
    for start in (at(7, 30), at(15, 45), at(12, 0), at(9, day_offset=5)):
        with pytest.raises(BookingError) as refused:
            book(patient=patient, therapist=therapist, type=follow_up, start=start, by=desk)
        assert refused.value.code == "outside_hours"
    assert not Appointment.objects.exists()
    book(
        patient=patient, therapist=therapist, type=follow_up, start=at(7), by=desk, confirm_outside_hours=True
    )
    assert Appointment.objects.count() == 1


@pytest.mark.clock
def test_time_off_counts_as_outside_working_hours(therapist, patient, follow_up, at, desk):
    TimeOff.objects.create(therapist=therapist, start=at(0), end=at(23), reason="Course")
    with pytest.raises(BookingError) as refused:
        book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=desk)
    assert refused.value.code == "outside_hours"


@pytest.mark.clock
def test_it_refuses_an_overlap_for_the_therapist(therapist, follow_up, at, desk):
    book(patient=PatientFactory(), therapist=therapist, type=follow_up, start=at(9), by=desk)
    with pytest.raises(BookingError, match="Dana Physio already has an appointment from 09:00 to 09:30"):
        book(patient=PatientFactory(), therapist=therapist, type=follow_up, start=at(9, 15), by=desk)
    assert Appointment.objects.count() == 1


@pytest.mark.clock
def test_it_refuses_an_overlap_for_the_patient(therapist, patient, follow_up, at, desk):
    other = PhysioFactory()
    book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=desk)
    with pytest.raises(BookingError, match="already has an appointment"):
        book(
            patient=patient, therapist=other, type=follow_up, start=at(9), by=desk, confirm_outside_hours=True
        )
    assert Appointment.objects.count() == 1


@pytest.mark.clock
def test_back_to_back_appointments_do_not_overlap(therapist, follow_up, at, desk):
    book(patient=PatientFactory(), therapist=therapist, type=follow_up, start=at(9), by=desk)
    book(patient=PatientFactory(), therapist=therapist, type=follow_up, start=at(9, 30), by=desk)
    assert Appointment.objects.count() == 2


@pytest.mark.clock
def test_a_cancelled_appointment_frees_its_time(therapist, patient, follow_up, at, desk):
    from appointments.services.status_changes import cancel

    first = book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=desk)
    cancel(first, by=desk, reason="Patient phoned: sick")
    book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=desk)
    assert Appointment.objects.filter(status=Status.BOOKED).count() == 1


@pytest.mark.clock
def test_it_refuses_an_unknown_patient_or_therapist(therapist, patient, follow_up, at, desk):
    with pytest.raises(BookingError, match="registered patient"):
        book(patient=None, therapist=therapist, type=follow_up, start=at(9), by=desk)
    with pytest.raises(BookingError, match="Choose a physiotherapist"):
        book(patient=patient, therapist=None, type=follow_up, start=at(9), by=desk)
    with pytest.raises(BookingError, match="not an active physiotherapist"):
        book(patient=patient, therapist=desk, type=follow_up, start=at(9), by=desk)
    assert not Appointment.objects.exists()


@pytest.mark.clock
def test_it_refuses_an_archived_patient(therapist, patient, follow_up, at, desk):
    patient.archived_at = timezone.now()
    patient.save()
    with pytest.raises(BookingError, match="archived"):
        book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=desk)


@pytest.mark.clock
def test_the_database_refuses_overlaps_the_orm_skips_checks_for(therapist, follow_up, at):
    from django.db import IntegrityError, transaction

    from tests.factories import AppointmentFactory

    AppointmentFactory(therapist=therapist, start=at(9))
    with pytest.raises(IntegrityError, match="appointment_therapist_no_overlap"), transaction.atomic():
        AppointmentFactory(therapist=therapist, start=at(9, 10))
    patient = PatientFactory()
    AppointmentFactory(patient=patient, start=at(11))
    with pytest.raises(IntegrityError, match="appointment_patient_no_overlap"), transaction.atomic():
        AppointmentFactory(patient=patient, start=at(11, 29))


@pytest.mark.clock
def test_the_database_refuses_end_before_start_and_cancel_without_reason(db, at):
    from django.db import IntegrityError, transaction

    from tests.factories import AppointmentFactory

    with pytest.raises(IntegrityError, match="appointment_end_after_start"), transaction.atomic():
        AppointmentFactory(start=at(10), end=at(9))
    with pytest.raises(IntegrityError, match="appointment_cancel_has_reason"), transaction.atomic():
        AppointmentFactory(status=Status.CANCELLED, cancel_reason="")


@pytest.mark.clock
def test_the_database_refuses_deleting_an_appointment(db, at):
    from django.db import DatabaseError, transaction

    from tests.factories import AppointmentFactory

    appointment = AppointmentFactory(start=at(10))
    with pytest.raises(DatabaseError, match="refused"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM appointments_appointment WHERE id = %s", [appointment.pk])
    assert Appointment.objects.filter(pk=appointment.pk).exists()


# Many people booking one slot at the same moment.


RACERS = 12


CONSTRAINT = "appointment_therapist_no_overlap"


def race(slot_start, therapist, patients, kind, desk, *, precheck=True, monkeypatch=None):
    barrier = threading.Barrier(len(patients))
    outcomes = []
    lock = threading.Lock()

    def attempt(patient):
        try:
            barrier.wait()
            book(patient=patient, therapist=therapist, type=kind, start=slot_start, by=desk)
            outcome = "booked"
        except BookingError as error:
            outcome = error.messages[0]
        except Exception as error:  # a 500 in the view
            outcome = f"crash: {error!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(p,)) for p in patients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def setup_slot(transactional_db):
    from datetime import time, timedelta

    from django.utils import timezone

    from appointments.selectors import at_local

    therapist = PhysioFactory()
    location = LocationFactory()
    for weekday in range(7):
        WorkingHoursFactory(therapist=therapist, weekday=weekday, location=location)
    kind = AppointmentTypeFactory()
    start = at_local(timezone.localdate() + timedelta(days=2), time(10, 0))
    patients = [PatientFactory() for _ in range(RACERS)]
    return start, therapist, patients, kind, FrontDeskFactory()


@pytest.mark.django_db(transaction=True)
def test_exactly_one_of_many_simultaneous_bookings_wins(setup_slot, monkeypatch):
    # Skip the friendly pre-check so every racer reaches the INSERT: the constraint alone must decide.
    monkeypatch.setattr("appointments.services.booking._clash_message", lambda *a, **k: None)
    outcomes = race(*setup_slot)
    assert outcomes.count("booked") == 1, outcomes
    assert outcomes.count(TAKEN) == RACERS - 1, outcomes
    assert Appointment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_with_the_pre_check_too_only_clear_messages(setup_slot):
    outcomes = race(*setup_slot)
    assert outcomes.count("booked") == 1, outcomes
    assert not [o for o in outcomes if o.startswith("crash")], outcomes
    assert Appointment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_without_the_constraint_a_double_booking_gets_in(setup_slot, monkeypatch):
    """Proof the constraint is what holds the line: drop it, and the same race double-books."""
    monkeypatch.setattr("appointments.services.booking._clash_message", lambda *a, **k: None)
    start, therapist, patients, kind, desk = setup_slot
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s", [CONSTRAINT])
        (definition,) = cursor.fetchone()
        cursor.execute(f"ALTER TABLE appointments_appointment DROP CONSTRAINT {CONSTRAINT}")
    try:
        outcomes = race(start, therapist, patients, kind, desk)
        assert outcomes.count("booked") == RACERS
        assert Appointment.objects.filter(therapist=therapist).count() == RACERS
    finally:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE appointments_appointment CASCADE")
            cursor.execute(f"ALTER TABLE appointments_appointment ADD CONSTRAINT {CONSTRAINT} {definition}")
    assert _constraint_exists()


def _constraint_exists():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = 'appointment_therapist_no_overlap'")
        return cursor.fetchone() is not None
