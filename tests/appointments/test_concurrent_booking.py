"""Many people booking one slot at the same moment: the database lets exactly one in.

Each thread has its own database connection (transaction=True: real commits, no shared test
transaction), and they all wait at a barrier so their INSERTs race."""

import threading

import pytest
from django.db import connection, connections

from appointments.models import Appointment
from appointments.services.booking import TAKEN, BookingError, book
from tests.factories import (
    AppointmentTypeFactory,
    FrontDeskFactory,
    LocationFactory,
    PatientFactory,
    PhysioFactory,
    WorkingHoursFactory,
)

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
