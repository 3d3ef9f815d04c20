"""Schedule settings: the manager (and administrator) edit working hours, breaks and time off."""

import pytest
from django.urls import reverse

from accounts.models import Role
from appointments.models import Break, TimeOff, WorkingHours
from tests.factories import LocationFactory


@pytest.mark.parametrize(
    "role,status", [(Role.MANAGER, 200), (Role.ADMIN, 200), (Role.FRONT_DESK, 403), (Role.PHYSIO, 403)]
)
def test_who_may_edit_schedules(client_for, therapist, role, status):
    assert (
        client_for(role).get(reverse("appointments:therapist_schedule", args=[therapist.pk])).status_code
        == status
    )


def test_manager_adds_hours_break_and_time_off(client_for, physio):
    client = client_for(Role.MANAGER)
    url = reverse("appointments:therapist_schedule", args=[physio.pk])
    location = LocationFactory()
    response = client.post(
        url,
        {
            "kind": "hours",
            "hours-weekday": "2",
            "hours-start": "09:00",
            "hours-end": "17:00",
            "hours-location": location.pk,
        },
    )
    assert response.status_code == 302
    block = WorkingHours.objects.get(therapist=physio)
    client.post(
        url,
        {
            "kind": "break",
            "break-working_hours": block.pk,
            "break-start": "12:00",
            "break-end": "12:45",
            "break-label": "Lunch",
        },
    )
    assert Break.objects.filter(working_hours=block).count() == 1
    client.post(
        url,
        {
            "kind": "time_off",
            "time_off-start": "2030-01-01T00:00",
            "time_off-end": "2030-01-08T00:00",
            "time_off-reason": "Holiday",
        },
    )
    assert TimeOff.objects.filter(therapist=physio).count() == 1
    html = client.get(reverse("appointments:schedules")).content.decode()
    assert "Wed 09:00–17:00" in html


def test_bad_hours_are_refused_with_a_message(client_for, therapist):
    client = client_for(Role.MANAGER)
    url = reverse("appointments:therapist_schedule", args=[therapist.pk])
    location = LocationFactory()
    before = WorkingHours.objects.count()
    response = client.post(
        url,
        {
            "kind": "hours",
            "hours-weekday": "6",
            "hours-start": "17:00",
            "hours-end": "09:00",
            "hours-location": location.pk,
        },
    )
    assert "The end must come after the start." in response.content.decode()
    response = client.post(
        url,
        {
            "kind": "hours",
            "hours-weekday": "0",
            "hours-start": "15:00",
            "hours-end": "18:00",
            "hours-location": location.pk,
        },
    )
    assert "These hours overlap" in response.content.decode()
    block = WorkingHours.objects.filter(therapist=therapist).first()
    response = client.post(
        url, {"kind": "break", "break-working_hours": block.pk, "break-start": "07:00", "break-end": "07:30"}
    )
    assert "inside its working hours" in response.content.decode()
    assert WorkingHours.objects.count() == before


def test_time_off_over_bookings_warns(client_for, therapist, at):
    from tests.factories import AppointmentFactory

    AppointmentFactory(therapist=therapist, start=at(9))
    client = client_for(Role.MANAGER)
    url = reverse("appointments:therapist_schedule", args=[therapist.pk])
    response = client.post(
        url,
        {
            "kind": "time_off",
            "time_off-start": at(0).strftime("%Y-%m-%dT%H:%M"),
            "time_off-end": at(23).strftime("%Y-%m-%dT%H:%M"),
            "time_off-reason": "Sick",
        },
        follow=True,
    )
    assert "1 appointment(s) are booked in this time off" in response.content.decode()


def test_admin_schedule_changes_are_audited(client_for, administrator):
    from audit.models import AuditEvent

    client = client_for(administrator)
    response = client.post(reverse("admin:appointments_location_add"), {"name": "Kitsilano", "address": ""})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(object_type="appointments.location", action="create").exists()
