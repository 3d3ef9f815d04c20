from django.conf import settings
from django.db import migrations

# The clinic's time zone, held once by the database for every piece of SQL that judges a clinic day: a
# consent form version's effective date and a clinician's authorisation (consent 0004, treatments 0006 and
# 0008), the report summaries' days (reports 0009 points reports_time_zone() here). One row, read when the
# SQL runs, so a change of CLINIC_TIME_ZONE needs no new SQL; `manage.py migrate` keeps it equal to the
# setting (clinic/time_zone.py). A table rather than a per-connection setting: PgBouncer in transaction
# mode drops connection options and psql never sends them, and a rule must judge the same day whoever
# asks. It lives in the lowest app, so that consent, treatments and reports may all read it.
CLINIC_TIME_ZONE = """
CREATE TABLE clinic_time_zone (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    name text NOT NULL CHECK (name <> '')
);

-- The zone, or an error: no rule may quietly judge days in some other zone.
CREATE FUNCTION clinic_time_zone() RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    zone text;
BEGIN
    SELECT name INTO zone FROM clinic_time_zone;
    IF zone IS NULL THEN
        RAISE EXCEPTION 'clinic_time_zone is empty: run manage.py migrate to record CLINIC_TIME_ZONE';
    END IF;
    RETURN zone;
END;
$$;

-- The clinic's calendar day at a moment.
CREATE FUNCTION clinic_local_date(at_time timestamptz) RETURNS date LANGUAGE sql STABLE AS $$
    SELECT (at_time AT TIME ZONE clinic_time_zone())::date
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS clinic_local_date(timestamptz);
DROP FUNCTION IF EXISTS clinic_time_zone();
DROP TABLE IF EXISTS clinic_time_zone;
"""


def record_time_zone(apps, schema_editor):
    # The zone the settings name now; clinic.time_zone.record_time_zone() keeps it so after every migrate.
    schema_editor.execute(
        "INSERT INTO clinic_time_zone (name) VALUES (%s) ON CONFLICT (only_row) DO NOTHING",
        [settings.TIME_ZONE],
    )


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.RunSQL(CLINIC_TIME_ZONE, DROP),
        migrations.RunPython(record_time_zone, migrations.RunPython.noop),
    ]
