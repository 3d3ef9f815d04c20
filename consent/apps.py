from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    # Navigation entries this app adds: (label, url name, roles); see accounts/navigation.py. Consent is
    # reached from the patient's chart; versions are published in the administration.
    navigation = []
    # The chart page's hooks (patients/chart.py).
    chart_panels = ["consent.chart.consent_panel"]
    patient_badges = ["consent.chart.consent_badges"]
