"""Whatever is typed into the booking form: a message or a booking, never a 500."""

from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Role
from appointments.models import Appointment

junk = st.one_of(st.text(max_size=40), st.integers(-(10**12), 10**12).map(str), st.just(""))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(patient=junk, therapist=junk, kind=junk, day=junk, clock=junk, minutes=junk)
def test_the_booking_form_never_fails_on_junk(client_for, patient, therapist, kind, day, clock, minutes):
    client = client_for(Role.FRONT_DESK)
    before = Appointment.objects.count()
    response = client.post(
        reverse("appointments:book"),
        {
            "patient": patient,
            "therapist": therapist,
            "type": kind,
            "date": day,
            "time": clock,
            "minutes": minutes,
        },
    )
    # A NUL anywhere is refused before the form (clinic/middleware.py); anything else gets a message.
    nul = any("\x00" in value for value in (patient, therapist, kind, day, clock, minutes))
    assert response.status_code == (400 if nul else 200)
    assert Appointment.objects.count() == before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reason=junk, next_url=junk)
def test_cancel_and_check_in_never_fail_on_junk(client_for, reason, next_url):
    from tests.factories import AppointmentFactory

    client = client_for(Role.FRONT_DESK)
    appointment = AppointmentFactory()
    response = client.post(
        reverse("appointments:cancel", args=[appointment.pk]), {"reason": reason, "next": next_url}
    )
    # A reason must say something; a NUL is refused before the view (PostgreSQL cannot store it).
    nul = "\x00" in reason or "\x00" in next_url
    assert response.status_code == (400 if nul else 302)
    appointment.refresh_from_db()
    acceptable = bool(reason.split()) and not nul
    assert (appointment.status == "cancelled") == acceptable


def test_a_day_view_with_junk_dates_never_fails(client_for, db):
    client = client_for(Role.PHYSIO)
    for value in ["", "2026-02-30", "0000-01-01", "9999-12-31", "x" * 300]:
        assert client.get(reverse("appointments:day"), {"date": value, "location": value}).status_code == 200
    assert client.get(reverse("appointments:day"), {"date": "\x00"}).status_code == 400
