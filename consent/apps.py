from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    # Navigation entries this app adds: (label, url name, roles); see accounts/navigation.py.
    navigation = []
