from django.apps import AppConfig
from django.db.models.signals import post_migrate

# DESIGN.md: the clinic manager's room; the administrator sees everything.
REPORT_ROLES = ("manager", "administrator")


def keep_time_zone(sender, using, **kwargs):
    """After every migrate: the summary SQL reads its local days in the zone recorded in the database
    (reports/migrations/0002); when CLINIC_TIME_ZONE has changed since, record it and recount."""
    from django.db import connections

    from .summaries import rebuild, record_time_zone

    with connections[using].cursor() as cursor:
        cursor.execute("SELECT to_regclass('reports_clinic_time_zone') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return  # migrated back before 0002
    if using == "default" and record_time_zone():
        rebuild()


class ReportsConfig(AppConfig):
    name = "reports"
    # Navigation entries this app adds: (label, url name, roles); see accounts/navigation.py.
    navigation = [
        ("Reports", "reports:dashboard", REPORT_ROLES),
        ("Safety", "reports:safety", REPORT_ROLES),
        ("Exports", "reports:exports", REPORT_ROLES),
    ]

    def ready(self):
        post_migrate.connect(keep_time_zone, sender=self)
