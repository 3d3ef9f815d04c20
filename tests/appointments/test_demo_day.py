"""The demo clinic's day is alive whenever `make run` starts it: today is laid out around the moment of
seeding (appointments/demo.py todays_grid()), so a physiotherapist's "My day" shows patients done, one in
treatment, one in the waiting room and some still to come, at 07:00, at 23:50, on a Sunday night.
"""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from appointments.demo import todays_grid
from appointments.models import Appointment
from appointments.selectors import local_day_bounds

VANCOUVER = ZoneInfo("America/Vancouver")
DEMO_PHYSIOS = ["physio@demo.imsclinic.test", "physio2@demo.imsclinic.test"]


def assert_alive(grid, now):
    """Slots 0-2 over by now, slot 3 begun, slots 4-7 to come; all on today's date, none overlapping."""
    day = timezone.localdate(now)
    starts = [start for start, _longest in grid]
    assert len(grid) == 8
    assert all(timezone.localdate(start) == day for start in starts), f"{now}: a slot on another day"
    assert all(start + longest <= later for (start, longest), later in zip(grid, starts[1:], strict=False))
    assert all(longest >= timedelta(seconds=1) for _start, longest in grid)
    assert all(start + longest <= now for start, longest in grid[:3]), f"{now}: a done slot not over"
    assert starts[3] <= now < starts[4], f"{now}: no slot in treatment now"


@pytest.mark.parametrize(
    "day",
    [
        "2026-12-06",  # a Sunday, on BC's permanent UTC-7
        "2026-03-08",  # 23 hours: clocks went forward at 02:00
        "2025-11-02",  # 25 hours: clocks went back at 02:00
    ],
)
def test_todays_grid_is_alive_at_every_minute_of_the_day(settings, day):
    settings.TIME_ZONE = "America/Vancouver"
    day_start, day_end = local_day_bounds(datetime.fromisoformat(day).date())
    # From a minute into the day to a minute before its end (in the first and last minute the grid is
    # laid as if a minute in: appointments/demo.py).
    now = day_start + timedelta(minutes=1)
    while now <= day_end - timedelta(minutes=1):
        assert_alive(todays_grid(now), now)
        now += timedelta(minutes=1)


def test_by_day_the_grid_is_hourly_on_five_minute_marks():
    now = datetime(2026, 12, 2, 13, 2, tzinfo=VANCOUVER)
    starts = [timezone.localtime(start).strftime("%H:%M") for start, _longest in todays_grid(now)]
    assert starts == ["09:45", "10:45", "11:45", "12:45", "13:45", "14:45", "15:45", "16:45"]


def my_day_statuses(client, email):
    client.force_login(User.objects.get(email=email))
    page = client.get(reverse("treatments:my_day")).content.decode()
    return re.findall(r'data-testid="appointment-status">([^<]+)<', page)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "local",
    [
        "2026-12-02T07:00",  # a Wednesday, before the working day
        "2026-12-02T13:00",
        "2026-12-02T19:30",
        "2026-12-02T23:50",
        "2026-12-03T00:05",  # just after midnight
        "2026-12-05T10:00",  # a Saturday: the demo clinic is open every day
        "2026-12-06T23:40",  # a Sunday night
    ],
)
def test_the_demo_my_day_is_alive_at_any_hour(client, quick_hashing, local):
    now = datetime.fromisoformat(local).replace(tzinfo=VANCOUVER)
    with time_machine.travel(now, tick=False):
        call_command("seed_demo", "--size", "12", "--quiet")
        for email in DEMO_PHYSIOS:
            statuses = my_day_statuses(client, email)
            assert "Completed" in statuses, f"{email} at {local}: nobody done ({statuses})"
            assert statuses.count("In treatment") == 1, f"{email} at {local}: {statuses}"
            assert "Arrived" in statuses, f"{email} at {local}: nobody in the waiting room ({statuses})"
            to_come = Appointment.objects.filter(
                therapist__email=email, status__in=["booked", "confirmed"], start__gt=now
            ).filter(start__lt=local_day_bounds(now.date())[1])
            assert to_come.exists(), f"{email} at {local}: nobody still to come ({statuses})"


@pytest.mark.clock
@pytest.mark.django_db
def test_the_demo_my_day_is_alive_now(client, quick_hashing):
    """The same at whatever instant the suite runs (CLINIC_TEST_NOW: README "Testing")."""
    call_command("seed_demo", "--size", "12", "--quiet")
    statuses = my_day_statuses(client, DEMO_PHYSIOS[0])
    assert {"Completed", "In treatment", "Arrived"} <= set(statuses), statuses
    assert {"Booked", "Confirmed"} & set(statuses), statuses
