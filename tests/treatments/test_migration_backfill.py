"""Existing data (issue 11, part 2): treatments migration 0006 links the needle points recorded before
points referred to their consent, and leaves unlinked (never invents a consent for, never deletes) a point
that no consent allowed: a legacy bulk load. The database is taken back to before the migration, filled
the old way, and brought forward again."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.factories import PatientFactory, PhysioFactory, give_consent, muscle, needle

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def old_point(cursor, session_id, order, muscle_id, needle_id):
    cursor.execute(
        'INSERT INTO treatments_needlepoint (session_id, "order", muscle_id, side, segment, needle_size_id, '
        "depth_mm, insertions, technique, twitch_response, patient_response, depth_confirmed, notes) "
        "VALUES (%s, %s, %s, 'L', '', %s, 12, 1, 'pistoning', 'none', 'none', false, '') RETURNING id",
        [session_id, order, muscle_id, needle_id],
    )
    return cursor.fetchone()[0]


def old_session(cursor, patient, clinician, started_at, signed_at=None):
    cursor.execute(
        "INSERT INTO treatments_needlingsession (patient_id, clinician_id, started_at, presenting_complaint, "
        "history, rom_findings, screening_reviewed, impression, plan, movement_change, immediate_response, "
        "aftercare_heat_hydration, aftercare_warning_signs, aftercare_notes, sharps_disposed, content_hash, "
        "version, created_at, updated_at) "
        "VALUES (%s, %s, %s, '', '', '', false, '', '', '', '', false, false, '', false, '', 1, %s, %s) "
        "RETURNING id",
        [patient.pk, clinician.pk, started_at, started_at, started_at],
    )
    session_id = cursor.fetchone()[0]
    return session_id


def test_the_migration_links_existing_points_and_leaves_a_point_no_consent_allowed_unlinked(capsys):
    clinician = PhysioFactory()
    consented, legacy = PatientFactory(), PatientFactory()
    # The catalogue's ids, read while the models still match the tables.
    trapezius, soleus, gluteus = (muscle(name).pk for name in ("Upper trapezius", "Soleus", "Gluteus medius"))
    short = needle("0.25", 30).pk
    migrate([("treatments", "0004_content_document")])
    try:
        started = timezone.now() - timedelta(hours=1)
        with connection.cursor() as cursor:
            # Consent given during the visit, after the session started: the points were needled after it.
            draft = old_session(cursor, consented, clinician, started)
            record = give_consent(consented)
            neck = old_point(cursor, draft, 1, trapezius, short)
            calf = old_point(cursor, draft, 2, soleus, short)
            # A legacy bulk load: points for a patient who never consented.
            loaded = old_session(cursor, legacy, clinician, started)
            orphan = old_point(cursor, loaded, 1, gluteus, short)
    finally:
        migrate(latest())
    from treatments.models import NeedlePoint

    points = {p.pk: p for p in NeedlePoint.objects.all()}
    assert (points[neck].consent_id, points[neck].region_consent_id) == (record.pk, record.pk)
    assert (points[calf].consent_id, points[calf].region_consent_id) == (record.pk, None)
    assert points[neck].recorded_at >= record.signed_at
    assert (points[orphan].consent_id, points[orphan].region_consent_id) == (None, None)
    assert "1 needle point(s) had no consent allowing them when recorded" in capsys.readouterr().out
    # Kept, and the reports count its session as not covered... once it has risk points; the trigger does
    # not re-judge the row until it is written again.
    assert NeedlePoint.objects.filter(pk=orphan).exists()
