"""A reschedule frees the appointment's old time, and the waitlist is offered it as a cancelled time is
(services/waitlist.py): once it commits, whichever door moved it (the desk's form, the patient's link), the
oldest matching entries are e-mailed, once each. Only a time still to come that the physiotherapist is free
for is offered: a move to a time overlapping the old one with the same physiotherapist offers nothing; a
reschedule that rolls back offers nothing; accepting books the old time through the usual accept path.
A no-show frees nothing: its time has passed."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.urls import reverse

from appointments.models import Appointment, Status, WaitlistEntry, WaitlistOffer, WaitlistStatus
from appointments.services import online_links, waitlist
from appointments.services.booking import BookingError, book, reschedule
from appointments.services.status_changes import cancel, mark_no_show
from audit.models import Action, AuditEvent
from tests.factories import FrontDeskFactory, PatientFactory, PhysioFactory

pytestmark = [pytest.mark.django_db, pytest.mark.clock]

OFFERED = "A time has come free"


@pytest.fixture
def desk(db):
    return FrontDeskFactory()


@pytest.fixture
def booked(
    desk_morning, later_today, therapist, patient, follow_up, desk, django_capture_on_commit_callbacks
):
    """Monday 21 December 2026 at 09:00 to 09:30 with Dana (the clock is on Wednesday the 9th, 09:30),
    booked at the desk; its confirmation e-mail cleared."""
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(
            patient=patient, therapist=therapist, type=follow_up, start=later_today(9, days=12), by=desk
        )
    mail.outbox.clear()
    return appointment


def wait(booked, name, **fields):
    given, family = name.split()
    fields.setdefault("email", f"{given.lower()}@example.test")
    return waitlist.join_waitlist(
        given_name=given,
        family_name=family,
        date_of_birth=fields.pop("date_of_birth", None),
        patient=fields.pop("patient", None) or PatientFactory(given_name=given, family_name=family),
        type=booked.type,
        location=booked.location,
        **fields,
    )


def offers_sent():
    return [m for m in mail.outbox if m.subject.startswith(OFFERED)]


def offer_link(message):
    return re.search(r"https?://\S+(/p/waitlist/offer/\S+/)", message.body).group(1)


def move(booked, desk, capture, start, **options):
    with capture(execute=True):
        return reschedule(booked, start=start, by=desk, **options)


# --- the doors that move an appointment ---------------------------------------------------------------
def test_the_desks_reschedule_offers_the_old_time_to_the_oldest_matching_entry_once(
    booked, client_for, later_today, settings, django_capture_on_commit_callbacks
):
    settings.WAITLIST_OFFERS_AT_ONCE = 1
    oldest = wait(booked, "Ana Silva")
    wait(booked, "Ben Ode", therapist=booked.therapist)
    old_start, old_end, monday = booked.start, booked.end, later_today(9, days=12).date()
    client = client_for("front_desk")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("appointments:reschedule", args=[booked.pk]),
            {"therapist": booked.therapist.pk, "date": monday.isoformat(), "time": "14:00"},
        )
    assert response.status_code == 302
    assert Appointment.objects.get(pk=booked.pk).start == later_today(14, days=12)
    offer = WaitlistOffer.objects.get()
    assert (offer.entry, offer.start, offer.end, offer.therapist, offer.freed_by_id) == (
        oldest,
        old_start,
        old_end,
        booked.therapist,
        booked.pk,
    )
    (message,) = offers_sent()
    assert message.to == ["ana@example.test"] and "09:00" in message.subject
    event = AuditEvent.objects.get(action=Action.SEND, object_type="appointments.waitlistoffer")
    assert f"freed when appointment {booked.pk} was rescheduled" in event.detail
    # Asked again (a retry, a second worker), nothing more goes out.
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            waitlist.offer_moved_time(
                booked.pk,
                start=old_start,
                end=old_end,
                therapist_id=booked.therapist_id,
                location_id=booked.location_id,
            )
            == []
        )
    assert WaitlistOffer.objects.count() == 1 and len(offers_sent()) == 1


def test_the_patient_moving_it_through_their_link_offers_the_old_time(
    booked, client, settings, django_capture_on_commit_callbacks
):
    settings.ONLINE_CHANGE_CUTOFF_HOURS = 24
    entry = wait(booked, "Ana Silva")
    old_start = booked.start
    chosen = next(
        s for s in online_links.slots_for_patient(booked) if s.end <= booked.start or s.start >= booked.end
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            online_links.manage_path(booked), {"action": "reschedule", "slot": online_links.slot_key(chosen)}
        )
    assert response.status_code == 200 and "Your appointment has moved" in response.content.decode()
    assert Appointment.objects.get(pk=booked.pk).start == chosen.start
    offer = WaitlistOffer.objects.get()
    assert (offer.entry, offer.start) == (entry, old_start)
    assert [m.to for m in offers_sent()] == [["ana@example.test"]]


def test_the_admin_cannot_move_a_booked_time_so_no_door_bypasses_the_offer(
    booked, client_for, administrator, later_today
):
    """The admin edits place and notes only: start and end are read-only there, so every move goes through
    reschedule() and its offer."""
    url = reverse("admin:appointments_appointment_change", args=[booked.pk])
    response = client_for(administrator).post(
        url,
        {
            "start_0": later_today(14, days=12).date().isoformat(),
            "start_1": "14:00",
            "start": later_today(14, days=12).isoformat(),
            "location": booked.location_id,
            "notes": "",
            "status_changes-TOTAL_FORMS": "0",
            "status_changes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Appointment.objects.get(pk=booked.pk).start == later_today(9, days=12)


# --- only a time really free and still to come ---------------------------------------------------------
@pytest.mark.parametrize(
    "before_start,offered",
    [
        (timedelta(minutes=1), True),  # still to come: offered (no lead time, as for a cancellation)
        (timedelta(0), False),  # it begins now
        (-timedelta(minutes=5), False),  # begun, the patient not yet arrived: moved to later today
    ],
)
def test_an_old_time_already_begun_is_not_offered(
    booked, desk, later_today, before_start, offered, django_capture_on_commit_callbacks
):
    wait(booked, "Ana Silva")
    with time_machine.travel(booked.start - before_start, tick=False):
        move(booked, desk, django_capture_on_commit_callbacks, later_today(14, days=12))
    assert WaitlistOffer.objects.exists() is offered
    assert len(offers_sent()) == (1 if offered else 0)


@pytest.mark.parametrize(
    "minutes",
    [0, 15, -15, 29],
    ids=["same-time", "15-min-later", "15-min-earlier", "29-min-later"],
)
def test_a_move_overlapping_the_old_time_with_the_same_physio_offers_nothing(
    booked, desk, minutes, django_capture_on_commit_callbacks
):
    """What is left of the old time is shorter than the type: no slot the matcher would offer."""
    wait(booked, "Ana Silva")
    old_start = booked.start
    move(booked, desk, django_capture_on_commit_callbacks, old_start + timedelta(minutes=minutes))
    assert Appointment.objects.get(pk=booked.pk).start == old_start + timedelta(minutes=minutes)
    assert not WaitlistOffer.objects.exists() and offers_sent() == []


def test_a_move_right_after_the_old_time_offers_it(booked, desk, django_capture_on_commit_callbacks):
    wait(booked, "Ana Silva")
    old_start = booked.start
    move(booked, desk, django_capture_on_commit_callbacks, booked.end)
    assert WaitlistOffer.objects.get().start == old_start


def test_the_same_time_with_another_physio_offers_the_old_physios_time(
    booked, desk, django_capture_on_commit_callbacks
):
    anyone = wait(booked, "Ana Silva")
    wait(booked, "Ben Ode", therapist=booked.therapist)
    wait(booked, "Cleo Other", therapist=PhysioFactory())
    dana = booked.therapist
    move(
        booked, desk, django_capture_on_commit_callbacks, booked.start,
        therapist=PhysioFactory(), location=booked.location, confirm_outside_hours=True,
    )  # fmt: skip
    offers = list(WaitlistOffer.objects.order_by("id"))
    assert [o.entry.full_name for o in offers] == [anyone.full_name, "Ben Ode"]
    assert {o.therapist for o in offers} == {dana}


def test_an_old_time_booked_before_the_offer_is_made_is_not_offered(
    booked, desk, follow_up, later_today, django_capture_on_commit_callbacks
):
    wait(booked, "Ana Silva")
    old_start, dana = booked.start, booked.therapist
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reschedule(booked, start=later_today(14, days=12), by=desk)
    book(patient=PatientFactory(), therapist=dana, type=follow_up, start=old_start, by=desk, confirm=False)
    for callback in callbacks:
        callback()
    assert not WaitlistOffer.objects.exists() and offers_sent() == []


def test_a_reschedule_rolled_back_or_refused_offers_nothing(
    booked, desk, follow_up, later_today, django_capture_on_commit_callbacks
):
    wait(booked, "Ana Silva")
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        reschedule(booked, start=later_today(14, days=12), by=desk)
        raise RuntimeError("the enclosing request failed")
    assert Appointment.objects.get(pk=booked.pk).start == later_today(9, days=12)
    book(patient=PatientFactory(), therapist=booked.therapist, type=follow_up, start=later_today(15, days=12),
         by=desk, confirm=False)  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(BookingError, match="already has"):
        reschedule(booked, start=later_today(15, days=12), by=desk)
    assert not WaitlistOffer.objects.exists() and mail.outbox == []


# --- accepting, and a time freed twice ----------------------------------------------------------------
def test_accepting_the_offer_books_the_old_time(
    booked, client, desk, later_today, django_capture_on_commit_callbacks
):
    entry = wait(booked, "Ana Silva")
    old_start, old_end, dana = booked.start, booked.end, booked.therapist
    move(booked, desk, django_capture_on_commit_callbacks, later_today(14, days=12))
    (message,) = offers_sent()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(offer_link(message))
    assert response.status_code == 200 and "Your appointment is booked" in response.content.decode()
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.BOOKED
    taken = entry.appointment
    assert (taken.start, taken.end, taken.therapist, taken.status, taken.patient) == (
        old_start,
        old_end,
        dana,
        Status.BOOKED,
        entry.patient,
    )
    # The moved appointment keeps its new time.
    assert Appointment.objects.get(pk=booked.pk).start == later_today(14, days=12)


def test_moving_back_into_the_offered_time_leaves_the_offer_taken(
    booked, client, desk, later_today, django_capture_on_commit_callbacks
):
    entry = wait(booked, "Ana Silva")
    old_start = booked.start
    move(booked, desk, django_capture_on_commit_callbacks, later_today(14, days=12))
    move(booked, desk, django_capture_on_commit_callbacks, old_start)
    nine, two = offers_sent()  # Ana was offered 09:00, then the 14:00 it left
    assert "09:00" in nine.subject and "14:00" in two.subject
    response = client.post(offer_link(nine))
    assert response.status_code == 409 and "This time is already taken" in response.content.decode()
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.WAITING


def test_each_time_one_appointment_frees_is_offered(
    booked, desk, later_today, django_capture_on_commit_callbacks
):
    """Moved, moved again, then cancelled: three freed times, each offered to the entry once."""
    wait(booked, "Ana Silva")
    first = booked.start
    move(booked, desk, django_capture_on_commit_callbacks, later_today(10, days=12))
    move(booked, desk, django_capture_on_commit_callbacks, later_today(11, days=12))
    with django_capture_on_commit_callbacks(execute=True):
        cancel(booked, by=desk, reason="patient called")
    starts = list(WaitlistOffer.objects.order_by("id").values_list("start", flat=True))
    assert starts == [first, later_today(10, days=12), later_today(11, days=12)]
    assert len(offers_sent()) == 3


# --- a no-show -------------------------------------------------------------------------------------
def test_a_no_show_offers_nothing(booked, desk, django_capture_on_commit_callbacks):
    wait(booked, "Ana Silva")
    with (
        time_machine.travel(booked.start + timedelta(minutes=20), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        mark_no_show(booked, by=desk)
    assert Appointment.objects.get(pk=booked.pk).status == Status.NO_SHOW
    assert not WaitlistOffer.objects.exists()
    assert WaitlistEntry.objects.get().status == WaitlistStatus.WAITING
