from django.apps import AppConfig

from accounts.roles import Role


class ConsentConfig(AppConfig):
    name = "consent"
    # Navigation entries this app adds: (label, url name, roles); see accounts/navigation.py. Consent is
    # reached from the patient's chart; versions are published in the administration.
    navigation = []
    # The role home pages' hook (accounts/home.py): the consent form versions on the administrator's.
    home_panels = {Role.ADMIN: ["consent.home.versions_panel"]}
    # The chart page's hooks (patients/chart.py).
    chart_panels = ["consent.chart.consent_panel"]
    patient_badges = ["consent.chart.consent_badges"]
    # Chart privacy (patients/privacy.py): who explained a consent is on the care team; consent pages are
    # pages of the chart.
    care_team = ["consent.privacy.explained_consent"]
    chart_urls = {
        "consent:obtain": "consent.privacy.patient_of_new_consent",
        "consent:detail": "consent.privacy.patient_of_consent",
        "consent:pdf": "consent.privacy.patient_of_consent",
        "consent:withdraw": "consent.privacy.patient_of_consent",
    }
