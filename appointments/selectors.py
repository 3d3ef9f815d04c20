"""Reads of the schedule: the clinic's calendar days, who is free when, and the appointments a page lists.

Nothing here writes; the services (appointments/services/) book and change appointments.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, User, needling_authorised_q
from patients.models import Patient
from patients.names import PatientName

from .models import (
    INACTIVE_STATUSES,
    MAX_LENGTH,
    Appointment,
    AppointmentType,
    Break,
    Location,
    Status,
    TimeOff,
    WorkingHours,
    overlapping,
)

# Offered start times fall on this grid (minutes past the hour).
SLOT_STEP = timedelta(minutes=15)
SEARCH_DAYS = 28


# --- time helpers ---------------------------------------------------------------------------------
def local_day_bounds(day):
    """The aware start and end of a calendar day in the clinic's time zone (23 or 25 hours at DST)."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def at_local(day, clock):
    """An aware datetime for a wall-clock time on a day in the clinic's time zone."""
    return datetime.combine(day, clock, tzinfo=timezone.get_current_timezone())


# --- availability ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Slot:
    therapist: User
    start: datetime
    end: datetime
    location: Location


def _subtract(intervals, cut_start, cut_end):
    """Intervals minus [cut_start, cut_end)."""
    result = []
    for start, end in intervals:
        if cut_end <= start or cut_start >= end:
            result.append((start, end))
            continue
        if start < cut_start:
            result.append((start, cut_start))
        if cut_end < end:
            result.append((cut_end, end))
    return result


_location_fields = [f.attname for f in Location._meta.concrete_fields]
# A therapist's working hours on some weekdays, each with its location's row and its breaks (by start) as
# two arrays, in WorkingHours' own order; and their time off overlapping a range, in TimeOff's order.
WORKING_HOURS = f"""
    SELECT h.id, h.therapist_id, h.weekday, h.start, h."end",
           coalesce(array_agg(b.start ORDER BY b.start, b.id) FILTER (WHERE b.id IS NOT NULL), '{{}}'),
           coalesce(array_agg(b."end" ORDER BY b.start, b.id) FILTER (WHERE b.id IS NOT NULL), '{{}}'),
           {", ".join(f'l."{Location._meta.get_field(name).column}"' for name in _location_fields)}
    FROM {WorkingHours._meta.db_table} h
    JOIN {Location._meta.db_table} l ON l.id = h.location_id
    LEFT JOIN {Break._meta.db_table} b ON b.working_hours_id = h.id
    WHERE h.therapist_id = ANY(%s) AND h.weekday = ANY(%s)
    GROUP BY h.id, l.id
    ORDER BY h.therapist_id, h.weekday, h.start, h.id
"""  # noqa: S608 - the table and column names from _meta; every value a parameter
TIME_OFF = f"""
    SELECT therapist_id, start, "end" FROM {TimeOff._meta.db_table}
    WHERE therapist_id = ANY(%s) AND start < %s AND "end" > %s
    ORDER BY start DESC
"""  # noqa: S608 - the table name from _meta; every value a parameter


@dataclass(frozen=True, slots=True)
class _Hours:
    pk: int
    therapist_id: int
    weekday: int
    start: time
    end: time
    breaks: list  # [(start, end)] by start
    location: Location


def _working_hours(ids, weekdays):
    """[_Hours] of the therapists on the weekdays, with their breaks and location. One query: raw SQL,
    because the day view asks it on every view and Django compiling the three queries it was (the hours
    with their locations, the breaks, the time off) and building their model objects cost more than
    PostgreSQL answering them (issue 17). The location is a whole Location, as select_related made it."""
    with connection.cursor() as cursor:
        cursor.execute(WORKING_HOURS, [ids, list(weekdays)])
        return [
            _Hours(
                pk,
                therapist_id,
                weekday,
                start,
                end,
                list(zip(break_starts, break_ends, strict=True)),
                Location.from_db(connection.alias, _location_fields, place),
            )
            for pk, therapist_id, weekday, start, end, break_starts, break_ends, *place in cursor.fetchall()
        ]


def working_blocks(therapists, first_day, last_day):
    """{therapist_id: [(start, end, location)]}: the aware working time of each therapist from first_day
    to last_day inclusive, breaks and time off removed. Two queries whatever the range (none for nobody)."""
    ids = [t.pk for t in therapists]
    if not ids:
        return {}
    # Only the weekdays the range holds: the day view needs one of the seven, not a week of rows and breaks.
    weekdays = {
        (first_day + timedelta(days=n)).weekday() for n in range(min(7, (last_day - first_day).days + 1))
    }
    hours = _working_hours(ids, sorted(weekdays))
    breaks = {block.pk: block.breaks for block in hours}
    range_start, _ = local_day_bounds(first_day)
    _, range_end = local_day_bounds(last_day)
    with connection.cursor() as cursor:
        cursor.execute(TIME_OFF, [ids, range_end, range_start])
        away = cursor.fetchall()
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
        pieces = blocks[therapist_id]
        kept = []
        for start, end, location in pieces:
            kept.extend((s, e, location) for s, e in _subtract([(start, end)], leave_start, leave_end))
        blocks[therapist_id] = kept
    for pk in blocks:
        blocks[pk].sort(key=lambda b: b[0])
    return blocks


def within_working_hours(therapist, start, end):
    """True when [start, end) lies inside one of the therapist's working blocks (no break, no time off)."""
    first, last = timezone.localtime(start).date(), timezone.localtime(end).date()
    for block_start, block_end, _location in working_blocks([therapist], first, last)[therapist.pk]:
        if block_start <= start and end <= block_end:
            return True
    return False


def _round_up(moment):
    """The first start on the SLOT_STEP grid at or after `moment`."""
    local = timezone.localtime(moment)
    base = local.replace(minute=0, second=0, microsecond=0)
    steps = -(-(local - base) // SLOT_STEP)
    return base + steps * SLOT_STEP


def available_slots(
    *, type, therapist=None, after=None, days=SEARCH_DAYS, limit=10, patient=None, moving=None, location=None
):
    """Free starts for an appointment of `type`, earliest first: inside working hours, outside breaks and
    time off, clear of the therapist's (and the patient's, when given) active bookings, except `moving`
    (the appointment being rescheduled: its own time is free to it). With `location`, only the working
    hours there (the public booking page of that location). Up to `limit`, at most one per therapist per
    start. A constant number of queries."""
    after = _round_up(after or timezone.now())
    duration = timedelta(minutes=type.default_minutes)
    if therapist is not None:
        therapists = [therapist] if not type.needling or therapist.may_needle() else []
    else:
        # "Anyone" means anyone who may be booked for the type: for a needling type, only physiotherapists
        # authorised to needle (DESIGN.md rule 4); for any other, every active physiotherapist.
        people = User.objects.filter(role=Role.PHYSIO, is_active=True, working_hours__isnull=False)
        if type.needling:
            people = people.filter(needling_authorised_q(timezone.localdate()))
        if location is not None:
            people = people.filter(working_hours__location=location)
        therapists = list(people.distinct())
    if not therapists:
        return []
    first_day = timezone.localtime(after).date()
    last_day = first_day + timedelta(days=days)
    blocks = working_blocks(therapists, first_day, last_day)
    _, range_end = local_day_bounds(last_day)
    busy_filter = Q(therapist__in=therapists)
    if patient is not None:
        busy_filter |= Q(patient=patient)
    busy = {t.pk: [] for t in therapists}
    patient_busy = []
    found = overlapping(Appointment.objects.filter(busy_filter), after, range_end)
    if moving is not None:
        found = found.exclude(pk=moving.pk)
    for row in found.exclude(status__in=INACTIVE_STATUSES).values(
        "therapist_id", "patient_id", "start", "end"
    ):
        if row["therapist_id"] in busy:
            busy[row["therapist_id"]].append((row["start"], row["end"]))
        if patient is not None and row["patient_id"] == patient.pk:
            patient_busy.append((row["start"], row["end"]))
    slots = []
    for person in therapists:
        # Each person's `limit` earliest (blocks come in time order); the earliest overall are among them.
        own = []
        taken = busy[person.pk] + patient_busy
        for block_start, block_end, where in blocks[person.pk]:
            if location is not None and where.pk != location.pk:
                continue
            candidate = max(_round_up(block_start), after)
            while candidate + duration <= block_end and len(own) < limit:
                finish = candidate + duration
                clash = [e for s, e in taken if s < finish and e > candidate]
                if clash:
                    candidate = _round_up(max(clash))
                    continue
                own.append(Slot(person, candidate, finish, where))
                candidate += SLOT_STEP
            if len(own) >= limit:
                break
        slots.extend(own)
    slots.sort(key=lambda s: (s.start, s.therapist.full_name))
    return slots[:limit]


def next_available(*, type, therapist=None, after=None, days=SEARCH_DAYS, patient=None):
    """The earliest free Slot for `type` (with `therapist`, or with anyone), or None within `days`."""
    slots = available_slots(type=type, therapist=therapist, after=after, days=days, limit=1, patient=patient)
    return slots[0] if slots else None


# --- reading -----------------------------------------------------------------------------------------
def appointments_for_therapist_on(therapist, day):
    """The therapist's appointments (every status) on a local calendar day, by start, with their patient
    and type (what My day shows; not the location and room, which it does not). One query."""
    start, end = local_day_bounds(day)
    return list(
        overlapping(Appointment.objects.filter(therapist=therapist), start, end)
        .select_related("patient", "type")
        .order_by("start", "id")
    )


def next_appointment(patient, after=None, exclude=None):
    """The patient's next appointment still to come (booked, confirmed or arrived) starting after `after`
    (now by default), leaving out the appointment `exclude` (the visit being summarised), or None."""
    after = after or timezone.now()
    upcoming = (Status.BOOKED, Status.CONFIRMED, Status.ARRIVED)
    found = Appointment.objects.filter(patient=patient, start__gt=after, status__in=upcoming)
    if exclude is not None:
        found = found.exclude(pk=getattr(exclude, "pk", exclude))
    return found.select_related("therapist", "type", "location").order_by("start").first()


def therapists(location=None):
    """Active physiotherapists, by name: the columns of the day view. With a location, those who work
    there (any day of the week)."""
    found = User.objects.filter(role=Role.PHYSIO, is_active=True)
    if location is not None:
        found = found.filter(pk__in=WorkingHours.objects.filter(location=location).values("therapist_id"))
    return list(found.order_by("full_name", "id"))


@dataclass(frozen=True, slots=True)
class GridType:
    name: str


STATUS_LABELS = dict(Status.choices)


@dataclass(frozen=True, slots=True)
class GridAppointment:
    """An appointment as the day view's grid shows it (appointments/calendar.py, _grid.html): the
    attributes of an Appointment it reads, and no more."""

    pk: int
    therapist_id: int
    start: datetime
    end: datetime
    status: str
    booked_online: bool
    patient: PatientName
    type: GridType

    def get_status_display(self):
        return STATUS_LABELS.get(self.status, self.status)


_table = Appointment._meta.db_table
# The appointments of some therapists overlapping [start, end) (appointments.models.overlapping: the lower
# bound on start lets the (start, therapist) index find one day among millions), with the patient's names
# and the type's. Not the location: joined, it tempts the planner into a loop over every location (bench/).
DAY_APPOINTMENTS = f"""
    SELECT a.id, a.therapist_id, a.start, a."end", a.status, a.booked_online,
           p.family_name, p.given_name, p.preferred_name, t.name
    FROM {_table} a
    JOIN {Patient._meta.db_table} p ON p.id = a.patient_id
    JOIN {AppointmentType._meta.db_table} t ON t.id = a.type_id
    WHERE a.therapist_id = ANY(%s) AND a.start < %s AND a.start > %s AND a."end" > %s
    ORDER BY a.start, a.id
"""  # noqa: S608 - the table names from _meta; every value a parameter


def day_appointments(therapist_ids, start, end):
    """[GridAppointment] of the therapists overlapping [start, end), by start: the day view's cells. One
    query. Raw SQL read as plain values: the ORM's query (compiled on every view) and the model objects of
    each appointment, its patient and its type (about 200 on a busy day) were most of day_schedule()'s
    time (issue 17); tests/appointments/test_day_schedule.py holds it to the ORM's overlapping()."""
    if not therapist_ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(DAY_APPOINTMENTS, [list(therapist_ids), end, start - MAX_LENGTH, start])
        return [
            GridAppointment(
                pk=pk,
                therapist_id=therapist_id,
                start=begins,
                end=ends,
                status=status,
                booked_online=booked_online,
                patient=PatientName(family_name, given_name, preferred_name),
                type=GridType(type_name),
            )
            for (
                pk,
                therapist_id,
                begins,
                ends,
                status,
                booked_online,
                family_name,
                given_name,
                preferred_name,
                type_name,
            ) in cursor.fetchall()
        ]


def day_schedule(day, people=None, location=None):
    """[(therapist, [GridAppointment], [(start, end, location) working blocks])] for a local day: the day
    view's columns (every physiotherapist, or those working at `location`). Four queries whatever the
    number of therapists and appointments (three when `people` are given)."""
    people = therapists(location) if people is None else list(people)
    start, end = local_day_bounds(day)
    by_therapist = {p.pk: [] for p in people}
    for appointment in day_appointments(list(by_therapist), start, end):
        by_therapist[appointment.therapist_id].append(appointment)
    blocks = working_blocks(people, day, day) if people else {}
    return [(p, by_therapist[p.pk], blocks.get(p.pk, [])) for p in people]


# A patient's next `limit` appointments from now and last `limit` before it (patient_appointments).
PATIENT_APPOINTMENT_IDS = f"""
    (SELECT id FROM {_table} WHERE patient_id = %s AND start >= %s ORDER BY start, id LIMIT %s)
    UNION ALL
    (SELECT id FROM {_table} WHERE patient_id = %s AND start < %s ORDER BY start DESC, id DESC LIMIT %s)
"""  # noqa: S608 - the table name from _meta; every value a parameter


@dataclass(frozen=True, slots=True)
class ChartAppointment:
    """An appointment as the chart's appointments panel shows it (appointments/_chart_rows.html): its
    start, status and cancellation reason, its type's name and its therapist as written (User.__str__)."""

    pk: int
    start: datetime
    status: str
    cancel_reason: str
    type: GridType
    therapist: str

    def get_status_display(self):
        return STATUS_LABELS.get(self.status, self.status)


# The rows of PATIENT_APPOINTMENT_IDS with what the chart shows of each (patient_appointments).
PATIENT_APPOINTMENTS = f"""
    SELECT a.id, a.start, a.status, a.cancel_reason, t.name, u.full_name, u.email
    FROM {_table} a
    JOIN {AppointmentType._meta.db_table} t ON t.id = a.type_id
    JOIN {User._meta.db_table} u ON u.id = a.therapist_id
    WHERE a.id IN ({PATIENT_APPOINTMENT_IDS})
    ORDER BY a.start, a.id
"""  # noqa: S608 - the table names from _meta; every value a parameter


def patient_appointments(patient, *, limit=20):
    """(upcoming, past) [ChartAppointment] of a patient, each at most `limit`: upcoming soonest first, past
    latest first. One query: the two lists' ids are each chosen by a subquery on the patient's start
    times (united), and their rows read together. Raw SQL read as plain values (issue 17): the ORM's
    query, compiled on every chart, and the model objects of each appointment, its therapist, type and
    location cost more than PostgreSQL running it; tests/patients/test_chart_load.py holds it to the ORM
    query it replaced."""
    now = timezone.now()
    patient_id = getattr(patient, "pk", patient)
    # UNION ALL, not an OR of two IN: each side stays an index scan on (patient, start).
    with connection.cursor() as cursor:
        cursor.execute(PATIENT_APPOINTMENTS, [patient_id, now, limit, patient_id, now, limit])
        rows = cursor.fetchall()
    upcoming, past = [], []
    for pk, start, status, cancel_reason, type_name, full_name, email in rows:
        appointment = ChartAppointment(
            pk=pk,
            start=start,
            status=status,
            cancel_reason=cancel_reason,
            type=GridType(type_name),
            therapist=full_name or email,  # as User.__str__
        )
        (upcoming if start >= now else past).append(appointment)
    past.reverse()
    return upcoming, past


def active_appointment_count(*, therapist, start, end):
    """How many of the therapist's active appointments (not cancelled, not missed) overlap [start, end):
    those a new time off leaves for the front desk to reschedule. One query."""
    found = overlapping(Appointment.objects.filter(therapist=therapist), start, end)
    return found.exclude(status__in=INACTIVE_STATUSES).count()
