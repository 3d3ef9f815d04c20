from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "treatments"
    # Navigation entries this app adds: (label, url name, roles); see accounts/navigation.py.
    navigation = [("My day", "treatments:my_day", ("physiotherapist",))]
    # The chart page's hooks (patients/chart.py): the session history with pain before / after.
    chart_panels = ["treatments.chart.sessions_panel"]
