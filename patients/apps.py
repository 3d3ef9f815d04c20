from django.apps import AppConfig

REGISTRY_ROLES = ("physiotherapist", "front_desk", "administrator")


class PatientsConfig(AppConfig):
    name = "patients"
    # Navigation entries this app adds: (label, url name, roles); see accounts/navigation.py.
    navigation = [
        ("Patients", "patients:list", REGISTRY_ROLES),
        ("Register a patient", "patients:register", REGISTRY_ROLES),
        ("Chart access", "patients:break_glass_list", ("administrator",)),
    ]
    # The chart page's hooks (patients/chart.py): this app's own screening history panel.
    chart_panels = ["patients.chart.screening_panel"]
    # Chart privacy (patients/privacy.py): the chart and its screening form.
    chart_urls = {
        "patients:chart": "patients.privacy.patient_of_chart",
        "patients:screening": "patients.privacy.patient_of_chart",
    }
