"""Booking and rescheduling: the checks every door asks before an appointment takes a time, then the save.

The database holds the last line (exclusion constraints in migration 0001): whatever happens here, no
therapist, patient or room is ever double-booked. These functions add the clear message before it.
"""

from datetime import timedelta

import psycopg
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from accounts.models import Role, User
from audit.models import Action
from audit.services import audited_transaction, record
from patients.models import Patient

from ..models import (
    INACTIVE_STATUSES,
    MAX_LENGTH,
    Appointment,
    AppointmentStatusChange,
    AppointmentType,
    Location,
    Status,
    WorkingHours,
    overlapping,
)
from ..selectors import within_working_hours

# Only an appointment still to come moves; one that arrived, ended or was cancelled keeps its time.
RESCHEDULABLE = (Status.BOOKED, Status.CONFIRMED)
TAKEN = "That time was just taken by another booking. Pick another time: the calendar now shows what is free."
OVERLAP_CONSTRAINTS = {
    "appointment_therapist_no_overlap",
    "appointment_patient_no_overlap",
    "appointment_room_no_overlap",
}


class BookingError(ValidationError):
    """A booking, reschedule or status change refused, with a message for the person at the desk.

    `code` says why: "past" and "outside_hours" can be overridden by confirming; the rest cannot."""


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


def overlap_refused(error):
    """True when the database refused the row for overlapping another booking (a booking made meanwhile)."""
    constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    return constraint in OVERLAP_CONSTRAINTS


# Each exclusion constraint's party gets an advisory lock of its own: the kind in the high bits (above any
# id), the id below, so that no key meets the audit chain's (audit.services.CHAIN_LOCK).
PARTY_KINDS = {"therapist": 1, "patient": 2, "room": 3}
PARTY_BITS = 48
HOLD_PARTIES = (
    "SELECT pg_advisory_xact_lock(key) FROM "
    "(SELECT key FROM unnest(%s::bigint[]) WITH ORDINALITY AS keys(key, n) ORDER BY n) AS ordered"
)


def hold_parties(*, therapists=(), patients=(), rooms=()):
    """Lock, until the transaction ends, the therapists, patients and rooms an appointment about to be
    written takes time from: one statement, keys in ascending order, so two writers never hold one each.

    Two writers whose appointments could overlap share a party, so the second waits here until the first
    commits, and then meets the first's row committed: the exclusion constraint refuses it at once (TAKEN).
    Without it, two overlapping INSERTs at the same instant each wait, in the constraint's check, for the
    other's row to commit, and PostgreSQL fails one with "deadlock detected" after a second (seen in CI).
    The constraints still decide; this only makes them decide in turn."""
    keys = sorted(
        {
            (PARTY_KINDS[kind] << PARTY_BITS) + pk
            for kind, pks in (("therapist", therapists), ("patient", patients), ("room", rooms))
            for pk in pks
            if pk is not None
        }
    )
    if keys:
        with transaction.get_connection().cursor() as cursor:
            cursor.execute(HOLD_PARTIES, [keys])


def retry_deadlocked(block, *, attempts=3):
    """Run `block()`, which opens its own transaction or savepoint (audited_transaction()), and run it again
    when PostgreSQL failed it to break a deadlock; return what it returns.

    Two overlapping bookings written at the same instant can each reach the exclusion constraint's check
    after the other's row is in: each waits for the other's transaction, and after deadlock_timeout
    PostgreSQL fails one with "deadlock detected". Rolled back to its savepoint, that one releases the
    other, which goes on; run again, it waits for the other's commit and the constraint refuses it plainly
    (an IntegrityError: TAKEN) or, if the other rolled back, lets it through. Any other error, and a
    deadlock still there after `attempts` runs, is raised as it is."""
    for attempt in range(1, attempts + 1):
        try:
            return block()
        except OperationalError as error:
            if attempt == attempts or not isinstance(error.__cause__, psycopg.errors.DeadlockDetected):
                raise


def write_in_turn(block):
    """Run `block()` (an appointment's write in its own transaction or savepoint) as retry_deadlocked()
    does, and turn the exclusion constraints' refusal of an overlap (a booking committed meanwhile) into
    BookingError(TAKEN): the message every door shows for "that time was just taken". Returns what the
    block returns."""
    try:
        return retry_deadlocked(block)
    except IntegrityError as error:
        if overlap_refused(error):
            raise BookingError(TAKEN, code="taken") from error
        raise


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
    booked_online=False,
    confirm=True,
):
    """Book an appointment (status booked), record its first history step, audit it, and e-mail the patient
    once the transaction commits (unless `confirm` is False: the online booking sends its own).

    Refuses (BookingError): an unknown or archived patient, someone not a physiotherapist, a room not at
    the location, end not after start, a start in the past or outside working hours unless confirmed, and
    any overlap with the therapist's or the patient's active appointments, including one committed a moment
    ago by someone else (the exclusion constraint's refusal becomes "That time was just taken")."""
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
        # A room chosen says where; otherwise where the therapist works at that time.
        location = room.location if room is not None else _default_location(therapist, start)
    check_room_at(room, location)
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
        booked_online=booked_online,
    )

    def save():
        appointment.pk = None  # a run failed by a deadlock rolled its row back, and its id with it
        with audited_transaction():
            hold_parties(therapists=[therapist.pk], patients=[patient.pk], rooms=[appointment.room_id])
            appointment.save(force_insert=True)
            AppointmentStatusChange.objects.create(
                appointment=appointment,
                from_status="",
                to_status=Status.BOOKED,
                by=by,
                note="booked online" if booked_online else "booked",
            )
            record(
                Action.BOOK,
                request=request,
                user=by,
                obj=appointment,
                patient_id=patient.pk,
                detail=f"{type.name} with {therapist} at {timezone.localtime(start):%Y-%m-%d %H:%M}"
                + (" (booked online)" if booked_online else ""),
            )

    write_in_turn(save)
    if confirm:
        from ..reminders import send_booking_confirmation

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
    how="",
):
    """Move a booked or confirmed appointment to a new time (and optionally therapist), keeping its
    history, raising its calendar SEQUENCE and, once the transaction commits, e-mailing the patient the
    updated event and offering the old time to the waitlist (waitlist.offer_moved_time()). `how` ends the
    history's note (who moved it when nobody logged in: "by the patient through the link ..."). Refuses
    what book() refuses, and appointments that arrived, ended or were cancelled."""
    from ..reminders import send_moved_notice
    from .waitlist import offer_moved_time

    if appointment.status not in RESCHEDULABLE:
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
    room_id = appointment.room_id
    if room_id is not None and location is not None and appointment.room.location_id != location.pk:
        room_id = None  # its room is at the location it leaves (check_room_at): none is held at the new one

    def move():
        with audited_transaction():
            hold_parties(therapists=[therapist.pk], patients=[appointment.patient_id], rooms=[room_id])
            locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
            if locked.status not in RESCHEDULABLE:
                raise BookingError("This appointment changed meanwhile; reload the page.", code="status")
            Appointment.objects.filter(pk=appointment.pk).update(
                start=start,
                end=end,
                therapist=therapist,
                location=location,
                room_id=room_id,
                sequence=locked.sequence + 1,
                updated_at=timezone.now(),
            )
            # The history shows it as "Rescheduled from ... to ..." (AppointmentStatusChange.is_reschedule).
            note = (
                f"rescheduled from {old_start:%Y-%m-%d %H:%M} to {timezone.localtime(start):%Y-%m-%d %H:%M}"
                + (f", now with {therapist}" if therapist.pk != locked.therapist_id else "")
                + (f", {how}" if how else "")
            )[:300]
            AppointmentStatusChange.objects.create(
                appointment=appointment, from_status=locked.status, to_status=locked.status, by=by, note=note
            )
            record(
                Action.RESCHEDULE,
                request=request,
                user=by,
                obj=appointment,
                patient_id=appointment.patient_id,
                detail=note,
            )
            pk, moved_from = appointment.pk, locked.start
            transaction.on_commit(lambda: send_moved_notice(pk, moved_from=moved_from))
            # The old time goes to the waitlist, as a cancelled one does (services/waitlist.py).
            freed = {
                "start": locked.start,
                "end": locked.end,
                "therapist_id": locked.therapist_id,
                "location_id": locked.location_id,
            }
            transaction.on_commit(lambda: offer_moved_time(pk, **freed))

    write_in_turn(move)
    appointment.refresh_from_db()
    return appointment


# --- place and notes --------------------------------------------------------------------------------
def _room_clash_message(appointment, room):
    """The friendly reason `room` is not free for `appointment`'s time, or None (the constraint decides)."""
    if room is None or not appointment.is_active:
        return None
    clash = (
        overlapping(Appointment.objects.filter(room=room), appointment.start, appointment.end)
        .exclude(status__in=INACTIVE_STATUSES)
        .exclude(pk=appointment.pk)
        .first()
    )
    if clash is None:
        return None
    local = timezone.localtime(clash.start)
    return (
        f"{room} is already booked from {local:%H:%M} to {timezone.localtime(clash.end):%H:%M} on "
        f"{local:%a %d %b}. Choose another room, or leave it empty."
    )


def check_room_at(room, location):
    """A room is at one location: an appointment's room must be at the appointment's location (a room of
    another clinic would send the patient to one place and hold a room at another). Raises BookingError."""
    if room is not None and location is not None and room.location_id != location.pk:
        raise BookingError(
            f"{room.name} is a room at {room.location}, not at {location}. Choose a room at {location}, "
            "or leave the room empty.",
            code="room_location",
        )


def check_place(appointment, *, room, location=None):
    """What change_place() checks before saving (for forms that validate first, such as the admin's): the
    room is at the location (`location`, or the appointment's own) and free at that time. Raises
    BookingError."""
    check_room_at(room, location if location is not None else appointment.location)
    clash = _room_clash_message(appointment, room)
    if clash:
        raise BookingError(clash, code="overlap")


def change_place(appointment, *, location, room, notes, by, request=None, how="in the admin"):
    """Change where an appointment takes place (its location and room) and its booking notes, with an
    audit event naming what changed; its time, people and status stay (reschedule() and the status
    changes move those, with their history rows). No history row: the history is of statuses and times.

    The room is a party of an exclusion constraint, and the row's new version is checked against all
    three: so the change locks the therapist, the patient and the new room first (hold_parties()) and runs
    again when PostgreSQL fails it to break a deadlock (retry_deadlocked()), as book() and reschedule() do.
    Refuses (BookingError) a room not at the location, and a room another active appointment holds at that
    time, including one booked a moment ago (the exclusion constraint's refusal becomes "That time was
    just taken").

    A booked or confirmed appointment moved to another location raises its calendar SEQUENCE and, once the
    transaction commits, e-mails the patient the updated event (reminders.send_moved_notice())."""
    from ..reminders import send_moved_notice

    if location is None:
        raise BookingError("Choose the location.", code="location")
    check_place(appointment, room=room, location=location)
    room_id = room.pk if room is not None else None

    def save():
        with audited_transaction():
            hold_parties(
                therapists=[appointment.therapist_id], patients=[appointment.patient_id], rooms=[room_id]
            )
            locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
            if (locked.therapist_id, locked.patient_id) != (appointment.therapist_id, appointment.patient_id):
                # Moved to another therapist meanwhile (reschedule()): the row's new version meets theirs.
                hold_parties(therapists=[locked.therapist_id], patients=[locked.patient_id])
            before = {"location": locked.location_id, "room": locked.room_id, "notes": locked.notes}
            after = {"location": location.pk, "room": room_id, "notes": notes}
            changed = sorted(name for name in after if before[name] != after[name])
            if not changed:
                return
            fields = {"location": location, "room": room, "notes": notes, "updated_at": timezone.now()}
            if "location" in changed and locked.status in RESCHEDULABLE:
                # Another clinic is a move the patient must hear of, as a reschedule is: the calendar
                # event (its LOCATION) is replaced, at a raised SEQUENCE. A room is in neither mail nor event.
                fields["sequence"] = locked.sequence + 1
                pk, was_at = locked.pk, locked.location.name
                transaction.on_commit(lambda: send_moved_notice(pk, from_location=was_at))
            Appointment.objects.filter(pk=locked.pk).update(**fields)
            record(
                Action.UPDATE,
                request=request,
                user=by,
                obj=locked,
                patient_id=locked.patient_id,
                detail=f"changed {how}: " + ", ".join(changed),
            )

    write_in_turn(save)
    appointment.refresh_from_db()
    return appointment
