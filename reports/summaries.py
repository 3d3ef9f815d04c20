"""The SQL that keeps the report summaries (reports/models.py) in step with the needling and
appointment tables, and rebuilds them. Installed by migrations 0002 and 0004; `manage.py
refresh_report_summaries` reinstalls them and recounts.

Statement-level triggers with transition tables: one INSERT of 10 million points (a demo or benchmark
load) runs two aggregated statements, not 20 million single-row ones. The session's location comes
from its appointment when treatments records one (read through to_jsonb, so these functions need no
change on the day the appointment column appears). Points, sessions and appointments are never
deleted (their apps refuse DELETE), so there is no delete trigger. Every upsert takes its summary rows
in key order, so two transactions touching the same rows wait for each other instead of deadlocking.
"""

from django.conf import settings
from django.db import connection

CREATE = """
CREATE OR REPLACE FUNCTION reports_local_day(ts timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE AS $$ SELECT (ts AT TIME ZONE '{tz}')::date $$;

CREATE OR REPLACE FUNCTION reports_session_location(session jsonb) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT a.location_id FROM appointments_appointment a WHERE a.id = (session ->> 'appointment_id')::bigint
$$;

-- The consent rule is consent's own SQL definition (consent migration 0003), the one the needle point
-- trigger calls too: the general risks and the region accepted, not withdrawn, not superseded by a
-- version requiring re-consent (reports migration 0005). PL/pgSQL, whose body is resolved when it runs,
-- so that replaying an older migration that installs this text works before consent's function exists.
CREATE OR REPLACE FUNCTION reports_region_consented(patient bigint, risk_region text, at timestamptz)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN consent_allows(patient, risk_region, at);
END;
$$;

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
BEGIN
    -- A draft moved to another day, clinician or location takes its points' counts along.
    WITH keys AS (
        SELECT a.id AS session_id,
               reports_local_day(b.started_at) AS old_day, b.clinician_id AS old_clinician,
               reports_session_location(to_jsonb(b)) AS old_location,
               reports_local_day(a.started_at) AS new_day, a.clinician_id AS new_clinician,
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
        SELECT a.id AS session_id, reports_local_day(b.started_at) AS old_day,
               reports_local_day(a.started_at) AS new_day
        FROM after a JOIN before b ON b.id = a.id
        WHERE reports_local_day(a.started_at) <> reports_local_day(b.started_at)
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
BEGIN
{points_body_added}
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION reports_points_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{points_body_changed}
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION reports_appointments_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{appointments_body_added}
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION reports_appointments_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{appointments_body_changed}
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION reports_rebuild_summaries() RETURNS void LANGUAGE plpgsql AS $$
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
    SELECT reports_local_day(f.started_at), f.clinician_id, f.location_id, p.muscle_id, count(*),
           count(*) FILTER (WHERE p.twitch_response <> 'none')
    FROM treatments_needlepoint p JOIN reports_sessionsummary f ON f.session_id = p.session_id
    GROUP BY 1, 2, 3, 4;
    -- Points removed as entered in error (treatments' pointremoval) were not needled: not counted. The
    -- table is read only once it exists (PL/pgSQL plans a statement when it first runs it), so an older
    -- migration that installs this text runs before treatments has the table.
    IF to_regclass('treatments_pointremoval') IS NOT NULL THEN
        UPDATE reports_sessionsummary f
        SET points = f.points - c.points, twitches = f.twitches - c.twitches,
            neck_points = f.neck_points - c.neck, mid_back_points = f.mid_back_points - c.mid_back
        FROM (SELECT p.session_id, count(*) AS points,
                     count(*) FILTER (WHERE p.twitch_response <> 'none') AS twitches,
                     count(*) FILTER (WHERE m.risk_region = 'neck') AS neck,
                     count(*) FILTER (WHERE m.risk_region = 'mid_back') AS mid_back
              FROM treatments_pointremoval r JOIN treatments_needlepoint p ON p.id = r.point_id
              JOIN treatments_muscle m ON m.id = p.muscle_id
              GROUP BY p.session_id) c
        WHERE f.session_id = c.session_id;
        INSERT INTO reports_muscleday AS d (day, clinician_id, location_id, muscle_id, points, twitches)
        SELECT reports_local_day(f.started_at), f.clinician_id, f.location_id, p.muscle_id, -count(*),
               -count(*) FILTER (WHERE p.twitch_response <> 'none')
        FROM treatments_pointremoval r JOIN treatments_needlepoint p ON p.id = r.point_id
        JOIN reports_sessionsummary f ON f.session_id = p.session_id
        GROUP BY 1, 2, 3, 4
        ON CONFLICT (day, clinician_id, location_id, muscle_id) DO UPDATE
            SET points = d.points + EXCLUDED.points, twitches = d.twitches + EXCLUDED.twitches;
    END IF;
    INSERT INTO reports_muscledaytotal (day, muscle_id, points, twitches)
    SELECT day, muscle_id, sum(points), sum(twitches) FROM reports_muscleday GROUP BY 1, 2;
    INSERT INTO reports_appointmentday (day, therapist_id, location_id, status, appointments)
    SELECT reports_local_day(start), therapist_id, location_id, status, count(*)
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

DROP = """
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
DROP FUNCTION IF EXISTS reports_local_day(timestamptz);
"""


# Each added point counts +1 and, on UPDATE, each old version -1; then the sums per session and per day,
# clinician, location and muscle.
POINTS_BODY = """
    UPDATE reports_sessionsummary f
    SET points = f.points + c.points, twitches = f.twitches + c.twitches,
        neck_points = f.neck_points + c.neck, mid_back_points = f.mid_back_points + c.mid_back
    FROM (SELECT ch.session_id, sum(ch.sign) AS points, sum(ch.twitch) AS twitches,
                 coalesce(sum(ch.sign) FILTER (WHERE m.risk_region = 'neck'), 0) AS neck,
                 coalesce(sum(ch.sign) FILTER (WHERE m.risk_region = 'mid_back'), 0) AS mid_back
          FROM ({changes}) ch JOIN treatments_muscle m ON m.id = ch.muscle_id
          GROUP BY ch.session_id) c
    WHERE f.session_id = c.session_id;
    INSERT INTO reports_muscleday AS d (day, clinician_id, location_id, muscle_id, points, twitches)
    SELECT reports_local_day(f.started_at), f.clinician_id, f.location_id, ch.muscle_id, sum(ch.sign),
           sum(ch.twitch)
    FROM ({changes}) ch JOIN reports_sessionsummary f ON f.session_id = ch.session_id
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (day, clinician_id, location_id, muscle_id) DO UPDATE
        SET points = d.points + EXCLUDED.points, twitches = d.twitches + EXCLUDED.twitches;
    INSERT INTO reports_muscledaytotal AS t (day, muscle_id, points, twitches)
    SELECT reports_local_day(f.started_at), ch.muscle_id, sum(ch.sign), sum(ch.twitch)
    FROM ({changes}) ch JOIN reports_sessionsummary f ON f.session_id = ch.session_id
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
    WHERE f.session_id IN (SELECT session_id FROM ({changes}) ch)
      AND (f.neck_points > 0 OR f.mid_back_points > 0 OR NOT f.neck_consented OR NOT f.mid_back_consented);"""
ADDED = "SELECT session_id, muscle_id, 1 AS sign, (twitch_response <> 'none')::int AS twitch FROM after"
REMOVED = "SELECT session_id, muscle_id, -1, -(twitch_response <> 'none')::int FROM before"
CHANGED = f"{ADDED} UNION ALL {REMOVED}"


# Appointments: +1 for each new version of a row, -1 for each old one, per day, therapist, location, status.
APPOINTMENTS_BODY = """
    INSERT INTO reports_appointmentday AS d (day, therapist_id, location_id, status, appointments)
    SELECT reports_local_day(start), therapist_id, location_id, status, sum(sign)
    FROM ({changes}) ch
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (day, therapist_id, location_id, status) DO UPDATE
        SET appointments = d.appointments + EXCLUDED.appointments;"""
BOOKED = "SELECT start, therapist_id, location_id, status, 1 AS sign FROM after"
UNBOOKED = "SELECT start, therapist_id, location_id, status, -1 FROM before"


# A point removed as entered in error leaves the counts: -1 for it, per session and per day (the consent
# coverage of its session is left as it was judged when the points were recorded).
REMOVED = (
    "SELECT p.session_id, p.muscle_id, -1 AS sign, -(p.twitch_response <> 'none')::int AS twitch "
    "FROM removed r JOIN treatments_needlepoint p ON p.id = r.point_id"
)
REMOVALS = """
CREATE OR REPLACE FUNCTION reports_points_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{removal_body}
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS reports_points_removed ON treatments_pointremoval;
CREATE TRIGGER reports_points_removed AFTER INSERT ON treatments_pointremoval
    REFERENCING NEW TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION reports_points_removed();
"""


def removals_sql():
    """The trigger that takes a removed point out of the counts (treatments' pointremoval must exist)."""
    counts_only = POINTS_BODY.split("    -- Consent as it stands now")[0].rstrip()
    return REMOVALS.replace("{removal_body}", counts_only.replace("{changes}", REMOVED))


def create_sql(time_zone=None):
    """The functions and triggers, with the clinic's time zone written into reports_local_day (an
    IMMUTABLE function cannot read a setting; a change of zone means running this again)."""
    zone = (time_zone or settings.TIME_ZONE).replace("'", "")
    return (
        CREATE.replace("{points_body_added}", POINTS_BODY.replace("{changes}", ADDED))
        .replace("{points_body_changed}", POINTS_BODY.replace("{changes}", CHANGED))
        .replace("{appointments_body_added}", APPOINTMENTS_BODY.replace("{changes}", BOOKED))
        .replace(
            "{appointments_body_changed}",
            APPOINTMENTS_BODY.replace("{changes}", f"{BOOKED} UNION ALL {UNBOOKED}"),
        )
        .replace("{tz}", zone)
    )


def rebuild():
    """Recount both summaries from the needling tables (after a load with triggers off)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reports_rebuild_summaries()")


def install_and_rebuild():
    """(Re)create the functions and triggers for the current CLINIC_TIME_ZONE and recount."""
    with connection.cursor() as cursor:
        cursor.execute(create_sql())
        cursor.execute(removals_sql())
        cursor.execute("SELECT reports_rebuild_summaries()")
