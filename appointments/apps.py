from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "appointments"
    # Navigation entries this app adds: (label, url name, roles); see accounts/navigation.py.
    navigation = []
