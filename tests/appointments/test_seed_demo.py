"""seed_demo's appointments: schedules, a status mix, today alive for the demo physiotherapists."""

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from accounts.models import User
from appointments.models import Appointment, AppointmentStatusChange, WorkingHours
from appointments.selectors import appointments_for_therapist_on, local_day_bounds

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("quick_hashing")]


@pytest.mark.clock
def test_seed_demo_books_twelve_per_patient_with_a_status_mix_and_a_live_today():
    call_command("seed_demo", "--size", "60", "--quiet")
    assert Appointment.objects.filter(booked_online=False).count() == 60 * 12
    statuses = dict(Appointment.objects.values_list("status").annotate(n=Count("id")).order_by())
    assert {"completed", "cancelled", "no_show", "booked", "confirmed", "arrived"} <= set(statuses)
    assert not Appointment.objects.filter(status="cancelled", cancel_reason="").exists()
    priya = User.objects.get(email="physio@demo.imsclinic.test")
    assert WorkingHours.objects.filter(therapist=priya).count() == 7
    today = appointments_for_therapist_on(priya, timezone.localdate())
    assert len(today) >= 2
    assert any(a.status == "arrived" for a in today)
    start, end = local_day_bounds(timezone.localdate())
    assert AppointmentStatusChange.objects.filter(
        appointment__start__gte=start, appointment__start__lt=end
    ).exists()
    # The not-yet-authorised intern gets hours but no IMS appointments.
    intern = User.objects.get(email="intern@demo.imsclinic.test")
    assert not Appointment.objects.filter(therapist=intern).exists()


def test_seed_demo_appointments_are_idempotent():
    call_command("seed_demo", "--size", "30", "--quiet")
    count = Appointment.objects.count()
    call_command("seed_demo", "--size", "30", "--quiet")
    assert Appointment.objects.count() == count == 360 + 2  # two booked online


def test_a_larger_seed_spreads_over_groups_and_locations(settings):
    from appointments import demo

    settings.DEBUG = False
    original = demo.GROUP_SIZE
    demo.GROUP_SIZE = 20
    try:
        call_command("seed_demo", "--size", "130", "--quiet")
    finally:
        demo.GROUP_SIZE = original
    seeded = Appointment.objects.filter(booked_online=False)  # the grid's, not the two booked online
    assert seeded.count() == 130 * 12
    assert seeded.values("therapist").distinct().count() == 14
    assert seeded.values("location").distinct().count() == 2


@pytest.mark.clock
def test_demo_appointments_sit_on_the_local_working_grid_but_today():
    call_command("seed_demo", "--size", "40", "--quiet")
    day_start, day_end = local_day_bounds(timezone.localdate())
    grid = Appointment.objects.filter(booked_online=False)  # the two booked online take any free time
    starts = {
        timezone.localtime(start).strftime("%H:%M")
        for start in grid.exclude(start__gte=day_start, start__lt=day_end).values_list("start", flat=True)
    }
    assert starts <= {"08:00", "09:00", "10:00", "11:00", "12:30", "13:30", "14:30", "15:30"}
    assert "08:00" in starts
    # Today is laid out around now instead (tests/appointments/test_demo_day.py).
    assert grid.filter(start__gte=day_start, start__lt=day_end).count() == 16


@pytest.mark.clock
def test_seed_demo_opens_online_booking_and_books_twice_online():
    from appointments.models import AppointmentType
    from patients.models import Patient

    call_command("seed_demo", "--size", "30", "--quiet")
    initial = AppointmentType.objects.get(name="IMS initial assessment")
    follow_up = AppointmentType.objects.get(name="IMS follow-up")
    assert initial.bookable_online and initial.new_patients_online
    assert follow_up.bookable_online and not follow_up.new_patients_online
    online = Appointment.objects.filter(booked_online=True)
    assert online.count() == 2 and {a.type for a in online} == {initial, follow_up}
    assert all(a.start > timezone.now() and a.status == "booked" for a in online)
    assert not Patient.objects.filter(online_unverified=True).exists()  # both were known patients
