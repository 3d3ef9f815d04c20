from importlib import import_module

from django.db import migrations

# One clinic time zone in the database. Since 0002 the summaries read their zone from their own one-row
# table (reports_clinic_time_zone); the consent and needling rules judge clinic days too (a consent
# version's effective date, a clinician's authorisation), so the zone moved down to the lowest app: the
# one-row table clinic_time_zone of clinic migration 0001, which `manage.py migrate` keeps equal to
# CLINIC_TIME_ZONE (clinic/time_zone.py). reports_time_zone() keeps its name, so no trigger changes, and
# reads the clinic's row; the reports' own table goes. Going back, 0002's frozen SQL puts the table and
# the function back, holding the clinic's zone (only the frozen migration is imported).
FROM_THE_CLINIC = """
CREATE OR REPLACE FUNCTION reports_time_zone() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT clinic_time_zone()
$$;
DROP TABLE reports_clinic_time_zone;
"""

OWN_TABLE_AGAIN = (
    import_module("reports.migrations.0002_summary_triggers").TIME_ZONE
    + """
INSERT INTO reports_clinic_time_zone (name) SELECT clinic_time_zone() ON CONFLICT (only_row) DO NOTHING;
"""
)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0008_points_removed_not_counted"),
        ("clinic", "0001_clinic_time_zone"),
    ]

    operations = [migrations.RunSQL(FROM_THE_CLINIC, OWN_TABLE_AGAIN)]
