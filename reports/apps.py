from django.apps import AppConfig

from accounts.roles import Role

# DESIGN.md: the clinic manager's room; the administrator sees everything.
REPORT_ROLES = (Role.MANAGER, Role.ADMIN)


def recount_in_the_new_zone(sender, using, **kwargs):
    """CLINIC_TIME_ZONE changed (clinic/time_zone.py, after migrate): the summaries count by clinic day, so
    everything counted in the old zone is recounted."""
    from django.db import connections

    from .summaries import rebuild

    with connections[using].cursor() as cursor:
        cursor.execute("SELECT to_regprocedure('reports_rebuild_summaries()') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return  # migrated back before 0002
    rebuild(using)


class ReportsConfig(AppConfig):
    name = "reports"
    # Navigation entries this app adds: (label, url name, roles); see accounts/navigation.py.
    navigation = [
        ("Reports", "reports:dashboard", REPORT_ROLES),
        ("Safety", "reports:safety", REPORT_ROLES),
        ("Exports", "reports:exports", REPORT_ROLES),
    ]
    # The role home pages' hook (accounts/home.py): the manager's incidents, figures and report links.
    home_panels = {Role.MANAGER: ["reports.home.manager_panel"]}

    def ready(self):
        from clinic.time_zone import time_zone_changed

        time_zone_changed.connect(recount_in_the_new_zone)
