"""The report summaries (reports/models.py) the database keeps in step with the needling and appointment
tables. The functions and triggers that keep them are plain SQL frozen in their migrations (0002 installs
them; 0005 and 0006 change them), so replaying history installs the SQL of each day, never this module's.

What is left here is what the app does around them: record the clinic's time zone the SQL reads, and
recount everything (after a bulk load with triggers off, or a change of CLINIC_TIME_ZONE).
"""

from django.conf import settings
from django.db import connection


def record_time_zone():
    """Write CLINIC_TIME_ZONE into reports_clinic_time_zone, the zone the summary SQL reads its local days
    in; returns True when it changed (the days already counted are then in the old zone: recount)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO reports_clinic_time_zone AS z (name) VALUES (%s)
               ON CONFLICT (only_row) DO UPDATE SET name = EXCLUDED.name WHERE z.name <> EXCLUDED.name
               RETURNING name""",
            [settings.TIME_ZONE],
        )
        return cursor.fetchone() is not None


def rebuild():
    """Recount both summaries from the needling tables (after a load with triggers off)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reports_rebuild_summaries()")


def record_time_zone_and_rebuild():
    """The current CLINIC_TIME_ZONE recorded, then every summary recounted in it."""
    record_time_zone()
    rebuild()
