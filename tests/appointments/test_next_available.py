"""next_available(): working hours, breaks, time off and bookings all count."""

import pytest

from appointments.models import TimeOff
from appointments.selectors import available_slots, next_available
from tests.factories import AppointmentFactory, PatientFactory, PhysioFactory, WorkingHoursFactory

# Its outcome depends on the clock: `make test-clock` runs it at awkward instants too.
pytestmark = pytest.mark.clock


def test_first_free_start_of_the_day(therapist, follow_up, at):
    slot = next_available(type=follow_up, therapist=therapist, after=at(6))
    assert (slot.start, slot.end, slot.therapist) == (at(8), at(8, 30), therapist)
    assert slot.location.name == "Main clinic"


def test_it_steps_over_bookings(therapist, follow_up, at):
    AppointmentFactory(therapist=therapist, start=at(8), end=at(9, 10))
    slot = next_available(type=follow_up, therapist=therapist, after=at(6))
    assert slot.start == at(9, 15)


def test_it_steps_over_the_lunch_break(therapist, initial, at):
    AppointmentFactory(therapist=therapist, start=at(8), end=at(11, 30))
    slot = next_available(type=initial, therapist=therapist, after=at(6))
    # 11:30-12:30 would cross lunch (12:00-12:30): the next hour is after it.
    assert slot.start == at(12, 30)


def test_it_skips_time_off_and_the_weekend(therapist, follow_up, at):
    TimeOff.objects.create(therapist=therapist, start=at(0), end=at(0, day_offset=5), reason="Holiday")
    slot = next_available(type=follow_up, therapist=therapist, after=at(6))
    assert slot.start == at(8, day_offset=7)


def test_it_ignores_cancelled_bookings(therapist, follow_up, at):
    AppointmentFactory(therapist=therapist, start=at(8), status="cancelled", cancel_reason="x")
    assert next_available(type=follow_up, therapist=therapist, after=at(6)).start == at(8)


def test_it_respects_the_patients_other_bookings(therapist, follow_up, at):
    patient = PatientFactory()
    AppointmentFactory(patient=patient, start=at(8), end=at(10))
    slot = next_available(type=follow_up, therapist=therapist, after=at(6), patient=patient)
    assert slot.start == at(10)


def test_any_therapist_gives_the_earliest(therapist, follow_up, at):
    early = PhysioFactory(full_name="Early Bird")
    WorkingHoursFactory(
        therapist=early, weekday=0, start=at(7).timetz().replace(tzinfo=None), end=at(9).time()
    )
    PhysioFactory(full_name="No hours")  # never offered: no working hours
    slot = next_available(type=follow_up, after=at(6))
    assert (slot.therapist, slot.start) == (early, at(7))
    slots = available_slots(type=follow_up, after=at(6), limit=6)
    assert {s.therapist.full_name for s in slots} == {"Early Bird", "Dana Physio"}
    assert [s.start for s in slots] == sorted(s.start for s in slots)


def test_none_when_nobody_works(follow_up, at, db):
    assert next_available(type=follow_up, after=at(6)) is None
    lonely = PhysioFactory()
    assert next_available(type=follow_up, therapist=lonely, after=at(6)) is None


@pytest.mark.parametrize(
    "minute,expected", [(0, (8, 0)), (1, (8, 15)), (14, (8, 15)), (15, (8, 15)), (50, (9, 0))]
)
def test_offers_start_on_the_quarter_hour(therapist, follow_up, at, minute, expected):
    slot = next_available(type=follow_up, therapist=therapist, after=at(8, minute))
    assert slot.start == at(*expected)


def test_anyone_means_physiotherapists_authorised_to_needle(follow_up, at):
    from accounts.models import ClinicianProfile

    intern = PhysioFactory(full_name="Intern")
    ClinicianProfile.objects.filter(user=intern).update(needling_authorised_on=None)
    WorkingHoursFactory(therapist=intern, weekday=0, start=at(6).time(), end=at(9).time())
    lapsed = PhysioFactory(full_name="Lapsed")
    ClinicianProfile.objects.filter(user=lapsed).update(
        needling_authorisation_expires=at(0).date().replace(year=2021)
    )
    WorkingHoursFactory(therapist=lapsed, weekday=0, start=at(6).time(), end=at(9).time())
    assert next_available(type=follow_up, after=at(6)) is None
    # Asked for by name, they are still offered (an assessment without needling, say).
    assert next_available(type=follow_up, therapist=intern, after=at(6)).start == at(6)


def test_the_earliest_few_come_from_everyone(therapist, follow_up, at):
    """Anyone: the 6 earliest starts overall, interleaving two people, not one person's first six."""
    other = PhysioFactory(full_name="Zed Other")
    WorkingHoursFactory(therapist=other, weekday=0, start=at(8).time(), end=at(16).time())
    slots = available_slots(type=follow_up, after=at(6), limit=6)
    assert [(s.start, s.therapist.full_name) for s in slots] == [
        (at(8), "Dana Physio"),
        (at(8), "Zed Other"),
        (at(8, 15), "Dana Physio"),
        (at(8, 15), "Zed Other"),
        (at(8, 30), "Dana Physio"),
        (at(8, 30), "Zed Other"),
    ]
