"""Check-in, cancel, no-show and reschedule through the appointment page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from appointments.models import Status
from tests.factories import AppointmentFactory

# Its outcome depends on the clock: `make test-clock` runs it at awkward instants too.
pytestmark = pytest.mark.clock


@pytest.fixture
def desk_client(client_for):
    return client_for(Role.FRONT_DESK)


def test_the_page_shows_actions_and_history(later_today, desk_client):
    appointment = AppointmentFactory(start=later_today(11))
    html = desk_client.get(reverse("appointments:detail", args=[appointment.pk])).content.decode()
    assert "Check in" in html and "Cancel appointment" in html and "Reschedule" in html


def test_a_physio_sees_the_page_without_actions(client_for, db):
    appointment = AppointmentFactory()
    html = client_for(Role.PHYSIO).get(reverse("appointments:detail", args=[appointment.pk])).content.decode()
    assert "Check in" not in html


def test_check_in(later_today, desk_client):
    appointment = AppointmentFactory(start=later_today(11))
    response = desk_client.post(reverse("appointments:check_in", args=[appointment.pk]), follow=True)
    assert "checked in" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Status.ARRIVED


def test_check_in_of_a_cancelled_appointment_shows_why_not(desk_client, db):
    appointment = AppointmentFactory(status=Status.CANCELLED, cancel_reason="sick")
    response = desk_client.post(reverse("appointments:check_in", args=[appointment.pk]), follow=True)
    assert "This appointment is cancelled; it cannot be checked in." in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED


def test_cancel_without_a_reason_is_refused(desk_client, db):
    appointment = AppointmentFactory()
    response = desk_client.post(
        reverse("appointments:cancel", args=[appointment.pk]), {"reason": ""}, follow=True
    )
    assert "Give a reason for the cancellation." in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED


def test_cancel_with_a_reason(desk_client, db):
    appointment = AppointmentFactory()
    desk_client.post(
        reverse("appointments:cancel", args=[appointment.pk]), {"reason": "Clinic closed (snow)"}
    )
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancel_reason) == (Status.CANCELLED, "Clinic closed (snow)")


def test_no_show_before_the_start_is_refused(desk_client, db):
    appointment = AppointmentFactory()
    response = desk_client.post(reverse("appointments:no_show", args=[appointment.pk]), follow=True)
    assert "has not started yet" in response.content.decode()


def test_no_show(desk_client, db):
    appointment = AppointmentFactory(start=timezone.now() - timedelta(hours=1))
    desk_client.post(reverse("appointments:no_show", args=[appointment.pk]))
    appointment.refresh_from_db()
    assert appointment.status == Status.NO_SHOW


def test_actions_refuse_get_and_other_roles(client_for, db):
    appointment = AppointmentFactory()
    assert (
        client_for(Role.FRONT_DESK).get(reverse("appointments:check_in", args=[appointment.pk])).status_code
        == 405
    )
    for role in (Role.PHYSIO, Role.MANAGER):
        assert (
            client_for(role).post(reverse("appointments:check_in", args=[appointment.pk])).status_code == 403
        )
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED


def test_reschedule_form(desk_client, therapist, at, monday):
    appointment = AppointmentFactory(therapist=therapist, start=at(9))
    response = desk_client.post(
        reverse("appointments:reschedule", args=[appointment.pk]),
        {"therapist": therapist.pk, "date": monday.isoformat(), "time": "13:00"},
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert (appointment.start, appointment.end) == (at(13), at(13, 30))


def test_reschedule_onto_a_busy_time_shows_the_message(desk_client, therapist, at, monday):
    AppointmentFactory(therapist=therapist, start=at(13))
    appointment = AppointmentFactory(therapist=therapist, start=at(9))
    response = desk_client.post(
        reverse("appointments:reschedule", args=[appointment.pk]),
        {"therapist": therapist.pk, "date": monday.isoformat(), "time": "13:00"},
    )
    assert "already has an appointment" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.start == at(9)


def test_check_in_returns_to_a_local_page_only(later_today, desk_client):
    first, second = AppointmentFactory(start=later_today(11)), AppointmentFactory(start=later_today(12))
    response = desk_client.post(reverse("appointments:check_in", args=[first.pk]), {"next": "/"})
    assert response["Location"] == "/"
    response = desk_client.post(
        reverse("appointments:check_in", args=[second.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("appointments:detail", args=[second.pk])
