"""Rule 4 of DESIGN.md: only authorised clinicians (authorisation on file and current) create needling
sessions or are booked for needling appointment types; the database refuses a session started by anyone
else.

Starting a session: every door (service, admin, direct model save), audited. Its tests are marked `clock`:
their outcome depends on the clock, so `make test-clock` runs them at awkward instants too.

The right person in the right slot (issue 11, part 4): an appointment type says whether it includes
needling, and a needling type is booked and offered only with a physiotherapist authorised to needle on
that day. The reproduction: booking the intern for an IMS visit.
"""

from datetime import date, time

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Role
from appointments.models import Appointment, Break
from appointments.selectors import available_slots
from appointments.services.booking import BookingError, book, reschedule
from audit.models import Action, AuditEvent
from tests.appointments.test_admin import admin_data, local
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    LocationFactory,
    PatientFactory,
    PhysioFactory,
    WorkingHoursFactory,
)
from treatments.models import NeedlingSession
from treatments.services import start_session

pytestmark = pytest.mark.django_db


# Starting a needling session.


@pytest.mark.clock
def test_an_authorised_clinician_starts_a_draft_and_it_is_audited(clinician, patient):
    session = start_session(patient=patient, clinician=clinician)
    assert session.signed_at is None and session.version == 1
    assert AuditEvent.objects.filter(
        action=Action.CREATE, object_id=str(session.pk), patient_id=patient.pk
    ).exists()


@pytest.mark.clock
def test_a_clinician_without_authorisation_is_refused_by_name(patient):
    intern = PhysioFactory(full_name="Sam Lee", clinician_profile__needling_authorised_on=None)
    with pytest.raises(ValidationError, match="Sam Lee has no current needling authorisation"):
        start_session(patient=patient, clinician=intern)
    assert not NeedlingSession.objects.exists()


@pytest.mark.clock
def test_an_expired_authorisation_is_refused(patient):
    lapsed = PhysioFactory(
        clinician_profile__needling_authorised_on=date(2019, 1, 1),
        clinician_profile__needling_authorisation_expires=date(2020, 1, 1),
    )
    with pytest.raises(ValidationError, match="no current needling authorisation"):
        start_session(patient=patient, clinician=lapsed)


@pytest.mark.clock
def test_a_physiotherapist_with_no_profile_is_refused(patient):
    from tests.factories import UserFactory

    with pytest.raises(ValidationError, match="no current needling authorisation"):
        start_session(patient=patient, clinician=UserFactory(role="physiotherapist"))


@pytest.mark.clock
def test_an_archived_patient_is_refused(clinician):
    from django.utils import timezone

    archived = PatientFactory(archived_at=timezone.now())
    with pytest.raises(ValidationError, match="archived"):
        start_session(patient=archived, clinician=clinician)


@pytest.mark.clock
def test_the_admin_starts_no_session_at_all(client_for, patient):
    intern = PhysioFactory(full_name="Sam Lee", clinician_profile__needling_authorised_on=None)
    client = client_for("administrator")
    response = client.post(
        "/admin/treatments/needlingsession/add/",
        {
            "patient": patient.pk,
            "clinician": intern.pk,
            "started_at_0": "2026-11-25",
            "started_at_1": "10:00",
        },
    )
    assert response.status_code == 403
    assert not NeedlingSession.objects.exists()


@pytest.mark.clock
def test_a_direct_model_save_by_an_unauthorised_clinician_is_refused_by_the_database(patient):
    from django.db import IntegrityError, transaction

    intern = PhysioFactory(full_name="Sam Lee", clinician_profile__needling_authorised_on=None)
    with pytest.raises(IntegrityError, match="has no needling authorisation on file"), transaction.atomic():
        NeedlingSession.objects.create(patient=patient, clinician=intern, updated_by=intern)
    assert not NeedlingSession.objects.exists()


@pytest.mark.clock
def test_a_refused_start_is_audited(patient):
    intern = PhysioFactory(full_name="Sam Lee", clinician_profile__needling_authorised_on=None)
    with pytest.raises(ValidationError):
        start_session(patient=patient, clinician=intern)
    refused = AuditEvent.objects.get(action=Action.PERMISSION_DENIED, actor=intern)
    assert refused.patient_id == patient.pk
    assert "start a needling session" in refused.detail and "Sam Lee" in refused.detail


@pytest.mark.clock
def test_starting_twice_opens_the_same_draft(clinician, patient):
    first = start_session(patient=patient, clinician=clinician)
    assert start_session(patient=patient, clinician=clinician) == first
    assert NeedlingSession.objects.count() == 1


@pytest.mark.clock
def test_two_clicks_on_start_a_session_open_one_draft(client, clinician, patient):
    """Issue 11, part 4: two clicks made two drafts for the same visit."""
    from django.urls import reverse

    client.force_login(clinician)
    first = client.post(reverse("treatments:start", args=[patient.pk]))
    second = client.post(reverse("treatments:start", args=[patient.pk]))
    assert first["Location"] == second["Location"]
    assert NeedlingSession.objects.filter(patient=patient).count() == 1


@pytest.mark.clock
def test_starting_from_the_appointment_opens_the_draft_begun_on_the_chart(clinician, patient):
    from tests.factories import AppointmentFactory
    from treatments.services import start_session_from_appointment

    draft = start_session(patient=patient, clinician=clinician)
    appointment = AppointmentFactory(patient=patient, therapist=clinician, status="arrived")
    assert start_session_from_appointment(appointment, by=clinician) == draft
    draft.refresh_from_db()
    assert draft.appointment == appointment and NeedlingSession.objects.count() == 1


# Booking a needling appointment type.


@pytest.fixture
def intern(db):
    """A physiotherapist without needling authorisation, working Monday to Friday like Dana."""
    person = PhysioFactory(full_name="Sam Lee (intern)", clinician_profile__needling_authorised_on=None)
    location = LocationFactory()
    for weekday in range(5):
        hours = WorkingHoursFactory(therapist=person, weekday=weekday, location=location)
        Break.objects.create(working_hours=hours, start=time(12, 0), end=time(12, 30), label="Lunch")
    return person


@pytest.fixture
def exercise_class(db):
    return AppointmentTypeFactory(name="Exercise review", default_minutes=30, needling=False)


def test_booking_the_intern_for_a_needling_type_is_refused_naming_them(
    intern, follow_up, patient, at, front_desk
):
    assert follow_up.needling
    with pytest.raises(
        BookingError, match=r"Sam Lee \(intern\) has no needling authorisation on file"
    ) as refused:
        book(patient=patient, therapist=intern, type=follow_up, start=at(9), by=front_desk)
    assert refused.value.code == "not_authorised"
    assert not Appointment.objects.exists()


def test_the_booking_form_refuses_it_with_the_message(client_for, intern, follow_up, patient, monday):
    response = client_for(Role.FRONT_DESK).post(
        reverse("appointments:book"),
        {"patient": patient.pk, "therapist": intern.pk, "type": follow_up.pk, "date": monday.isoformat(),
         "time": "09:00"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "has no needling authorisation on file" in response.content.decode()
    assert not Appointment.objects.exists()


def test_the_admin_refuses_it_too(client_for, administrator, intern, follow_up, at):
    response = client_for(administrator).post(
        reverse("admin:appointments_appointment_add"),
        admin_data(PatientFactory(), intern, follow_up, local(at(9)), local(at(9, 30))),
    )
    assert response.status_code == 200
    assert "has no needling authorisation on file" in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_type_without_needling_is_booked_with_the_intern(intern, exercise_class, patient, at, front_desk):
    appointment = book(patient=patient, therapist=intern, type=exercise_class, start=at(9), by=front_desk)
    assert appointment.therapist == intern


def test_an_authorisation_that_lapses_before_the_day_is_refused(
    therapist, follow_up, patient, at, front_desk
):
    profile = therapist.clinician_profile
    profile.needling_authorisation_expires = date(2021, 1, 1)
    profile.save()
    with pytest.raises(BookingError, match="no needling authorisation on file"):
        book(patient=patient, therapist=therapist, type=follow_up, start=at(9), by=front_desk)


def test_rescheduling_a_needling_visit_to_the_intern_is_refused(therapist, intern, follow_up, at, front_desk):
    booked = AppointmentFactory(therapist=therapist, type=follow_up, start=at(9))
    with pytest.raises(BookingError, match="has no needling authorisation"):
        reschedule(booked, start=at(10), therapist=intern, by=front_desk)
    booked.refresh_from_db()
    assert booked.therapist == therapist


def test_find_next_available_offers_only_authorised_clinicians_for_needling(
    therapist, intern, follow_up, exercise_class, at
):
    needling = {slot.therapist for slot in available_slots(type=follow_up, after=at(6), limit=10)}
    assert needling == {therapist}
    anyone = {slot.therapist for slot in available_slots(type=exercise_class, after=at(6), limit=10)}
    assert anyone == {therapist, intern}
    assert available_slots(type=follow_up, therapist=intern, after=at(6)) == []


def test_find_next_available_says_why_the_intern_is_not_offered(client_for, intern, follow_up):
    response = client_for(Role.FRONT_DESK).get(
        reverse("appointments:next_available"), {"type": follow_up.pk, "therapist": intern.pk}
    )
    page = response.content.decode()
    assert (
        'data-testid="not-authorised"' in page
        and "Sam Lee (intern) has no current needling authorisation" in page
    )
    assert 'data-testid="slot"' not in page
