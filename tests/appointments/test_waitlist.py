"""The waitlist (issue 15): joined on a public page or by the desk; a cancellation offers the freed time by
e-mail to the oldest matching entries (a few at once); the first to accept gets it booked, in one
transaction, the exclusion constraint deciding a race; later acceptors see "already taken" and stay on the
list; the desk lists and removes entries. A reschedule offers the time it leaves too:
test_waitlist_reschedule.py."""

import re
import threading
from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import connections
from django.urls import reverse

from appointments.models import Appointment, Status, WaitlistEntry, WaitlistOffer, WaitlistStatus
from appointments.services import waitlist
from appointments.services.booking import book
from appointments.services.status_changes import cancel
from audit.models import Action, AuditEvent
from clinic.patient_links import make_token
from patients.models import Patient
from tests.factories import AppointmentTypeFactory, FrontDeskFactory, PatientFactory, PhysioFactory

JOIN = "/p/waitlist/join/"


@pytest.fixture
def desk(db):
    return FrontDeskFactory()


@pytest.fixture
def booked(therapist, patient, follow_up, at, desk, django_capture_on_commit_callbacks):
    """Monday in two weeks at 09:00, booked at the desk."""
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(
            patient=patient, therapist=therapist, type=follow_up, start=at(9, day_offset=7), by=desk
        )
    mail.outbox.clear()
    return appointment


def wait(booked, name, **fields):
    given, family = name.split()
    fields.setdefault("date_of_birth", date(1990, 1, 1))
    fields.setdefault("email", f"{given.lower()}@example.test")
    fields.setdefault("type", booked.type)
    return waitlist.join_waitlist(given_name=given, family_name=family, location=booked.location, **fields)


def free(booked, desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        cancel(booked, by=desk, reason="patient called")


def offer_link(message):
    return re.search(r"https?://\S+(/p/waitlist/offer/\S+/)", message.body).group(1)


# --- joining ----------------------------------------------------------------------------------------
def join_data(booked, **changes):
    data = {
        "given_name": "Ana",
        "family_name": "Silva",
        "date_of_birth": "1990-01-01",
        "email": "ana@example.test",
        "phone": "+16045550199",
        "type": booked.type.pk,
        "location": booked.location.pk,
        "therapist": "",
        "earliest": "",
        "latest": "",
    }
    data.update(changes)
    return data


@pytest.mark.django_db
def test_a_patient_joins_on_the_public_page(client, booked):
    assert client.get(JOIN).status_code == 200
    response = client.post(JOIN, join_data(booked))
    assert response.status_code == 200
    assert "You are on the waitlist" in response.content.decode()
    entry = WaitlistEntry.objects.get()
    assert (entry.full_name, entry.patient, entry.therapist, entry.status) == (
        "Ana Silva",
        None,
        None,
        WaitlistStatus.WAITING,
    )
    assert AuditEvent.objects.filter(action=Action.CREATE, object_type="appointments.waitlistentry").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes,error",
    [
        ({"email": ""}, "This field is required."),
        ({"email": "not-an-address"}, "Enter a valid email address."),
        ({"date_of_birth": "31/12/1990"}, "Give the date as YYYY-MM-DD."),
        ({"given_name": "x" * 101}, "at most 100 characters"),
        ({"type": "999999"}, "Choose an appointment type."),
        (
            {"earliest": "2099-02-01", "latest": "2099-01-01"},
            "The last date must come on or after the first.",
        ),
        ({"latest": "2000-01-01"}, "This date is in the past."),
        ({"website": "http://spam.example"}, "Something went wrong"),
        ({"phone": "call me"}, "phone number"),
    ],
)
def test_bad_input_on_the_join_page_saves_nothing(client, booked, changes, error):
    response = client.post(JOIN, join_data(booked, **changes))
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not WaitlistEntry.objects.exists()


@pytest.mark.django_db
def test_the_desk_adds_a_registered_patient_and_removes_an_entry(client_for, booked, patient):
    other = PatientFactory(given_name="Ben", family_name="Ode", email="ben@example.test")
    client = client_for("front_desk")
    url = reverse("appointments:waitlist_add") + f"?patient={other.pk}"
    assert client.get(url).status_code == 200
    response = client.post(url, {"type": booked.type.pk, "location": booked.location.pk, "latest": "nope"})
    assert response.status_code == 400 and not WaitlistEntry.objects.exists()
    response = client.post(url, {"type": booked.type.pk, "location": booked.location.pk})
    assert response.status_code == 302
    entry = WaitlistEntry.objects.get()
    assert entry.patient == other and entry.added_by == client.user
    assert client.get(reverse("appointments:waitlist_add") + "?patient=x").status_code == 404
    client.post(reverse("appointments:waitlist_remove", args=[entry.pk]))
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.REMOVED and entry.closed_by == client.user


@pytest.mark.django_db
def test_the_desk_list_queries_a_constant_number_of_times(client_for, booked, django_assert_max_num_queries):
    client = client_for("front_desk")
    wait(booked, "Ana Silva")
    with django_assert_max_num_queries(20) as before:
        assert client.get(reverse("appointments:waitlist")).status_code == 200
    for n in range(8):
        wait(booked, f"Person N{n}", patient=PatientFactory(), therapist=booked.therapist)
    with django_assert_max_num_queries(len(before.captured_queries)):
        page = client.get(reverse("appointments:waitlist")).content.decode()
    assert page.count('data-testid="waitlist-row"') == 9


# --- offers -----------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_cancellation_offers_the_time_to_the_oldest_matching_entries(
    booked, desk, settings, django_capture_on_commit_callbacks
):
    settings.WAITLIST_OFFERS_AT_ONCE = 2
    wait(booked, "Wrong Type", type=AppointmentTypeFactory(name="IMS initial assessment", default_minutes=60))
    wait(booked, "Other Physio", therapist=PhysioFactory())
    wait(booked, "Too Late", earliest=booked.start.date() + timedelta(days=3))
    first = wait(booked, "Ana Silva")
    second = wait(booked, "Ben Ode", therapist=booked.therapist)
    wait(booked, "Cleo Third")
    free(booked, desk, django_capture_on_commit_callbacks)
    offers = list(WaitlistOffer.objects.order_by("id"))
    assert [o.entry for o in offers] == [first, second]
    offered = [m for m in mail.outbox if m.subject.startswith("A time has come free")]
    assert [m.to for m in offered] == [["ana@example.test"], ["ben@example.test"]]
    assert "trapezius" not in offered[0].body and "patient called" not in offered[0].body
    # Asked again (a second worker, a retry), nothing more goes out.
    with django_capture_on_commit_callbacks(execute=True):
        assert waitlist.offer_freed_time(booked.pk) == []
    assert WaitlistOffer.objects.count() == 2


@pytest.mark.django_db
def test_a_cancelled_time_booked_again_before_the_offer_is_made_is_not_offered(
    booked, desk, django_capture_on_commit_callbacks
):
    wait(booked, "Ana Silva")
    with django_capture_on_commit_callbacks() as callbacks:
        cancel(booked, by=desk, reason="patient called")
    book(patient=PatientFactory(), therapist=booked.therapist, type=booked.type, start=booked.start, by=desk)
    for callback in callbacks:
        callback()
    assert not WaitlistOffer.objects.exists()
    assert not [m for m in mail.outbox if m.subject.startswith("A time has come free")]


@pytest.mark.django_db
def test_the_first_to_accept_gets_it_and_the_next_sees_taken_and_stays(
    client, booked, desk, django_capture_on_commit_callbacks
):
    first, second = wait(booked, "Ana Silva"), wait(booked, "Ben Ode")
    free(booked, desk, django_capture_on_commit_callbacks)
    links = [offer_link(m) for m in mail.outbox if m.subject.startswith("A time has come free")]
    assert len(links) == 2
    assert "Book this time" in client.get(links[1]).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(links[1])
    assert response.status_code == 200 and "Your appointment is booked" in response.content.decode()
    second.refresh_from_db()
    assert second.status == WaitlistStatus.BOOKED
    appointment = second.appointment
    assert (appointment.start, appointment.status, appointment.patient) == (
        booked.start,
        Status.BOOKED,
        second.patient,
    )
    assert appointment.status_changes.get().by is None
    assert mail.outbox[-1].subject.startswith("Your appointment on") and mail.outbox[-1].to == [
        "ben@example.test"
    ]
    response = client.post(links[0])
    assert response.status_code == 409 and "This time is already taken" in response.content.decode()
    first.refresh_from_db()
    assert first.status == WaitlistStatus.WAITING
    assert Appointment.objects.filter(start=booked.start, status=Status.BOOKED).count() == 1
    # The winner's link opened again says booked; nothing is booked twice.
    assert "Your appointment is booked" in client.post(links[1]).content.decode()


@pytest.mark.django_db
def test_an_exact_match_books_the_registered_patient_and_anyone_else_a_new_record(
    booked, desk, patient, django_capture_on_commit_callbacks
):
    zoe = wait(booked, "Zoë Côté", date_of_birth=patient.date_of_birth, email=patient.email.upper())
    free(booked, desk, django_capture_on_commit_callbacks)
    appointment = waitlist.accept_offer(WaitlistOffer.objects.get(entry=zoe))
    assert appointment.patient == patient
    before = Patient.objects.count()
    stranger = wait(booked, "New Person")
    offer = WaitlistOffer.objects.create(
        entry=stranger,
        freed_by=booked,
        therapist=booked.therapist,
        location=booked.location,
        start=booked.start + timedelta(hours=2),
        end=booked.end + timedelta(hours=2),
    )
    appointment = waitlist.accept_offer(offer)
    assert Patient.objects.count() == before + 1
    assert appointment.patient.full_name == "New Person"
    # The online booking's rules: a stranger's record waits for the desk to verify or merge it.
    assert appointment.patient.online_unverified
    from appointments.services.online import unverified_patients

    assert appointment.patient in list(unverified_patients())


@pytest.mark.django_db
def test_joining_from_the_public_page_counts_against_the_online_booking_limits(client, booked, settings):
    """Like an online booking: per e-mail and per address, counted in PostgreSQL; the desk is not limited."""
    from appointments.models import WaitlistEntry

    settings.ONLINE_BOOKING_EMAIL_LIMIT = 2
    for _ in range(2):
        assert client.post("/p/waitlist/join/", join_data(booked)).status_code == 200
    refused = client.post("/p/waitlist/join/", join_data(booked))
    assert refused.status_code == 400
    assert "try again in an hour" in refused.content.decode()
    assert WaitlistEntry.objects.count() == 2


@pytest.mark.django_db
def test_a_tampered_offer_link_answers_a_plain_404(client, booked):
    for bad in ["x", make_token("appointment", 1), make_token(waitlist.OFFER_PURPOSE, 999999) + "x"]:
        response = client.get(reverse("waitlist:offer", args=[bad]))
        assert response.status_code == 404 and "This link does not open" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_accepting_at_once_one_gets_it_the_other_is_told_it_is_taken(
    therapist, patient, follow_up, at, monkeypatch
):
    desk = FrontDeskFactory()
    appointment = book(
        patient=patient, therapist=therapist, type=follow_up, start=at(9, day_offset=7), by=desk
    )
    entries = [wait(appointment, name) for name in ("Ana Silva", "Ben Ode")]
    cancel(appointment, by=desk, reason="patient called")  # on_commit ran: the offers are made
    offers = list(WaitlistOffer.objects.filter(entry__in=entries))
    assert len(offers) == 2
    # Skip the friendly pre-check so both reach the INSERT: the constraint alone decides.
    monkeypatch.setattr("appointments.services.booking._clash_message", lambda *a, **k: None)
    barrier = threading.Barrier(2)
    outcomes = []

    def accept(offer):
        try:
            barrier.wait()
            waitlist.accept_offer(offer)
            outcomes.append("booked")
        except waitlist.OfferTaken:
            outcomes.append("taken")
        except Exception as error:
            outcomes.append(f"crash: {error!r}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept, args=(o,)) for o in offers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked", "taken"]
    assert Appointment.objects.filter(start=appointment.start, status=Status.BOOKED).count() == 1
    statuses = sorted(
        WaitlistEntry.objects.filter(pk__in=[e.pk for e in entries]).values_list("status", flat=True)
    )
    assert statuses == [WaitlistStatus.BOOKED, WaitlistStatus.WAITING]
