from importlib import import_module

from django.db import migrations

# Consent coverage was judged "as it stands now" by PostgreSQL's clock (clock_timestamp()) alone, while
# the consents themselves are stamped by the app's clock (Python's): an app server a second ahead of the
# database, or a test suite run with its clock moved (CLINIC_TEST_NOW), saw a consent signed a moment
# before the points as not yet signed, and raised a false red alarm on the dashboard. The moment is now
# the later of the database's clock and the patient's newest consent event, so every consent on file
# counts as it stands, which is what consent.services' gate found when it let the points through, and
# anything else that depends on the moment (a version's effective date) is still judged at about now.
# Frozen as shipped.
CONSENT_AS_IT_STANDS = """
-- The moment consent is judged "as it stands": the database's clock, or the patient's newest consent
-- event (signed or withdrawn, stamped by the app's clock) when that is later.
CREATE OR REPLACE FUNCTION reports_as_it_stands(patient bigint) RETURNS timestamptz LANGUAGE sql VOLATILE AS $$
    SELECT greatest(clock_timestamp(), max(greatest(c.signed_at, c.withdrawn_at)))
    FROM consent_consentrecord c WHERE c.patient_id = patient
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
    -- Consent as it stands when the points are recorded (the newest on file, withdrawn or not): what
    -- treatments' gate checked a moment before, by the app's clock.
    UPDATE reports_sessionsummary f
    SET neck_consented = f.neck_points = 0
            OR reports_region_consented(f.patient_id, 'neck', reports_as_it_stands(f.patient_id)),
        mid_back_consented = f.mid_back_points = 0
            OR reports_region_consented(f.patient_id, 'mid_back', reports_as_it_stands(f.patient_id))
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
    -- Consent as it stands when the points are recorded (the newest on file, withdrawn or not): what
    -- treatments' gate checked a moment before, by the app's clock.
    UPDATE reports_sessionsummary f
    SET neck_consented = f.neck_points = 0
            OR reports_region_consented(f.patient_id, 'neck', reports_as_it_stands(f.patient_id)),
        mid_back_consented = f.mid_back_points = 0
            OR reports_region_consented(f.patient_id, 'mid_back', reports_as_it_stands(f.patient_id))
    WHERE f.session_id IN (SELECT session_id FROM (SELECT session_id, muscle_id, 1 AS sign, (twitch_response <> 'none')::int AS twitch
                FROM after
                UNION ALL
                SELECT session_id, muscle_id, -1, -(twitch_response <> 'none')::int FROM before) ch)
      AND (f.neck_points > 0 OR f.mid_back_points > 0 OR NOT f.neck_consented OR NOT f.mid_back_consented);
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
    -- Rows loaded without the triggers: judged when the session was signed (a draft: as consent stands).
    UPDATE reports_sessionsummary
    SET neck_consented = neck_points = 0
            OR reports_region_consented(patient_id, 'neck', coalesce(signed_at, reports_as_it_stands(patient_id))),
        mid_back_consented = mid_back_points = 0
            OR reports_region_consented(patient_id, 'mid_back', coalesce(signed_at, reports_as_it_stands(patient_id)))
    WHERE neck_points > 0 OR mid_back_points > 0;
    ANALYZE reports_sessionsummary;
    ANALYZE reports_muscleday;
    ANALYZE reports_muscledaytotal;
    ANALYZE reports_appointmentday;
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("reports", "0005_time_zone_read_at_run_time")]

    # Backwards, 0002's frozen SQL puts clock_timestamp() back (only the frozen migration is imported).
    operations = [
        migrations.RunSQL(
            CONSENT_AS_IT_STANDS,
            import_module("reports.migrations.0002_summary_triggers").KEEPING
            + "DROP FUNCTION IF EXISTS reports_as_it_stands(bigint);",
        )
    ]
