"""Each booking, move, status change and schedule edit commits with its audit event or not at all: when
the audit trail refuses the event, the change is not saved either."""

import pytest
from django.db import DatabaseError
from django.urls import reverse

from accounts.models import Role
from appointments.models import Appointment, AppointmentStatusChange, Location, Status, TimeOff, WorkingHours
from appointments.services.booking import book, reschedule
from appointments.services.status_changes import check_in, undo_check_in
from audit.models import AuditEvent
from tests.audit.refusal import audit_refused
from tests.factories import AppointmentFactory, FrontDeskFactory, LocationFactory

pytestmark = pytest.mark.django_db

UNAVAILABLE = "audit trail unavailable"


@pytest.fixture
def desk(db):
    return FrontDeskFactory()


def test_a_booking_is_not_saved_without_its_audit_event(therapist, patient, follow_up, at, desk):
    with audit_refused(), pytest.raises(DatabaseError, match=UNAVAILABLE):
        book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=desk)
    assert not Appointment.objects.exists()
    assert not AppointmentStatusChange.objects.exists()


def test_a_move_is_not_saved_without_its_audit_event(therapist, patient, follow_up, at, desk):
    appointment = book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=desk)
    with audit_refused(), pytest.raises(DatabaseError, match=UNAVAILABLE):
        reschedule(appointment, start=at(10), by=desk)
    appointment.refresh_from_db()
    assert (appointment.start, appointment.sequence) == (at(9), 0)
    assert AppointmentStatusChange.objects.filter(appointment=appointment).count() == 1


@pytest.mark.clock
def test_a_check_in_is_not_saved_without_its_audit_event(desk, later_today):
    appointment = AppointmentFactory(start=later_today(11))
    with audit_refused(), pytest.raises(DatabaseError, match=UNAVAILABLE):
        check_in(appointment, by=desk)
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED
    assert not AuditEvent.objects.filter(action="check_in").exists()


@pytest.mark.clock
def test_an_undone_check_in_is_not_saved_without_its_audit_event(desk, later_today):
    appointment = AppointmentFactory(start=later_today(11))
    check_in(appointment, by=desk)
    with audit_refused(), pytest.raises(DatabaseError, match=UNAVAILABLE):
        undo_check_in(appointment, by=desk, reason="wrong patient")
    appointment.refresh_from_db()
    assert appointment.status == Status.ARRIVED
    assert AppointmentStatusChange.objects.filter(appointment=appointment).count() == 1


def test_schedule_edits_are_not_saved_without_their_audit_events(client_for, physio):
    client = client_for(Role.MANAGER)
    url = reverse("appointments:therapist_schedule", args=[physio.pk])
    hours = {
        "kind": "hours",
        "hours-weekday": "2",
        "hours-start": "09:00",
        "hours-end": "17:00",
        "hours-location": LocationFactory().pk,
    }
    with audit_refused(), pytest.raises(DatabaseError, match=UNAVAILABLE):
        client.post(url, hours)
    assert not WorkingHours.objects.exists()

    leave = TimeOff.objects.create(
        therapist=physio, start="2030-01-01T00:00Z", end="2030-01-08T00:00Z", reason="Holiday"
    )
    with audit_refused(), pytest.raises(DatabaseError, match=UNAVAILABLE):
        client.post(url, {"kind": "remove_time_off", "id": leave.pk})
    assert TimeOff.objects.filter(pk=leave.pk).exists()


def test_a_delete_selected_in_the_admin_is_not_done_without_its_audit_events(client_for):
    """The admin's "delete selected" action runs outside the admin's own transaction."""
    client = client_for(Role.ADMIN)
    places = [LocationFactory(name="North clinic"), LocationFactory(name="South clinic")]
    action = {"action": "delete_selected", "_selected_action": [p.pk for p in places], "post": "yes"}
    with audit_refused(), pytest.raises(DatabaseError, match=UNAVAILABLE):
        client.post(reverse("admin:appointments_location_changelist"), action)
    assert Location.objects.filter(pk__in=[p.pk for p in places]).count() == 2
    client.post(reverse("admin:appointments_location_changelist"), action)
    assert not Location.objects.filter(pk__in=[p.pk for p in places]).exists()
    assert (
        AuditEvent.objects.filter(object_type="appointments.location", detail__startswith="deleted").count()
        == 2
    )
