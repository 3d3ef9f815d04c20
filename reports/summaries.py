"""The report summaries (reports/models.py) the database keeps in step with the needling and appointment
tables. The functions and triggers that keep them are plain SQL frozen in their migrations (0002 installs
them; 0004 to 0009 change them), so replaying history installs the SQL of each day, never this module's.

What is left here is what the app does around them: recount everything (after a bulk load with triggers
off, or a change of CLINIC_TIME_ZONE, which the SQL reads from the clinic's one-row table
clinic_time_zone: clinic/time_zone.py).
"""

from django.db import DEFAULT_DB_ALIAS, connections

from clinic.time_zone import record_time_zone


def rebuild(using=DEFAULT_DB_ALIAS):
    """Recount every summary (sessions, muscle days and their totals, appointment days) from the needling
    and appointment tables (after a load with triggers off)."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT reports_rebuild_summaries()")


def record_time_zone_and_rebuild():
    """The current CLINIC_TIME_ZONE recorded, then every summary recounted in it."""
    record_time_zone()
    rebuild()
