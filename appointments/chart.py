"""The chart's appointments panel (patients/chart.py hook): upcoming and past, with their statuses."""

from django.utils import timezone

from accounts.models import Role
from clinic.reversing import url_for_id

from .calendar import status_badges
from .selectors import patient_appointments


def appointments_panel(request, patient):
    """Upcoming and recent appointments with status; not clinical, so the front desk sees it too. Each
    row's link, local start and status badge are made here: one reverse() and one badge rendering per
    status met for the page, rather than a {% url %} and an include per row."""
    upcoming, past = patient_appointments(patient, limit=10)
    detail_url, badge = url_for_id("appointments:detail"), status_badges()

    def rows(appointments):
        return [
            {
                "appointment": a,
                "url": detail_url(a.pk),
                "start": f"{timezone.localtime(a.start):%Y-%m-%d %H:%M}",
                "status_badge": badge(a.status),
            }
            for a in appointments
        ]

    return {
        "template": "appointments/chart_panel.html",
        "context": {
            "upcoming": rows(upcoming),
            "past": rows(past),
            "can_book": request.user.has_role(Role.FRONT_DESK, Role.ADMIN),
        },
        "order": 20,
        "clinical": False,
    }
