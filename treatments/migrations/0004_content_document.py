from django.db import migrations

# The signed content of a session as one canonical text, built by the database so that sign_session,
# verify_content_hash and set-based loads (treatments/demo.py) hash exactly the same thing. %L quotes
# every value (NULL stays NULL, text is escaped), so no two different sessions give the same document.
# signed_at and signed_by are parameters: the signing UPDATE hashes the values it is about to write.
DOCUMENT = """
CREATE FUNCTION treatments_session_document(sid bigint, signed timestamptz, signer bigint)
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
     FROM treatments_sideeffect e WHERE e.session_id = sid))
$$;
CREATE FUNCTION treatments_content_hash(sid bigint, signed timestamptz, signer bigint)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(treatments_session_document(sid, signed, signer), 'UTF8')), 'hex')
$$;
"""
DROP = """
DROP FUNCTION IF EXISTS treatments_content_hash(bigint, timestamptz, bigint);
DROP FUNCTION IF EXISTS treatments_session_document(bigint, timestamptz, bigint);
"""


class Migration(migrations.Migration):
    dependencies = [("treatments", "0003_signed_sessions_read_only")]

    operations = [migrations.RunSQL(DOCUMENT, DROP)]
