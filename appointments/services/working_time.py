"""A physiotherapist's schedule: adding and removing working hours, breaks and time off. Each change is
audited against the physiotherapist in the same transaction."""

from audit.models import Action
from audit.services import audited_transaction, record

from ..models import Break, TimeOff, WorkingHours


def _add(entry, *, therapist, request):
    """Validate once, save, and audit it against the physiotherapist."""
    entry.full_clean()
    with audited_transaction():
        entry.save()
        record(Action.UPDATE, request=request, obj=therapist, detail=f"added {entry}")
    return entry


def working_hours_add(*, therapist, weekday, start, end, location, request=None):
    """A new block of the therapist's regular week. Refuses (ValidationError) one that overlaps another."""
    entry = WorkingHours(therapist=therapist, weekday=weekday, start=start, end=end, location=location)
    return _add(entry, therapist=therapist, request=request)


def break_add(*, working_hours, start, end, label="Break", request=None):
    """A break inside one of the therapist's blocks of working hours. Refuses one outside the block."""
    entry = Break(working_hours=working_hours, start=start, end=end, label=label)
    return _add(entry, therapist=working_hours.therapist, request=request)


def time_off_add(*, therapist, start, end, reason="", request=None):
    """The therapist away from start to end. Appointments already booked then stay booked: the front desk
    reschedules them (selectors.active_appointment_count counts them)."""
    entry = TimeOff(therapist=therapist, start=start, end=end, reason=reason)
    return _add(entry, therapist=therapist, request=request)


def schedule_entry_remove(*, therapist, entry, what, request=None):
    """Remove one of the therapist's working hours, breaks or time off (`what` names it for the audit:
    "working hours", "break", "time off")."""
    detail = f"removed {what} {entry}"
    with audited_transaction():
        record(Action.UPDATE, request=request, obj=therapist, detail=detail)
        entry.delete()
