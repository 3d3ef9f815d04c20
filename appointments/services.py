"""Booking rules that span rows: who is free when, booking, rescheduling, and every status change.

The database holds the last line (exclusion constraints in migration 0001): whatever happens here, no
therapist, patient or room is ever double-booked. These functions add the clear message before it.
"""

import bisect
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, User, needling_authorised_q
from audit.models import Action
from audit.services import audited_transaction, record
from patients.models import Patient

from .models import (
    ACTIVE_STATUSES,
    HOLDS_SLOT,
    INACTIVE_STATUSES,
    MAX_LENGTH,
    Appointment,
    AppointmentStatusChange,
    AppointmentType,
    Location,
    Status,
    TimeOff,
    WorkingHours,
    overlapping,
)

TAKEN = "That time was just taken by another booking. Pick another time: the calendar now shows what is free."
# Offered start times fall on this grid (minutes past the hour).
SLOT_STEP = timedelta(minutes=15)
SEARCH_DAYS = 28
OVERLAP_CONSTRAINTS = {
    "appointment_therapist_no_overlap",
    "appointment_patient_no_overlap",
    "appointment_room_no_overlap",
}


class BookingError(ValidationError):
    """A booking, reschedule or status change refused, with a message for the person at the desk.

    `code` says why: "past" and "outside_hours" can be overridden by confirming; the rest cannot."""


# Which status may follow which. Cancelled, no-show and completed are final.
NEXT_STATUSES = {
    Status.BOOKED: {Status.CONFIRMED, Status.ARRIVED, Status.IN_TREATMENT, Status.CANCELLED, Status.NO_SHOW},
    Status.CONFIRMED: {Status.ARRIVED, Status.IN_TREATMENT, Status.CANCELLED, Status.NO_SHOW},
    Status.ARRIVED: {Status.IN_TREATMENT, Status.COMPLETED, Status.CANCELLED},
    Status.IN_TREATMENT: {Status.COMPLETED},
    Status.COMPLETED: set(),
    Status.CANCELLED: set(),
    Status.NO_SHOW: set(),
}
STATUS_ACTIONS = {
    Status.ARRIVED: Action.CHECK_IN,
    Status.CANCELLED: Action.CANCEL,
    Status.NO_SHOW: Action.NO_SHOW,
}


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


def _check_parties(patient, therapist, type):
    if not isinstance(patient, Patient) or patient.pk is None:
        raise BookingError("Choose a registered patient.", code="unknown_patient")
    if patient.archived_at is not None:
        raise BookingError(
            f"{patient.full_name} is archived. Restore the record before booking.", code="archived_patient"
        )
    if not isinstance(therapist, User) or therapist.pk is None:
        raise BookingError("Choose a physiotherapist.", code="unknown_therapist")
    if not therapist.has_role(Role.PHYSIO):
        raise BookingError(f"{therapist} is not an active physiotherapist.", code="not_a_therapist")
    if not isinstance(type, AppointmentType) or type.pk is None:
        raise BookingError("Choose an appointment type.", code="unknown_type")


def _check_needling(therapist, type, start):
    """A needling type is booked only with a physiotherapist authorised to needle that day (the intern,
    a lapsed authorisation: refused, naming them)."""
    if type.needling and start is not None and not therapist.may_needle(start):
        raise BookingError(
            f"{therapist} has no needling authorisation on file for {timezone.localtime(start):%a %d %b}: "
            f"{type.name} includes needling. Choose an authorised physiotherapist, or a type without "
            "needling.",
            code="not_authorised",
        )


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
    hours = list(
        WorkingHours.objects.filter(therapist_id__in=ids)
        .select_related("location")
        .prefetch_related("breaks")
    )
    range_start, _ = local_day_bounds(first_day)
    _, range_end = local_day_bounds(last_day)
    away = list(TimeOff.objects.filter(therapist_id__in=ids, start__lt=range_end, end__gt=range_start))
    blocks = {pk: [] for pk in ids}
    day = first_day
    while day <= last_day:
        for block in hours:
            if block.weekday != day.weekday():
                continue
            pieces = [(at_local(day, block.start), at_local(day, block.end))]
            for pause in block.breaks.all():
                pieces = _subtract(pieces, at_local(day, pause.start), at_local(day, pause.end))
            blocks[block.therapist_id].extend((s, e, block.location) for s, e in pieces)
        day += timedelta(days=1)
    for leave in away:
        pieces = blocks[leave.therapist_id]
        kept = []
        for start, end, location in pieces:
            kept.extend((s, e, location) for s, e in _subtract([(start, end)], leave.start, leave.end))
        blocks[leave.therapist_id] = kept
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


def available_slots(*, type, therapist=None, after=None, days=SEARCH_DAYS, limit=10, patient=None):
    """Free starts for an appointment of `type`, earliest first: inside working hours, outside breaks and
    time off, clear of the therapist's (and the patient's, when given) active bookings. Up to `limit`,
    at most one per therapist per start. A constant number of queries."""
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
    for row in (
        overlapping(Appointment.objects.filter(busy_filter), after, range_end)
        .exclude(status__in=INACTIVE_STATUSES)
        .values("therapist_id", "patient_id", "start", "end")
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
        for block_start, block_end, location in blocks[person.pk]:
            candidate = max(_round_up(block_start), after)
            while candidate + duration <= block_end and len(own) < limit:
                finish = candidate + duration
                clash = [e for s, e in taken if s < finish and e > candidate]
                if clash:
                    candidate = _round_up(max(clash))
                    continue
                own.append(Slot(person, candidate, finish, location))
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


# --- booking ---------------------------------------------------------------------------------------
def _default_location(therapist, start):
    local = timezone.localtime(start)
    block = (
        WorkingHours.objects.filter(
            therapist=therapist, weekday=local.weekday(), start__lte=local.time(), end__gt=local.time()
        )
        .select_related("location")
        .first()
    )
    if block is not None:
        return block.location
    location = Location.objects.first()
    if location is None:
        raise BookingError(
            "No clinic location is set up. An administrator adds one in the admin.", code="location"
        )
    return location


def _clash_message(therapist, patient, start, end, exclude_pk=None):
    """The friendly reason a time is not free, or None. The exclusion constraints decide in the end."""
    active = overlapping(Appointment.objects.all(), start, end).exclude(status__in=INACTIVE_STATUSES)
    if exclude_pk is not None:
        active = active.exclude(pk=exclude_pk)
    clash = active.filter(therapist=therapist).first()
    if clash is not None:
        local = timezone.localtime(clash.start)
        return (
            f"{therapist} already has an appointment from {local:%H:%M} to "
            f"{timezone.localtime(clash.end):%H:%M} on {local:%a %d %b}. Choose another time."
        )
    clash = active.filter(patient=patient).first()
    if clash is not None:
        local = timezone.localtime(clash.start)
        return (
            f"{patient.full_name} already has an appointment from {local:%H:%M} to "
            f"{timezone.localtime(clash.end):%H:%M} on {local:%a %d %b}. Choose another time."
        )
    return None


def _check_time(therapist, start, end, *, confirm_outside_hours, confirm_past):
    if start is None:
        raise BookingError("Give a start time.", code="no_start")
    if end <= start:
        raise BookingError("The end must come after the start.", code="end_before_start")
    if end - start > MAX_LENGTH:
        raise BookingError("An appointment cannot last more than 8 hours.", code="too_long")
    if start < timezone.now() and not confirm_past:
        raise BookingError(
            "This time is in the past. Tick \u201cbook in the past\u201d to record it anyway.", code="past"
        )
    if not confirm_outside_hours and not within_working_hours(therapist, start, end):
        raise BookingError(
            f"This time is outside {therapist}'s working hours (or in a break or time off). "
            "Tick \u201cbook outside working hours\u201d to book it anyway.",
            code="outside_hours",
        )


def _taken(error):
    constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    return constraint in OVERLAP_CONSTRAINTS


def check_booking(
    *, patient, therapist, type, start, end=None, confirm_outside_hours=False, confirm_past=False
):
    """Everything book() checks before saving (for forms that validate first, such as the admin's);
    returns the end (the type's default length when not given). Raises BookingError."""
    _check_parties(patient, therapist, type)
    if end is None and start is not None:
        end = start + timedelta(minutes=type.default_minutes)
    _check_time(therapist, start, end, confirm_outside_hours=confirm_outside_hours, confirm_past=confirm_past)
    _check_needling(therapist, type, start)
    clash = _clash_message(therapist, patient, start, end)
    if clash:
        raise BookingError(clash, code="overlap")
    return end


def book(
    *,
    patient,
    therapist,
    type,
    start,
    end=None,
    location=None,
    by,
    notes="",
    confirm_outside_hours=False,
    confirm_past=False,
    request=None,
    room=None,
):
    """Book an appointment (status booked), record its first history step, audit it, and e-mail the patient
    once the transaction commits.

    Refuses (BookingError): an unknown or archived patient, someone not a physiotherapist, end not after
    start, a start in the past or outside working hours unless confirmed, and any overlap with the
    therapist's or the patient's active appointments, including one committed a moment ago by someone
    else (the exclusion constraint's refusal becomes "That time was just taken")."""
    end = check_booking(
        patient=patient,
        therapist=therapist,
        type=type,
        start=start,
        end=end,
        confirm_outside_hours=confirm_outside_hours,
        confirm_past=confirm_past,
    )
    if location is None:
        location = _default_location(therapist, start)
    appointment = Appointment(
        patient=patient,
        therapist=therapist,
        type=type,
        location=location,
        room=room,
        start=start,
        end=end,
        notes=notes,
        booked_by=by,
    )
    try:
        with audited_transaction():
            appointment.save(force_insert=True)
            AppointmentStatusChange.objects.create(
                appointment=appointment, from_status="", to_status=Status.BOOKED, by=by, note="booked"
            )
            record(
                Action.BOOK,
                request=request,
                user=by,
                obj=appointment,
                patient_id=patient.pk,
                detail=f"{type.name} with {therapist} at {timezone.localtime(start):%Y-%m-%d %H:%M}",
            )
    except IntegrityError as error:
        if _taken(error):
            raise BookingError(TAKEN, code="taken") from error
        raise
    from .reminders import send_booking_confirmation

    pk = appointment.pk
    transaction.on_commit(lambda: send_booking_confirmation(pk))
    return appointment


def reschedule(
    appointment,
    *,
    start,
    end=None,
    therapist=None,
    location=None,
    by,
    confirm_outside_hours=False,
    confirm_past=False,
    request=None,
):
    """Move a booked or confirmed appointment to a new time (and optionally therapist), keeping its
    history, raising its calendar SEQUENCE and e-mailing the patient the updated event once the
    transaction commits. Refuses what book() refuses, and appointments that arrived, ended or were
    cancelled."""
    from .reminders import send_moved_notice

    if appointment.status not in (Status.BOOKED, Status.CONFIRMED):
        raise BookingError(
            f"A {appointment.get_status_display().lower()} appointment cannot be rescheduled.", code="status"
        )
    therapist = therapist or appointment.therapist
    _check_parties(appointment.patient, therapist, appointment.type)
    if end is None and start is not None:
        end = start + (appointment.end - appointment.start)
    _check_time(therapist, start, end, confirm_outside_hours=confirm_outside_hours, confirm_past=confirm_past)
    _check_needling(therapist, appointment.type, start)
    clash = _clash_message(therapist, appointment.patient, start, end, exclude_pk=appointment.pk)
    if clash:
        raise BookingError(clash, code="overlap")
    old_start = timezone.localtime(appointment.start)
    if location is None:
        location = (
            appointment.location
            if therapist == appointment.therapist
            else _default_location(therapist, start)
        )
    try:
        with audited_transaction():
            locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
            if locked.status not in (Status.BOOKED, Status.CONFIRMED):
                raise BookingError("This appointment changed meanwhile; reload the page.", code="status")
            Appointment.objects.filter(pk=appointment.pk).update(
                start=start,
                end=end,
                therapist=therapist,
                location=location,
                sequence=locked.sequence + 1,
                updated_at=timezone.now(),
            )
            note = (
                f"rescheduled from {old_start:%Y-%m-%d %H:%M} to {timezone.localtime(start):%Y-%m-%d %H:%M}"
            )
            AppointmentStatusChange.objects.create(
                appointment=appointment, from_status=locked.status, to_status=locked.status, by=by, note=note
            )
            record(
                Action.RESCHEDULE,
                request=request,
                user=by,
                obj=appointment,
                patient_id=appointment.patient_id,
                detail=note + (f" with {therapist}" if therapist.pk != locked.therapist_id else ""),
            )
            pk, moved_from = appointment.pk, locked.start
            transaction.on_commit(lambda: send_moved_notice(pk, moved_from=moved_from))
    except IntegrityError as error:
        if _taken(error):
            raise BookingError(TAKEN, code="taken") from error
        raise
    appointment.refresh_from_db()
    return appointment


# --- status changes ---------------------------------------------------------------------------------
def change_status(appointment, to_status, *, by, note="", request=None, cancel_reason=""):
    """The one door every status change goes through: checks the step is allowed (NEXT_STATUSES) on the
    row locked for update, saves it, writes the history row and the audit event.

    A cancellation raises the calendar SEQUENCE and e-mails the patient a CANCEL of the event once the
    transaction commits.

    Refuses (BookingError) a step NEXT_STATUSES does not allow, such as checking in a cancelled
    appointment."""
    from .reminders import send_cancellation

    with audited_transaction():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        current = Status(locked.status)
        if to_status not in NEXT_STATUSES[current]:
            raise BookingError(_refusal(current, Status(to_status)), code="status")
        fields = {"status": to_status, "updated_at": timezone.now()}
        if to_status == Status.CANCELLED:
            fields["cancel_reason"] = cancel_reason
            fields["sequence"] = locked.sequence + 1
        Appointment.objects.filter(pk=locked.pk).update(**fields)
        AppointmentStatusChange.objects.create(
            appointment=locked, from_status=current, to_status=to_status, by=by, note=note[:300]
        )
        record(
            STATUS_ACTIONS.get(to_status, Action.STATUS),
            request=request,
            user=by,
            obj=locked,
            patient_id=locked.patient_id,
            detail=f"{current} -> {to_status}" + (f": {note}" if note else ""),
        )
        if to_status == Status.CANCELLED:
            pk = locked.pk
            transaction.on_commit(lambda: send_cancellation(pk))
    for name, value in fields.items():
        setattr(appointment, name, value)
    return appointment


def _refusal(current, wanted):
    verbs = {
        Status.ARRIVED: "checked in",
        Status.CANCELLED: "cancelled",
        Status.NO_SHOW: "marked as a no-show",
        Status.IN_TREATMENT: "started",
        Status.COMPLETED: "completed",
        Status.CONFIRMED: "confirmed",
    }
    verb = verbs.get(wanted, wanted.label.lower())
    return f"This appointment is {current.label.lower()}; it cannot be {verb}."


def confirm(appointment, *, by, request=None):
    """Mark a booked appointment confirmed by the patient. Refuses any other status."""
    return change_status(
        appointment, Status.CONFIRMED, by=by, request=request, note="confirmed by the patient"
    )


def check_in(appointment, *, by, request=None):
    """The patient is here: booked or confirmed becomes arrived. Refuses cancelled, no-show, ended ones."""
    return change_status(appointment, Status.ARRIVED, by=by, request=request, note="checked in")


def cancel(appointment, *, by, reason, request=None):
    """Cancel with a reason (kept on the appointment and in its history, never e-mailed); the time
    becomes free and the patient is e-mailed a calendar cancellation once it commits. Refuses an
    empty reason, and appointments already in treatment, completed, cancelled or missed."""
    reason = " ".join((reason or "").split())[:300]
    if not reason:
        raise BookingError("Give a reason for the cancellation.", code="no_reason")
    return change_status(
        appointment, Status.CANCELLED, by=by, request=request, note=reason, cancel_reason=reason
    )


def mark_no_show(appointment, *, by, request=None):
    """The patient did not come. Refuses an appointment that has not started yet, and any that arrived,
    ended or was cancelled."""
    if appointment.start > timezone.now():
        raise BookingError(
            "This appointment has not started yet; it cannot be a no-show. Cancel it if the patient called.",
            code="not_started",
        )
    return change_status(appointment, Status.NO_SHOW, by=by, request=request, note="did not attend")


def mark_in_treatment(appointment, *, by, request=None):
    """The physiotherapist starts the session. From arrived (or booked / confirmed, when nobody checked
    the patient in; the history shows it). Does nothing when already in treatment. Refuses the rest."""
    if appointment.status == Status.IN_TREATMENT:
        return appointment
    note = "session started" if appointment.status == Status.ARRIVED else "session started without check-in"
    return change_status(appointment, Status.IN_TREATMENT, by=by, request=request, note=note)


def complete(appointment, *, by, request=None):
    """The session is over (its record signed). From in treatment or arrived; does nothing when already
    completed. Refuses the rest."""
    if appointment.status == Status.COMPLETED:
        return appointment
    return change_status(appointment, Status.COMPLETED, by=by, request=request, note="completed")


# --- reading -----------------------------------------------------------------------------------------
def appointments_for_therapist_on(therapist, day):
    """The therapist's appointments (every status) on a local calendar day, by start. One query."""
    start, end = local_day_bounds(day)
    return list(
        overlapping(Appointment.objects.filter(therapist=therapist), start, end)
        .select_related("patient", "type", "location", "room")
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
        .order_by("start", "id")
    ):
        by_therapist[appointment.therapist_id].append(appointment)
    blocks = working_blocks(people, day, day) if people else {}
    return [(p, by_therapist[p.pk], blocks.get(p.pk, [])) for p in people]


def patient_appointments(patient, *, limit=20):
    """(upcoming, past) appointments of a patient, each at most `limit`. Two queries."""
    now = timezone.now()
    base = Appointment.objects.filter(patient=patient).select_related("therapist", "type", "location")
    upcoming = list(base.filter(start__gte=now).order_by("start")[:limit])
    past = list(base.filter(start__lt=now).order_by("-start")[:limit])
    return upcoming, past


# --- many at once (imports) ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Booking:
    """One appointment an import would make: the patient is a patient id, or any other key (a row number)
    for a patient the same import is about to register."""

    therapist_id: int
    patient: object
    start: datetime
    end: datetime
    status: str


def _sweep(bookings, key, on_file, what):
    """{index: reason} for active bookings overlapping an active appointment on file (on_file: {key value:
    [(start, end)]}) or an earlier-starting booking of the list, for the same key value. n log n."""
    clashes, by_key = {}, {}
    for index, booking in enumerate(bookings):
        if booking.status in ACTIVE_STATUSES and getattr(booking, key) is not None:
            by_key.setdefault(getattr(booking, key), []).append(index)
    for value, indexes in by_key.items():
        existing = sorted(on_file.get(value, []))
        starts = [s for s, _e in existing]
        latest = None  # the kept booking that ends last
        for index in sorted(indexes, key=lambda i: (bookings[i].start, i)):
            booking = bookings[index]
            # Appointments on file starting before this one ends, and not so early that they must have ended.
            stop = bisect.bisect_left(starts, booking.end)
            begin = bisect.bisect_left(starts, booking.start - MAX_LENGTH)
            clash = next((s for s, e in existing[begin:stop] if e > booking.start), None)
            if clash is not None:
                clashes[index] = (
                    f"{what} already has an appointment at {timezone.localtime(clash):%Y-%m-%d %H:%M}."
                )
            elif latest is not None and bookings[latest].end > booking.start:
                clashes[index] = (
                    f"{what} would have two appointments at once (it overlaps row {{row:{latest}}})."
                )
            elif latest is None or booking.end > bookings[latest].end:
                latest = index
    return clashes


def clashes_among(bookings):
    """{index: reason} for the Bookings that would break rule 3 (no overlapping appointments for a therapist,
    nor for a patient): with an active appointment on file, or with another booking of the list (the one
    that starts first is kept). Cancelled and missed ones hold no time. Two queries.

    A reason may name another booking as {row:<index>}; the caller puts its own row number there."""
    active = [b for b in bookings if b.status in ACTIVE_STATUSES]
    if not active:
        return {}
    first, last = min(b.start for b in active), max(b.end for b in active)
    therapists = {b.therapist_id for b in active}
    patients = {b.patient for b in active if isinstance(b.patient, int)}
    on_file = {"therapist_id": {}, "patient": {}}
    window = overlapping(Appointment.objects.filter(HOLDS_SLOT), first, last)
    for therapist_id, start, end in window.filter(therapist_id__in=therapists).values_list(
        "therapist_id", "start", "end"
    ):
        on_file["therapist_id"].setdefault(therapist_id, []).append((start, end))
    if patients:
        for patient_id, start, end in window.filter(patient_id__in=patients).values_list(
            "patient_id", "start", "end"
        ):
            on_file["patient"].setdefault(patient_id, []).append((start, end))
    clashes = _sweep(bookings, "therapist_id", on_file["therapist_id"], "The physiotherapist")
    for index, reason in _sweep(bookings, "patient", on_file["patient"], "The patient").items():
        clashes.setdefault(index, reason)
    return clashes


def book_imported(appointments, *, by, detail, batch_size=2000):
    """Save appointments brought in by an import, inside the caller's audited_transaction(): each with a
    history row ("imported"), none with an e-mail, and one audit event for all. Returns them saved.

    Refuses (BookingError) one whose therapist is not a physiotherapist and any that clashes (clashes_among);
    the exclusion constraints refuse the same against a booking made meanwhile ("that time was just taken").
    Working hours are not asked: the appointments already happened, or were booked, elsewhere."""
    therapists = {u.pk: u for u in User.objects.filter(pk__in={a.therapist_id for a in appointments})}
    for appointment in appointments:
        therapist = therapists.get(appointment.therapist_id)
        if therapist is None or therapist.role != Role.PHYSIO:
            raise BookingError(
                f"{therapist or 'Someone unknown'} is not a physiotherapist.", code="not_a_therapist"
            )
    bookings = [Booking(a.therapist_id, a.patient_id, a.start, a.end, a.status) for a in appointments]
    clashes = clashes_among(bookings)
    if clashes:
        _index, reason = min(clashes.items())
        raise BookingError(re.sub(r"\{row:\d+\}", "another imported appointment", reason), code="overlap")
    now = timezone.now()
    for appointment in appointments:
        appointment.booked_by = by
        appointment.created_at = appointment.created_at or now
    try:
        with transaction.atomic():
            saved = Appointment.objects.bulk_create(appointments, batch_size=batch_size)
    except IntegrityError as error:
        if _taken(error):
            raise BookingError(TAKEN, code="taken") from None
        raise
    AppointmentStatusChange.objects.bulk_create(
        [
            AppointmentStatusChange(
                appointment=a, from_status="", to_status=a.status, by=by, at=now, note="imported"
            )
            for a in saved
        ],
        batch_size=batch_size,
    )
    record(
        Action.BOOK,
        user=by,
        object_type="appointments.appointment",
        object_id="bulk",
        detail=f"{len(saved)} appointments imported: {detail}",
    )
    return saved
