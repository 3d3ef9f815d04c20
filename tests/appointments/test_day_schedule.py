"""The day view reads its appointments as plain values with fixed SQL (appointments.selectors.
day_appointments): the same appointments, in the same order, with the same fields, as the ORM's
overlapping() query it replaced, whatever their status, names, times around midnight or therapist."""

from datetime import timedelta

import pytest

from appointments.models import Appointment, Status, overlapping
from appointments.selectors import day_appointments, day_schedule, local_day_bounds
from tests.factories import AppointmentFactory, AppointmentTypeFactory, PatientFactory, PhysioFactory

pytestmark = pytest.mark.clock


def as_the_orm_reads_it(therapist_ids, day):
    start, end = local_day_bounds(day)
    return [
        (
            a.pk,
            a.therapist_id,
            a.start,
            a.end,
            a.status,
            a.booked_online,
            a.patient.family_name,
            a.patient.display_given_name,
            a.type.name,
            a.get_status_display(),
        )
        for a in overlapping(Appointment.objects.filter(therapist_id__in=therapist_ids), start, end)
        .select_related("patient", "type")
        .order_by("start", "id")
    ]


def as_the_grid_reads_it(therapist_ids, day):
    start, end = local_day_bounds(day)
    return [
        (
            a.pk,
            a.therapist_id,
            a.start,
            a.end,
            a.status,
            a.booked_online,
            a.patient.family_name,
            a.patient.display_given_name,
            a.type.name,
            a.get_status_display(),
        )
        for a in day_appointments(therapist_ids, start, end)
    ]


@pytest.fixture
def varied_day(therapist, at, monday):
    """Appointments of two physiotherapists on Monday and around it: every status, preferred names or
    none, names to escape, booked online or not, one from Sunday night into Monday, one ending as Monday
    begins and one starting as it ends (neither on Monday), and a third physiotherapist's."""
    colleague = PhysioFactory(full_name="Cora Colleague")
    long_type = AppointmentTypeFactory(name="Long <assessment>", default_minutes=90)
    for hour, status in enumerate(Status, start=8):
        AppointmentFactory(
            therapist=therapist if hour % 2 else colleague,
            start=at(hour, 15 * (hour % 4)),
            status=status,
            cancel_reason="Unwell" if status == Status.CANCELLED else "",
            patient=PatientFactory(
                family_name=f"O'Family {hour}",
                given_name="Given",
                preferred_name="Peg & Co" if hour % 3 else "",
            ),
            type=long_type if hour % 2 else AppointmentTypeFactory(),
        )
    online = AppointmentFactory(therapist=colleague, start=at(17))
    Appointment.objects.filter(pk=online.pk).update(booked_online=True)
    AppointmentFactory(therapist=therapist, start=at(23, day_offset=-1), type=long_type)  # into Monday
    AppointmentFactory(therapist=colleague, start=at(23, day_offset=-1))  # ends at 23:30 Sunday: not listed
    AppointmentFactory(therapist=therapist, start=at(0, day_offset=1))  # Tuesday: not listed
    AppointmentFactory(therapist=PhysioFactory(), start=at(10))  # someone else's column
    return [therapist.pk, colleague.pk]


def test_the_day_reads_the_same_appointments_and_fields_as_the_orm(varied_day, monday):
    grid = as_the_grid_reads_it(varied_day, monday)
    assert grid == as_the_orm_reads_it(varied_day, monday)
    assert len(grid) == len(Status) + 2  # every status, the online one and Sunday night's
    assert {row[-1] for row in grid} >= {"Cancelled", "No-show", "In treatment"}
    assert {"Peg & Co", "Given"} <= {row[7] for row in grid}
    assert any(row[5] for row in grid)


@pytest.mark.parametrize("day_offset", [-1, 1, 7])
def test_other_days_read_the_same_as_the_orm(varied_day, monday, day_offset):
    day = monday + timedelta(days=day_offset)
    assert as_the_grid_reads_it(varied_day, day) == as_the_orm_reads_it(varied_day, day)


def test_nobody_to_show_reads_nothing(db, monday, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert day_appointments([], *local_day_bounds(monday)) == []


def test_each_column_holds_its_own_therapists_appointments(varied_day, monday):
    for person, appointments, _blocks in day_schedule(monday):
        assert all(a.therapist_id == person.pk for a in appointments)
        assert [a.start for a in appointments] == sorted(a.start for a in appointments)
