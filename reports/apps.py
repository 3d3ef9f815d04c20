from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    # Navigation entries this app adds: (label, url name, roles); see accounts/navigation.py.
    navigation = []
