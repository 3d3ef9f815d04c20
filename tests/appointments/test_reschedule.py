"""Rescheduling offers "find next available" as booking does, and the status history says "Rescheduled from
... to ..." rather than "Booked -> Booked" (issue 14)."""

import pytest
from django.urls import reverse

from accounts.models import Role
from appointments.models import AppointmentStatusChange
from appointments.services.booking import reschedule
from tests.factories import AppointmentFactory, FrontDeskFactory, PhysioFactory, WorkingHoursFactory

# "Next available" starts from now: the clock is pinned (`desk_morning`, Wednesday 9 December 2026 09:30).
pytestmark = pytest.mark.clock


def test_the_history_says_rescheduled_from_and_to(client_for, later_today, therapist, follow_up):
    appointment = AppointmentFactory(therapist=therapist, type=follow_up, start=later_today(10, days=5))
    reschedule(appointment, start=later_today(14, days=5), by=FrontDeskFactory())
    html = (
        client_for(Role.FRONT_DESK)
        .get(reverse("appointments:detail", args=[appointment.pk]))
        .content.decode()
    )
    assert "Rescheduled from 2026-12-14 10:00 to 2026-12-14 14:00" in html
    assert "Booked → Booked" not in html


def test_a_move_to_another_physiotherapist_names_them(later_today, therapist, follow_up):
    other = PhysioFactory(full_name="Omar Other")
    WorkingHoursFactory(therapist=other, weekday=0, location=therapist.working_hours.first().location)
    appointment = AppointmentFactory(therapist=therapist, type=follow_up, start=later_today(10, days=5))
    reschedule(appointment, start=later_today(11, days=5), therapist=other, by=FrontDeskFactory())
    change = AppointmentStatusChange.objects.get(appointment=appointment)
    assert change.is_reschedule
    assert change.note == "rescheduled from 2026-12-14 10:00 to 2026-12-14 11:00, now with Omar Other"


def test_a_status_change_is_not_a_reschedule(db, later_today):
    appointment = AppointmentFactory(start=later_today(11))
    change = AppointmentStatusChange.objects.create(
        appointment=appointment, from_status="booked", to_status="arrived", note="checked in"
    )
    assert not change.is_reschedule


def test_the_reschedule_page_offers_next_available(later_today, client_for, therapist, follow_up):
    appointment = AppointmentFactory(therapist=therapist, type=follow_up, start=later_today(14))
    html = (
        client_for(Role.FRONT_DESK)
        .get(reverse("appointments:reschedule", args=[appointment.pk]))
        .content.decode()
    )
    assert "Find next available" in html
    assert f'name="appointment" value="{appointment.pk}"' in html
    assert f'name="type" value="{follow_up.pk}"' in html


def test_next_available_for_a_move_links_back_to_the_reschedule_form(
    later_today, client_for, therapist, follow_up
):
    # The appointment holds 09:45, the first start on the grid after now (09:30 and a few seconds): its own
    # time is free to it, so the first offer is 09:45 itself.
    appointment = AppointmentFactory(therapist=therapist, type=follow_up, start=later_today(9, 45))
    client = client_for(Role.FRONT_DESK)
    html = client.get(
        reverse("appointments:next_available"),
        {
            "type": follow_up.pk,
            "therapist": therapist.pk,
            "patient": appointment.patient_id,
            "appointment": appointment.pk,
        },
    ).content.decode()
    move = reverse("appointments:reschedule", args=[appointment.pk])
    first = f"{move}?therapist={therapist.pk}&amp;start=2026-12-09T09%3A45"
    assert first in html
    assert reverse("appointments:book") not in html
    # Without the appointment (booking another visit for the patient), 09:30 is taken.
    html = client.get(
        reverse("appointments:next_available"),
        {"type": follow_up.pk, "therapist": therapist.pk, "patient": appointment.patient_id},
    ).content.decode()
    assert "start=2026-12-09T09%3A45" not in html and "start=2026-12-09T10%3A15" in html


def test_a_next_available_link_fills_the_reschedule_form(later_today, client_for, therapist, follow_up):
    appointment = AppointmentFactory(therapist=therapist, type=follow_up, start=later_today(14))
    html = (
        client_for(Role.FRONT_DESK)
        .get(
            reverse("appointments:reschedule", args=[appointment.pk]),
            {"therapist": therapist.pk, "start": "2026-12-10T08:15"},
        )
        .content.decode()
    )
    assert 'value="2026-12-10"' in html and 'value="08:15"' in html


def test_the_form_moves_it_and_says_where(later_today, client_for, therapist, follow_up):
    appointment = AppointmentFactory(therapist=therapist, type=follow_up, start=later_today(14))
    response = client_for(Role.FRONT_DESK).post(
        reverse("appointments:reschedule", args=[appointment.pk]),
        {"therapist": therapist.pk, "date": "2026-12-10", "time": "08:15"},
        follow=True,
    )
    assert "Rescheduled to Thu 10 Dec at 08:15." in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.start == later_today(8, 15, days=1)
