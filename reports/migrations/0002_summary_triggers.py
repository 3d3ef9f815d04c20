from django.conf import settings
from django.db import migrations

# The report summaries (reports/models.py) are kept in step with the needling and appointment tables by
# the database itself, so that whatever writes those tables (the app, a bulk load, raw SQL) leaves the
# dashboards right. Frozen here as it shipped (DESIGN.md: triggers are plain SQL in their migration), so
# replaying history installs the SQL of that day, never today's code; a change is a new migration.
#
# Statement-level triggers with transition tables: one INSERT of 10 million points (a demo or benchmark
# load) runs two aggregated statements, not 20 million single-row ones. The session's location comes
# from its appointment when the session has one (treatments_needlingsession.appointment_id, there since
# treatments 0001; read through to_jsonb, a leftover from before that column existed). Points, sessions
# and appointments are never deleted (their apps refuse DELETE), so there is no delete trigger. Every
# upsert takes its summary rows in key order, so two transactions touching the same rows wait for each
# other instead of deadlocking.
#
# Days are the clinic's local days, in the zone recorded in reports_clinic_time_zone and read when the
# SQL runs: a change of CLINIC_TIME_ZONE needs no new SQL, only the row (updated, and the summaries
# recounted, after `manage.py migrate`: reports/apps.py). Written together with 0003 and 0004, whose
# columns and tables these functions already keep (PL/pgSQL resolves names when a function first runs).
TIME_ZONE = """
-- The clinic's time zone, read when the SQL runs (not written into it): one row, kept equal to
-- CLINIC_TIME_ZONE by reports.summaries.record_time_zone() after every `manage.py migrate`.
CREATE TABLE IF NOT EXISTS reports_clinic_time_zone (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    name text NOT NULL CHECK (name <> '')
);

CREATE OR REPLACE FUNCTION reports_time_zone() RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    zone text;
BEGIN
    SELECT name INTO zone FROM reports_clinic_time_zone;
    IF zone IS NULL THEN
        RAISE EXCEPTION 'reports_clinic_time_zone is empty: run manage.py migrate to record CLINIC_TIME_ZONE';
    END IF;
    RETURN zone;
END;
$$;

-- Each trigger reads the zone once per statement and passes it here: an IMMUTABLE one-liner PostgreSQL
-- inlines, as fast over ten million rows as a zone written into the SQL.
CREATE OR REPLACE FUNCTION reports_local_day(ts timestamptz, zone text) RETURNS date
LANGUAGE sql IMMUTABLE AS $$ SELECT (ts AT TIME ZONE zone)::date $$;

CREATE OR REPLACE FUNCTION reports_session_location(session jsonb) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT a.location_id FROM appointments_appointment a WHERE a.id = (session ->> 'appointment_id')::bigint
$$;
"""

CONSENT_RULE = """
-- consent.services' rule, in SQL: the patient's newest consent signed by `at` that decided on the region
-- accepted it and was not withdrawn by then. (A later version demanding re-consent is not considered.)
CREATE OR REPLACE FUNCTION reports_region_consented(patient bigint, risk_region text, at timestamptz)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce((
        SELECT bool_and(d.accepted) AND bool_and(c.withdrawn_at IS NULL OR c.withdrawn_at > at)
        FROM consent_consentrecord c
        JOIN consent_riskdecision d ON d.record_id = c.id
        JOIN consent_riskitem i ON i.id = d.risk_item_id AND i.region = risk_region
        WHERE c.patient_id = patient AND c.signed_at <= at
        GROUP BY c.id, c.signed_at
        ORDER BY c.signed_at DESC, c.id DESC LIMIT 1), false)
$$;
"""

KEEPING = """
CREATE OR REPLACE FUNCTION reports_sessions_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reports_sessionsummary (session_id, patient_id, clinician_id, location_id, started_at,
                                        signed_at, pain_before, pain_after, points, twitches,
                                        neck_points, mid_back_points)
    SELECT n.id, n.patient_id, n.clinician_id, reports_session_location(to_jsonb(n)), n.started_at,
           n.signed_at, n.pain_before, n.pain_after, 0, 0, 0, 0
    FROM added n;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION reports_sessions_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    clinic_zone text := reports_time_zone();
BEGIN
    -- A draft moved to another day, clinician or location takes its points' counts along.
    WITH keys AS (
        SELECT a.id AS session_id,
               reports_local_day(b.started_at, clinic_zone) AS old_day, b.clinician_id AS old_clinician,
               reports_session_location(to_jsonb(b)) AS old_location,
               reports_local_day(a.started_at, clinic_zone) AS new_day, a.clinician_id AS new_clinician,
               reports_session_location(to_jsonb(a)) AS new_location
        FROM after a JOIN before b ON b.id = a.id
    ), moved AS (
        SELECT * FROM keys
        WHERE (old_day, old_clinician, old_location) IS DISTINCT FROM (new_day, new_clinician, new_location)
    )
    INSERT INTO reports_muscleday AS d (day, clinician_id, location_id, muscle_id, points, twitches)
    SELECT day, clinician, location, muscle_id, sum(points), sum(twitches) FROM (
        SELECT m.old_day AS day, m.old_clinician AS clinician, m.old_location AS location, p.muscle_id,
               -1 AS points, -(p.twitch_response <> 'none')::int AS twitches
        FROM moved m JOIN treatments_needlepoint p ON p.session_id = m.session_id
        UNION ALL
        SELECT m.new_day, m.new_clinician, m.new_location, p.muscle_id, 1, (p.twitch_response <> 'none')::int
        FROM moved m JOIN treatments_needlepoint p ON p.session_id = m.session_id) moves
    GROUP BY day, clinician, location, muscle_id
    ORDER BY day, clinician, location, muscle_id
    ON CONFLICT (day, clinician_id, location_id, muscle_id) DO UPDATE
        SET points = d.points + EXCLUDED.points, twitches = d.twitches + EXCLUDED.twitches;
    WITH moved AS (
        SELECT a.id AS session_id, reports_local_day(b.started_at, clinic_zone) AS old_day,
               reports_local_day(a.started_at, clinic_zone) AS new_day
        FROM after a JOIN before b ON b.id = a.id
        WHERE reports_local_day(a.started_at, clinic_zone) <> reports_local_day(b.started_at, clinic_zone)
    )
    INSERT INTO reports_muscledaytotal AS t (day, muscle_id, points, twitches)
    SELECT day, muscle_id, sum(points), sum(twitches) FROM (
        SELECT m.old_day AS day, p.muscle_id, -1 AS points, -(p.twitch_response <> 'none')::int AS twitches
        FROM moved m JOIN treatments_needlepoint p ON p.session_id = m.session_id
        UNION ALL
        SELECT m.new_day, p.muscle_id, 1, (p.twitch_response <> 'none')::int
        FROM moved m JOIN treatments_needlepoint p ON p.session_id = m.session_id) moves
    GROUP BY day, muscle_id
    ORDER BY day, muscle_id
    ON CONFLICT (day, muscle_id) DO UPDATE
        SET points = t.points + EXCLUDED.points, twitches = t.twitches + EXCLUDED.twitches;
    UPDATE reports_sessionsummary f
    SET patient_id = a.patient_id, clinician_id = a.clinician_id,
        location_id = reports_session_location(to_jsonb(a)), started_at = a.started_at,
        signed_at = a.signed_at, pain_before = a.pain_before, pain_after = a.pain_after
    FROM after a WHERE f.session_id = a.id;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION reports_points_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    clinic_zone text := reports_time_zone();
BEGIN

    UPDATE reports_sessionsummary f
    SET points = f.points + c.points, twitches = f.twitches + c.twitches,
        neck_points = f.neck_points + c.neck, mid_back_points = f.mid_back_points + c.mid_back
    FROM (SELECT ch.session_id, sum(ch.sign) AS points, sum(ch.twitch) AS twitches,
                 coalesce(sum(ch.sign) FILTER (WHERE m.risk_region = 'neck'), 0) AS neck,
                 coalesce(sum(ch.sign) FILTER (WHERE m.risk_region = 'mid_back'), 0) AS mid_back
          FROM (SELECT session_id, muscle_id, 1 AS sign, (twitch_response <> 'none')::int AS twitch
                FROM after) ch
    JOIN treatments_muscle m ON m.id = ch.muscle_id
          GROUP BY ch.session_id) c
    WHERE f.session_id = c.session_id;
    INSERT INTO reports_muscleday AS d (day, clinician_id, location_id, muscle_id, points, twitches)
    SELECT reports_local_day(f.started_at, clinic_zone), f.clinician_id, f.location_id, ch.muscle_id,
           sum(ch.sign), sum(ch.twitch)
    FROM (SELECT session_id, muscle_id, 1 AS sign, (twitch_response <> 'none')::int AS twitch
                FROM after) ch
    JOIN reports_sessionsummary f ON f.session_id = ch.session_id
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (day, clinician_id, location_id, muscle_id) DO UPDATE
        SET points = d.points + EXCLUDED.points, twitches = d.twitches + EXCLUDED.twitches;
    INSERT INTO reports_muscledaytotal AS t (day, muscle_id, points, twitches)
    SELECT reports_local_day(f.started_at, clinic_zone), ch.muscle_id, sum(ch.sign), sum(ch.twitch)
    FROM (SELECT session_id, muscle_id, 1 AS sign, (twitch_response <> 'none')::int AS twitch
                FROM after) ch
    JOIN reports_sessionsummary f ON f.session_id = ch.session_id
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (day, muscle_id) DO UPDATE
        SET points = t.points + EXCLUDED.points, twitches = t.twitches + EXCLUDED.twitches;
    -- Consent as it stands now, when the points are recorded: the moment treatments' gate checks it.
    UPDATE reports_sessionsummary f
    SET neck_consented = f.neck_points = 0
            OR reports_region_consented(f.patient_id, 'neck', clock_timestamp()),
        mid_back_consented = f.mid_back_points = 0
            OR reports_region_consented(f.patient_id, 'mid_back', clock_timestamp())
    WHERE f.session_id IN (SELECT session_id FROM (SELECT session_id, muscle_id, 1 AS sign, (twitch_response <> 'none')::int AS twitch
                FROM after) ch)
      AND (f.neck_points > 0 OR f.mid_back_points > 0 OR NOT f.neck_consented OR NOT f.mid_back_consented);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION reports_points_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    clinic_zone text := reports_time_zone();
BEGIN

    UPDATE reports_sessionsummary f
    SET points = f.points + c.points, twitches = f.twitches + c.twitches,
        neck_points = f.neck_points + c.neck, mid_back_points = f.mid_back_points + c.mid_back
    FROM (SELECT ch.session_id, sum(ch.sign) AS points, sum(ch.twitch) AS twitches,
                 coalesce(sum(ch.sign) FILTER (WHERE m.risk_region = 'neck'), 0) AS neck,
                 coalesce(sum(ch.sign) FILTER (WHERE m.risk_region = 'mid_back'), 0) AS mid_back
          FROM (SELECT session_id, muscle_id, 1 AS sign, (twitch_response <> 'none')::int AS twitch
                FROM after
                UNION ALL
                SELECT session_id, muscle_id, -1, -(twitch_response <> 'none')::int FROM before) ch
    JOIN treatments_muscle m ON m.id = ch.muscle_id
          GROUP BY ch.session_id) c
    WHERE f.session_id = c.session_id;
    INSERT INTO reports_muscleday AS d (day, clinician_id, location_id, muscle_id, points, twitches)
    SELECT reports_local_day(f.started_at, clinic_zone), f.clinician_id, f.location_id, ch.muscle_id,
           sum(ch.sign), sum(ch.twitch)
    FROM (SELECT session_id, muscle_id, 1 AS sign, (twitch_response <> 'none')::int AS twitch
                FROM after
                UNION ALL
                SELECT session_id, muscle_id, -1, -(twitch_response <> 'none')::int FROM before) ch
    JOIN reports_sessionsummary f ON f.session_id = ch.session_id
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (day, clinician_id, location_id, muscle_id) DO UPDATE
        SET points = d.points + EXCLUDED.points, twitches = d.twitches + EXCLUDED.twitches;
    INSERT INTO reports_muscledaytotal AS t (day, muscle_id, points, twitches)
    SELECT reports_local_day(f.started_at, clinic_zone), ch.muscle_id, sum(ch.sign), sum(ch.twitch)
    FROM (SELECT session_id, muscle_id, 1 AS sign, (twitch_response <> 'none')::int AS twitch
                FROM after
                UNION ALL
                SELECT session_id, muscle_id, -1, -(twitch_response <> 'none')::int FROM before) ch
    JOIN reports_sessionsummary f ON f.session_id = ch.session_id
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (day, muscle_id) DO UPDATE
        SET points = t.points + EXCLUDED.points, twitches = t.twitches + EXCLUDED.twitches;
    -- Consent as it stands now, when the points are recorded: the moment treatments' gate checks it.
    UPDATE reports_sessionsummary f
    SET neck_consented = f.neck_points = 0
            OR reports_region_consented(f.patient_id, 'neck', clock_timestamp()),
        mid_back_consented = f.mid_back_points = 0
            OR reports_region_consented(f.patient_id, 'mid_back', clock_timestamp())
    WHERE f.session_id IN (SELECT session_id FROM (SELECT session_id, muscle_id, 1 AS sign, (twitch_response <> 'none')::int AS twitch
                FROM after
                UNION ALL
                SELECT session_id, muscle_id, -1, -(twitch_response <> 'none')::int FROM before) ch)
      AND (f.neck_points > 0 OR f.mid_back_points > 0 OR NOT f.neck_consented OR NOT f.mid_back_consented);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION reports_appointments_added() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    clinic_zone text := reports_time_zone();
BEGIN

    INSERT INTO reports_appointmentday AS d (day, therapist_id, location_id, status, appointments)
    SELECT reports_local_day(start, clinic_zone), therapist_id, location_id, status, sum(sign)
    FROM (SELECT start, therapist_id, location_id, status, 1 AS sign FROM after) ch
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (day, therapist_id, location_id, status) DO UPDATE
        SET appointments = d.appointments + EXCLUDED.appointments;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION reports_appointments_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    clinic_zone text := reports_time_zone();
BEGIN

    INSERT INTO reports_appointmentday AS d (day, therapist_id, location_id, status, appointments)
    SELECT reports_local_day(start, clinic_zone), therapist_id, location_id, status, sum(sign)
    FROM (SELECT start, therapist_id, location_id, status, 1 AS sign FROM after UNION ALL SELECT start, therapist_id, location_id, status, -1 FROM before) ch
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (day, therapist_id, location_id, status) DO UPDATE
        SET appointments = d.appointments + EXCLUDED.appointments;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION reports_rebuild_summaries() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    clinic_zone text := reports_time_zone();
BEGIN
    TRUNCATE reports_sessionsummary, reports_muscleday, reports_muscledaytotal, reports_appointmentday;
    INSERT INTO reports_sessionsummary (session_id, patient_id, clinician_id, location_id, started_at,
                                        signed_at, pain_before, pain_after, points, twitches,
                                        neck_points, mid_back_points)
    SELECT s.id, s.patient_id, s.clinician_id, reports_session_location(to_jsonb(s)), s.started_at,
           s.signed_at, s.pain_before, s.pain_after, coalesce(c.points, 0), coalesce(c.twitches, 0),
           coalesce(c.neck, 0), coalesce(c.mid_back, 0)
    FROM treatments_needlingsession s LEFT JOIN (
        SELECT p.session_id, count(*) AS points,
               count(*) FILTER (WHERE p.twitch_response <> 'none') AS twitches,
               count(*) FILTER (WHERE m.risk_region = 'neck') AS neck,
               count(*) FILTER (WHERE m.risk_region = 'mid_back') AS mid_back
        FROM treatments_needlepoint p JOIN treatments_muscle m ON m.id = p.muscle_id
        GROUP BY p.session_id) c ON c.session_id = s.id;
    INSERT INTO reports_muscleday (day, clinician_id, location_id, muscle_id, points, twitches)
    SELECT reports_local_day(f.started_at, clinic_zone), f.clinician_id, f.location_id, p.muscle_id, count(*),
           count(*) FILTER (WHERE p.twitch_response <> 'none')
    FROM treatments_needlepoint p JOIN reports_sessionsummary f ON f.session_id = p.session_id
    GROUP BY 1, 2, 3, 4;
    INSERT INTO reports_muscledaytotal (day, muscle_id, points, twitches)
    SELECT day, muscle_id, sum(points), sum(twitches) FROM reports_muscleday GROUP BY 1, 2;
    INSERT INTO reports_appointmentday (day, therapist_id, location_id, status, appointments)
    SELECT reports_local_day(start, clinic_zone), therapist_id, location_id, status, count(*)
    FROM appointments_appointment GROUP BY 1, 2, 3, 4;
    -- Rows loaded without the triggers: judged when the session was signed (a draft: now).
    UPDATE reports_sessionsummary
    SET neck_consented = neck_points = 0
            OR reports_region_consented(patient_id, 'neck', coalesce(signed_at, clock_timestamp())),
        mid_back_consented = mid_back_points = 0
            OR reports_region_consented(patient_id, 'mid_back', coalesce(signed_at, clock_timestamp()))
    WHERE neck_points > 0 OR mid_back_points > 0;
    ANALYZE reports_sessionsummary;
    ANALYZE reports_muscleday;
    ANALYZE reports_muscledaytotal;
    ANALYZE reports_appointmentday;
END;
$$;

DROP TRIGGER IF EXISTS reports_sessions_added ON treatments_needlingsession;
CREATE TRIGGER reports_sessions_added AFTER INSERT ON treatments_needlingsession
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION reports_sessions_added();
DROP TRIGGER IF EXISTS reports_sessions_changed ON treatments_needlingsession;
CREATE TRIGGER reports_sessions_changed AFTER UPDATE ON treatments_needlingsession
    REFERENCING OLD TABLE AS before NEW TABLE AS after
    FOR EACH STATEMENT EXECUTE FUNCTION reports_sessions_changed();
DROP TRIGGER IF EXISTS reports_points_added ON treatments_needlepoint;
CREATE TRIGGER reports_points_added AFTER INSERT ON treatments_needlepoint
    REFERENCING NEW TABLE AS after FOR EACH STATEMENT EXECUTE FUNCTION reports_points_added();
DROP TRIGGER IF EXISTS reports_points_changed ON treatments_needlepoint;
CREATE TRIGGER reports_points_changed AFTER UPDATE ON treatments_needlepoint
    REFERENCING OLD TABLE AS before NEW TABLE AS after
    FOR EACH STATEMENT EXECUTE FUNCTION reports_points_changed();
DROP TRIGGER IF EXISTS reports_appointments_added ON appointments_appointment;
CREATE TRIGGER reports_appointments_added AFTER INSERT ON appointments_appointment
    REFERENCING NEW TABLE AS after FOR EACH STATEMENT EXECUTE FUNCTION reports_appointments_added();
DROP TRIGGER IF EXISTS reports_appointments_changed ON appointments_appointment;
CREATE TRIGGER reports_appointments_changed AFTER UPDATE ON appointments_appointment
    REFERENCING OLD TABLE AS before NEW TABLE AS after
    FOR EACH STATEMENT EXECUTE FUNCTION reports_appointments_changed();
"""

SUMMARY_TRIGGERS = TIME_ZONE + CONSENT_RULE + KEEPING

DROP_SUMMARY_TRIGGERS = """
DROP TRIGGER IF EXISTS reports_appointments_changed ON appointments_appointment;
DROP TRIGGER IF EXISTS reports_appointments_added ON appointments_appointment;
DROP FUNCTION IF EXISTS reports_appointments_changed();
DROP FUNCTION IF EXISTS reports_appointments_added();
DROP TRIGGER IF EXISTS reports_points_changed ON treatments_needlepoint;
DROP TRIGGER IF EXISTS reports_points_added ON treatments_needlepoint;
DROP TRIGGER IF EXISTS reports_sessions_changed ON treatments_needlingsession;
DROP TRIGGER IF EXISTS reports_sessions_added ON treatments_needlingsession;
DROP FUNCTION IF EXISTS reports_rebuild_summaries();
DROP FUNCTION IF EXISTS reports_points_changed();
DROP FUNCTION IF EXISTS reports_points_added();
DROP FUNCTION IF EXISTS reports_sessions_changed();
DROP FUNCTION IF EXISTS reports_sessions_added();
DROP FUNCTION IF EXISTS reports_session_location(jsonb);
DROP FUNCTION IF EXISTS reports_region_consented(bigint, text, timestamptz);
DROP FUNCTION IF EXISTS reports_local_day(timestamptz, text);
DROP FUNCTION IF EXISTS reports_time_zone();
DROP TABLE IF EXISTS reports_clinic_time_zone;
"""


def record_time_zone(apps, schema_editor):
    # The zone the settings name now; reports.summaries.record_time_zone() keeps it so afterwards.
    schema_editor.execute(
        "INSERT INTO reports_clinic_time_zone (name) VALUES (%s) ON CONFLICT (only_row) DO NOTHING",
        [settings.TIME_ZONE],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_summaries"),
        ("treatments", "0003_signed_sessions_read_only"),
        ("appointments", "0001_initial"),
        ("consent", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(SUMMARY_TRIGGERS, DROP_SUMMARY_TRIGGERS),
        migrations.RunPython(record_time_zone, migrations.RunPython.noop),
    ]
