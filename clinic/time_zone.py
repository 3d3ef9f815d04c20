"""The clinic's time zone as the database holds it: one row, `clinic_time_zone` (clinic/migrations/0001),
which every SQL function that judges a clinic day reads. Python reads `settings.TIME_ZONE`; this keeps the
two equal after every `manage.py migrate`, and tells the apps that counted days in the old zone."""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.dispatch import Signal

# Sent (with `using`) when migrate recorded a zone other than the one the database held: whatever was
# counted by clinic day in the old zone is to be recounted (reports/apps.py rebuilds its summaries).
time_zone_changed = Signal()


def record_time_zone(using=DEFAULT_DB_ALIAS):
    """Write CLINIC_TIME_ZONE into clinic_time_zone; returns True when it changed."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            """INSERT INTO clinic_time_zone AS z (name) VALUES (%s)
               ON CONFLICT (only_row) DO UPDATE SET name = EXCLUDED.name WHERE z.name <> EXCLUDED.name
               RETURNING name""",
            [settings.TIME_ZONE],
        )
        return cursor.fetchone() is not None


def keep_time_zone(sender, using, **kwargs):
    """After every migrate: record the setting, and say so when the database held another zone."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT to_regclass('clinic_time_zone') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return  # migrated back before clinic 0001
    if using == DEFAULT_DB_ALIAS and record_time_zone(using):
        time_zone_changed.send(sender=record_time_zone, using=using)
