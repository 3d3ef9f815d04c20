"""A physiotherapist's hours, breaks and time off change through appointments.services.working_time: each
change is validated there (whatever door calls it) and audited against the physiotherapist."""

from datetime import time

import pytest
from django.core.exceptions import ValidationError

from appointments.models import Break, TimeOff, WorkingHours
from appointments.selectors import active_appointment_count
from appointments.services.working_time import (
    break_add,
    schedule_entry_remove,
    time_off_add,
    working_hours_add,
)
from audit.models import Action, AuditEvent
from tests.factories import AppointmentFactory, LocationFactory

pytestmark = pytest.mark.django_db


def test_it_refuses_hours_that_overlap_the_therapists_other_hours(therapist):
    before = WorkingHours.objects.count()
    with pytest.raises(ValidationError, match="These hours overlap"):
        working_hours_add(
            therapist=therapist, weekday=0, start=time(15), end=time(18), location=LocationFactory()
        )
    assert WorkingHours.objects.count() == before


def test_it_refuses_a_break_outside_its_working_hours(therapist):
    hours = WorkingHours.objects.filter(therapist=therapist).first()
    with pytest.raises(ValidationError, match="inside its working hours"):
        break_add(working_hours=hours, start=time(7), end=time(7, 30))
    assert not Break.objects.filter(working_hours=hours, start=time(7)).exists()


def test_each_addition_and_removal_is_audited_against_the_therapist(physio, at):
    hours = working_hours_add(
        therapist=physio, weekday=2, start=time(9), end=time(17), location=LocationFactory()
    )
    lunch = break_add(working_hours=hours, start=time(12), end=time(12, 45), label="Lunch")
    leave = time_off_add(therapist=physio, start=at(0), end=at(23), reason="Course")
    schedule_entry_remove(therapist=physio, entry=leave, what="time off")
    assert not TimeOff.objects.filter(pk=leave.pk).exists()
    details = list(
        AuditEvent.objects.filter(action=Action.UPDATE, object_type="accounts.user", object_id=str(physio.pk))
        .order_by("pk")
        .values_list("detail", flat=True)
    )
    assert details == [
        f"added {hours}",
        f"added {lunch}",
        f"added {leave}",
        f"removed time off {leave}",
    ]


def test_it_counts_the_active_appointments_a_time_off_leaves_to_reschedule(therapist, at):
    AppointmentFactory(therapist=therapist, start=at(9))
    AppointmentFactory(therapist=therapist, start=at(10), status="cancelled", cancel_reason="Flu")
    assert active_appointment_count(therapist=therapist, start=at(0), end=at(23)) == 1
