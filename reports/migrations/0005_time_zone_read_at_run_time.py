from importlib import import_module

from django.conf import settings
from django.db import migrations

# Databases migrated before 0002 was frozen have the clinic's time zone written into reports_local_day
# (whatever CLINIC_TIME_ZONE said on the day they migrated). Bring them to what 0002 now installs: the
# zone in reports_clinic_time_zone, read when the SQL runs. Every statement of 0002 is idempotent (CREATE
# OR REPLACE, IF NOT EXISTS), so on a database 0002 built this changes nothing. The consent rule
# (reports_region_consented) has no zone in it and is left as it stands: a later migration may own it.
# The one-argument reports_local_day goes once no trigger calls it. Only the frozen migration is
# imported, never app code.
summary_triggers = import_module("reports.migrations.0002_summary_triggers")

DROP_BAKED_ZONE = "DROP FUNCTION IF EXISTS reports_local_day(timestamptz);"


def record_time_zone(apps, schema_editor):
    schema_editor.execute(
        "INSERT INTO reports_clinic_time_zone (name) VALUES (%s) ON CONFLICT (only_row) DO NOTHING",
        [settings.TIME_ZONE],
    )


class Migration(migrations.Migration):
    dependencies = [("reports", "0004_day_totals")]

    operations = [
        migrations.RunSQL(summary_triggers.TIME_ZONE + summary_triggers.KEEPING, migrations.RunSQL.noop),
        migrations.RunPython(record_time_zone, migrations.RunPython.noop),
        migrations.RunSQL(DROP_BAKED_ZONE, migrations.RunSQL.noop),
    ]
