from django.apps import AppConfig

# DESIGN.md: the clinic manager's room; the administrator sees everything.
REPORT_ROLES = ("manager", "administrator")


class ReportsConfig(AppConfig):
    name = "reports"
    # Navigation entries this app adds: (label, url name, roles); see accounts/navigation.py.
    navigation = [
        ("Reports", "reports:dashboard", REPORT_ROLES),
        ("Safety", "reports:safety", REPORT_ROLES),
        ("Exports", "reports:exports", REPORT_ROLES),
    ]
