"""Issue 5 item 8, last two steps: the physiotherapist sees a checked-in patient as arrived on "My day"
and starts the needling session from the appointment."""

import pytest
from django.utils import timezone

from appointments.services.status_changes import check_in
from tests.factories import (
    AppointmentFactory,
    FrontDeskFactory,
    PatientFactory,
    PhysioFactory,
    ScreeningFactory,
)
from treatments.models import NeedlingSession

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def catalogue():
    """Browser tests empty every table between tests, the seeded muscles and needles too."""
    from treatments.catalogue import ensure_catalogue

    ensure_catalogue()


def test_physio_sees_the_arrived_patient_and_starts_the_session(page, log_in):
    physio = PhysioFactory(full_name="Priya Natarajan")
    patient = PatientFactory(given_name="Liam", family_name="MacDonald")
    ScreeningFactory(patient=patient, diabetes=True)
    start = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    appointment = AppointmentFactory(patient=patient, therapist=physio, start=start)
    check_in(appointment, by=FrontDeskFactory())

    log_in(physio)  # the physiotherapist's home page shows My day
    row = page.locator(f"[data-testid=my-day-row][data-appointment='{appointment.pk}']")
    row.wait_for()
    assert row.get_by_test_id("appointment-status").inner_text() == "Arrived"
    assert "MacDonald" in row.inner_text() and "Diabetes" in row.inner_text()
    assert "Neck: No consent" in row.inner_text()

    row.get_by_role("button", name="Start session").click()
    page.wait_for_selector("[data-testid=points-section]")
    session = NeedlingSession.objects.get()
    assert session.appointment_id == appointment.pk and session.patient == patient
    appointment.refresh_from_db()
    assert appointment.status == "in_treatment"

    page.get_by_role("link", name="My day").click()
    row = page.locator(f"[data-testid=my-day-row][data-appointment='{appointment.pk}']")
    assert row.get_by_test_id("appointment-status").inner_text() == "In treatment"
    row.get_by_role("link", name="Continue session").click()
    assert page.url.endswith(f"/sessions/{session.pk}/")
