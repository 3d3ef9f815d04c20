"""The front desk's day with appointments, in a real browser: next available, a refused overlap, check-in."""

import re
from datetime import time

import pytest
from django.utils import timezone

from appointments.models import Appointment, Status
from tests.factories import (
    AppointmentTypeFactory,
    FrontDeskFactory,
    LocationFactory,
    PatientFactory,
    PhysioFactory,
    WorkingHoursFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


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
