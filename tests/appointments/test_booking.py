"""book(): the rules every door (form, admin, import) goes through."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatusChange, Status, TimeOff
from appointments.services.booking import BookingError, book
from audit.models import AuditEvent
from tests.factories import FrontDeskFactory, PatientFactory, PhysioFactory

# Its outcome depends on the clock: `make test-clock` runs it at awkward instants too.
pytestmark = pytest.mark.clock


@pytest.fixture
def desk(db):
    return FrontDeskFactory()


def test_it_books_with_the_type_duration_history_and_audit(therapist, patient, follow_up, at, desk):
    appointment = book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=desk)
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED
    assert appointment.end - appointment.start == timedelta(minutes=30)
    assert appointment.booked_by == desk
    assert appointment.location.name == "Main clinic"
    history = list(AppointmentStatusChange.objects.filter(appointment=appointment))
    assert [(h.from_status, h.to_status, h.by) for h in history] == [("", Status.BOOKED, desk)]
    event = AuditEvent.objects.get(action="book", object_id=str(appointment.pk))
    assert event.patient_id == patient.pk and event.actor == desk


def test_it_refuses_end_before_start(therapist, patient, follow_up, at, desk):
    with pytest.raises(BookingError, match="end must come after the start"):
        book(patient=patient, therapist=therapist, type=follow_up, start=at(10), end=at(9), by=desk)
    with pytest.raises(BookingError, match="end must come after the start"):
        book(patient=patient, therapist=therapist, type=follow_up, start=at(10), end=at(10), by=desk)
    assert not Appointment.objects.exists()


def test_it_asks_confirmation_for_a_time_in_the_past(therapist, patient, follow_up, desk):
    yesterday = timezone.now() - timedelta(days=1)
    with pytest.raises(BookingError) as refused:
        book(patient=patient, therapist=therapist, type=follow_up, start=yesterday, by=desk)
    assert refused.value.code == "past"
    assert not Appointment.objects.exists()
    book(
        patient=patient,
        therapist=therapist,
        type=follow_up,
        start=yesterday,
        by=desk,
        confirm_past=True,
        confirm_outside_hours=True,
    )
    assert Appointment.objects.count() == 1


def test_it_asks_confirmation_outside_working_hours(therapist, patient, follow_up, at, desk):
    for start in (at(7, 30), at(15, 45), at(12, 0), at(9, day_offset=5)):
        with pytest.raises(BookingError) as refused:
            book(patient=patient, therapist=therapist, type=follow_up, start=start, by=desk)
        assert refused.value.code == "outside_hours"
    assert not Appointment.objects.exists()
    book(
        patient=patient, therapist=therapist, type=follow_up, start=at(7), by=desk, confirm_outside_hours=True
    )
    assert Appointment.objects.count() == 1


def test_time_off_counts_as_outside_working_hours(therapist, patient, follow_up, at, desk):
    TimeOff.objects.create(therapist=therapist, start=at(0), end=at(23), reason="Course")
    with pytest.raises(BookingError) as refused:
        book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=desk)
    assert refused.value.code == "outside_hours"


def test_it_refuses_an_overlap_for_the_therapist(therapist, follow_up, at, desk):
    book(patient=PatientFactory(), therapist=therapist, type=follow_up, start=at(9), by=desk)
    with pytest.raises(BookingError, match="Dana Physio already has an appointment from 09:00 to 09:30"):
        book(patient=PatientFactory(), therapist=therapist, type=follow_up, start=at(9, 15), by=desk)
    assert Appointment.objects.count() == 1


def test_it_refuses_an_overlap_for_the_patient(therapist, patient, follow_up, at, desk):
    other = PhysioFactory()
    book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=desk)
    with pytest.raises(BookingError, match="already has an appointment"):
        book(
            patient=patient, therapist=other, type=follow_up, start=at(9), by=desk, confirm_outside_hours=True
        )
    assert Appointment.objects.count() == 1


def test_back_to_back_appointments_do_not_overlap(therapist, follow_up, at, desk):
    book(patient=PatientFactory(), therapist=therapist, type=follow_up, start=at(9), by=desk)
    book(patient=PatientFactory(), therapist=therapist, type=follow_up, start=at(9, 30), by=desk)
    assert Appointment.objects.count() == 2


def test_a_cancelled_appointment_frees_its_time(therapist, patient, follow_up, at, desk):
    from appointments.services.status_changes import cancel

    first = book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=desk)
    cancel(first, by=desk, reason="Patient phoned: sick")
    book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=desk)
    assert Appointment.objects.filter(status=Status.BOOKED).count() == 1


def test_it_refuses_an_unknown_patient_or_therapist(therapist, patient, follow_up, at, desk):
    with pytest.raises(BookingError, match="registered patient"):
        book(patient=None, therapist=therapist, type=follow_up, start=at(9), by=desk)
    with pytest.raises(BookingError, match="Choose a physiotherapist"):
        book(patient=patient, therapist=None, type=follow_up, start=at(9), by=desk)
    with pytest.raises(BookingError, match="not an active physiotherapist"):
        book(patient=patient, therapist=desk, type=follow_up, start=at(9), by=desk)
    assert not Appointment.objects.exists()


def test_it_refuses_an_archived_patient(therapist, patient, follow_up, at, desk):
    patient.archived_at = timezone.now()
    patient.save()
    with pytest.raises(BookingError, match="archived"):
        book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=desk)


def test_the_database_refuses_overlaps_the_orm_skips_checks_for(therapist, follow_up, at):
    from django.db import IntegrityError, transaction

    from tests.factories import AppointmentFactory

    AppointmentFactory(therapist=therapist, start=at(9))
    with pytest.raises(IntegrityError, match="appointment_therapist_no_overlap"), transaction.atomic():
        AppointmentFactory(therapist=therapist, start=at(9, 10))
    patient = PatientFactory()
    AppointmentFactory(patient=patient, start=at(11))
    with pytest.raises(IntegrityError, match="appointment_patient_no_overlap"), transaction.atomic():
        AppointmentFactory(patient=patient, start=at(11, 29))


def test_the_database_refuses_end_before_start_and_cancel_without_reason(db, at):
    from django.db import IntegrityError, transaction

    from tests.factories import AppointmentFactory

    with pytest.raises(IntegrityError, match="appointment_end_after_start"), transaction.atomic():
        AppointmentFactory(start=at(10), end=at(9))
    with pytest.raises(IntegrityError, match="appointment_cancel_has_reason"), transaction.atomic():
        AppointmentFactory(status=Status.CANCELLED, cancel_reason="")


def test_the_database_refuses_deleting_an_appointment(db, at):
    from django.db import DatabaseError, transaction

    from tests.factories import AppointmentFactory

    appointment = AppointmentFactory(start=at(10))
    with pytest.raises(DatabaseError, match="refused"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM appointments_appointment WHERE id = %s", [appointment.pk])
    assert Appointment.objects.filter(pk=appointment.pk).exists()
