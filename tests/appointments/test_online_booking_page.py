"""The public booking page (/book/) through the test client: no login, the free times, a booking, bad input
answered with a clear message and nothing saved, the same page for a patient and a stranger, and the
desk's side (the Online badge, the list to verify, verify and merge, the admin's flags). Clock pinned."""

import re

import pytest
from django.urls import reverse

from appointments.models import Appointment, AppointmentType, OnlineBookingAttempt
from audit.models import Action, AuditEvent
from patients.models import Patient
from tests.factories import PatientFactory

pytestmark = [pytest.mark.clock, pytest.mark.django_db]

TYPED = {
    "given_name": "Zoë",
    "family_name": "Lévesque",
    "date_of_birth": "1980-05-17",
    "email": "zoe@example.com",
    "phone": "604 555 0123",
    "note": "",
    "website": "",
}


def page(clinic, **query):
    location, *_ = clinic
    url = reverse("online:location", args=[location.pk])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def post(client, clinic, type, start, therapist=None, **typed):
    location, physio, *_ = clinic
    data = {
        **TYPED,
        "type": type.pk,
        "therapist": "",
        "slot": f"{(therapist or physio).pk}|{start.isoformat()}",
    }
    data.update(typed)
    return client.post(reverse("online:location", args=[location.pk]), data)


def without_csrf(content):
    return re.sub(rb'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+', rb"\1", content)


def test_the_locations_page_is_public(client, clinic):
    response = client.get(reverse("online:locations"))
    assert response.status_code == 200
    assert b"Main clinic" in response.content
    assert response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]


def test_the_page_offers_only_online_types_and_free_times(client, clinic, django_assert_max_num_queries):
    _location, physio, initial, follow_up, _known, at = clinic
    AppointmentType.objects.create(name="Desk only type", default_minutes=30)
    with django_assert_max_num_queries(12):
        response = client.get(page(clinic, type=follow_up.pk))
    content = response.content.decode()
    assert response.status_code == 200
    assert (
        "IMS follow-up" in content and "IMS initial assessment" in content and "Desk only type" not in content
    )
    assert 'name="slot"' in content and "Dana Physio" in content


def test_the_page_reads_the_database_a_constant_number_of_times(
    client, clinic, django_assert_max_num_queries
):
    from tests.factories import AppointmentFactory, PhysioFactory, WorkingHoursFactory

    location, physio, initial, follow_up, _known, at = clinic
    client.get(page(clinic, type=follow_up.pk))  # warm the caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(page(clinic, type=follow_up.pk))
    for n in range(4):
        other = PhysioFactory()
        for weekday in range(5):
            WorkingHoursFactory(therapist=other, weekday=weekday, location=location)
        AppointmentFactory(therapist=other, start=at(8), end=at(8, 30))
    with django_assert_max_num_queries(len(small)):
        client.get(page(clinic, type=follow_up.pk))


def test_a_booking_through_the_page(client, clinic):
    _location, physio, _initial, follow_up, known, at = clinic
    response = post(client, clinic, follow_up, at(10))
    assert response.status_code == 200
    assert b"we have received your booking request" in response.content
    appointment = Appointment.objects.get()
    assert appointment.patient == known and appointment.booked_online and appointment.start == at(10)


def test_the_page_is_the_same_for_a_patient_and_a_stranger(client, clinic):
    """Known patient booked; stranger asking for a returning patients' type booked nothing: same page."""
    _location, _physio, _initial, follow_up, _known, at = clinic
    as_patient = post(client, clinic, follow_up, at(10))
    as_stranger = post(
        client,
        clinic,
        follow_up,
        at(10, days=1),
        given_name="Ann",
        family_name="New",
        email="ann@example.com",
    )
    assert Appointment.objects.count() == 1
    assert as_patient.status_code == as_stranger.status_code == 200
    patient_page = without_csrf(as_patient.content).replace(b"Tuesday 15", b"Monday 14")
    stranger_page = without_csrf(as_stranger.content).replace(b"Tuesday 15", b"Monday 14")
    assert patient_page == stranger_page


def test_the_same_time_twice_gives_the_same_page(client, clinic):
    _location, _physio, _initial, follow_up, _known, at = clinic
    as_patient = post(client, clinic, follow_up, at(10))
    Appointment.objects.all().update(status="cancelled", cancel_reason="test")
    as_stranger = post(
        client, clinic, follow_up, at(10), given_name="Ann", family_name="New", email="a@example.com"
    )
    assert without_csrf(as_patient.content) == without_csrf(as_stranger.content)


@pytest.mark.parametrize(
    "typed,message",
    [
        ({"given_name": ""}, b"Type your given name."),
        ({"family_name": "x" * 101}, b"At most 100 characters."),
        ({"date_of_birth": "17/05/80"}, b"type the year in full"),
        ({"date_of_birth": "2999-01-01"}, b"cannot be in the future"),
        ({"email": "not-an-address"}, b"Type a whole e-mail address"),
        ({"phone": "12"}, b"Type a phone number such as"),
        ({"note": "n" * 301}, b"At most 300 characters"),
        ({"slot": "garbage"}, b"Choose one of the free times."),
        ({"slot": ""}, b"Choose one of the free times."),
    ],
)
def test_bad_input_gets_a_clear_message_and_saves_nothing(client, clinic, typed, message):
    _location, _physio, _initial, follow_up, _known, at = clinic
    response = post(client, clinic, follow_up, at(10), **typed)
    assert response.status_code == 400
    assert message in response.content
    assert not Appointment.objects.exists() and not OnlineBookingAttempt.objects.exists()
    assert Patient.objects.count() == 1


def test_an_unknown_type_or_location(client, clinic):
    location, physio, _initial, follow_up, _known, at = clinic
    response = client.post(
        page(clinic), {**TYPED, "type": "999999", "slot": f"{physio.pk}|{at(10).isoformat()}"}
    )
    assert response.status_code == 400 and b"Choose the type of appointment." in response.content
    assert client.get(reverse("online:location", args=[999999])).status_code == 404
    assert not Appointment.objects.exists()


def test_a_time_just_taken_shows_the_next_ones(client, clinic):
    from tests.factories import AppointmentFactory

    _location, physio, _initial, follow_up, _known, at = clinic
    AppointmentFactory(therapist=physio, start=at(10), end=at(10, 30))
    response = post(client, clinic, follow_up, at(10))
    assert response.status_code == 400
    assert b"That time was just taken" in response.content
    assert response.content.count(b'name="slot"') >= 1
    assert b'value="Z' in response.content  # what was typed is kept
    assert Appointment.objects.count() == 1


def test_too_many_attempts(client, clinic, settings):
    _location, _physio, _initial, follow_up, _known, at = clinic
    settings.ONLINE_BOOKING_ADDRESS_LIMIT = 1
    post(client, clinic, follow_up, at(10))
    response = post(client, clinic, follow_up, at(11), email="other@example.com")
    assert response.status_code == 429 and b"try again in an hour" in response.content
    assert Appointment.objects.count() == 1


def test_the_honeypot_answers_as_a_booking(client, clinic):
    _location, _physio, _initial, follow_up, _known, at = clinic
    response = post(client, clinic, follow_up, at(10), website="http://spam.example")
    assert response.status_code == 200 and b"received your booking request" in response.content
    assert not Appointment.objects.exists()


# --- the desk -----------------------------------------------------------------------------------------
def test_the_day_and_week_views_flag_online_bookings(
    client, client_for, clinic, django_assert_max_num_queries
):
    _location, physio, initial, follow_up, _known, at = clinic
    post(client, clinic, follow_up, at(10))
    desk = client_for("front_desk")
    day = desk.get(reverse("appointments:day") + f"?date={at(10).date():%Y-%m-%d}")
    assert day.content.count(b'data-testid="online-badge"') == 1
    week = desk.get(reverse("appointments:week", args=[physio.pk]) + f"?date={at(10).date():%Y-%m-%d}")
    assert week.content.count(b'data-testid="online-badge"') == 1


def test_the_desk_lists_verifies_and_merges(client, client_for, clinic):
    _location, _physio, initial, _follow_up, known, at = clinic
    post(client, clinic, initial, at(10), given_name="Zoe", family_name="Levesk")
    post(client, clinic, initial, at(13), given_name="Bob", family_name="Brown", email="bob@example.com")
    zoe_dup = Patient.objects.get(family_name="Levesk")
    bob = Patient.objects.get(family_name="Brown")
    desk = client_for("front_desk")
    listing = desk.get(reverse("appointments:online_unverified"))
    assert listing.status_code == 200 and b"Levesk" in listing.content and b"Brown" in listing.content
    response = desk.post(reverse("appointments:online_verify", args=[bob.pk]))
    assert response.status_code == 302
    bob.refresh_from_db()
    assert not bob.online_unverified
    search = desk.get(reverse("appointments:online_merge", args=[zoe_dup.pk]) + "?q=Lévesque")
    assert known.chart_number.encode() in search.content
    desk.post(reverse("appointments:online_merge", args=[zoe_dup.pk]), {"into": known.pk})
    assert Appointment.objects.get(start=at(10)).patient == known
    assert b"Nobody to verify" in desk.get(reverse("appointments:online_unverified")).content


def test_merge_with_no_patient_chosen_says_so(client, client_for, clinic):
    _location, _physio, initial, _follow_up, _known, at = clinic
    post(client, clinic, initial, at(10), given_name="Ann", family_name="New", email="ann@example.com")
    ann = Patient.objects.get(family_name="New")
    desk = client_for("front_desk")
    response = desk.post(reverse("appointments:online_merge", args=[ann.pk]), {"into": "x"}, follow=True)
    assert b"Choose the existing patient" in response.content
    ann.refresh_from_db()
    assert ann.online_unverified and ann.archived_at is None


def test_the_desk_panel_counts_those_to_verify(client, client_for, clinic):
    _location, _physio, initial, _follow_up, _known, at = clinic
    post(client, clinic, initial, at(10), given_name="Ann", family_name="New", email="ann@example.com")
    response = client_for("front_desk").get(reverse("appointments:today"))
    assert b"1 patient booked online to verify" in response.content


def test_the_unverified_list_reads_a_constant_number_of_times(
    client, client_for, clinic, django_assert_max_num_queries
):
    _location, _physio, initial, _follow_up, _known, at = clinic
    desk = client_for("front_desk")
    post(client, clinic, initial, at(10), given_name="Ann", family_name="New", email="ann@example.com")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    desk.get(reverse("appointments:online_unverified"))
    with CaptureQueriesContext(connection) as small:
        desk.get(reverse("appointments:online_unverified"))
    for n in range(5):
        PatientFactory(online_unverified=True)
    with django_assert_max_num_queries(len(small)):
        desk.get(reverse("appointments:online_unverified"))


# --- the admin's door for the flags -------------------------------------------------------------------
def test_the_admin_sets_the_flags_and_refuses_new_patients_without_online(client_for, clinic):
    _location, _physio, initial, _follow_up, _known, _at = clinic
    admin = client_for("administrator")
    url = reverse("admin:appointments_appointmenttype_change", args=[initial.pk])
    form = {
        "name": initial.name,
        "default_minutes": 60,
        "fee": "120.00",
        "needling": "on",
        "active": "on",
        "new_patients_online": "on",
    }
    response = admin.post(url, form)
    assert response.status_code == 200
    assert b"must be bookable online" in response.content
    initial.refresh_from_db()
    assert initial.bookable_online  # unchanged
    response = admin.post(url, {**form, "bookable_online": "on"})
    assert response.status_code == 302
    response = admin.post(url, {k: v for k, v in form.items() if k != "new_patients_online"})
    assert response.status_code == 302
    initial.refresh_from_db()
    assert not initial.bookable_online and not initial.new_patients_online


def test_the_database_refuses_new_patients_without_online(clinic):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentType.objects.filter(pk=clinic[2].pk).update(bookable_online=False)


def test_the_admin_verifies_a_patient(client, client_for, clinic):
    _location, _physio, initial, _follow_up, _known, at = clinic
    post(client, clinic, initial, at(10), given_name="Ann", family_name="New", email="ann@example.com")
    ann = Patient.objects.get(family_name="New")
    admin = client_for("administrator")
    url = reverse("admin:patients_patient_change", args=[ann.pk])
    assert b"Booked online, not yet verified" in admin.get(url).content
    data = {
        "given_name": "Ann",
        "preferred_name": "",
        "family_name": "New",
        "date_of_birth": "1980-05-17",
        "sex": "unknown",
        "gender": "",
        "phone": "+16045550123",
        "phone_alternate": "",
        "email": "ann@example.com",
        "address": "",
        "phn": "",
        "emergency_contact_name": "",
        "emergency_contact_phone": "",
        "emergency_contact_relationship": "",
        "referral_source": "",
    }
    response = admin.post(url, data)
    assert response.status_code == 302, response.content[:2000]
    ann.refresh_from_db()
    assert not ann.online_unverified
    assert AuditEvent.objects.filter(
        action=Action.UPDATE, patient_id=ann.pk, detail__contains="online_unverified"
    )
