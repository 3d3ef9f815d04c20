"""The front desk's day with appointments, in a real browser: next available, a refused overlap, check-in
on the appointment's day and its undoing, rescheduling with next available, today's list on the home page,
the day view's Today button and "now" line, and the week of everyone at a location (issue 14)."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Appointment, Status
from appointments.selectors import at_local
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    FrontDeskFactory,
    LocationFactory,
    PatientFactory,
    PhysioFactory,
    WorkingHoursFactory,
)

# Check-in, "now" and next available depend on the clock: the server's (this process's) is pinned.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.clock]

WEDNESDAY = datetime(2026, 12, 9)


@pytest.fixture(autouse=True)
def desk_morning():
    """Wednesday 9 December 2026, 09:30 clinic time, ticking: before anyone logs in."""
    with time_machine.travel(
        WEDNESDAY.replace(hour=9, minute=30, tzinfo=ZoneInfo(settings.TIME_ZONE)), tick=True
    ):
        yield


def today_at(hour, minute=0, days=0):
    return at_local(WEDNESDAY.date() + timedelta(days=days), time(hour, minute))


@pytest.fixture
def clinic():
    AppointmentTypeFactory(name="IMS initial assessment", default_minutes=60)
    follow_up = AppointmentTypeFactory(name="IMS follow-up", default_minutes=30)
    location = LocationFactory()
    dana = PhysioFactory(full_name="Dana Physio")
    other = PhysioFactory(full_name="Omar Other")
    for weekday in range(7):
        WorkingHoursFactory(therapist=dana, weekday=weekday, start=time(8), end=time(17), location=location)
        WorkingHoursFactory(therapist=other, weekday=weekday, start=time(8), end=time(17), location=location)
    return dana, follow_up


def test_front_desk_books_next_available_is_refused_an_overlap_and_checks_in(page, log_in, clinic):
    dana, follow_up = clinic
    patient = PatientFactory(given_name="Ingrid", family_name="Halvorsen")
    second = PatientFactory(given_name="Bo", family_name="Lindqvist")
    log_in(FrontDeskFactory())

    page.get_by_role("navigation").get_by_role("link", name="Book", exact=True).click()
    page.get_by_label("Find the patient").press_sequentially("halvor", delay=30)
    page.get_by_label(re.compile("Halvorsen, Ingrid")).check()
    page.get_by_label("Appointment type").select_option(label="IMS follow-up (30 min)")
    page.get_by_label("Physiotherapist").select_option(label="Dana Physio")
    page.get_by_role("button", name="Find next available").click()
    first_slot = page.get_by_test_id("slot").first
    first_slot.wait_for()
    assert "Dana Physio" in first_slot.inner_text()
    first_slot.click()

    # The form comes back filled with the slot, the type and the patient: one click books it.
    assert page.get_by_label(re.compile("Halvorsen, Ingrid")).is_checked()
    page.get_by_role("button", name="Book", exact=True).click()
    page.wait_for_selector("[data-testid=day-title]")
    appointment = Appointment.objects.get()
    assert (appointment.patient, appointment.therapist, appointment.type) == (patient, dana, follow_up)
    local = timezone.localtime(appointment.start)
    assert (
        f"Booked Ingrid Halvorsen: IMS follow-up with Dana Physio on {local:%a %d %b at %H:%M}"
        in page.content()
    )
    booked = page.get_by_test_id("appointment").filter(has_text="Halvorsen")
    assert booked.is_visible() and f"{local:%H:%M}" in booked.inner_text()

    # Another patient at an overlapping time with the same physiotherapist is refused, with the reason.
    page.goto(f"/appointments/book/?therapist={dana.pk}&start={local:%Y-%m-%dT%H:%M}&patient={second.pk}")
    page.get_by_role("button", name="Book", exact=True).click()
    error = page.get_by_test_id("booking-error")
    assert f"Dana Physio already has an appointment from {local:%H:%M}" in error.inner_text()
    assert Appointment.objects.count() == 1

    # Check-in from the day view.
    page.goto(f"/appointments/?date={local.date().isoformat()}")
    page.get_by_test_id("appointment").filter(has_text="Halvorsen").get_by_role("link").click()
    page.get_by_role("button", name="Check in").click()
    assert page.get_by_text("Ingrid Halvorsen checked in.").is_visible()
    assert page.locator("[data-status=arrived]").first.is_visible()
    appointment.refresh_from_db()
    assert appointment.status == Status.ARRIVED


def test_check_in_waits_for_the_day_and_is_undone_with_a_reason(page, log_in, clinic):
    dana, follow_up = clinic
    thursday = AppointmentFactory(
        therapist=dana,
        type=follow_up,
        start=today_at(10, days=1),
        patient=PatientFactory(family_name="Ahead"),
    )
    today = AppointmentFactory(
        therapist=dana, type=follow_up, start=today_at(11), patient=PatientFactory(family_name="Todd")
    )
    log_in(FrontDeskFactory())

    page.goto(f"/appointments/{thursday.pk}/")
    assert page.get_by_test_id("check-in-closed").inner_text() == (
        "Check-in opens Thu 10 Dec at 00:00, on the appointment's day."
    )
    assert page.get_by_role("button", name="Check in").count() == 0

    page.goto(f"/appointments/{today.pk}/")
    page.get_by_role("button", name="Check in").click()
    assert page.locator("[data-status=arrived]").first.is_visible()
    # Undo needs a reason: without one, a message and nothing changes.
    page.get_by_role("button", name="Undo check-in").click()
    assert page.get_by_text("Give a reason for undoing the check-in.").is_visible()
    today.refresh_from_db()
    assert today.status == Status.ARRIVED
    page.get_by_label("Reason for undoing the check-in").fill("Checked in the wrong Todd")
    page.get_by_role("button", name="Undo check-in").click()
    assert page.get_by_role("alert").filter(has_text="Check-in undone:").is_visible()
    history = page.get_by_test_id("history").inner_text()
    assert "Arrived → Booked (check-in undone: Checked in the wrong Todd)" in history
    today.refresh_from_db()
    assert today.status == Status.BOOKED
    assert page.get_by_role("button", name="Check in").is_visible()


def test_reschedule_finds_the_next_available_time(page, log_in, clinic):
    dana, follow_up = clinic
    appointment = AppointmentFactory(
        therapist=dana,
        type=follow_up,
        start=today_at(15, days=1),
        patient=PatientFactory(family_name="Mover"),
    )
    log_in(FrontDeskFactory())
    page.goto(f"/appointments/{appointment.pk}/")
    page.get_by_role("link", name="Reschedule").click()
    page.get_by_role("button", name="Find next available").click()
    first_slot = page.get_by_test_id("slot").first
    first_slot.wait_for()
    assert "Dana Physio" in first_slot.inner_text()
    first_slot.click()
    assert page.locator("#id_time").input_value() == "09:45"
    assert page.locator("#id_date").input_value() == "2026-12-09"
    page.get_by_role("button", name="Move the appointment").click()
    assert page.get_by_text("Rescheduled to Wed 09 Dec at 09:45.").is_visible()
    history = page.get_by_test_id("history").inner_text()
    assert "Rescheduled from 2026-12-10 15:00 to 2026-12-09 09:45" in history
    assert "Booked → Booked" not in history
    appointment.refresh_from_db()
    assert appointment.start == today_at(9, 45)


def test_the_home_page_lists_today_even_when_all_are_done(page, log_in, clinic):
    dana, follow_up = clinic
    for hour, name in ((8, "Early"), (9, "Second")):
        AppointmentFactory(
            therapist=dana,
            type=follow_up,
            start=today_at(hour),
            status=Status.COMPLETED,
            patient=PatientFactory(family_name=name),
        )
    due = AppointmentFactory(
        therapist=dana, type=follow_up, start=today_at(11), patient=PatientFactory(family_name="Due")
    )
    log_in(FrontDeskFactory())
    rows = page.get_by_test_id("today-row")
    rows.first.wait_for()
    assert rows.count() == 3
    assert [rows.nth(i).get_by_test_id("appointment-status").inner_text() for i in range(3)] == [
        "Completed",
        "Completed",
        "Booked",
    ]
    rows.filter(has_text="Due").get_by_role("button", name="Check in").click()
    expect(page.get_by_text("checked in.")).to_be_visible()
    arrived = page.get_by_test_id("today-row").filter(has_text="Due").get_by_test_id("appointment-status")
    expect(arrived).to_have_text("Arrived")
    due.refresh_from_db()
    assert due.status == Status.ARRIVED


def test_the_day_view_has_today_and_now_and_the_locations_week(page, log_in, clinic):
    dana, follow_up = clinic
    AppointmentFactory(
        therapist=dana,
        type=follow_up,
        start=today_at(10, days=2),
        patient=PatientFactory(family_name="Friday"),
    )
    log_in(FrontDeskFactory())
    page.goto("/appointments/?date=2026-12-01")
    assert page.get_by_test_id("now-line").count() == 0
    page.get_by_role("link", name="Today", exact=True).click()
    page.wait_for_url(re.compile(r"date=2026-12-09"))
    assert page.get_by_test_id("day-title").inner_text() == "Wednesday 9 December 2026"
    now_line = page.get_by_test_id("now-line")
    assert now_line.is_visible() and now_line.inner_text().startswith("now 09:3")

    page.get_by_test_id("location-week").click()
    assert page.get_by_test_id("location-week-title").inner_text().endswith("week of 7 December 2026")
    rows = page.get_by_test_id("location-week-row")
    assert rows.count() == 2
    assert "Dana Physio" in rows.nth(0).inner_text() and "Omar Other" in rows.nth(1).inner_text()
    assert "10:00 Friday" in rows.nth(0).inner_text()
