"""Rule 5 of DESIGN.md: nothing clinical is hard-deleted. A patient is archived, never deleted (the
admin has no delete, the database refuses one); a point entered in error is removed with a reason.

A point entered in error on a draft is removed with a reason (issue 11, part 4): kept in the record and
struck through (nothing clinical is deleted), part of the signed content, audited, and no longer counted
as needled: not on the body chart, not in needles in, not in the reports. On a signed session the
correction is an addendum.

An outcome measure (the PSFS, issue 14 part 2) is kept as scored: a correction is a new scoring.
"""

import hashlib
import io

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, InternalError, ProgrammingError, connection, transaction
from django.test import RequestFactory
from django.urls import reverse
from pypdf import PdfReader

from accounts.models import Role
from audit.models import Action, AuditEvent
from patients.models import Patient
from reports.models import SessionSummary
from tests.factories import complete_session, muscle, needle
from treatments.models import NeedlePoint, PointRemoval
from treatments.services import add_point, missing_for_signing, remove_point, sign_session, update_point

pytestmark = pytest.mark.django_db


# A point entered in error: removed with a reason, kept.


@pytest.fixture
def two_points(consented_draft, clinician, point_fields):
    first = add_point(consented_draft, by=clinician, **point_fields)
    wrong = add_point(
        consented_draft,
        by=clinician,
        **{
            **point_fields,
            "muscle": muscle("Upper trapezius"),
            "needle_size": needle("0.25", 30),
            "depth_mm": 15,
        },
    )
    return first, wrong


def test_a_point_removed_with_a_reason_is_kept_and_audited(two_points, clinician):
    _first, wrong = two_points
    removal = remove_point(wrong, by=clinician, reason="Entered on the wrong patient's session")
    assert NeedlePoint.objects.filter(pk=wrong.pk).exists()
    assert (removal.point, removal.removed_by) == (wrong, clinician)
    assert AuditEvent.objects.filter(
        action=Action.UPDATE,
        detail="needle point 2 removed (entered in error): Entered on the wrong patient's session",
    ).exists()


def test_a_removal_needs_a_reason(two_points, clinician):
    with pytest.raises(ValidationError, match="Say why the point is removed"):
        remove_point(two_points[1], by=clinician, reason="   ")
    assert not PointRemoval.objects.exists()


def test_a_removed_point_is_not_counted_as_needled(two_points, clinician, consented_draft):
    _first, wrong = two_points
    remove_point(wrong, by=clinician, reason="Duplicate entry")
    summary = SessionSummary.objects.get(session_id=consented_draft.pk)
    assert (summary.points, summary.neck_points) == (1, 0)
    complete_session(consented_draft)  # needles in = out = the needled points
    consented_draft.refresh_from_db()
    assert consented_draft.needles_in == 1 and missing_for_signing(consented_draft) == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT reports_rebuild_summaries()")
    assert SessionSummary.objects.get(session_id=consented_draft.pk).points == 1


def test_the_session_screen_strikes_it_through_with_its_reason(
    client, two_points, clinician, consented_draft
):
    client.force_login(clinician)
    response = client.post(
        reverse("treatments:point_remove", args=[consented_draft.pk, two_points[1].pk]),
        {"reason": "Entered on the wrong side"},
        follow=True,
    )
    page = response.content.decode()
    assert 'data-testid="removed-point-row"' in page and "<s>Upper trapezius, right" in page
    assert "removed (entered in error) by Priya Natarajan" in page and "Entered on the wrong side" in page
    assert page.count('data-testid="point-row"') == 1
    assert 'data-testid="body-chart"' in page and page.count('class="chart-point') <= page.count("Gluteus")


def test_the_form_without_a_reason_removes_nothing(client, two_points, clinician, consented_draft):
    client.force_login(clinician)
    response = client.post(
        reverse("treatments:point_remove", args=[consented_draft.pk, two_points[1].pk]),
        {"reason": ""},
        follow=True,
    )
    assert "Say why the point is removed" in response.content.decode()
    assert not PointRemoval.objects.exists()


def test_a_removed_point_is_not_corrected_again(two_points, clinician):
    remove_point(two_points[1], by=clinician, reason="Duplicate entry")
    with pytest.raises(ValidationError, match="was removed"):
        update_point(two_points[1], by=clinician, depth_mm=10)
    with pytest.raises(DatabaseError, match="was removed"), transaction.atomic():
        NeedlePoint.objects.filter(pk=two_points[1].pk).update(depth_mm=10)


def test_the_visit_summary_lists_it_apart_as_not_needled(client, two_points, clinician, consented_draft):
    remove_point(two_points[1], by=clinician, reason="Duplicate entry")
    client.force_login(clinician)
    pdf = client.get(reverse("treatments:pdf", args=[consented_draft.pk]))
    text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf.content)).pages
    )
    removed = "Removed as entered in error (kept in the record, not needled): 2. Upper trapezius, right"
    assert f"{removed}: Duplicate entry" in text
    assert "depth beyond the muscle's advisory maximum" not in text  # no row uses the footnote


def test_the_signed_content_covers_the_removal(two_points, clinician, consented_draft):
    from treatments.services import content_hash, verify_content_hash

    remove_point(two_points[1], by=clinician, reason="Duplicate entry")
    complete_session(consented_draft)
    signed = sign_session(consented_draft, by=clinician)
    assert verify_content_hash(signed)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT treatments_session_document(%s, %s, %s)", [signed.pk, signed.signed_at, clinician.pk]
        )
        (document,) = cursor.fetchone()
    assert "removed|'2'" in document and "Duplicate entry" in document
    assert content_hash(signed) == signed.content_hash


def test_a_session_without_removals_or_acknowledgements_hashes_as_before(
    consented_draft, clinician, point_fields
):
    """Sessions signed before removals and acknowledgements joined the document still verify."""
    from importlib import import_module

    add_point(consented_draft, by=clinician, **point_fields)
    complete_session(consented_draft)
    signed = sign_session(consented_draft, by=clinician)
    old = import_module("treatments.migrations.0004_content_document").DOCUMENT
    old_function = old[
        old.index("CREATE FUNCTION treatments_session_document") : old.index(
            "CREATE FUNCTION treatments_content_hash"
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute(old_function.replace("treatments_session_document", "pg_temp.old_document", 1))
        cursor.execute("SELECT pg_temp.old_document(%s, %s, %s)", [signed.pk, signed.signed_at, clinician.pk])
        (document,) = cursor.fetchone()
    assert hashlib.sha256(document.encode()).hexdigest() == signed.content_hash


def test_on_a_signed_session_a_removal_is_refused_by_the_service_and_the_database(
    two_points, clinician, consented_draft
):
    complete_session(consented_draft)
    sign_session(consented_draft, by=clinician)
    with pytest.raises(ValidationError, match="signed and read-only; write an addendum"):
        remove_point(two_points[1], by=clinician, reason="Wrong side")
    with pytest.raises(DatabaseError, match="signed and read-only"), transaction.atomic():
        PointRemoval.objects.create(
            point=two_points[1], session=consented_draft, removed_by=clinician, reason="x"
        )


def test_the_database_keeps_a_removal_as_written_and_of_its_own_session(
    two_points, clinician, consented_draft
):
    from tests.factories import NeedlingSessionFactory

    removal = remove_point(two_points[1], by=clinician, reason="Duplicate entry")
    for sql in ("UPDATE treatments_pointremoval SET reason = 'x'", "DELETE FROM treatments_pointremoval"):
        with (
            pytest.raises(DatabaseError, match="kept as it was written"),
            transaction.atomic(),
            connection.cursor() as c,
        ):
            c.execute(sql)
    other = NeedlingSessionFactory(patient=consented_draft.patient, clinician=clinician)
    with pytest.raises(IntegrityError, match="is not a point of session"), transaction.atomic():
        PointRemoval.objects.create(point=two_points[0], session=other, removed_by=clinician, reason="x")
    assert PointRemoval.objects.get() == removal


def test_only_the_sessions_clinician_removes_a_point(two_points, consented_draft):
    from django.core.exceptions import PermissionDenied

    from tests.factories import PhysioFactory

    with pytest.raises(PermissionDenied):
        remove_point(two_points[1], by=PhysioFactory(), reason="Not mine to remove")
    assert not PointRemoval.objects.exists()


# A patient: archived, never deleted.


def test_the_front_desk_archives_a_patient_and_it_is_audited(client_for, zoe):
    client = client_for(Role.FRONT_DESK)
    response = client.post(reverse("patients:archive", args=[zoe.pk]), follow=True)
    assert "archived" in response.content.decode()
    zoe.refresh_from_db()
    assert zoe.is_archived
    assert AuditEvent.objects.filter(action=Action.ARCHIVE, patient_id=zoe.pk, actor=client.user).exists()


def test_an_archived_patient_can_be_restored(client_for, zoe):
    client = client_for(Role.ADMIN)
    client.post(reverse("patients:archive", args=[zoe.pk]))
    client.post(reverse("patients:archive", args=[zoe.pk]), {"restore": "1"})
    zoe.refresh_from_db()
    assert not zoe.is_archived


def test_archive_refuses_get_and_the_manager(client_for, zoe):
    assert client_for(Role.FRONT_DESK).get(reverse("patients:archive", args=[zoe.pk])).status_code == 405
    assert client_for(Role.MANAGER).post(reverse("patients:archive", args=[zoe.pk])).status_code == 403
    zoe.refresh_from_db()
    assert not zoe.is_archived


def test_the_admin_has_no_delete_for_patients(administrator, zoe):
    request = RequestFactory().get("/")
    request.user = administrator
    assert not admin.site._registry[Patient].has_delete_permission(request, zoe)
    assert "delete_selected" not in admin.site._registry[Patient].get_actions(request)


def test_the_admin_delete_page_is_refused(client_for, zoe):
    response = client_for(Role.ADMIN).post(
        reverse("admin:patients_patient_delete", args=[zoe.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Patient.objects.filter(pk=zoe.pk).exists()


def test_the_database_refuses_to_delete_a_patient(zoe):
    with pytest.raises((InternalError, ProgrammingError, IntegrityError)) as error, transaction.atomic():
        Patient.objects.filter(pk=zoe.pk).delete()
    assert "archived, never deleted" in str(error.value)
    assert Patient.objects.filter(pk=zoe.pk).exists()


def test_deleting_a_patient_object_is_refused_with_a_reason(zoe):
    with pytest.raises(PermissionDenied, match="archived, never deleted"):
        zoe.delete()
    assert Patient.objects.filter(pk=zoe.pk).exists()


def test_an_admin_edit_is_audited_with_field_names(client_for, zoe):
    client = client_for(Role.ADMIN)
    url = reverse("admin:patients_patient_change", args=[zoe.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data.update({"date_of_birth": "1985-04-12", "referral_source": "WorkSafeBC"})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = AuditEvent.objects.filter(action=Action.UPDATE, patient_id=zoe.pk).get()
    assert event.detail == "changed: referral_source"


# An outcome measure: kept as scored.
def test_the_database_keeps_a_scoring_as_scored(clinician, patient):
    from treatments.models import OutcomeItem, OutcomeMeasure
    from treatments.outcomes import record_psfs

    measure = record_psfs(patient=patient, by=clinician, activities=[("Running", 2)])
    for statement in (
        lambda: OutcomeItem.objects.filter(measure=measure).update(score=9),
        lambda: OutcomeMeasure.objects.filter(pk=measure.pk).update(score=9),
        lambda: OutcomeItem.objects.filter(measure=measure)._raw_delete(OutcomeItem.objects.db),
    ):
        with pytest.raises(DatabaseError, match="kept as it was written"), transaction.atomic():
            statement()
    with pytest.raises(PermissionDenied):
        measure.delete()
