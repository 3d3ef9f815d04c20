"""Check-in is open on the appointment's own day only (clinic time), from CHECK_IN_EARLY_MINUTES before
its start when that is set (issue 14): a patient booked two days ahead cannot be marked arrived. The
rule is in the service (status_changes.change_status), so every door meets it: the page's button, a
POST made anyway, a direct service call, and the admin, where the status cannot be edited at all."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Role
from appointments.models import AppointmentStatusChange, Status
from appointments.services.booking import BookingError
from appointments.services.status_changes import can_check_in, change_status, check_in
from audit.models import AuditEvent
from tests.factories import AppointmentFactory, FrontDeskFactory

# Its outcome depends on the clock (pinned by `desk_morning`, Wednesday 9 December 2026 09:30).
pytestmark = pytest.mark.clock


@pytest.fixture
def desk(db):
    return FrontDeskFactory()


def assert_still_booked(appointment):
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED
    assert not AppointmentStatusChange.objects.filter(appointment=appointment).exists()
    assert not AuditEvent.objects.filter(action="check_in", object_id=str(appointment.pk)).exists()


# --- the service ---------------------------------------------------------------------------------------
def test_check_in_on_the_appointments_day_is_allowed(desk, later_today):
    appointment = AppointmentFactory(start=later_today(15))
    check_in(appointment, by=desk)
    appointment.refresh_from_db()
    assert appointment.status == Status.ARRIVED


def test_check_in_days_ahead_is_refused(desk, later_today):
    appointment = AppointmentFactory(start=later_today(10, days=2))
    with pytest.raises(
        BookingError, match=r"This appointment is on Fri 11 Dec: check in on its day\."
    ) as error:
        check_in(appointment, by=desk)
    assert error.value.code == "check_in_too_early"
    assert_still_booked(appointment)


def test_check_in_the_evening_before_is_refused(desk, later_today):
    appointment = AppointmentFactory(start=later_today(8, days=1))
    with (
        time_machine.travel(later_today(23, 59), tick=False),
        pytest.raises(BookingError, match="check in on its day"),
    ):
        check_in(appointment, by=desk)
    assert_still_booked(appointment)


def test_check_in_after_the_day_is_refused(desk, later_today):
    appointment = AppointmentFactory(start=later_today(9, days=-1))
    with pytest.raises(
        BookingError, match="This appointment was on Tue 08 Dec: it can no longer be checked in"
    ):
        check_in(appointment, by=desk)
    assert_still_booked(appointment)


def test_check_in_is_open_until_the_days_last_minute(desk, later_today):
    appointment = AppointmentFactory(start=later_today(17))
    with time_machine.travel(later_today(0, 0, days=1) - timedelta(seconds=1), tick=False):
        assert can_check_in(appointment)
    with time_machine.travel(later_today(0, 0, days=1), tick=False):
        assert not can_check_in(appointment)
        with pytest.raises(BookingError, match="can no longer be checked in"):
            check_in(appointment, by=desk)
    assert_still_booked(appointment)


def test_the_early_setting_opens_check_in_that_many_minutes_before(desk, later_today, settings):
    settings.CHECK_IN_EARLY_MINUTES = 60
    appointment = AppointmentFactory(start=later_today(11))
    with pytest.raises(BookingError, match=r"Check-in opens at 10:00, 60 minutes before the appointment\."):
        check_in(appointment, by=desk)
    assert_still_booked(appointment)
    with time_machine.travel(later_today(10), tick=False):
        check_in(appointment, by=desk)
    appointment.refresh_from_db()
    assert appointment.status == Status.ARRIVED


def test_the_early_setting_never_opens_check_in_the_day_before(desk, later_today, settings):
    settings.CHECK_IN_EARLY_MINUTES = 180
    appointment = AppointmentFactory(start=later_today(1, days=1))  # 01:00 tomorrow
    with (
        time_machine.travel(later_today(23), tick=False),
        pytest.raises(BookingError, match="check in on its day"),
    ):
        check_in(appointment, by=desk)
    assert_still_booked(appointment)


def test_a_direct_status_change_meets_the_same_rule(desk, later_today):
    appointment = AppointmentFactory(start=later_today(10, days=2))
    with pytest.raises(BookingError, match="check in on its day"):
        change_status(appointment, Status.ARRIVED, by=desk)
    assert_still_booked(appointment)


def test_the_day_is_the_clinics_not_utc(desk, later_today):
    # 17:00 in Vancouver is already the next day in UTC: still today's appointment at the desk.
    appointment = AppointmentFactory(start=later_today(17))
    with time_machine.travel(later_today(21), tick=False):
        check_in(appointment, by=desk)
    appointment.refresh_from_db()
    assert appointment.status == Status.ARRIVED


# --- the pages ---------------------------------------------------------------------------------------
def detail_page(client_for, appointment):
    return (
        client_for(Role.FRONT_DESK)
        .get(reverse("appointments:detail", args=[appointment.pk]))
        .content.decode()
    )


def test_the_page_offers_check_in_on_the_day(client_for, later_today):
    appointment = AppointmentFactory(start=later_today(15))
    html = detail_page(client_for, appointment)
    assert ">Check in</button>" in html
    assert 'data-testid="check-in-closed"' not in html


def test_the_page_says_when_check_in_opens_instead_of_offering_it(client_for, later_today):
    appointment = AppointmentFactory(start=later_today(10, days=2))
    html = detail_page(client_for, appointment)
    assert ">Check in</button>" not in html
    assert "Check-in opens Fri 11 Dec at 00:00, on the appointment's day." in html
    assert "Reschedule" in html and "Cancel appointment" in html


def test_the_page_says_the_day_has_passed(client_for, later_today):
    appointment = AppointmentFactory(start=later_today(9, days=-1))
    html = detail_page(client_for, appointment)
    assert ">Check in</button>" not in html
    assert "The appointment's day has passed: it can no longer be checked in." in html


def test_a_check_in_posted_days_ahead_is_refused_with_the_reason(client_for, later_today):
    appointment = AppointmentFactory(start=later_today(10, days=2))
    response = client_for(Role.FRONT_DESK).post(
        reverse("appointments:check_in", args=[appointment.pk]), follow=True
    )
    assert response.status_code == 200
    assert "This appointment is on Fri 11 Dec: check in on its day." in response.content.decode()
    assert_still_booked(appointment)


def test_a_check_in_posted_after_the_day_is_refused_with_the_reason(client_for, later_today):
    appointment = AppointmentFactory(start=later_today(9, days=-1))
    response = client_for(Role.FRONT_DESK).post(
        reverse("appointments:check_in", args=[appointment.pk]), follow=True
    )
    assert "it can no longer be checked in" in response.content.decode()
    assert_still_booked(appointment)


def test_the_admin_cannot_mark_an_appointment_arrived(client_for, administrator, later_today):
    appointment = AppointmentFactory(start=later_today(10, days=2))
    client = client_for(administrator)
    url = reverse("admin:appointments_appointment_change", args=[appointment.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "status": Status.ARRIVED,
            "location": appointment.location_id,
            "notes": "",
            "status_changes-TOTAL_FORMS": "0",
            "status_changes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert_still_booked(appointment)


# --- the setting --------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["-5", "an hour", "1.5"])
def test_a_bad_early_setting_stops_start_up_naming_it(value):
    from tests.accounts.test_settings import start_django

    result = start_django(DEBUG="1", DATABASE_URL="postgresql://u@localhost/x", CHECK_IN_EARLY_MINUTES=value)
    assert result.returncode != 0
    assert "CHECK_IN_EARLY_MINUTES must be a number of minutes (0 or more), or empty." in result.stderr


@pytest.mark.parametrize(("value", "read"), [("45", "45"), ("", "None"), ("0", "0")])
def test_the_early_setting_is_read_from_the_environment(value, read):
    import os
    import subprocess
    import sys

    from tests.accounts.test_settings import ROOT

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DATABASE_URL", "MIGRATION_DATABASE_URL"}
    }
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.CHECK_IN_EARLY_MINUTES)"],
        cwd=ROOT,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "clinic.settings",
            "DEBUG": "1",
            "CHECK_IN_EARLY_MINUTES": value,
            "DATABASE_URL": "postgresql://u@localhost/x",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == read, result.stderr
