from django.apps import AppConfig

from accounts.roles import Role


class InteropConfig(AppConfig):
    """FHIR R4 export of the record (per patient, and clinic-wide as Bulk Data NDJSON) and the import of
    Jane and Cliniko exports. Like reports, it reads every app; no app imports it (docs/architecture.md)."""

    name = "interop"
    # Navigation entries this app adds: (label, url name, roles); see accounts/navigation.py.
    navigation = [
        ("Import", "interop:import", (Role.ADMIN,)),
        ("FHIR export", "interop:clinic_export", (Role.ADMIN,)),
    ]
    # The chart page's hooks (patients/chart.py): a link to the patient's record as a FHIR Bundle.
    chart_panels = ["interop.chart.export_panel"]
    # Chart privacy (patients/privacy.py): a patient's FHIR Bundle is a print of the chart.
    chart_urls = {"interop:patient_bundle": "interop.privacy.patient_of_export"}
