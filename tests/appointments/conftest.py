from datetime import time, timedelta

import pytest
from django.utils import timezone

from appointments.models import Break
from appointments.selectors import at_local
from tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    PhysioFactory,
    WorkingHoursFactory,
)


@pytest.fixture
def monday():
    """Monday of next week (a local date), so every booking on it is in the future."""
    today = timezone.localdate()
    return today + timedelta(days=7 - today.weekday())


@pytest.fixture
def at(monday):
    """at(hour, minute=0, day_offset=0) -> an aware datetime on next week's Monday (+ offset days)."""

    def moment(hour, minute=0, day_offset=0):
        return at_local(monday + timedelta(days=day_offset), time(hour, minute))

    return moment


@pytest.fixture
def follow_up(db):
    return AppointmentTypeFactory(name="IMS follow-up", default_minutes=30)


@pytest.fixture
def initial(db):
    return AppointmentTypeFactory(name="IMS initial assessment", default_minutes=60)


@pytest.fixture
def therapist(db):
    """A physiotherapist working Monday to Friday 08:00-16:00 with a 12:00-12:30 lunch break."""
    person = PhysioFactory(full_name="Dana Physio")
    location = LocationFactory()
    for weekday in range(5):
        hours = WorkingHoursFactory(therapist=person, weekday=weekday, location=location)
        Break.objects.create(working_hours=hours, start=time(12, 0), end=time(12, 30), label="Lunch")
    return person
