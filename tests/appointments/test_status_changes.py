"""Check-in, cancel, no-show, start and complete: one door (change_status) with its history and audit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatusChange, Status
from appointments.selectors import next_appointment
from appointments.services.booking import BookingError, reschedule
from appointments.services.status_changes import cancel, check_in, complete, mark_in_treatment, mark_no_show
from audit.models import AuditEvent
from tests.factories import AppointmentFactory, FrontDeskFactory, PatientFactory


@pytest.fixture
def desk(db):
    return FrontDeskFactory()


def history(appointment):
    return list(
        AppointmentStatusChange.objects.filter(appointment=appointment).values_list(
            "from_status", "to_status"
        )
    )


@pytest.mark.clock
def test_check_in_marks_arrived_with_history_and_audit(desk, later_today):
    appointment = AppointmentFactory(start=later_today(11))
    check_in(appointment, by=desk)
    appointment.refresh_from_db()
    assert appointment.status == Status.ARRIVED
    assert history(appointment) == [("booked", "arrived")]
    assert AuditEvent.objects.filter(action="check_in", object_id=str(appointment.pk), actor=desk).exists()


def test_check_in_of_a_cancelled_appointment_is_refused(desk):
    appointment = AppointmentFactory(status=Status.CANCELLED, cancel_reason="Sick")
    with pytest.raises(BookingError, match="This appointment is cancelled; it cannot be checked in"):
        check_in(appointment, by=desk)
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
    assert history(appointment) == []


def test_cancel_needs_a_reason(desk):
    appointment = AppointmentFactory()
    for reason in ("", "   ", None):
        with pytest.raises(BookingError, match="Give a reason"):
            cancel(appointment, by=desk, reason=reason)
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED


def test_cancel_keeps_the_reason(desk):
    appointment = AppointmentFactory()
    cancel(appointment, by=desk, reason="  Patient   has the flu ")
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
    assert appointment.cancel_reason == "Patient has the flu"
    assert AuditEvent.objects.filter(action="cancel", object_id=str(appointment.pk)).exists()


def test_no_show_is_refused_before_the_appointment_starts(desk):
    appointment = AppointmentFactory()
    with pytest.raises(BookingError, match="not started yet"):
        mark_no_show(appointment, by=desk)


def test_no_show_after_the_start(desk):
    start = timezone.now() - timedelta(minutes=20)
    appointment = AppointmentFactory(start=start)
    mark_no_show(appointment, by=desk)
    appointment.refresh_from_db()
    assert appointment.status == Status.NO_SHOW
    assert AuditEvent.objects.filter(action="no_show", object_id=str(appointment.pk)).exists()


def test_start_and_complete_a_session(physio):
    appointment = AppointmentFactory(therapist=physio, status=Status.ARRIVED)
    mark_in_treatment(appointment, by=physio)
    mark_in_treatment(appointment, by=physio)  # idempotent
    complete(appointment, by=physio)
    complete(appointment, by=physio)  # idempotent
    appointment.refresh_from_db()
    assert appointment.status == Status.COMPLETED
    assert history(appointment) == [("arrived", "in_treatment"), ("in_treatment", "completed")]


def test_starting_without_check_in_is_allowed_and_recorded(physio):
    appointment = AppointmentFactory(therapist=physio)
    mark_in_treatment(appointment, by=physio)
    change = AppointmentStatusChange.objects.get(appointment=appointment)
    assert (change.from_status, change.to_status, change.note) == (
        "booked",
        "in_treatment",
        "session started without check-in",
    )


def test_a_completed_or_cancelled_appointment_cannot_start(physio):
    for status, extra in (
        (Status.COMPLETED, {}),
        (Status.CANCELLED, {"cancel_reason": "x"}),
        (Status.NO_SHOW, {}),
    ):
        appointment = AppointmentFactory(therapist=physio, status=status, **extra)
        with pytest.raises(BookingError):
            mark_in_treatment(appointment, by=physio)
        assert Appointment.objects.get(pk=appointment.pk).status == status


@pytest.mark.clock
def test_the_status_history_cannot_be_rewritten(desk, later_today):
    from django.db import DatabaseError, transaction

    appointment = AppointmentFactory(start=later_today(11))
    check_in(appointment, by=desk)
    change = AppointmentStatusChange.objects.get(appointment=appointment)
    change.note = "rewritten"
    with pytest.raises(DatabaseError, match="refused"), transaction.atomic():
        change.save()


def test_next_appointment_skips_past_and_cancelled(db):
    patient = PatientFactory()
    now = timezone.now()
    AppointmentFactory(patient=patient, start=now - timedelta(days=2))
    AppointmentFactory(
        patient=patient, start=now + timedelta(days=1), status=Status.CANCELLED, cancel_reason="x"
    )
    wanted = AppointmentFactory(patient=patient, start=now + timedelta(days=3))
    AppointmentFactory(patient=patient, start=now + timedelta(days=5))
    assert next_appointment(patient) == wanted
    assert next_appointment(patient, after=now + timedelta(days=10)) is None


def test_reschedule_moves_and_keeps_history(therapist, follow_up, at, desk):
    appointment = AppointmentFactory(therapist=therapist, type=follow_up, start=at(9))
    reschedule(appointment, start=at(14), by=desk)
    appointment.refresh_from_db()
    assert (appointment.start, appointment.end) == (at(14), at(14, 30))
    change = AppointmentStatusChange.objects.get(appointment=appointment)
    assert change.note.startswith("rescheduled from")
    assert AuditEvent.objects.filter(action="reschedule", object_id=str(appointment.pk)).exists()


def test_reschedule_onto_a_taken_time_is_refused(therapist, follow_up, at, desk):
    AppointmentFactory(therapist=therapist, type=follow_up, start=at(14))
    appointment = AppointmentFactory(therapist=therapist, type=follow_up, start=at(9))
    with pytest.raises(BookingError, match="already has an appointment"):
        reschedule(appointment, start=at(14, 15), by=desk)
    appointment.refresh_from_db()
    assert appointment.start == at(9)


def test_reschedule_of_an_arrived_appointment_is_refused(therapist, at, desk):
    appointment = AppointmentFactory(therapist=therapist, start=at(9), status=Status.ARRIVED)
    with pytest.raises(BookingError, match="cannot be rescheduled"):
        reschedule(appointment, start=at(10), by=desk)
