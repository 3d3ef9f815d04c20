"""The front desk's start page shows today's schedule (loaded from appointments:today)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from tests.factories import AppointmentFactory, PatientFactory

# Its outcome depends on the clock: `make test-clock` runs it at awkward instants too.
pytestmark = pytest.mark.clock


def test_home_loads_todays_panel_and_keeps_the_patient_search(client_for, db):
    html = client_for(Role.FRONT_DESK).get("/").content.decode()
    assert reverse("appointments:today") in html
    assert "Find a patient" in html


def test_today_counts_by_status_and_lists_who_is_due(client_for, db):
    later = timezone.now() + timedelta(minutes=5)
    if timezone.localtime(later).date() != timezone.localdate():
        later = timezone.now()  # just before midnight: keep it today
    AppointmentFactory(start=later, patient=PatientFactory(family_name="Dueson"))
    AppointmentFactory(start=later, status="arrived", patient=PatientFactory(family_name="Hereson"))
    AppointmentFactory(start=later + timedelta(days=2), patient=PatientFactory(family_name="Laterson"))
    html = client_for(Role.FRONT_DESK).get(reverse("appointments:today")).content.decode()
    assert "2 today" in html
    assert "Dueson" in html and "Hereson" not in html and "Laterson" not in html
    assert 'data-status="arrived"' in html
