"""A signed session is read-only by every door: service, model (admin, shell), and the database."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction

from tests.factories import complete_session
from treatments.models import Addendum, NeedlePoint, NeedlingSession, SideEffect
from treatments.services import (
    add_addendum,
    add_point,
    add_side_effect,
    save_draft,
    sign_session,
    update_point,
)

pytestmark = pytest.mark.django_db


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
