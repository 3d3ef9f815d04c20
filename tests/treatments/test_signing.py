import pytest
from django.core.exceptions import ValidationError

from audit.models import Action, AuditEvent
from tests.factories import AppointmentFactory, PhysioFactory, complete_session
from treatments.models import NeedlingSession
from treatments.services import add_point, content_hash, sign_session, verify_content_hash

pytestmark = pytest.mark.django_db


def test_a_complete_session_is_signed_with_time_signer_and_hash(draft, clinician, point_fields):
    add_point(draft, by=clinician, **point_fields)
    complete_session(draft)
    signed = sign_session(draft, by=clinician)
    assert signed.signed_at is not None and signed.signed_by == clinician
    assert len(signed.content_hash) == 64 and signed.content_hash == content_hash(signed)
    assert verify_content_hash(signed)
    assert AuditEvent.objects.filter(action=Action.SIGN, object_id=str(draft.pk)).exists()


def test_signing_refuses_needles_out_different_from_needles_in(draft, clinician, point_fields):
    add_point(draft, by=clinician, **point_fields)
    complete_session(draft, needles_in=3, needles_out=2)
    with pytest.raises(ValidationError) as refused:
        sign_session(draft, by=clinician)
    assert "Needles out (2) differ from needles in (3)" in " ".join(refused.value.messages)
    draft.refresh_from_db()
    assert draft.signed_at is None and draft.content_hash == ""


def test_signing_an_incomplete_session_names_everything_missing(draft, clinician):
    with pytest.raises(ValidationError) as refused:
        sign_session(draft, by=clinician)
    text = " ".join(refused.value.messages)
    for missing in [
        "presenting complaint is missing",
        "Pain before (NRS) is missing",
        "impression is missing",
        "plan is missing",
        "Pain after (NRS) is missing",
        "Needles in is missing",
        "screening has not been marked as reviewed",
    ]:
        assert missing in text
    assert NeedlingSession.objects.get(pk=draft.pk).signed_at is None


def test_neck_points_need_the_warning_signs_advice(consented_draft, clinician, point_fields):
    from tests.factories import muscle

    add_point(
        consented_draft, by=clinician, **{**point_fields, "muscle": muscle("Upper trapezius"), "depth_mm": 15}
    )
    complete_session(consented_draft, aftercare_warning_signs=False)
    with pytest.raises(ValidationError, match="warning-signs advice"):
        sign_session(consented_draft, by=clinician)


def test_only_the_treating_clinician_signs(draft, clinician):
    from django.core.exceptions import PermissionDenied

    complete_session(draft)
    with pytest.raises(PermissionDenied, match="only the clinician who treated the patient"):
        sign_session(draft, by=PhysioFactory())
    draft.refresh_from_db()
    assert draft.signed_at is None


def test_a_clinician_whose_authorisation_lapsed_cannot_sign(draft, clinician):
    from datetime import date

    complete_session(draft)
    profile = clinician.clinician_profile
    profile.needling_authorisation_expires = date(2021, 1, 1)
    profile.save()
    with pytest.raises(ValidationError, match="no current needling authorisation"):
        sign_session(draft, by=clinician)


def test_a_signed_session_cannot_be_signed_again(draft, clinician):
    complete_session(draft)
    sign_session(draft, by=clinician)
    with pytest.raises(ValidationError, match="signed and read-only"):
        sign_session(draft, by=clinician)


def test_signing_marks_the_linked_appointment_completed(clinician, patient):
    from treatments.services import start_session_from_appointment

    appointment = AppointmentFactory(patient=patient, therapist=clinician, status="arrived")
    session = start_session_from_appointment(appointment, by=clinician)
    appointment.refresh_from_db()
    assert appointment.status == "in_treatment" and session.appointment == appointment
    complete_session(session)
    sign_session(session, by=clinician)
    appointment.refresh_from_db()
    assert appointment.status == "completed"


def test_starting_from_the_same_appointment_twice_reopens_the_session(clinician, patient):
    from treatments.services import start_session_from_appointment

    appointment = AppointmentFactory(patient=patient, therapist=clinician, status="arrived")
    first = start_session_from_appointment(appointment, by=clinician)
    assert start_session_from_appointment(appointment, by=clinician) == first
    assert NeedlingSession.objects.count() == 1


def test_the_hash_detects_a_change_made_behind_the_database_trigger(draft, clinician, point_fields):
    from django.db import connection

    add_point(draft, by=clinician, **point_fields)
    complete_session(draft)
    sign_session(draft, by=clinician)
    with connection.cursor() as cursor:
        # What only the tables' owner could do (the app role cannot: tests/clinic/test_database_roles.py):
        # write with the triggers switched off.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # pending trigger events would block ALTER TABLE
        cursor.execute("ALTER TABLE treatments_needlepoint DISABLE TRIGGER USER")
        cursor.execute("UPDATE treatments_needlepoint SET depth_mm = 55 WHERE session_id = %s", [draft.pk])
        cursor.execute("ALTER TABLE treatments_needlepoint ENABLE TRIGGER USER")
    assert not verify_content_hash(draft)
