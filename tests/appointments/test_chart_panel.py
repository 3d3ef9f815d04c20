"""The chart's appointments panel: upcoming and past with statuses, for the front desk too."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from tests.factories import AppointmentFactory, PatientFactory


def test_front_desk_sees_upcoming_and_past_with_statuses(client_for, db):
    patient = PatientFactory()
    AppointmentFactory(patient=patient, start=timezone.now() + timedelta(days=3))
    AppointmentFactory(patient=patient, start=timezone.now() - timedelta(days=3), status="no_show")
    AppointmentFactory(start=timezone.now() + timedelta(days=4))  # someone else's
    html = client_for(Role.FRONT_DESK).get(reverse("patients:chart", args=[patient.pk])).content.decode()
    assert 'data-testid="appointments-panel"' in html
    panel = html.split('data-testid="appointments-panel"')[1]
    assert panel.count('data-status="booked"') == 1
    assert panel.count('data-status="no_show"') == 1
    assert "Upcoming" in panel and "Past" in panel


def test_chart_panel_query_count_does_not_grow(client_for, db, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    patient = PatientFactory()
    client = client_for(Role.FRONT_DESK)
    AppointmentFactory(patient=patient, start=timezone.now() + timedelta(days=1))
    with CaptureQueriesContext(connection) as context:
        client.get(reverse("patients:chart", args=[patient.pk]))
    for day in range(2, 30):
        AppointmentFactory(patient=patient, start=timezone.now() + timedelta(days=day))
        AppointmentFactory(patient=patient, start=timezone.now() - timedelta(days=day))
    with django_assert_max_num_queries(len(context.captured_queries)):
        client.get(reverse("patients:chart", args=[patient.pk]))
