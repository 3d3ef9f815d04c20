from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from consent.models import Region
from tests.factories import AppointmentFactory, PatientFactory, ScreeningFactory, give_consent
from treatments.models import NeedlingSession

# Its outcome depends on the clock: `make test-clock` runs it at awkward instants too.
pytestmark = [pytest.mark.django_db, pytest.mark.clock]


def today_at(hour):
    return timezone.localtime().replace(hour=hour, minute=0, second=0, microsecond=0)


def test_my_day_lists_todays_appointments_with_status_flags_and_consent(client, clinician):
    arrived = AppointmentFactory(therapist=clinician, start=today_at(9), status="arrived")
    ScreeningFactory(patient=arrived.patient, diabetes=True)
    give_consent(arrived.patient, accepted=(Region.GENERAL, Region.NECK), declined=(Region.MID_BACK,))
    AppointmentFactory(therapist=clinician, start=today_at(10))
    AppointmentFactory(therapist=clinician, start=today_at(10) + timedelta(days=1))  # tomorrow: not listed
    client.force_login(clinician)
    page = client.get(reverse("treatments:my_day")).content.decode()
    assert page.count('data-testid="my-day-row"') == 2
    assert "Arrived" in page and "Diabetes" in page
    assert "Neck: Accepted" in page and "Mid back: Declined" in page


def test_start_session_from_an_appointment_links_it_and_marks_it_in_treatment(client, clinician):
    appointment = AppointmentFactory(therapist=clinician, start=today_at(9), status="arrived")
    client.force_login(clinician)
    response = client.post(reverse("treatments:start_from_appointment", args=[appointment.pk]))
    session = NeedlingSession.objects.get()
    assert response.url == reverse("treatments:session", args=[session.pk])
    appointment.refresh_from_db()
    assert session.appointment == appointment and appointment.status == "in_treatment"
    page = client.get(reverse("treatments:my_day")).content.decode()
    assert "Continue session" in page and "In treatment" in page


def test_an_unauthorised_physio_cannot_start_from_an_appointment(client):
    from tests.factories import PhysioFactory

    intern = PhysioFactory(full_name="Sam Lee", clinician_profile__needling_authorised_on=None)
    appointment = AppointmentFactory(therapist=intern, start=today_at(9), status="arrived")
    client.force_login(intern)
    page = client.post(reverse("treatments:start_from_appointment", args=[appointment.pk]), follow=True)
    assert "Sam Lee has no current needling authorisation" in page.content.decode()
    assert not NeedlingSession.objects.exists()
    appointment.refresh_from_db()
    assert appointment.status == "arrived"


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.MANAGER, Role.ADMIN])
def test_only_physiotherapists_have_a_day(client_for, role):
    assert client_for(role).get(reverse("treatments:my_day")).status_code == 403


def test_my_day_takes_a_constant_number_of_queries(client, clinician, django_assert_max_num_queries):
    client.force_login(clinician)
    url = reverse("treatments:my_day")

    def book(count, first_hour):
        for index in range(count):
            patient = PatientFactory()
            ScreeningFactory(patient=patient, bleeding_risk=index % 2 == 0)
            give_consent(patient)
            AppointmentFactory(
                patient=patient,
                therapist=clinician,
                start=today_at(first_hour) + timedelta(minutes=30 * index),
                status="arrived",
            )

    book(1, 7)
    with django_assert_max_num_queries(30) as few:
        client.get(url)
    # The sessions of the appointments, the drafts and whether an incident is open are one query each
    # (treatments.selectors, incidents.open_incidents_for); the rest is the sign-in, the appointments, the
    # badges and consent.
    assert len(few.captured_queries) <= 10, len(few.captured_queries)
    book(12, 8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).content.decode().count('data-testid="my-day-row"') == 13


def test_the_physio_home_page_loads_my_day_in_place(client, clinician):
    client.force_login(clinician)
    page = client.get("/").content.decode()
    assert f'hx-get="{reverse("treatments:my_day")}"' in page
    partial = client.get(reverse("treatments:my_day"), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and 'data-testid="my-day"' in partial


def test_a_cancelled_appointment_cannot_start_a_session(client, clinician):
    appointment = AppointmentFactory(
        therapist=clinician, start=today_at(9), status="cancelled", cancel_reason="Patient phoned: unwell"
    )
    client.force_login(clinician)
    page = client.post(reverse("treatments:start_from_appointment", args=[appointment.pk]), follow=True)
    assert page.status_code == 200 and 'role="alert"' in page.content.decode()
    assert not NeedlingSession.objects.exists()
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"


def test_my_day_shows_each_status_with_the_one_badge_the_desk_sees(client, clinician):
    """Same label and colour as appointments/_status.html (issue 13 item 2: once red, once grey)."""
    from django.template.loader import render_to_string

    from appointments.models import Status

    for hour, status in enumerate(Status, start=8):
        reason = "Patient unwell" if status == Status.CANCELLED else ""
        AppointmentFactory(therapist=clinician, start=today_at(hour), status=status, cancel_reason=reason)
    client.force_login(clinician)
    page = client.get(reverse("treatments:my_day")).content.decode()
    for status in Status:
        badge = render_to_string("appointments/_status.html", {"status": status.value}).strip()
        assert badge in page, f"{status.label} is not shown with the desk's badge"
    starts = page.count(">Start session</button>")
    assert starts == len(Status) - 3, "cancelled, missed and completed appointments offer no Start session"


def test_each_row_links_to_the_chart_and_its_session_or_start_and_escapes_names(client, clinician):
    """My day builds its links once for the page (not {% url %} per row) and its badges once per different
    badge: each row must still link to its own patient, session and start address, with names escaped."""
    started = AppointmentFactory(
        therapist=clinician,
        start=today_at(9),
        status="arrived",
        patient=PatientFactory(family_name="<i>Ng</i>"),
    )
    waiting = AppointmentFactory(therapist=clinician, start=today_at(11), status="arrived")
    client.force_login(clinician)
    client.post(reverse("treatments:start_from_appointment", args=[started.pk]))
    session = NeedlingSession.objects.get(appointment=started)
    page = client.get(reverse("treatments:my_day")).content.decode()
    assert f'href="{reverse("patients:chart", args=[started.patient.pk])}"' in page
    assert f'href="{reverse("patients:chart", args=[waiting.patient.pk])}"' in page
    assert f'href="{reverse("treatments:session", args=[session.pk])}">Continue' in page
    assert f'action="{reverse("treatments:start_from_appointment", args=[waiting.pk])}"' in page
    assert "&lt;i&gt;Ng&lt;/i&gt;" in page and "<i>Ng</i>" not in page
    # The draft the start opened is listed for signing, linking to its session too.
    drafts = page[page.index('data-testid="draft-sessions"') :]
    assert f'href="{reverse("treatments:session", args=[session.pk])}"' in drafts
