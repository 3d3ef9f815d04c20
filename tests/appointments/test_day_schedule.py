"""The day view reads its appointments as plain values with fixed SQL (appointments.selectors.
day_appointments): the same appointments, in the same order, with the same fields, as the ORM's
overlapping() query it replaced, whatever their status, names, times around midnight or therapist."""

from datetime import timedelta

import pytest

from appointments.models import Appointment, Status, overlapping
from appointments.selectors import day_appointments, day_schedule, local_day_bounds
from tests.factories import AppointmentFactory, AppointmentTypeFactory, PatientFactory, PhysioFactory

pytestmark = pytest.mark.clock


def shown(a):
    """What the grid shows of an appointment, read from a model object or from the grid's plain values."""
    return (
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


def as_the_orm_reads_it(therapist_ids, day):
    start, end = local_day_bounds(day)
    query = overlapping(Appointment.objects.filter(therapist_id__in=therapist_ids), start, end)
    return [shown(a) for a in query.select_related("patient", "type").order_by("start", "id")]


def as_the_grid_reads_it(therapist_ids, day):
    start, end = local_day_bounds(day)
    return [shown(a) for a in day_appointments(therapist_ids, start, end)]


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


# --- working time: read with fixed SQL too (appointments.selectors.working_blocks) ------------------------
def working_blocks_as_the_orm_read_them(therapists, first_day, last_day):
    """working_blocks() as it was written with the ORM (three queries), kept here as the reference the
    fixed SQL must match."""
    from appointments.models import Break, TimeOff, WorkingHours
    from appointments.selectors import _subtract, at_local

    ids = [t.pk for t in therapists]
    weekdays = {
        (first_day + timedelta(days=n)).weekday() for n in range(min(7, (last_day - first_day).days + 1))
    }
    hours = list(
        WorkingHours.objects.filter(therapist_id__in=ids, weekday__in=weekdays).select_related("location")
    )
    breaks = {block.pk: [] for block in hours}
    for hours_id, start, end in (
        Break.objects.filter(working_hours_id__in=list(breaks))
        .values_list("working_hours_id", "start", "end")
        .order_by("start")
    ):
        breaks[hours_id].append((start, end))
    range_start, _ = local_day_bounds(first_day)
    _, range_end = local_day_bounds(last_day)
    away = TimeOff.objects.filter(therapist_id__in=ids, start__lt=range_end, end__gt=range_start).values_list(
        "therapist_id", "start", "end"
    )
    blocks = {pk: [] for pk in ids}
    day = first_day
    while day <= last_day:
        for block in hours:
            if block.weekday != day.weekday():
                continue
            pieces = [(at_local(day, block.start), at_local(day, block.end))]
            for pause_start, pause_end in breaks[block.pk]:
                pieces = _subtract(pieces, at_local(day, pause_start), at_local(day, pause_end))
            blocks[block.therapist_id].extend((s, e, block.location) for s, e in pieces)
        day += timedelta(days=1)
    for therapist_id, leave_start, leave_end in away:
        kept = []
        for start, end, location in blocks[therapist_id]:
            kept.extend((s, e, location) for s, e in _subtract([(start, end)], leave_start, leave_end))
        blocks[therapist_id] = kept
    for pk in blocks:
        blocks[pk].sort(key=lambda b: b[0])
    return blocks


def as_compared(blocks):
    return {
        pk: [(s, e, (place.pk, place.name, place.address)) for s, e, place in found]
        for pk, found in blocks.items()
    }


@pytest.fixture
def varied_hours(therapist, at):
    """Dana works Monday to Friday 08:00-16:00 with lunch; Cora works two sites on Monday (mornings at a
    branch with two breaks, afternoons at the main clinic) and Wednesday, with a half day off on Monday and
    a whole Wednesday off; Lee works only Saturdays, no breaks; Sam has no working hours at all."""
    from datetime import time

    from appointments.models import Break, Location, TimeOff
    from tests.factories import WorkingHoursFactory

    main = therapist.working_hours.first().location
    branch = Location.objects.create(name="Branch North", address="1 North Road")
    cora = PhysioFactory(full_name="Cora Colleague")
    morning = WorkingHoursFactory(therapist=cora, weekday=0, start=time(7), end=time(12), location=branch)
    Break.objects.create(working_hours=morning, start=time(10), end=time(10, 15))
    Break.objects.create(working_hours=morning, start=time(9), end=time(9, 10))
    WorkingHoursFactory(therapist=cora, weekday=0, start=time(13), end=time(19), location=main)
    WorkingHoursFactory(therapist=cora, weekday=2, start=time(9), end=time(17), location=main)
    TimeOff.objects.create(therapist=cora, start=at(15), end=at(20), reason="Dentist")
    TimeOff.objects.create(therapist=cora, start=at(0, day_offset=2), end=at(0, day_offset=3))
    TimeOff.objects.create(therapist=therapist, start=at(11, 30), end=at(12, 15))
    lee = PhysioFactory(full_name="Lee Weekend")
    WorkingHoursFactory(therapist=lee, weekday=5, start=time(10), end=time(14), location=branch)
    return [therapist, cora, lee, PhysioFactory(full_name="Sam Nohours")]


@pytest.mark.parametrize(("first", "last"), [(0, 0), (2, 2), (5, 5), (6, 6), (0, 6), (-3, 10)])
def test_working_time_is_what_the_orm_read(varied_hours, monday, first, last):
    from appointments.selectors import working_blocks

    first_day, last_day = monday + timedelta(days=first), monday + timedelta(days=last)
    found = working_blocks(varied_hours, first_day, last_day)
    assert as_compared(found) == as_compared(
        working_blocks_as_the_orm_read_them(varied_hours, first_day, last_day)
    )
    if first == last == 0:
        cora = varied_hours[1].pk
        assert (
            len(found[cora]) == 4
        )  # the branch's morning cut twice by its breaks, the afternoon until 15:00


def test_working_time_of_nobody_asks_nothing(db, monday, django_assert_num_queries):
    from appointments.selectors import working_blocks

    with django_assert_num_queries(0):
        assert working_blocks([], monday, monday) == {}
