from django.apps import AppConfig

from accounts.roles import Role

CALENDAR_ROLES = (Role.FRONT_DESK, Role.ADMIN, Role.MANAGER, Role.PHYSIO)


class AppointmentsConfig(AppConfig):
    name = "appointments"
    # Navigation entries this app adds: (label, url name, roles); see accounts/navigation.py.
    navigation = [
        ("Appointments", "appointments:day", CALENDAR_ROLES),
        ("Book", "appointments:book", (Role.FRONT_DESK, Role.ADMIN)),
        ("Schedules", "appointments:schedules", (Role.MANAGER, Role.ADMIN)),
    ]
    # The role home pages' hook (accounts/home.py): today's appointments, loaded in place on the front desk's.
    home_panels = {Role.FRONT_DESK: ["appointments.home.today_panel"]}
    # Upcoming and past appointments on the chart (not clinical: the front desk sees it).
    chart_panels = ["appointments.chart.appointments_panel"]
    # Chart privacy (patients/privacy.py): a patient on a physiotherapist's schedule (any appointment, any
    # status) is on their care team.
    care_team = ["appointments.privacy.on_schedule"]
