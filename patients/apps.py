from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"
    # Navigation entries this app adds: (label, url name, roles); see accounts/navigation.py.
    navigation = []
