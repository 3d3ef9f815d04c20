from importlib import import_module

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

# A point entered in error on a draft is removed with a reason, never deleted (issue 11, part 4; BC:
# records kept 16 years). The database keeps a removal as written, refuses one on a signed session (the
# correction there is an addendum) or naming a point of another session, and refuses any change to a
# removed point.
#
# What a signed session's content hash covers grows with the record: the removals (which point, by whom,
# when, why) and the precautions acknowledged for the session (treatments 0008). Both are appended to the
# document only when there are some, so a session signed before this migration hashes exactly as it did
# and verify_content_hash() still holds for it.
REMOVALS = """
CREATE TRIGGER treatments_removal_append_only
    BEFORE UPDATE OR DELETE ON treatments_pointremoval
    FOR EACH ROW EXECUTE FUNCTION treatments_refuse_change();
CREATE TRIGGER treatments_removal_read_only_when_signed
    BEFORE INSERT ON treatments_pointremoval
    FOR EACH ROW EXECUTE FUNCTION treatments_refuse_signed_child();

CREATE FUNCTION treatments_removal_of_its_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM treatments_needlepoint p WHERE p.id = NEW.point_id AND p.session_id = NEW.session_id)
    THEN
        RAISE EXCEPTION 'removal refused: needle point % is not a point of session %', NEW.point_id, NEW.session_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER treatments_removal_of_its_session
    BEFORE INSERT ON treatments_pointremoval
    FOR EACH ROW EXECUTE FUNCTION treatments_removal_of_its_session();

CREATE FUNCTION treatments_refuse_removed_point_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM treatments_pointremoval r WHERE r.point_id = OLD.id) THEN
        RAISE EXCEPTION 'UPDATE on treatments_needlepoint refused: point % was removed (entered in error) and is kept as it was',
            OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER treatments_removed_point_unchanged
    BEFORE UPDATE ON treatments_needlepoint
    FOR EACH ROW EXECUTE FUNCTION treatments_refuse_removed_point_change();

CREATE OR REPLACE FUNCTION treatments_session_document(sid bigint, signed timestamptz, signer bigint)
RETURNS text LANGUAGE sql STABLE AS $$
SELECT concat_ws(E'\\n',
    (SELECT format('session|%L|%L|%L|%L|%L|%L|%L|%L|%L|%L|%L|%L|%L|%L|%L|%L|%L|%L|%L|%L|%L|%L|%L',
            s.id, s.patient_id, s.clinician_id, s.appointment_id,
            to_char(s.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
            s.presenting_complaint, s.history, s.pain_before, s.rom_findings, s.screening_reviewed,
            s.impression, s.plan, s.pain_after, s.movement_change, s.immediate_response,
            s.aftercare_heat_hydration, s.aftercare_warning_signs, s.aftercare_notes,
            s.needles_in, s.needles_out, s.sharps_disposed,
            to_char(signed AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), signer)
     FROM treatments_needlingsession s WHERE s.id = sid),
    (SELECT string_agg(format('point|%L|%L|%L|%L|%L|%L|%L|%L|%L|%L|%L|%L',
            p."order", p.muscle_id, p.side, p.segment, p.needle_size_id, p.depth_mm, p.insertions,
            p.technique, p.twitch_response, p.patient_response, p.depth_confirmed, p.notes),
            E'\\n' ORDER BY p."order")
     FROM treatments_needlepoint p WHERE p.session_id = sid),
    (SELECT string_agg(format('side_effect|%L|%L|%L|%L|%L|%L|%L|%L',
            e.type, e.severity, e.onset, e.duration, e.action_taken, e.resolved, e.description,
            to_char(e.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')),
            E'\\n' ORDER BY e.recorded_at, e.id)
     FROM treatments_sideeffect e WHERE e.session_id = sid),
    (SELECT string_agg(format('removed|%L|%L|%L|%L',
            p."order", r.removed_by_id,
            to_char(r.removed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), r.reason),
            E'\\n' ORDER BY p."order")
     FROM treatments_pointremoval r JOIN treatments_needlepoint p ON p.id = r.point_id
     WHERE r.session_id = sid),
    (SELECT string_agg(format('precaution|%L|%L|%L|%L',
            a.item, a.screening_id, a.acknowledged_by_id,
            to_char(a.acknowledged_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')),
            E'\\n' ORDER BY a.item)
     FROM treatments_precautionacknowledgement a WHERE a.session_id = sid))
$$;
"""

DROP = """
DROP TRIGGER IF EXISTS treatments_removed_point_unchanged ON treatments_needlepoint;
DROP FUNCTION IF EXISTS treatments_refuse_removed_point_change();
DROP TRIGGER IF EXISTS treatments_removal_of_its_session ON treatments_pointremoval;
DROP FUNCTION IF EXISTS treatments_removal_of_its_session();
DROP TRIGGER IF EXISTS treatments_removal_read_only_when_signed ON treatments_pointremoval;
DROP TRIGGER IF EXISTS treatments_removal_append_only ON treatments_pointremoval;
"""


def _previous_document():
    """0004's treatments_session_document(), which going back restores."""
    document = import_module("treatments.migrations.0004_content_document").DOCUMENT
    start = document.index("CREATE FUNCTION treatments_session_document")
    end = document.index("CREATE FUNCTION treatments_content_hash")
    return document[start:end].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0008_precaution_acknowledgements"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PointRemoval",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("removed_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("reason", models.CharField(max_length=300)),
                (
                    "point",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="removal",
                        to="treatments.needlepoint",
                    ),
                ),
                (
                    "removed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="removals",
                        to="treatments.needlingsession",
                    ),
                ),
            ],
            options={
                "ordering": ["session", "removed_at", "id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("reason", ""), _negated=True), name="removal_has_a_reason"
                    )
                ],
            },
        ),
        migrations.RunSQL(REMOVALS, DROP + _previous_document()),
    ]
