"""50 people booking the same time online at the same moment: exactly one gets it, the others the clear "that
time was just taken" message, and nobody a server error. Each thread has its own database connection
(transaction=True: real commits), and they all wait at a barrier so their bookings race."""

import threading
from datetime import date, time, timedelta

import pytest
from django.db import connections
from django.utils import timezone

from appointments.models import Appointment, AppointmentType
from appointments.selectors import at_local
from appointments.services.online import TAKEN, OnlineBookingRefused, book_online
from tests.factories import AppointmentTypeFactory, LocationFactory, PhysioFactory, WorkingHoursFactory

RACERS = 50

pytestmark = pytest.mark.clock


@pytest.fixture
def slot(transactional_db, settings):
    settings.ONLINE_BOOKING_ADDRESS_LIMIT = 1000
    settings.ONLINE_BOOKING_EMAIL_LIMIT = 1000
    location = LocationFactory()
    physio = PhysioFactory()
    for weekday in range(7):
        WorkingHoursFactory(therapist=physio, weekday=weekday, location=location)
    initial = AppointmentTypeFactory(name="IMS initial assessment", default_minutes=60)
    AppointmentType.objects.filter(pk=initial.pk).update(bookable_online=True, new_patients_online=True)
    initial.refresh_from_db()
    start = at_local(timezone.localdate() + timedelta(days=3), time(10, 0))
    return location, physio, initial, start


def race(location, physio, initial, start, *, racers):
    barrier = threading.Barrier(racers)
    outcomes = []
    lock = threading.Lock()

    def attempt(n):
        try:
            barrier.wait()
            outcome = book_online(
                location=location,
                type=initial,
                therapist=physio,
                start=start,
                given_name=f"Racer{n}",
                family_name="Online",
                date_of_birth=date(1990, 1, 1) + timedelta(days=n),
                email=f"racer{n}@example.com",
                phone=f"+1604555{n:04d}",
                client_address=f"198.51.100.{n + 1}",
            )
            result = "booked" if outcome.appointment is not None else "nothing"
        except OnlineBookingRefused as refused:
            result = refused.messages[0]
        except Exception as error:  # would be a 500 on the page
            result = f"crash: {error!r}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_fifty_online_bookings_for_one_time_give_exactly_one(slot):
    outcomes = race(*slot, racers=RACERS)
    assert len(outcomes) == RACERS
    assert outcomes.count("booked") == 1, outcomes
    assert outcomes.count(TAKEN) == RACERS - 1, outcomes
    assert Appointment.objects.filter(booked_online=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_with_the_pre_checks_skipped_the_constraint_alone_decides(slot, monkeypatch):
    """Every racer reaches the INSERT: the exclusion constraint lets one in, the rest read TAKEN."""
    monkeypatch.setattr("appointments.services.booking._clash_message", lambda *a, **k: None)
    monkeypatch.setattr("appointments.services.online._busy", lambda *a, **k: False)
    outcomes = race(*slot, racers=RACERS)
    assert outcomes.count("booked") == 1, outcomes
    assert outcomes.count(TAKEN) == RACERS - 1, outcomes
    assert Appointment.objects.count() == 1
