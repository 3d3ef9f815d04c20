"""The chart's appointments panel (patients/chart.py hook): upcoming and past, with their statuses."""

from accounts.models import Role

from .selectors import patient_appointments


def appointments_panel(request, patient):
    """Upcoming and recent appointments with status; not clinical, so the front desk sees it too."""
    upcoming, past = patient_appointments(patient, limit=10)
    return {
        "template": "appointments/chart_panel.html",
        "context": {
            "upcoming": upcoming,
            "past": past,
            "can_book": request.user.has_role(Role.FRONT_DESK, Role.ADMIN),
        },
        "order": 20,
        "clinical": False,
    }
