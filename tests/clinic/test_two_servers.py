"""Two app servers on one database, as a chain of clinics runs them behind a load balancer: nothing lives
in a server (sessions, second factor, CSRF secrets and the audit chain are in PostgreSQL), so a person
may sign in on one, type their code on the other, and book, treat, sign and export on either, step by
step alternating, as a load balancer would send their requests."""

import re
from datetime import time, timedelta

import pytest
from django.utils import timezone

from appointments.models import Appointment, Break
from audit.models import Action, AuditEvent
from audit.services import verify_chain
from consent.models import Region
from tests.clinic.conftest import Browser, app_url, gunicorn, production_environment
from tests.factories import (
    TEST_PASSWORD,
    AppointmentTypeFactory,
    FrontDeskFactory,
    LocationFactory,
    ManagerFactory,
    PatientFactory,
    PhysioFactory,
    ScreeningFactory,
    WorkingHoursFactory,
    give_authenticator,
    give_consent,
    muscle,
    needle,
)
from treatments.models import NeedlingSession

ASSESSMENT = {
    "presenting_complaint": "Right neck and shoulder pain for 3 months",
    "pain_before": "6",
    "screening_reviewed": "on",
    "impression": "Myofascial pain, gluteus medius",
    "plan": "IMS weekly for 4 weeks with home exercises",
    "pain_after": "3",
    "immediate_response": "Walks more freely; pain eased",
    "aftercare_heat_hydration": "on",
    "aftercare_warning_signs": "on",
    "needles_in": "2",
    "needles_out": "2",
    "sharps_disposed": "on",
}


def point(side):
    return {
        "muscle": muscle("Gluteus medius").pk,
        "side": side,
        "segment": "",
        "needle_size": needle("0.30", 60).pk,
        "depth_mm": "40",
        "insertions": "2",
        "technique": "pistoning",
        "twitch_response": "single",
        "patient_response": "familiar",
        "notes": "",
    }


@pytest.mark.django_db(transaction=True)
def test_two_servers_book_sign_and_export_with_requests_alternating_between_them(tmp_path):
    desk_user = FrontDeskFactory()
    physio_user = PhysioFactory(full_name="Priya Natarajan")
    manager_user = ManagerFactory()
    physio_device, manager_device = give_authenticator(physio_user), give_authenticator(manager_user)
    location = LocationFactory()
    for weekday in range(7):
        hours = WorkingHoursFactory(therapist=physio_user, weekday=weekday, location=location)
        Break.objects.create(working_hours=hours, start=time(12, 0), end=time(12, 30), label="Lunch")
    follow_up = AppointmentTypeFactory(name="IMS follow-up", default_minutes=30)
    patient = PatientFactory(given_name="Zoë", family_name="Côté")
    give_consent(patient, accepted=(Region.GENERAL,))
    ScreeningFactory(patient=patient, answered_by=physio_user)  # a due screening blocks the first point
    day = timezone.localdate() + timedelta(days=1)

    env = production_environment(app_url(), STATIC_MANIFEST="0")
    with gunicorn(env, tmp_path, workers=2, name="a") as a, gunicorn(env, tmp_path, workers=2, name="b") as b:
        # The front desk signs in on A and books on B.
        desk = Browser(a).sign_in(desk_user, TEST_PASSWORD)
        assert desk.get("/appointments/book/", base=b).status == 200
        booked = desk.post(
            "/appointments/book/",
            {
                "patient": patient.pk,
                "therapist": physio_user.pk,
                "type": follow_up.pk,
                "date": day.isoformat(),
                "time": "09:00",
            },
            base=b,
        )
        assert booked.status == 302, booked.text[:800]
        appointment = Appointment.objects.get()
        assert appointment.booked_by == desk_user and appointment.therapist == physio_user
        assert desk.get(f"/appointments/{appointment.pk}/", base=a).status == 200

        # The physiotherapist types the password on B and the code on A, then treats on both.
        physio = Browser(b).sign_in(physio_user, TEST_PASSWORD, physio_device, code_base=a)
        started = physio.post(f"/sessions/patient/{patient.pk}/start/", {}, base=a)
        assert started.status == 302, started.text[:800]
        session_id = int(re.search(r"/sessions/(\d+)/", started.headers["Location"]).group(1))
        for side, server in (("R", b), ("L", a)):
            added = physio.post(f"/sessions/{session_id}/points/", point(side), base=server)
            assert added.status in (200, 302), added.text[:800]
        saved = physio.post(f"/sessions/{session_id}/save/", {"version": "1", **ASSESSMENT}, base=b)
        assert saved.status == 302, saved.text[:800]
        signed = physio.post(f"/sessions/{session_id}/sign/", {}, base=a)
        assert signed.status == 302
        session = NeedlingSession.objects.get(pk=session_id)
        assert session.signed_at is not None and session.signed_by == physio_user
        assert session.points.count() == 2
        page = physio.get(f"/sessions/{session_id}/", base=b)
        assert page.status == 200 and "read-only" in page.text

        # The manager signs in on A and exports on B: the session is in the CSV.
        manager = Browser(a).sign_in(manager_user, TEST_PASSWORD, manager_device)
        export = manager.get(
            f"/reports/exports/sessions/?start={timezone.localdate() - timedelta(days=1)}&end={day}", base=b
        )
        assert export.status == 200, export.text[:800]
        lines = export.text.strip().splitlines()
        assert len(lines) == 2 and patient.chart_number in lines[1]

    # Both servers wrote to one audit chain, each event linked to the one before, whichever server wrote it.
    assert AuditEvent.objects.filter(action=Action.SIGN, object_id=str(session_id)).exists()
    assert AuditEvent.objects.filter(action=Action.EXPORT).count() == 1
    assert verify_chain().problems == []
