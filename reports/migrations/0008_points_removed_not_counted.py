from importlib import import_module

from django.db import migrations

# A needle point removed as entered in error (treatments 0009) was not needled: the reports stop counting
# it. A statement trigger on the removals takes each removed point out of its session's and its day's
# counts (the consent coverage of its session is left as it was judged when the points were recorded),
# and the rebuild (manage.py refresh_report_summaries) leaves removed points out as well. The rebuild is
# 0006's with the removals subtracted; days in the zone read at run time (reports_time_zone()). Frozen as
# shipped; going back restores 0006's rebuild (only the frozen migration is imported).
REBUILD = """
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
    -- Points removed as entered in error (treatments' pointremoval) were not needled: not counted.
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
    SELECT reports_local_day(f.started_at, clinic_zone), f.clinician_id, f.location_id, p.muscle_id,
           -count(*), -count(*) FILTER (WHERE p.twitch_response <> 'none')
    FROM treatments_pointremoval r JOIN treatments_needlepoint p ON p.id = r.point_id
    JOIN reports_sessionsummary f ON f.session_id = p.session_id
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (day, clinician_id, location_id, muscle_id) DO UPDATE
        SET points = d.points + EXCLUDED.points, twitches = d.twitches + EXCLUDED.twitches;
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

REMOVALS = """
CREATE OR REPLACE FUNCTION reports_points_removed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    clinic_zone text := reports_time_zone();
BEGIN

    UPDATE reports_sessionsummary f
    SET points = f.points + c.points, twitches = f.twitches + c.twitches,
        neck_points = f.neck_points + c.neck, mid_back_points = f.mid_back_points + c.mid_back
    FROM (SELECT ch.session_id, sum(ch.sign) AS points, sum(ch.twitch) AS twitches,
                 coalesce(sum(ch.sign) FILTER (WHERE m.risk_region = 'neck'), 0) AS neck,
                 coalesce(sum(ch.sign) FILTER (WHERE m.risk_region = 'mid_back'), 0) AS mid_back
          FROM (SELECT p.session_id, p.muscle_id, -1 AS sign, -(p.twitch_response <> 'none')::int AS twitch
                FROM removed r JOIN treatments_needlepoint p ON p.id = r.point_id) ch
    JOIN treatments_muscle m ON m.id = ch.muscle_id
          GROUP BY ch.session_id) c
    WHERE f.session_id = c.session_id;
    INSERT INTO reports_muscleday AS d (day, clinician_id, location_id, muscle_id, points, twitches)
    SELECT reports_local_day(f.started_at, clinic_zone), f.clinician_id, f.location_id, ch.muscle_id, sum(ch.sign),
           sum(ch.twitch)
    FROM (SELECT p.session_id, p.muscle_id, -1 AS sign, -(p.twitch_response <> 'none')::int AS twitch
                FROM removed r JOIN treatments_needlepoint p ON p.id = r.point_id) ch
    JOIN reports_sessionsummary f ON f.session_id = ch.session_id
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (day, clinician_id, location_id, muscle_id) DO UPDATE
        SET points = d.points + EXCLUDED.points, twitches = d.twitches + EXCLUDED.twitches;
    INSERT INTO reports_muscledaytotal AS t (day, muscle_id, points, twitches)
    SELECT reports_local_day(f.started_at, clinic_zone), ch.muscle_id, sum(ch.sign), sum(ch.twitch)
    FROM (SELECT p.session_id, p.muscle_id, -1 AS sign, -(p.twitch_response <> 'none')::int AS twitch
                FROM removed r JOIN treatments_needlepoint p ON p.id = r.point_id) ch
    JOIN reports_sessionsummary f ON f.session_id = ch.session_id
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (day, muscle_id) DO UPDATE
        SET points = t.points + EXCLUDED.points, twitches = t.twitches + EXCLUDED.twitches;
    RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS reports_points_removed ON treatments_pointremoval;
CREATE TRIGGER reports_points_removed AFTER INSERT ON treatments_pointremoval
    REFERENCING NEW TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION reports_points_removed();
"""

BEFORE = import_module(
    "reports.migrations.0006_consent_judged_without_the_database_clock"
).CONSENT_AS_IT_STANDS

DROP = """
DROP TRIGGER IF EXISTS reports_points_removed ON treatments_pointremoval;
DROP FUNCTION IF EXISTS reports_points_removed();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0007_coverage_reads_consent_allows"),
        ("treatments", "0009_points_removed_in_error"),
    ]

    operations = [migrations.RunSQL(REBUILD + REMOVALS, DROP + BEFORE)]
