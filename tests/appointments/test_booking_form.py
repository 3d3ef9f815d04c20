"""The booking form: the front desk's door to book() and its messages."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from appointments.models import Appointment
from tests.factories import AppointmentFactory, PatientFactory


@pytest.fixture
def desk_client(client_for):
    return client_for(Role.FRONT_DESK)


def form_data(patient, therapist, kind, day, hour="09:00", **extra):
    return {
        "patient": patient.pk if patient else "",
        "therapist": therapist.pk if therapist else "",
        "type": kind.pk,
        "date": day.isoformat(),
        "time": hour,
        **extra,
    }


def test_front_desk_books_and_lands_on_the_day(desk_client, patient, therapist, follow_up, monday):
    response = desk_client.post(
        reverse("appointments:book"), form_data(patient, therapist, follow_up, monday)
    )
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('appointments:day')}?date={monday.isoformat()}"
    appointment = Appointment.objects.get()
    assert appointment.booked_by == desk_client.user
    assert appointment.minutes == 30


@pytest.mark.parametrize("role", [Role.PHYSIO, Role.MANAGER])
def test_other_roles_cannot_book(client_for, role, patient, therapist, follow_up, monday):
    response = client_for(role).post(
        reverse("appointments:book"), form_data(patient, therapist, follow_up, monday)
    )
    assert response.status_code == 403
    assert not Appointment.objects.exists()


def test_an_overlap_is_refused_with_the_message(desk_client, patient, therapist, follow_up, monday, at):
    AppointmentFactory(therapist=therapist, start=at(9))
    response = desk_client.post(
        reverse("appointments:book"), form_data(patient, therapist, follow_up, monday, "09:15")
    )
    assert response.status_code == 200
    assert "Dana Physio already has an appointment from 09:00 to 09:30" in response.content.decode()
    assert Appointment.objects.count() == 1


def test_outside_hours_shows_the_confirmation_and_books_once_ticked(
    desk_client, patient, therapist, follow_up, monday
):
    data = form_data(patient, therapist, follow_up, monday, "18:00")
    response = desk_client.post(reverse("appointments:book"), data)
    html = response.content.decode()
    assert "outside Dana Physio&#x27;s working hours" in html
    assert 'type="checkbox" name="confirm_outside_hours"' in html
    assert not Appointment.objects.exists()
    response = desk_client.post(reverse("appointments:book"), {**data, "confirm_outside_hours": "on"})
    assert response.status_code == 302
    assert Appointment.objects.count() == 1


def test_the_confirmation_boxes_stay_hidden_until_asked(desk_client, db):
    html = desk_client.get(reverse("appointments:book")).content.decode()
    assert 'type="hidden" name="confirm_outside_hours"' in html
    assert 'type="checkbox" name="confirm_past"' not in html


def test_a_time_in_the_past_needs_confirmation(desk_client, patient, therapist, follow_up):
    last_week = timezone.localdate() - timedelta(days=7)
    data = form_data(patient, therapist, follow_up, last_week, "10:00", confirm_outside_hours="on")
    html = desk_client.post(reverse("appointments:book"), data).content.decode()
    assert "This time is in the past" in html
    assert 'type="checkbox" name="confirm_past"' in html
    assert not Appointment.objects.exists()
    assert desk_client.post(reverse("appointments:book"), {**data, "confirm_past": "on"}).status_code == 302


def test_an_unknown_patient_or_therapist_is_refused(desk_client, patient, therapist, follow_up, monday):
    response = desk_client.post(
        reverse("appointments:book"),
        {**form_data(patient, therapist, follow_up, monday), "patient": "999999"},
    )
    assert "That patient is not on file" in response.content.decode()
    response = desk_client.post(
        reverse("appointments:book"),
        {**form_data(patient, therapist, follow_up, monday), "therapist": "999999"},
    )
    assert "That physiotherapist is not on file" in response.content.decode()
    response = desk_client.post(reverse("appointments:book"), form_data(None, therapist, follow_up, monday))
    assert "Find and choose the patient" in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_front_desk_user_is_not_a_therapist(desk_client, patient, follow_up, monday, front_desk):
    response = desk_client.post(
        reverse("appointments:book"), form_data(patient, front_desk, follow_up, monday)
    )
    assert response.status_code == 200
    assert not Appointment.objects.exists()


def test_end_before_start_from_a_negative_length_is_refused(
    desk_client, patient, therapist, follow_up, monday
):
    response = desk_client.post(
        reverse("appointments:book"), form_data(patient, therapist, follow_up, monday, minutes="-30")
    )
    assert response.status_code == 200
    assert "greater than or equal to 5" in response.content.decode()
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("junk", ["", "25:99", "x" * 500])
def test_junk_times_get_a_message_not_a_500(desk_client, patient, therapist, follow_up, monday, junk):
    data = form_data(patient, therapist, follow_up, monday, junk)
    response = desk_client.post(reverse("appointments:book"), data)
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_nul_character_is_refused_before_the_form(desk_client, patient, therapist, follow_up, monday):
    # clinic/middleware.py: PostgreSQL cannot hold a NUL, so no request carrying one gets further.
    response = desk_client.post(
        reverse("appointments:book"), form_data(patient, therapist, follow_up, monday, "\x00")
    )
    assert response.status_code == 400
    assert not Appointment.objects.exists()


def test_prefill_from_a_calendar_click(desk_client, patient, therapist, monday):
    html = desk_client.get(
        reverse("appointments:book"),
        {"therapist": therapist.pk, "start": f"{monday.isoformat()}T10:15", "patient": patient.pk},
    ).content.decode()
    assert f'value="{monday.isoformat()}"' in html
    assert 'value="10:15"' in html
    assert f'value="{patient.pk}"' in html and "checked" in html


def test_patient_quick_search_offers_radio_choices(desk_client, db):
    PatientFactory(given_name="Ingrid", family_name="Halvorsen")
    html = desk_client.get(
        reverse("appointments:patient_search"), {"patient_query": "halvor"}
    ).content.decode()
    assert 'type="radio" name="patient"' in html and "Halvorsen, Ingrid" in html
    html = desk_client.get(
        reverse("appointments:patient_search"), {"patient_query": "nobody-like-this"}
    ).content.decode()
    assert "No patient matches" in html


def test_next_available_lists_bookable_links(desk_client, therapist, follow_up, patient):
    html = desk_client.get(
        reverse("appointments:next_available"),
        {"type": follow_up.pk, "therapist": therapist.pk, "patient": patient.pk},
    ).content.decode()
    assert html.count('data-testid="slot"') == 8
    assert f"therapist={therapist.pk}" in html and f"patient={patient.pk}" in html


def test_next_available_without_a_type_asks_for_one(desk_client, db):
    html = desk_client.get(reverse("appointments:next_available")).content.decode()
    assert "Choose an appointment type first" in html


def test_a_date_years_away_is_refused(desk_client, patient, therapist, follow_up, monday):
    far = monday.replace(year=9999)
    response = desk_client.post(reverse("appointments:book"), form_data(patient, therapist, follow_up, far))
    assert "Choose a date within ten years back and five years ahead." in response.content.decode()
    assert not Appointment.objects.exists()
