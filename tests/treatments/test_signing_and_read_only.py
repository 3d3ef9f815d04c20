"""Rule 2 of DESIGN.md: a session can only be signed when needles in equal needles out and every required
field is set; once signed it is read-only, in the database too; corrections are addenda. Concurrent
edits of a draft are refused by its version number.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction

from audit.models import Action, AuditEvent
from tests.factories import AppointmentFactory, PhysioFactory, complete_session
from treatments.models import Addendum, NeedlePoint, NeedlingSession, SideEffect
from treatments.services import (
    ConflictError,
    add_addendum,
    add_point,
    add_side_effect,
    content_hash,
    save_draft,
    sign_session,
    update_point,
    verify_content_hash,
)

pytestmark = pytest.mark.django_db


# Signing: needles in = out and every required field; the content hash.


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


def test_a_neck_point_removed_as_entered_in_error_needs_no_warning_signs_advice(
    consented_draft, clinician, point_fields
):
    """sign_session reads the regions of the points not removed in its locking statement (issue 17):
    a removed neck point no longer asks for the warning-signs advice, the points left still ask for the
    rest of the aftercare advice, and a session whose every point was removed asks for neither."""
    from tests.factories import muscle
    from treatments.services import remove_point

    neck = add_point(
        consented_draft, by=clinician, **{**point_fields, "muscle": muscle("Upper trapezius"), "depth_mm": 15}
    )
    remove_point(neck, by=clinician, reason="Entered in error")
    complete_session(consented_draft, aftercare_warning_signs=False, aftercare_heat_hydration=False)
    signed = sign_session(consented_draft, by=clinician)  # no point left: no aftercare advice asked for
    assert signed.signed_at is not None and verify_content_hash(signed)


def test_the_points_left_after_a_removal_still_need_the_aftercare_advice(draft, clinician, point_fields):
    from treatments.services import remove_point

    add_point(draft, by=clinician, **point_fields)
    removed = add_point(draft, by=clinician, **point_fields)
    remove_point(removed, by=clinician, reason="Entered in error")
    complete_session(draft, aftercare_heat_hydration=False)
    with pytest.raises(ValidationError, match="Aftercare advice"):
        sign_session(draft, by=clinician)


def test_signing_costs_the_same_queries_whatever_the_number_of_points(
    draft, clinician, point_fields, django_assert_max_num_queries
):
    from treatments.services import add_points

    add_points(draft, [point_fields], by=clinician)
    complete_session(draft)
    with django_assert_max_num_queries(12) as few:
        sign_session(draft, by=clinician)
    other = NeedlingSession.objects.create(patient=draft.patient, clinician=clinician)
    add_points(other, [point_fields] * 30, by=clinician)
    complete_session(other, needles_in=30, needles_out=30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        signed = sign_session(other, by=clinician)
    assert signed.content_hash == content_hash(signed)
    stored = NeedlingSession.objects.get(pk=other.pk)
    assert (stored.signed_at, stored.signed_by_id, stored.updated_at, stored.content_hash) == (
        signed.signed_at,
        signed.signed_by_id,
        signed.updated_at,
        signed.content_hash,
    )


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


# Signed is read-only by every door: service, model (admin, shell), and the database.


@pytest.fixture
def signed(draft, clinician, point_fields):
    add_point(draft, by=clinician, **point_fields)
    add_side_effect(draft, by=clinician, type="bruising", severity="mild")
    complete_session(draft)
    return sign_session(draft, by=clinician)


def raw(sql, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE treatments_needlingsession SET pain_after = 0 WHERE id = %s",
        "UPDATE treatments_needlingsession SET signed_at = NULL WHERE id = %s",
        "DELETE FROM treatments_needlingsession WHERE id = %s",
        "UPDATE treatments_needlepoint SET depth_mm = 10 WHERE session_id = %s",
        "DELETE FROM treatments_needlepoint WHERE session_id = %s",
        "UPDATE treatments_sideeffect SET severity = 'serious' WHERE session_id = %s",
        "DELETE FROM treatments_sideeffect WHERE session_id = %s",
    ],
)
def test_the_database_refuses_raw_changes_to_a_signed_session(signed, sql):
    with pytest.raises(DatabaseError, match="refused"):
        raw(sql, [signed.pk])
    signed.refresh_from_db()
    assert signed.pain_after == 3 and signed.signed_at is not None
    assert NeedlePoint.objects.get(session=signed).depth_mm == 40
    assert SideEffect.objects.get(session=signed).severity == "mild"


def test_the_database_refuses_a_new_point_on_a_signed_session(signed, point_fields):
    with pytest.raises(DatabaseError, match="signed and read-only"):
        raw(
            'INSERT INTO treatments_needlepoint (session_id, "order", muscle_id, side, segment, '
            "needle_size_id, depth_mm, insertions, technique, twitch_response, patient_response, "
            "depth_confirmed, notes) "
            "VALUES (%s, 9, %s, 'L', '', %s, 10, 1, 'static', 'none', 'none', false, '')",
            [signed.pk, point_fields["muscle"].pk, point_fields["needle_size"].pk],
        )
    assert signed.points.count() == 1


def test_the_database_refuses_deleting_even_a_draft(draft):
    with pytest.raises(DatabaseError, match="never deleted"):
        raw("DELETE FROM treatments_needlingsession WHERE id = %s", [draft.pk])


def test_services_refuse_changes_to_a_signed_session(signed, clinician, point_fields):
    for attempt in [
        lambda: add_point(signed, by=clinician, **point_fields),
        lambda: update_point(signed.points.get(), by=clinician, depth_mm=10),
        lambda: add_side_effect(signed, by=clinician, type="headache", severity="mild"),
        lambda: save_draft(signed, {"plan": "changed"}, expected_version=signed.version, by=clinician),
    ]:
        with pytest.raises(ValidationError, match="signed and read-only"):
            attempt()
    signed.refresh_from_db()
    assert (
        signed.plan.startswith("IMS weekly")
        and signed.points.count() == 1
        and signed.side_effects.count() == 1
    )


def test_model_saves_and_deletes_are_refused(signed):
    signed.plan = "changed"
    with pytest.raises(ValidationError, match="signed and read-only"):
        signed.save()
    point = signed.points.get()
    point.depth_mm = 12
    with pytest.raises(ValidationError, match="signed and read-only"):
        point.save()
    with pytest.raises(PermissionDenied):
        signed.delete()
    with pytest.raises(PermissionDenied):
        point.delete()
    assert NeedlingSession.objects.get(pk=signed.pk).plan.startswith("IMS weekly")


def test_the_admin_shows_a_signed_session_read_only(client_for, signed):
    client = client_for("administrator")
    assert client.get(f"/admin/treatments/needlingsession/{signed.pk}/change/").status_code == 200
    response = client.post(
        f"/admin/treatments/needlingsession/{signed.pk}/change/",
        {"patient": signed.patient_id, "clinician": signed.clinician_id, "plan": "rewritten"},
    )
    assert response.status_code == 403
    point = signed.points.get()
    assert (
        client.post(f"/admin/treatments/needlepoint/{point.pk}/change/", {"depth_mm": "5"}).status_code == 403
    )
    signed.refresh_from_db()
    assert signed.plan.startswith("IMS weekly")


def test_addenda_are_dated_in_order_and_never_rewritten(signed, clinician):
    first = add_addendum(signed, by=clinician, text="Patient phoned: soreness settled after a day.")
    second = add_addendum(signed, by=clinician, text="Correction: the point was on the left.")
    assert list(signed.addenda.all()) == [first, second]
    with pytest.raises(DatabaseError, match="never rewritten"):
        raw("UPDATE treatments_addendum SET text = 'x' WHERE id = %s", [first.pk])
    first.text = "x"
    with pytest.raises(ValidationError):
        first.save()
    assert Addendum.objects.get(pk=first.pk).text.startswith("Patient phoned")


def test_an_addendum_needs_text_and_a_signed_session(draft, signed, clinician):
    with pytest.raises(ValidationError, match="Write the addendum"):
        add_addendum(signed, by=clinician, text="   ")
    with pytest.raises(ValidationError, match="still a draft"):
        add_addendum(
            draft.__class__.objects.create(patient=draft.patient, clinician=clinician),
            by=clinician,
            text="note",
        )
    assert signed.addenda.count() == 0


# Two edits of one draft: the later one is refused, not lost.


def test_saving_a_draft_bumps_its_version(draft, clinician):
    saved = save_draft(draft, {"presenting_complaint": "Neck pain"}, expected_version=1, by=clinician)
    assert saved.version == 2 and saved.presenting_complaint == "Neck pain"


def test_the_later_of_two_saves_gets_a_conflict_and_nothing_is_overwritten(draft, clinician):
    # The clinician has the draft open twice (the treatment room's computer and a tablet).
    opened = draft.version
    save_draft(draft, {"impression": "Upper trapezius trigger points"}, expected_version=opened, by=clinician)
    with pytest.raises(ConflictError) as conflict:
        save_draft(draft, {"impression": "Cervical facet irritation"}, expected_version=opened, by=clinician)
    assert "Priya Natarajan saved this session" in conflict.value.messages[0]
    assert "nothing was overwritten" in conflict.value.messages[0]
    draft.refresh_from_db()
    assert draft.impression == "Upper trapezius trigger points" and draft.version == opened + 1


@pytest.mark.parametrize("pain", [-1, 11, 100])
def test_pain_outside_0_to_10_is_refused_and_nothing_saved(draft, clinician, pain):
    with pytest.raises(ValidationError) as refused:
        save_draft(draft, {"pain_before": pain, "plan": "x"}, expected_version=1, by=clinician)
    assert "Pain is scored 0 to 10" in " ".join(refused.value.messages)
    draft.refresh_from_db()
    assert draft.pain_before is None and draft.plan == "" and draft.version == 1


def test_the_database_refuses_pain_outside_0_to_10(draft):
    from django.db import IntegrityError, transaction

    from treatments.models import NeedlingSession

    with pytest.raises(IntegrityError), transaction.atomic():
        NeedlingSession.objects.filter(pk=draft.pk).update(pain_after=11)
