"""The patient's side of an appointment, for any appointment however it was booked (issue 15): the signed,
expiring link in the booking e-mails (clinic/patient_links.py) opens a public page where the patient sees
when and where, and cancels or moves it up to ONLINE_CHANGE_CUTOFF_HOURS before it starts.

The link changes nothing by itself: a cancellation goes through status_changes.cancel() and a move through
booking.reschedule(), so the history, the audit trail, the e-mails and the database's exclusion
constraints apply exactly as at the desk; the history says the patient did it through the link.
"""

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from clinic.patient_links import LinkRefused, make_token, read_token

from ..models import Appointment
from ..selectors import available_slots
from .booking import RESCHEDULABLE, BookingError, reschedule
from .status_changes import cancel

LINK_PURPOSE = "appointment"
BY_PATIENT = "by the patient through the link in their e-mail"
REASON_MAX_LENGTH = 200
SLOTS_OFFERED = 10


def manage_path(appointment):
    """The path of the appointment's page for the patient (/p/appointment/<token>/)."""
    return reverse("appointment-link:manage", args=[make_token(LINK_PURPOSE, appointment.pk)])


def manage_url(appointment):
    """The full link put in e-mails: CLINIC_URL (the worker has no request to take the host from)."""
    return settings.CLINIC_URL + manage_path(appointment)


def appointment_from_token(token):
    """The appointment a link names, with what its page shows. Refuses (LinkRefused, or LinkExpired) a
    token that is not ours for this purpose, an expired one, and one naming no appointment."""
    pk = read_token(LINK_PURPOSE, token)
    appointment = (
        Appointment.objects.select_related("therapist", "type", "location", "patient").filter(pk=pk).first()
    )
    if appointment is None:
        raise LinkRefused("The token names no appointment.")
    return appointment


def change_deadline(appointment):
    """The last moment the patient may cancel or move the appointment through the link."""
    return appointment.start - timedelta(hours=settings.ONLINE_CHANGE_CUTOFF_HOURS)


def change_refusal(appointment, now=None):
    """Why the patient may not change the appointment through the link now (a sentence telling them to
    call), or None when they may."""
    now = now or timezone.now()
    if appointment.status not in RESCHEDULABLE:
        return (
            f"This appointment is {appointment.get_status_display().lower()}: "
            "it can no longer be changed here. Please call the clinic."
        )
    if now >= change_deadline(appointment):
        return (
            f"Appointments can be changed here up to {settings.ONLINE_CHANGE_CUTOFF_HOURS} hours before "
            "they start. Please call the clinic to change this one."
        )
    return None


def _check_may_change(appointment):
    refusal = change_refusal(appointment)
    if refusal is not None:
        raise BookingError(refusal, code="too_late" if appointment.status in RESCHEDULABLE else "status")


def cancel_by_patient(appointment, *, reason="", request=None):
    """Cancel the appointment for the patient who opened its link, through the desk's cancel() (history,
    audit, the calendar cancellation e-mail). The history names the patient and their reason, shortened to
    REASON_MAX_LENGTH characters. Refuses (BookingError) an appointment past the cut-off, or not booked or
    confirmed."""
    _check_may_change(appointment)
    reason = " ".join((reason or "").split())[:REASON_MAX_LENGTH]
    note = f"cancelled {BY_PATIENT}" + (f": {reason}" if reason else "")
    return cancel(appointment, by=None, reason=note, request=request)


def slots_for_patient(appointment, *, anyone=False, limit=SLOTS_OFFERED):
    """The free times the patient may move the appointment to: the same type, with the same physiotherapist
    (or anyone who may be booked for it), by the desk's rules (available_slots), starting after the
    cut-off. A constant number of queries."""
    after = timezone.now() + timedelta(hours=settings.ONLINE_CHANGE_CUTOFF_HOURS)
    return available_slots(
        type=appointment.type,
        therapist=None if anyone else appointment.therapist,
        after=after,
        limit=limit,
        patient=appointment.patient,
        moving=appointment,
    )


def slot_key(slot):
    """How the page names a slot in its form: the physiotherapist's id and the start, ISO 8601."""
    return f"{slot.therapist.pk}|{slot.start.isoformat()}"


def reschedule_by_patient(appointment, *, slot, anyone=False, request=None):
    """Move the appointment to the free time `slot` (a slot_key() of slots_for_patient()) through the
    desk's reschedule() (history, audit, the "has moved" e-mail, the exclusion constraints). Refuses
    (BookingError) an appointment past the cut-off or not booked or confirmed, a slot that is not (or no
    longer) offered, and a time taken meanwhile by another booking."""
    _check_may_change(appointment)
    chosen = next((s for s in slots_for_patient(appointment, anyone=anyone) if slot_key(s) == slot), None)
    if chosen is None:
        raise BookingError("That time is no longer free. Choose another time.", code="taken")
    return reschedule(
        appointment,
        start=chosen.start,
        end=chosen.end,
        therapist=chosen.therapist,
        location=chosen.location,
        by=None,
        request=request,
        how=BY_PATIENT,
    )


def send_booking_confirmation(appointment):
    """E-mail the patient the booking confirmation with its .ics and the link to this page, once per
    appointment (the desk's mechanism: appointments/reminders.py, queued in the outbox under a key).
    Returns True when this call queued it."""
    from ..reminders import send_booking_confirmation as send

    return send(appointment.pk)
