"""The front desk's start page shows today's schedule (loaded from appointments:today): every appointment of
the day with its status, not only counts ("16 today: Completed 16" hid the list: issue 14), check-in where
it is open."""

from datetime import timedelta

import pytest
from django.urls import reverse

from accounts.models import Role
from appointments.models import Status
from tests.factories import AppointmentFactory, PatientFactory

# Its outcome depends on the clock (pinned by `desk_morning`, Wednesday 9 December 2026 09:30).
pytestmark = pytest.mark.clock


def rows(html):
    return html.split('data-testid="today-row"')[1:]


def test_home_loads_todays_panel_and_keeps_the_patient_search(client_for, db):
    html = client_for(Role.FRONT_DESK).get("/").content.decode()
    assert reverse("appointments:today") in html
    assert "Find a patient" in html


def test_today_lists_every_appointment_of_the_day_with_its_status(later_today, client_for):
    AppointmentFactory(
        start=later_today(8), status=Status.COMPLETED, patient=PatientFactory(family_name="Doneson")
    )
    AppointmentFactory(
        start=later_today(9), status=Status.ARRIVED, patient=PatientFactory(family_name="Hereson")
    )
    AppointmentFactory(start=later_today(11), patient=PatientFactory(family_name="Dueson"))
    AppointmentFactory(
        start=later_today(12),
        status=Status.CANCELLED,
        cancel_reason="flu",
        patient=PatientFactory(family_name="Offson"),
    )
    AppointmentFactory(start=later_today(10, days=1), patient=PatientFactory(family_name="Tomorrowson"))
    AppointmentFactory(start=later_today(10, days=-1), patient=PatientFactory(family_name="Yesterdayson"))
    html = client_for(Role.FRONT_DESK).get(reverse("appointments:today")).content.decode()
    assert "4 today" in html
    listed = rows(html)
    assert [name for row in listed for name in ("Doneson", "Hereson", "Dueson", "Offson") if name in row] == [
        "Doneson",
        "Hereson",
        "Dueson",
        "Offson",
    ]
    assert "Tomorrowson" not in html and "Yesterdayson" not in html
    statuses = [row.split('data-status="')[1].split('"')[0] for row in listed]
    assert statuses == ["completed", "arrived", "booked", "cancelled"]


def test_a_day_of_completed_visits_is_still_listed(later_today, client_for):
    for hour in (8, 9):
        AppointmentFactory(start=later_today(hour), status=Status.COMPLETED)
    html = client_for(Role.FRONT_DESK).get(reverse("appointments:today")).content.decode()
    assert "2 today" in html and len(rows(html)) == 2


def test_check_in_is_offered_only_where_it_is_open(later_today, client_for):
    due = AppointmentFactory(start=later_today(11))
    AppointmentFactory(start=later_today(9), status=Status.ARRIVED)
    AppointmentFactory(start=later_today(8), status=Status.COMPLETED)
    html = client_for(Role.FRONT_DESK).get(reverse("appointments:today")).content.decode()
    assert html.count(">Check in</button>") == 1
    assert reverse("appointments:check_in", args=[due.pk]) in html


def test_the_early_setting_hides_check_in_until_it_opens(later_today, client_for, settings):
    settings.CHECK_IN_EARLY_MINUTES = 30
    AppointmentFactory(start=later_today(11))
    html = client_for(Role.FRONT_DESK).get(reverse("appointments:today")).content.decode()
    assert ">Check in</button>" not in html and len(rows(html)) == 1


def test_an_empty_day_says_so(later_today, client_for):
    html = client_for(Role.FRONT_DESK).get(reverse("appointments:today")).content.decode()
    assert "0 today" in html and "No appointments today." in html


def test_the_panel_runs_a_constant_number_of_queries(later_today, client_for, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(Role.FRONT_DESK)
    url = reverse("appointments:today")
    AppointmentFactory(start=later_today(8))
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for n in range(30):
        AppointmentFactory(start=later_today(9) + timedelta(minutes=10 * n))
    with django_assert_max_num_queries(len(small)):
        html = client.get(url).content.decode()
    assert len(rows(html)) == 31
