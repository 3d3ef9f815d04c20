from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from appointments.models import AppointmentType, Break
from appointments.selectors import at_local
from tests.factories import (
    AppointmentTypeFactory,
    LocationFactory,
    PatientFactory,
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


# A Wednesday morning at the desk (clinic time). Tests whose outcome depends on the day pin the clock here.
DESK_MORNING = datetime(2026, 12, 9, 9, 30)


@pytest.fixture
def desk_morning():
    """The clock pinned (ticking) at Wednesday 9 December 2026, 09:30 clinic time; yields that instant."""
    moment = DESK_MORNING.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
    with time_machine.travel(moment, tick=True):
        yield moment


@pytest.fixture
def later_today(desk_morning):
    """later_today(hour, minute=0, days=0) -> an aware datetime on the pinned day (+ days), clinic time."""

    def moment(hour, minute=0, days=0):
        return at_local(desk_morning.date() + timedelta(days=days), time(hour, minute))

    return moment


@pytest.fixture
def clinic(desk_morning):
    """The online booking's world, on the pinned Wednesday morning: (location, physiotherapist working
    Monday to Friday 08:00-16:00 there, an initial assessment open online to new patients, a follow-up
    open online to known patients only, a known patient, at(hour, minute=0, days=0) on next Monday)."""
    location = LocationFactory()
    physio = PhysioFactory(full_name="Dana Physio")
    for weekday in range(5):
        WorkingHoursFactory(therapist=physio, weekday=weekday, location=location)
    initial = AppointmentTypeFactory(name="IMS initial assessment", default_minutes=60)
    follow_up = AppointmentTypeFactory(name="IMS follow-up", default_minutes=30)
    # The types may be seeded already (get or create): the flags are set on whichever there is.
    AppointmentType.objects.filter(pk=initial.pk).update(bookable_online=True, new_patients_online=True)
    AppointmentType.objects.filter(pk=follow_up.pk).update(bookable_online=True, new_patients_online=False)
    initial.refresh_from_db()
    follow_up.refresh_from_db()
    known = PatientFactory(
        given_name="Zoë",
        family_name="Lévesque",
        date_of_birth=date(1980, 5, 17),
        email="zoe@example.com",
        phone="+16045550123",
    )
    monday = desk_morning.date() + timedelta(days=7 - desk_morning.weekday())

    def at(hour, minute=0, days=0):
        return at_local(monday + timedelta(days=days), time(hour, minute))

    return location, physio, initial, follow_up, known, at
