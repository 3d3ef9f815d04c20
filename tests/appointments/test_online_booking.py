"""Online booking, through its service (appointments/services/online.py): who is a known patient, who may
book what, every refusal, the rate limits and the honeypot, and an answer that never tells whether the
person is already a patient. The clock is pinned (Wednesday morning) and the tests marked `clock`."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from appointments.models import Appointment, AppointmentType, OnlineBookingAttempt, TimeOff
from appointments.services import online
from appointments.services.online import OnlineBookingRefused, book_online
from audit.models import Action, AuditEvent
from outbox.models import OutboundEmail
from patients.models import Patient
from tests.appointments.online_fixtures import details
from tests.factories import AppointmentFactory, PatientFactory, PhysioFactory, WorkingHoursFactory

pytestmark = [pytest.mark.clock, pytest.mark.django_db]


def book(clinic, type=None, start=None, therapist=None, **typed):
    location, physio, initial, follow_up, known, at = clinic
    return book_online(
        location=location,
        type=type or follow_up,
        therapist=therapist or physio,
        start=start or at(10),
        **details(**typed),
    )


def refused_code(clinic, **kwargs):
    with pytest.raises(OnlineBookingRefused) as refused:
        book(clinic, **kwargs)
    return refused.value.code


# --- who is a known patient ------------------------------------------------------------------------
def test_a_known_patient_books_a_returning_patients_type(clinic):
    *_, known, at = clinic
    outcome = book(clinic)
    assert outcome.matched and outcome.appointment.patient == known
    appointment = Appointment.objects.get()
    assert appointment.booked_online and appointment.booked_by is None and appointment.start == at(10)
    assert appointment.status_changes.get().note == "booked online"
    assert AuditEvent.objects.filter(action=Action.BOOK, detail__contains="(booked online)").count() == 1
    assert not Patient.objects.filter(online_unverified=True).exists()


def test_names_are_matched_whole_ignoring_case_and_accents(clinic):
    *_, known, _at = clinic
    outcome = book(clinic, given_name="  ZOE ", family_name="levesque")
    assert outcome.matched and outcome.appointment.patient == known


@pytest.mark.parametrize(
    "typed",
    [
        {"given_name": "Zo"},  # part of the name is not the name
        {"family_name": "Lévesque-Tremblay"},
        {"date_of_birth": date(1980, 5, 18)},
        {"email": "other@example.com", "phone": "+16045559999"},  # neither the e-mail nor a phone
    ],
)
def test_anything_less_than_an_exact_match_is_not_a_known_patient(clinic, typed):
    _location, _physio, initial, _follow_up, known, _at = clinic
    outcome = book(clinic, type=initial, **typed)
    assert not outcome.matched
    assert outcome.appointment.patient != known and outcome.appointment.patient.online_unverified


def test_the_phone_alone_with_name_and_birth_is_enough(clinic):
    *_, known, _at = clinic
    assert book(clinic, email="new-address@example.com").appointment.patient == known


def test_an_archived_patient_is_not_matched(clinic):
    _location, _physio, initial, _follow_up, known, _at = clinic
    Patient.objects.filter(pk=known.pk).update(archived_at=timezone.now())
    outcome = book(clinic, type=initial)
    assert not outcome.matched and outcome.appointment.patient.online_unverified


# --- new patients -----------------------------------------------------------------------------------
def test_a_new_person_books_a_new_patients_type_as_an_unverified_patient(clinic):
    _location, _physio, initial, _follow_up, _known, at = clinic
    outcome = book(clinic, type=initial, given_name="Ann", family_name="New", email="ann@example.com")
    patient = outcome.appointment.patient
    assert patient.online_unverified and patient.email == "ann@example.com" and str(patient.phone)
    assert outcome.appointment.end == at(11)
    assert AuditEvent.objects.filter(action=Action.CREATE, patient_id=patient.pk).exists()
    # The desk's booking e-mail, with the .ics and the signed link to change it (appointments/reminders.py).
    from appointments.models import Reminder

    reminder = Reminder.objects.get(appointment=outcome.appointment, kind="booking")
    email = OutboundEmail.objects.get(key=f"appointments.reminder:{reminder.pk}")
    assert email.recipients == ["ann@example.com"]
    assert "/p/appointment/" in email.body
    assert any(item["filename"].endswith(".ics") for item in email.attachments)


def test_a_second_online_booking_reuses_the_unverified_record(clinic):
    _location, _physio, initial, _follow_up, _known, at = clinic
    first = book(clinic, type=initial, given_name="Ann", family_name="New", email="ann@example.com")
    ann = {"given_name": "Ann", "family_name": "New", "email": "ann@example.com"}
    second = book(clinic, type=initial, start=at(10, days=1), **ann)
    assert first.appointment.patient == second.appointment.patient
    assert Patient.objects.filter(online_unverified=True).count() == 1


def test_a_new_person_asking_for_a_returning_patients_type_books_nothing(clinic):
    outcome = book(clinic, given_name="Ann", family_name="New", email="ann@example.com")
    assert outcome.appointment is None and not outcome.matched
    assert not Appointment.objects.exists() and not Patient.objects.filter(online_unverified=True).exists()
    email = OutboundEmail.objects.get()
    assert email.recipients == ["ann@example.com"] and "call us" in email.body


def test_an_unverified_record_is_still_a_new_patient(clinic):
    """Booked an initial assessment online, not yet verified: a follow-up online still needs the desk."""
    _location, _physio, initial, _follow_up, _known, at = clinic
    book(clinic, type=initial, given_name="Ann", family_name="New", email="ann@example.com")
    outcome = book(clinic, start=at(10, days=1), given_name="Ann", family_name="New", email="ann@example.com")
    assert outcome.appointment is None


# --- the answer never tells ------------------------------------------------------------------------
def test_the_public_answer_is_the_same_for_a_patient_and_a_stranger(clinic):
    *_, at = clinic
    as_patient = book(clinic)
    as_stranger = book(clinic, start=at(11), given_name="Ann", family_name="New", email="ann@example.com")
    assert as_patient.appointment is not None and as_stranger.appointment is None
    assert as_patient.public.keys() == as_stranger.public.keys()
    assert {**as_patient.public, "start": None} == {**as_stranger.public, "start": None}


def test_a_patient_already_booked_then_gets_the_same_answer(clinic):
    _location, physio, _initial, _follow_up, known, at = clinic
    other = PhysioFactory()
    WorkingHoursFactory(therapist=other, weekday=0, location=clinic[0])
    AppointmentFactory(patient=known, therapist=other, start=at(10), end=at(10, 30))
    outcome = book(clinic)
    assert outcome.appointment is None
    assert outcome.public == book(clinic, start=at(10), email="x@example.com", given_name="Someone").public
    email = OutboundEmail.objects.filter(recipients=["zoe@example.com"]).get()
    assert "already have an appointment" in email.body


def test_a_patient_booked_with_that_physio_then_reads_taken_as_anyone_would(clinic):
    """Zoë has 10:00 with Dana: whoever asks for Dana at 10:00 reads "taken", Zoë's details or not."""
    _location, physio, _initial, _follow_up, known, at = clinic
    AppointmentFactory(patient=known, therapist=physio, start=at(10), end=at(10, 30))
    assert refused_code(clinic) == "taken"
    assert refused_code(clinic, given_name="Ann", family_name="New", email="ann@example.com") == "taken"
    assert not OutboundEmail.objects.exists()


# --- refusals -----------------------------------------------------------------------------------------
def test_a_type_not_bookable_online_is_refused(clinic):
    hidden = AppointmentType.objects.create(name="Desk only", default_minutes=30)
    assert refused_code(clinic, type=hidden) == "not_bookable"
    assert not Appointment.objects.exists()


def test_too_soon_and_too_far_are_refused(clinic, desk_morning, settings):
    settings.ONLINE_BOOKING_MIN_NOTICE_HOURS = 2
    settings.ONLINE_BOOKING_MAX_DAYS_AHEAD = 10
    soon = desk_morning + timedelta(hours=1)
    assert refused_code(clinic, start=soon.replace(minute=0)) == "too_soon"
    *_, at = clinic
    assert refused_code(clinic, start=at(10, days=14)) == "too_far"
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("hour", [7, 16, 12])  # before opening, closing time (30 min over), across nothing
def test_times_outside_working_hours_are_refused_as_not_free(clinic, hour):
    *_, at = clinic
    if hour == 12:
        TimeOff.objects.create(therapist=clinic[1], start=at(11), end=at(14), reason="Course")
    start = at(hour) if hour != 16 else at(15, 45)
    assert refused_code(clinic, start=start) == "taken"
    assert not Appointment.objects.exists()


def test_a_needling_type_with_an_unauthorised_physio_is_refused(clinic):
    location, physio, *_rest, at = clinic
    intern = PhysioFactory(clinician_profile__needling_authorised_on=None)
    WorkingHoursFactory(therapist=intern, weekday=0, location=location)
    assert refused_code(clinic, therapist=intern) == "taken"
    assert not Appointment.objects.exists()


def test_a_time_booked_meanwhile_is_taken(clinic):
    _location, physio, *_rest, at = clinic
    AppointmentFactory(therapist=physio, start=at(10), end=at(10, 30))
    assert refused_code(clinic) == "taken"
    assert refused_code(clinic, given_name="Stranger") == "taken"  # the same for anyone


@pytest.mark.parametrize(
    "typed,field",
    [
        ({"given_name": "x" * 101}, "given_name"),
        ({"family_name": ""}, "family_name"),
        ({"email": "a" * 250 + "@example.com"}, "email"),
        ({"note": "n" * 301}, "note"),
        ({"phone": ""}, "phone"),
    ],
)
def test_bounded_text(clinic, typed, field):
    with pytest.raises(OnlineBookingRefused) as refused:
        book(clinic, **typed)
    assert field in refused.value.message_dict
    assert not Appointment.objects.exists() and not OnlineBookingAttempt.objects.exists()


def test_the_honeypot_books_nothing_and_answers_as_a_booking(clinic):
    outcome = book(clinic, honeypot="http://spam.example")
    assert outcome.appointment is None and outcome.public == book(clinic, start=clinic[5](10)).public
    assert Appointment.objects.count() == 1  # the second, honest one
    assert not OutboundEmail.objects.filter(body__contains="spam").exists()


def test_rate_limit_per_address(clinic, settings):
    settings.ONLINE_BOOKING_ADDRESS_LIMIT = 2
    settings.ONLINE_BOOKING_EMAIL_LIMIT = 100
    *_, at = clinic
    book(clinic, start=at(8), email="a@example.com", given_name="A", family_name="B")
    book(clinic, start=at(9), email="b@example.com", given_name="A", family_name="B")
    assert refused_code(clinic) == "rate_limited"
    assert not Appointment.objects.exists()  # neither stranger booked a returning type; the patient refused
    # Another address is not held back by this one.
    assert book(clinic, client_address="198.51.100.1").appointment is not None


def test_rate_limit_per_email(clinic, settings):
    settings.ONLINE_BOOKING_ADDRESS_LIMIT = 100
    settings.ONLINE_BOOKING_EMAIL_LIMIT = 1
    *_, at = clinic
    assert book(clinic, client_address="198.51.100.1").appointment is not None
    assert refused_code(clinic, start=at(11), client_address="198.51.100.2") == "rate_limited"
    assert refused_code(clinic, start=at(11), email="ZOE@example.com ", client_address="198.51.100.3") == (
        "rate_limited"
    )


def test_the_limits_count_only_the_window(clinic, settings):
    import time_machine

    settings.ONLINE_BOOKING_EMAIL_LIMIT = 1
    settings.ONLINE_BOOKING_WINDOW_MINUTES = 60
    *_, at = clinic
    book(clinic, start=at(8))
    with time_machine.travel(timezone.now() + timedelta(minutes=61), tick=False):
        assert book(clinic, start=at(9)).appointment is not None


def test_attempts_keep_no_address_or_email_in_clear(clinic):
    book(clinic)
    attempt = OnlineBookingAttempt.objects.get()
    assert "203.0.113.7" not in attempt.address_hash and "zoe" not in attempt.email_hash
    assert len(attempt.address_hash) == 64


# --- free times ---------------------------------------------------------------------------------------
def test_free_times_follow_the_desk_rules_and_the_window(clinic, desk_morning):
    location, physio, initial, follow_up, known, at = clinic
    slots = online.free_times(location=location, type=follow_up)
    earliest = desk_morning + timedelta(hours=2)
    assert slots and all(slot.start >= earliest for slot in slots)
    assert all(slot.location == location and slot.therapist == physio for slot in slots)
    # The physiotherapist's appointment is not offered.
    AppointmentFactory(therapist=physio, start=slots[0].start, end=slots[0].end)
    assert slots[0].start not in [slot.start for slot in online.free_times(location=location, type=follow_up)]


def test_free_times_only_at_the_location(clinic):
    from appointments.models import Location

    elsewhere = Location.objects.create(name="North Shore")
    assert online.free_times(location=elsewhere, type=clinic[3]) == []


# --- the desk: verify and merge ----------------------------------------------------------------------
def test_verify(clinic, rf, front_desk):
    patient = book(clinic, type=clinic[2], given_name="Ann", family_name="New").appointment.patient
    request = rf.post("/")
    request.user = front_desk
    online.verify_online_patient(patient, request=request)
    patient.refresh_from_db()
    assert not patient.online_unverified
    assert AuditEvent.objects.filter(action=Action.UPDATE, patient_id=patient.pk, detail__contains="verified")
    with pytest.raises(ValidationError):
        online.verify_online_patient(patient, request=request)


def test_merge_moves_the_appointments_and_archives_the_record(clinic, rf, front_desk):
    *_, known, _at = clinic
    appointment = book(clinic, type=clinic[2], given_name="Zoe", family_name="Levesk").appointment
    duplicate = appointment.patient
    request = rf.post("/")
    request.user = front_desk
    online.merge_online_patient(duplicate, known, request=request)
    appointment.refresh_from_db()
    duplicate.refresh_from_db()
    assert appointment.patient == known
    assert duplicate.archived_at is not None and not duplicate.online_unverified
    assert AuditEvent.objects.filter(action=Action.ARCHIVE, patient_id=duplicate.pk).exists()
    assert AuditEvent.objects.filter(action=Action.UPDATE, patient_id=known.pk, detail__contains="merged")


def test_merge_refusals(clinic, rf, front_desk):
    *_, known, at = clinic
    duplicate = book(clinic, type=clinic[2], given_name="Zoe", family_name="Levesk").appointment.patient
    request = rf.post("/")
    request.user = front_desk
    with pytest.raises(ValidationError):
        online.merge_online_patient(known, duplicate, request=request)  # not an online booking's record
    with pytest.raises(ValidationError):
        online.merge_online_patient(duplicate, duplicate, request=request)
    archived = PatientFactory(archived_at=timezone.now())
    with pytest.raises(ValidationError):
        online.merge_online_patient(duplicate, archived, request=request)
    # The known patient already booked at that time elsewhere: refused, nothing moved.
    other = PhysioFactory()
    AppointmentFactory(patient=known, therapist=other, start=at(10), end=at(10, 30))
    with pytest.raises(ValidationError, match="already has an appointment"):
        online.merge_online_patient(duplicate, known, request=request)
    duplicate.refresh_from_db()
    assert duplicate.online_unverified and duplicate.archived_at is None


# --- the rate-limit counts are pruned ----------------------------------------------------------------
def test_the_daily_job_prunes_counts_no_window_counts_any_more(settings):
    from datetime import timedelta

    from django.utils import timezone

    from appointments.models import OnlineBookingAttempt
    from appointments.services.online import count_attempt, prune_attempts
    from appointments.tasks import prune_online_attempts

    settings.ONLINE_BOOKING_WINDOW_MINUTES = 60
    count_attempt("203.0.113.9", "ann@example.com")
    count_attempt("203.0.113.9", "bob@example.com")
    now = timezone.now()
    oldest = OnlineBookingAttempt.objects.order_by("id").first()
    OnlineBookingAttempt.objects.filter(pk=oldest.pk).update(at=now - timedelta(days=1, minutes=1))
    assert prune_attempts(now) == 1
    assert OnlineBookingAttempt.objects.count() == 1
    settings.ONLINE_BOOKING_WINDOW_MINUTES = 3 * 24 * 60  # a window longer than a day keeps its counts
    OnlineBookingAttempt.objects.update(at=now - timedelta(days=2))
    assert prune_attempts(now) == 0
    job = settings.SCHEDULED_TASKS["prune_online_attempts"]
    assert job["task"] == "appointments.tasks.prune_online_attempts"
    settings.ONLINE_BOOKING_WINDOW_MINUTES = 60
    assert prune_online_attempts.call() == {"deleted": 1}
