from django.apps import AppConfig

REGISTRY_ROLES = ("physiotherapist", "front_desk", "administrator")


class PatientsConfig(AppConfig):
    name = "patients"
    # Navigation entries this app adds: (label, url name, roles); see accounts/navigation.py.
    navigation = [
        ("Patients", "patients:list", REGISTRY_ROLES),
        ("Register a patient", "patients:register", REGISTRY_ROLES),
    ]
    # The chart page's hooks (patients/chart.py): this app's own screening history panel.
    chart_panels = ["patients.chart.screening_panel"]
