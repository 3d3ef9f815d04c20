"""Reads of the schedule: the clinic's calendar days, who is free when, and the appointments a page lists.

Nothing here writes; the services (appointments/services/) book and change appointments.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import Role, User, needling_authorised_q

from .models import (
    INACTIVE_STATUSES,
    Appointment,
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


def working_blocks(therapists, first_day, last_day):
    """{therapist_id: [(start, end, location)]}: the aware working time of each therapist from first_day
    to last_day inclusive, breaks and time off removed. Three queries whatever the range."""
    ids = [t.pk for t in therapists]
    # Only the weekdays the range holds: the day view needs one of the seven, not a week of rows and breaks.
    weekdays = {
        (first_day + timedelta(days=n)).weekday() for n in range(min(7, (last_day - first_day).days + 1))
    }
    hours = list(
        WorkingHours.objects.filter(therapist_id__in=ids, weekday__in=weekdays).select_related("location")
    )
    # The breaks and time off as plain values: the day view asks this on every view, and building their
    # model objects (through prefetch_related) cost more than the queries themselves.
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


# The fields the day view's grid shows of each appointment (appointments/calendar.py, _grid.html).
DAY_FIELDS = (
    "id",
    "patient_id",
    "therapist_id",
    "type_id",
    "location_id",
    "start",
    "end",
    "status",
    "booked_online",
    "patient__id",
    "patient__family_name",
    "patient__given_name",
    "patient__preferred_name",
    "type__id",
    "type__name",
)


def day_schedule(day, people=None, location=None):
    """[(therapist, [appointments], [(start, end, location) working blocks])] for a local day: the day
    view's columns (every physiotherapist, or those working at `location`). Five queries whatever the
    number of therapists and appointments."""
    people = therapists(location) if people is None else list(people)
    start, end = local_day_bounds(day)
    by_therapist = {p.pk: [] for p in people}
    for appointment in (
        overlapping(Appointment.objects.filter(therapist__in=people), start, end)
        # Not the location: joined, it tempts the planner into a loop over every location (bench/).
        .select_related("patient", "type")
        # What the grid shows, no more: about 70 rows of every patient column were a third of the view's
        # time spent in building model objects.
        .only(*DAY_FIELDS)
        .order_by("start", "id")
    ):
        by_therapist[appointment.therapist_id].append(appointment)
    blocks = working_blocks(people, day, day) if people else {}
    return [(p, by_therapist[p.pk], blocks.get(p.pk, [])) for p in people]


_table = Appointment._meta.db_table
# A patient's next `limit` appointments from now and last `limit` before it (patient_appointments).
PATIENT_APPOINTMENT_IDS = f"""
    (SELECT id FROM {_table} WHERE patient_id = %s AND start >= %s ORDER BY start, id LIMIT %s)
    UNION ALL
    (SELECT id FROM {_table} WHERE patient_id = %s AND start < %s ORDER BY start DESC, id DESC LIMIT %s)
"""  # noqa: S608 - the table name from _meta; every value a parameter


def patient_appointments(patient, *, limit=20):
    """(upcoming, past) appointments of a patient, each at most `limit`: upcoming soonest first, past
    latest first. One query: the two lists' ids are each chosen by a subquery on the patient's start
    times (united), and their rows read together."""
    now = timezone.now()
    patient_id = getattr(patient, "pk", patient)
    # UNION ALL, not an OR of two IN: each side stays an index scan on (patient, start). Written out once
    # (PATIENT_APPOINTMENT_IDS): the ORM took longer to compile the union than PostgreSQL to run it.
    ids = RawSQL(PATIENT_APPOINTMENT_IDS, [patient_id, now, limit, patient_id, now, limit])  # noqa: S611
    rows = (
        Appointment.objects.filter(pk__in=ids)
        .select_related("therapist", "type", "location")
        .order_by("start", "id")
    )
    upcoming, past = [], []
    for appointment in rows:
        (upcoming if appointment.start >= now else past).append(appointment)
    past.reverse()
    return upcoming, past


def active_appointment_count(*, therapist, start, end):
    """How many of the therapist's active appointments (not cancelled, not missed) overlap [start, end):
    those a new time off leaves for the front desk to reschedule. One query."""
    found = overlapping(Appointment.objects.filter(therapist=therapist), start, end)
    return found.exclude(status__in=INACTIVE_STATUSES).count()
