from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "treatments"
    # Navigation entries this app adds: (label, url name, roles); see accounts/navigation.py.
    navigation = []
