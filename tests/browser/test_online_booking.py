"""Issue 15 part 2: a new patient books an initial assessment on the public page, in a browser that never
logged in, on a phone-sized screen; the front desk sees the booking flagged Online on the day view and the
patient in the list of records to verify, and verifies it."""

import pytest
from playwright.sync_api import expect

from appointments.models import Appointment, AppointmentType
from patients.models import Patient
from tests.factories import (
    AppointmentTypeFactory,
    FrontDeskFactory,
    LocationFactory,
    PhysioFactory,
    WorkingHoursFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_patient_books_online_and_the_desk_sees_it(page, log_in, browser, live_server):
    location = LocationFactory(name="Main clinic")
    physio = PhysioFactory(full_name="Priya Natarajan")
    for weekday in range(7):
        WorkingHoursFactory(therapist=physio, weekday=weekday, location=location)
    initial = AppointmentTypeFactory(name="IMS initial assessment", default_minutes=60)
    AppointmentType.objects.filter(pk=initial.pk).update(bookable_online=True, new_patients_online=True)

    patient_browser = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    try:
        phone = patient_browser.new_page()
        phone.goto("/book/")
        phone.get_by_role("link", name="Main clinic").click()
        phone.get_by_label("Type of appointment").select_option(
            label="IMS initial assessment (60 min): new patients welcome"
        )
        phone.get_by_role("button", name="Show free times").click()
        first_time = phone.locator("input[name=slot]").first
        first_time.check()
        chosen = phone.locator(f"label[for={first_time.get_attribute('id')}]").inner_text()
        phone.get_by_label("Given name").fill("Ann")
        phone.get_by_label("Family name").fill("Newcomer")
        phone.get_by_label("Date of birth").fill("1985-04-12")
        phone.get_by_label("E-mail").fill("ann@example.test")
        phone.get_by_label("Phone").fill("604 555 0199")
        phone.get_by_role("button", name="Book this time").click()
        expect(phone.get_by_test_id("online-received")).to_contain_text(
            "we have received your booking request"
        )
    finally:
        patient_browser.close()

    appointment = Appointment.objects.get()
    assert appointment.booked_online and appointment.patient.online_unverified
    assert "Priya Natarajan" in chosen

    log_in(FrontDeskFactory(full_name="Fran Desk"))
    page.goto(f"/appointments/?date={appointment.start.date():%Y-%m-%d}")
    card = page.locator(f"[data-appointment='{appointment.pk}']").first
    expect(card).to_contain_text("Newcomer")
    expect(card.get_by_test_id("online-badge")).to_have_text("Online")

    page.goto("/appointments/online/")
    row = page.get_by_test_id("online-unverified-row")
    expect(row).to_contain_text("Newcomer")
    row.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("verified")
    assert not Patient.objects.get(family_name="Newcomer").online_unverified
