from datetime import date

import pytest
from django.core.exceptions import ValidationError

from audit.models import Action, AuditEvent
from tests.factories import PatientFactory, PhysioFactory
from treatments.models import NeedlingSession
from treatments.services import start_session

# Its outcome depends on the clock: `make test-clock` runs it at awkward instants too.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def test_an_authorised_clinician_starts_a_draft_and_it_is_audited(clinician, patient):
    session = start_session(patient=patient, clinician=clinician)
    assert session.signed_at is None and session.version == 1
    assert AuditEvent.objects.filter(
        action=Action.CREATE, object_id=str(session.pk), patient_id=patient.pk
    ).exists()


def test_a_clinician_without_authorisation_is_refused_by_name(patient):
    intern = PhysioFactory(full_name="Sam Lee", clinician_profile__needling_authorised_on=None)
    with pytest.raises(ValidationError, match="Sam Lee has no current needling authorisation"):
        start_session(patient=patient, clinician=intern)
    assert not NeedlingSession.objects.exists()


def test_an_expired_authorisation_is_refused(patient):
    lapsed = PhysioFactory(
        clinician_profile__needling_authorised_on=date(2019, 1, 1),
        clinician_profile__needling_authorisation_expires=date(2020, 1, 1),
    )
    with pytest.raises(ValidationError, match="no current needling authorisation"):
        start_session(patient=patient, clinician=lapsed)


def test_a_physiotherapist_with_no_profile_is_refused(patient):
    from tests.factories import UserFactory

    with pytest.raises(ValidationError, match="no current needling authorisation"):
        start_session(patient=patient, clinician=UserFactory(role="physiotherapist"))


def test_an_archived_patient_is_refused(clinician):
    from django.utils import timezone

    archived = PatientFactory(archived_at=timezone.now())
    with pytest.raises(ValidationError, match="archived"):
        start_session(patient=archived, clinician=clinician)


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


def test_a_direct_model_save_by_an_unauthorised_clinician_is_refused_by_the_database(patient):
    from django.db import IntegrityError, transaction

    intern = PhysioFactory(full_name="Sam Lee", clinician_profile__needling_authorised_on=None)
    with pytest.raises(IntegrityError, match="has no needling authorisation on file"), transaction.atomic():
        NeedlingSession.objects.create(patient=patient, clinician=intern, updated_by=intern)
    assert not NeedlingSession.objects.exists()


def test_a_refused_start_is_audited(patient):
    intern = PhysioFactory(full_name="Sam Lee", clinician_profile__needling_authorised_on=None)
    with pytest.raises(ValidationError):
        start_session(patient=patient, clinician=intern)
    refused = AuditEvent.objects.get(action=Action.PERMISSION_DENIED, actor=intern)
    assert refused.patient_id == patient.pk
    assert "start a needling session" in refused.detail and "Sam Lee" in refused.detail


def test_starting_twice_opens_the_same_draft(clinician, patient):
    first = start_session(patient=patient, clinician=clinician)
    assert start_session(patient=patient, clinician=clinician) == first
    assert NeedlingSession.objects.count() == 1


def test_two_clicks_on_start_a_session_open_one_draft(client, clinician, patient):
    """Issue 11, part 4: two clicks made two drafts for the same visit."""
    from django.urls import reverse

    client.force_login(clinician)
    first = client.post(reverse("treatments:start", args=[patient.pk]))
    second = client.post(reverse("treatments:start", args=[patient.pk]))
    assert first["Location"] == second["Location"]
    assert NeedlingSession.objects.filter(patient=patient).count() == 1


def test_starting_from_the_appointment_opens_the_draft_begun_on_the_chart(clinician, patient):
    from tests.factories import AppointmentFactory
    from treatments.services import start_session_from_appointment

    draft = start_session(patient=patient, clinician=clinician)
    appointment = AppointmentFactory(patient=patient, therapist=clinician, status="arrived")
    assert start_session_from_appointment(appointment, by=clinician) == draft
    draft.refresh_from_db()
    assert draft.appointment == appointment and NeedlingSession.objects.count() == 1
