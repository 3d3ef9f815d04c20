from django.apps import AppConfig

CALENDAR_ROLES = ("front_desk", "administrator", "manager", "physiotherapist")


class AppointmentsConfig(AppConfig):
    name = "appointments"
    # Navigation entries this app adds: (label, url name, roles); see accounts/navigation.py.
    navigation = [
        ("Appointments", "appointments:day", CALENDAR_ROLES),
        ("Book", "appointments:book", ("front_desk", "administrator")),
        ("Schedules", "appointments:schedules", ("manager", "administrator")),
    ]
    # Upcoming and past appointments on the chart (not clinical: the front desk sees it).
    chart_panels = ["appointments.chart.appointments_panel"]
    # Chart privacy (patients/privacy.py): a patient on a physiotherapist's schedule (any appointment, any
    # status) is on their care team.
    care_team = ["appointments.privacy.on_schedule"]
