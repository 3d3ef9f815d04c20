"""Many appointments at once, for imports from other clinic systems: the overlap check over a whole list
(rule 3) and the save of the accepted ones.
"""

import bisect
import re
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from audit.models import Action
from audit.services import record

from ..models import (
    ACTIVE_STATUSES,
    HOLDS_SLOT,
    MAX_LENGTH,
    Appointment,
    AppointmentStatusChange,
    overlapping,
)
from .booking import BookingError, write_in_turn


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

    def insert():
        for appointment in appointments:
            appointment.pk = None  # a run failed by a deadlock rolled its rows back, and their ids with them
        # No party locks here (booking.hold_parties()): an import's patients run to tens of thousands, one
        # lock each, past PostgreSQL's lock table (max_locks_per_transaction: out of shared memory). A
        # desk's booking overlapping it at the same instant can deadlock with it; PostgreSQL fails one of
        # the two, which runs again from its savepoint and then meets the other's row committed.
        with transaction.atomic():
            return Appointment.objects.bulk_create(appointments, batch_size=batch_size)

    saved = write_in_turn(insert)
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
