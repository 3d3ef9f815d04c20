"""Every status change of an appointment (check-in and its undoing, confirmation, cancellation, no-show,
session start and end) goes through change_status() or undo_check_in(): the step checked on the locked row,
its history row and audit event.

Neither moves a time or a party, so neither takes the party locks (booking.hold_parties()); but a status
is in the exclusion constraints' condition, so the row's new version is checked against the other active
appointments, and a writer without the locks (an import) overlapping it at the same instant can deadlock
with it: the step then runs again from its savepoint (booking.retry_deadlocked()), as an import does.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import audited_transaction, record

from ..models import Appointment, AppointmentStatusChange, Status
from ..selectors import local_day_bounds
from .booking import BookingError, retry_deadlocked

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


# --- check-in window --------------------------------------------------------------------------------
def check_in_window(appointment):
    """(opens, closes), aware: the appointment's own day in the clinic's time zone, opening
    settings.CHECK_IN_EARLY_MINUTES before its start when that is set. A patient booked for Thursday
    cannot be marked arrived on Tuesday (issue 14)."""
    opens, closes = local_day_bounds(timezone.localtime(appointment.start).date())
    early = settings.CHECK_IN_EARLY_MINUTES
    if early is not None:
        opens = max(opens, appointment.start - timedelta(minutes=early))
    return opens, closes


def can_check_in(appointment, now=None):
    """True when the desk may check the appointment in now: booked or confirmed, inside its window."""
    if Status.ARRIVED not in NEXT_STATUSES[Status(appointment.status)]:
        return False
    opens, closes = check_in_window(appointment)
    return opens <= (now or timezone.now()) < closes


def _check_in_refusal(appointment, now):
    """The reason check-in is closed at `now`, or None when it is open."""
    opens, closes = check_in_window(appointment)
    day = timezone.localtime(appointment.start)
    if now >= closes:
        return BookingError(
            f"This appointment was on {day:%a %d %b}: it can no longer be checked in. "
            "Mark it a no-show or cancel it.",
            code="check_in_too_late",
        )
    if now < opens:
        if timezone.localtime(now).date() < day.date():
            message = f"This appointment is on {day:%a %d %b}: check in on its day."
        else:
            message = (
                f"Check-in opens at {timezone.localtime(opens):%H:%M}, "
                f"{settings.CHECK_IN_EARLY_MINUTES} minutes before the appointment."
            )
        return BookingError(message, code="check_in_too_early")
    return None


# --- status changes ---------------------------------------------------------------------------------
def change_status(appointment, to_status, *, by, note="", request=None, cancel_reason=""):
    """The one door every forward status change goes through: checks the step is allowed (NEXT_STATUSES)
    on the row locked for update, saves it, writes the history row and the audit event.

    A cancellation raises the calendar SEQUENCE and, once the transaction commits, e-mails the patient a
    CANCEL of the event and offers the freed time to the waitlist (waitlist.offer_freed_time()).

    Refuses (BookingError) a step NEXT_STATUSES does not allow, such as checking in a cancelled
    appointment, and a check-in outside the appointment's day (check_in_window())."""
    from ..reminders import send_cancellation
    from .waitlist import offer_freed_time

    def step():
        with audited_transaction():
            locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
            current = Status(locked.status)
            if to_status not in NEXT_STATUSES[current]:
                raise BookingError(_refusal(current, Status(to_status)), code="status")
            if to_status == Status.ARRIVED and (refusal := _check_in_refusal(locked, timezone.now())):
                raise refusal
            fields = {"status": to_status, "updated_at": timezone.now()}
            if to_status == Status.CANCELLED:
                fields["cancel_reason"] = cancel_reason
                fields["sequence"] = locked.sequence + 1
            _save_step(locked, current, to_status, fields, by=by, note=note, request=request)
            if to_status == Status.CANCELLED:
                pk = locked.pk
                transaction.on_commit(lambda: send_cancellation(pk))
                # The freed time goes to the waitlist's first matching people (services/waitlist.py).
                transaction.on_commit(lambda: offer_freed_time(pk))
            return fields

    fields = retry_deadlocked(step)
    for name, value in fields.items():
        setattr(appointment, name, value)
    return appointment


def _save_step(locked, current, to_status, fields, *, by, note, request):
    """Save the new status on the locked row, with its history row and audit event (same transaction)."""
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


def undo_check_in(appointment, *, by, reason, request=None):
    """Take back a check-in made by mistake (the wrong patient, the wrong day): arrived goes back to the
    status it had before (booked or confirmed), the reason kept in the history and the audit event.
    Refuses an empty reason, and an appointment that is not arrived (not checked in, or already in
    treatment, completed, cancelled)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise BookingError("Give a reason for undoing the check-in.", code="no_reason")

    def step():
        with audited_transaction():
            locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
            current = Status(locked.status)
            if current != Status.ARRIVED:
                raise BookingError(
                    f"This appointment is {current.label.lower()}, not arrived: "
                    "there is no check-in to undo.",
                    code="status",
                )
            before = locked.status_changes.filter(to_status=Status.ARRIVED).order_by("-at", "-id").first()
            back_to = Status.CONFIRMED if before and before.from_status == Status.CONFIRMED else Status.BOOKED
            fields = {"status": back_to, "updated_at": timezone.now()}
            note = f"check-in undone: {reason}"[:300]
            _save_step(locked, current, back_to, fields, by=by, note=note, request=request)
            return fields

    fields = retry_deadlocked(step)
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
    """The patient is here: booked or confirmed becomes arrived. Refuses cancelled, no-show, ended ones,
    and any outside its day's check-in window (check_in_window())."""
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
