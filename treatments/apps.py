from django.apps import AppConfig

from accounts.roles import Role


class TreatmentsConfig(AppConfig):
    name = "treatments"
    # Navigation entries this app adds: (label, url name, roles); see accounts/navigation.py.
    navigation = [("My day", "treatments:my_day", (Role.PHYSIO,))]
    # The role home pages' hook (accounts/home.py): My day, loaded in place on the physiotherapist's; the
    # catalogues on the administrator's.
    home_panels = {
        Role.PHYSIO: ["treatments.home.my_day_panel"],
        Role.ADMIN: ["treatments.home.catalogues_panel"],
        Role.FRONT_DESK: ["treatments.home.follow_ups_to_phone_panel"],
    }
    # The chart page's hooks (patients/chart.py): the session history with pain before / after.
    # The course of care: pain, points, regions and side effects per session, the plan's review date and
    # the PSFS trend (treatments/course.py).
    chart_panels = ["treatments.chart.sessions_panel", "treatments.course.course_panel"]
    # Chart privacy (patients/privacy.py): whoever needled the patient is on the care team; every page,
    # fragment and PDF of a session, and an incident's page, is a page of the chart.
    care_team = ["treatments.privacy.treated"]
    chart_urls = {
        "treatments:start": "treatments.privacy.patient_of_new_session",
        "treatments:psfs": "treatments.privacy.patient_of_new_session",
        "treatments:start_from_appointment": "treatments.privacy.patient_of_appointment",
        **{
            f"treatments:{name}": "treatments.privacy.patient_of_session"
            for name in [
                "session", "save", "repeat", "point_form", "point_add", "point_edit", "point_remove",
                "acknowledge", "side_effect_add", "sign", "addendum_add", "pdf", "aftercare",
                "aftercare_send",
            ]
        },
        "treatments:incident": "treatments.privacy.patient_of_incident",
    }  # fmt: skip
