from django.apps import AppConfig

from accounts.roles import Role

REGISTRY_ROLES = (Role.PHYSIO, Role.FRONT_DESK, Role.ADMIN)


class PatientsConfig(AppConfig):
    name = "patients"
    # Navigation entries this app adds: (label, url name, roles); see accounts/navigation.py.
    navigation = [
        ("Patients", "patients:list", REGISTRY_ROLES),
        ("Register a patient", "patients:register", REGISTRY_ROLES),
        ("Chart access", "patients:break_glass_list", (Role.ADMIN,)),
    ]
    # The role home pages' hook (accounts/home.py): the front desk's patient search.
    home_panels = {Role.FRONT_DESK: ["patients.home.search_panel"]}
    # The audit trail's hook (audit/views.py): find patients by chart number or name, and name them.
    audit_patients = {"search": "patients.audit.matching_ids", "labels": "patients.audit.labels"}
    # The chart page's hooks (patients/chart.py): this app's own screening history panel.
    chart_panels = ["patients.chart.screening_panel"]
    # Chart privacy (patients/privacy.py): the chart and its screening form.
    chart_urls = {
        "patients:chart": "patients.privacy.patient_of_chart",
        "patients:screening": "patients.privacy.patient_of_chart",
    }
