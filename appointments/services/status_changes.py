"""Every status change of an appointment (check-in, confirmation, cancellation, no-show, session start
and end) goes through change_status(): the step checked on the locked row, its history row and audit event.
"""

from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import audited_transaction, record

from ..models import Appointment, AppointmentStatusChange, Status
from .booking import BookingError

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


# --- status changes ---------------------------------------------------------------------------------
def change_status(appointment, to_status, *, by, note="", request=None, cancel_reason=""):
    """The one door every status change goes through: checks the step is allowed (NEXT_STATUSES) on the
    row locked for update, saves it, writes the history row and the audit event.

    A cancellation raises the calendar SEQUENCE and e-mails the patient a CANCEL of the event once the
    transaction commits.

    Refuses (BookingError) a step NEXT_STATUSES does not allow, such as checking in a cancelled
    appointment."""
    from ..reminders import send_cancellation

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
