"""Issue 15: a patient booked at the desk opens the link in the booking confirmation, in a browser that never
logged in, and cancels the appointment; the front desk sees it cancelled, by the patient, in its history."""

import re
from datetime import time, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Appointment, Status
from appointments.selectors import at_local
from appointments.services.booking import book
from tests.factories import (
    AppointmentTypeFactory,
    FrontDeskFactory,
    LocationFactory,
    PatientFactory,
    PhysioFactory,
    WorkingHoursFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_patient_cancels_through_the_link_and_the_desk_sees_it(
    page, log_in, browser, live_server, settings
):
    settings.CLINIC_URL = live_server.url
    physio = PhysioFactory(full_name="Priya Natarajan")
    location = LocationFactory()
    for weekday in range(7):
        WorkingHoursFactory(therapist=physio, weekday=weekday, location=location)
    desk = FrontDeskFactory(full_name="Fran Desk")
    patient = PatientFactory(given_name="Zoë", family_name="Côté", email="zoe@example.test")
    start = at_local(timezone.localdate() + timedelta(days=5), time(10, 0))
    mail.outbox.clear()
    appointment = book(patient=patient, therapist=physio, type=AppointmentTypeFactory(), start=start, by=desk)
    (message,) = mail.outbox
    link = re.search(r"https?://\S+/p/appointment/\S+/", message.body).group(0)

    patient_browser = browser.new_context()  # a fresh context: never logged in
    try:
        own = patient_browser.new_page()
        own.goto(link)
        expect(own.get_by_role("heading", name="Your appointment")).to_be_visible()
        expect(own.get_by_test_id("when")).to_contain_text("10:00 to 10:30")
        own.get_by_label("Why are you cancelling? (optional)").fill("Away that week")
        own.get_by_role("button", name="Cancel my appointment").click()
        expect(own.get_by_test_id("done")).to_contain_text("Your appointment is cancelled")
        expect(own.get_by_test_id("status")).to_have_text("Cancelled")
    finally:
        patient_browser.close()
    assert Appointment.objects.get(pk=appointment.pk).status == Status.CANCELLED

    log_in(desk)
    page.goto(f"/appointments/{appointment.pk}/")
    expect(page.get_by_test_id("appointment-status").first).to_have_text("Cancelled")
    expect(page.get_by_test_id("history")).to_contain_text("cancelled by the patient through the link")
