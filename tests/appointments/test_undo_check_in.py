"""The desk takes back a check-in made by mistake, with the reason: arrived goes back to what it was (booked
or confirmed), the reason in the status history and the audit trail (issue 14). Nothing else is undone."""

import pytest
from django.urls import reverse

from accounts.models import Role
from appointments.models import AppointmentStatusChange, Status
from appointments.services.booking import BookingError
from appointments.services.status_changes import check_in, confirm, undo_check_in
from audit.models import AuditEvent
from tests.factories import AppointmentFactory, FrontDeskFactory

# Check-in depends on the day: the clock is pinned (`desk_morning`, Wednesday 9 December 2026 09:30).
pytestmark = pytest.mark.clock


@pytest.fixture
def desk(db):
    return FrontDeskFactory()


@pytest.fixture
def arrived(desk, later_today):
    appointment = AppointmentFactory(start=later_today(11))
    check_in(appointment, by=desk)
    return appointment


def steps(appointment):
    return list(
        AppointmentStatusChange.objects.filter(appointment=appointment).values_list(
            "from_status", "to_status", "note"
        )
    )


def test_undo_goes_back_to_booked_with_the_reason_in_history_and_audit(desk, arrived):
    undo_check_in(arrived, by=desk, reason="  Wrong   patient ")
    arrived.refresh_from_db()
    assert arrived.status == Status.BOOKED
    assert steps(arrived) == [
        ("booked", "arrived", "checked in"),
        ("arrived", "booked", "check-in undone: Wrong patient"),
    ]
    event = AuditEvent.objects.get(action="status", object_id=str(arrived.pk))
    assert event.actor == desk and event.detail == "arrived -> booked: check-in undone: Wrong patient"


def test_undo_goes_back_to_confirmed_when_the_patient_had_confirmed(desk, later_today):
    appointment = AppointmentFactory(start=later_today(11))
    confirm(appointment, by=desk)
    check_in(appointment, by=desk)
    undo_check_in(appointment, by=desk, reason="checked in the wrong Smith")
    appointment.refresh_from_db()
    assert appointment.status == Status.CONFIRMED


def test_an_undone_check_in_can_be_checked_in_again(desk, arrived):
    undo_check_in(arrived, by=desk, reason="too soon")
    check_in(arrived, by=desk)
    arrived.refresh_from_db()
    assert arrived.status == Status.ARRIVED


def test_undo_without_a_reason_is_refused(desk, arrived):
    for reason in ("", "   ", None):
        with pytest.raises(BookingError, match="Give a reason for undoing the check-in."):
            undo_check_in(arrived, by=desk, reason=reason)
    arrived.refresh_from_db()
    assert arrived.status == Status.ARRIVED
    assert len(steps(arrived)) == 1


@pytest.mark.parametrize(
    ("status", "extra"),
    [
        (Status.BOOKED, {}),
        (Status.CONFIRMED, {}),
        (Status.IN_TREATMENT, {}),
        (Status.COMPLETED, {}),
        (Status.CANCELLED, {"cancel_reason": "sick"}),
        (Status.NO_SHOW, {}),
    ],
)
def test_undo_of_an_appointment_not_arrived_is_refused(desk, later_today, status, extra):
    appointment = AppointmentFactory(start=later_today(11), status=status, **extra)
    with pytest.raises(BookingError, match="not arrived: there is no check-in to undo"):
        undo_check_in(appointment, by=desk, reason="mistake")
    appointment.refresh_from_db()
    assert appointment.status == status
    assert steps(appointment) == []


# --- the page -----------------------------------------------------------------------------------------
def test_the_page_offers_undo_for_an_arrived_appointment_only(client_for, arrived, later_today):
    client = client_for(Role.FRONT_DESK)
    html = client.get(reverse("appointments:detail", args=[arrived.pk])).content.decode()
    assert "Undo check-in" in html and 'data-testid="undo-check-in"' in html
    booked = AppointmentFactory(start=later_today(12))
    assert (
        "Undo check-in" not in client.get(reverse("appointments:detail", args=[booked.pk])).content.decode()
    )
    physio_html = (
        client_for(Role.PHYSIO).get(reverse("appointments:detail", args=[arrived.pk])).content.decode()
    )
    assert "Undo check-in" not in physio_html


def test_undo_on_the_page(client_for, arrived):
    response = client_for(Role.FRONT_DESK).post(
        reverse("appointments:undo_check_in", args=[arrived.pk]), {"reason": "wrong patient"}, follow=True
    )
    html = response.content.decode()
    assert "Check-in undone:" in html and "is expected again." in html
    assert "Arrived → Booked (check-in undone: wrong patient)" in html
    arrived.refresh_from_db()
    assert arrived.status == Status.BOOKED


def test_undo_on_the_page_without_a_reason_is_refused(client_for, arrived):
    response = client_for(Role.FRONT_DESK).post(
        reverse("appointments:undo_check_in", args=[arrived.pk]), {"reason": "  "}, follow=True
    )
    assert "Give a reason for undoing the check-in." in response.content.decode()
    arrived.refresh_from_db()
    assert arrived.status == Status.ARRIVED


def test_undo_on_the_page_of_an_appointment_not_arrived_shows_why_not(client_for, later_today):
    appointment = AppointmentFactory(start=later_today(11))
    response = client_for(Role.FRONT_DESK).post(
        reverse("appointments:undo_check_in", args=[appointment.pk]), {"reason": "mistake"}, follow=True
    )
    assert (
        "This appointment is booked, not arrived: there is no check-in to undo." in response.content.decode()
    )
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED


def test_undo_refuses_get_and_other_roles(client_for, arrived):
    url = reverse("appointments:undo_check_in", args=[arrived.pk])
    assert client_for(Role.FRONT_DESK).get(url).status_code == 405
    for role in (Role.PHYSIO, Role.MANAGER):
        assert client_for(role).post(url, {"reason": "mistake"}).status_code == 403
    arrived.refresh_from_db()
    assert arrived.status == Status.ARRIVED
