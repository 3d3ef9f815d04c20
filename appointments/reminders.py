"""E-mails to patients about their appointments, each with an .ics file for their calendar.

Four kinds: the booking confirmation, the reminder the day before, "has moved" on a reschedule and the
cancellation. All but the cancellation carry the signed link to the patient's own page for the appointment
(cancel or move it up to ONLINE_CHANGE_CUTOFF_HOURS before: services/online_links.py) while that is open.
Every .ics describes one event whose UID never changes (appointment-<id>@ims-clinic) and
whose SEQUENCE is Appointment.sequence (raised by every reschedule and the cancellation), so a calendar
app updates or removes the entry the patient imported instead of adding a second one.

A Reminder row (unique in the database per appointment and kind; per start time for the day-before
reminder, per SEQUENCE for "has moved") is written in the same transaction as the e-mail is queued in the
outbox under the key "appointments.reminder:<Reminder id>", so running the daily job twice, or on two
servers at once, queues nothing twice; the task runner sends it, retries it while the mail server refuses
it, and never sends it twice (outbox/services.py). The messages say when and where, never why: no
clinical content by e-mail (not the cancellation reason).
"""

import logging
from datetime import timedelta
from email.utils import parseaddr

import icalendar
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.utils import timezone

from audit.models import Action
from audit.services import audited_transaction, record
from outbox.services import queue_email

from .models import ACTIVE_STATUSES, Appointment, Reminder, ReminderKind, Status
from .selectors import local_day_bounds

logger = logging.getLogger(__name__)
CLINIC_NAME = "IMS Clinic"
# iTIP method of each kind's .ics: the booking and the reminder publish the event; a reschedule is an
# update (REQUEST) and a cancellation a CANCEL of the same UID, which calendar apps apply to the entry.
METHODS = {
    ReminderKind.BOOKING: "PUBLISH",
    ReminderKind.DAY_BEFORE: "PUBLISH",
    ReminderKind.RESCHEDULED: "REQUEST",
    ReminderKind.CANCELLED: "CANCEL",
}


def event_uid(appointment):
    """The calendar event's UID: the same in every e-mail about the appointment."""
    return f"appointment-{appointment.pk}@ims-clinic"


def calendar_file(appointment, method="PUBLISH"):
    """The appointment as an iCalendar (.ics) document, bytes: METHOD `method` (PUBLISH, REQUEST or
    CANCEL), the appointment's fixed UID and its current SEQUENCE."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//IMS Clinic//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = icalendar.Event()
    event.add("uid", event_uid(appointment))
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.start)
    event.add("dtend", appointment.end)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("summary", f"{appointment.type.name} with {appointment.therapist}")
    location = appointment.location.name
    if appointment.location.address:
        location += ", " + " ".join(appointment.location.address.split())
    event.add("location", location)
    # iTIP (RFC 5546) wants the organizer on every method and the attendee on REQUEST and CANCEL.
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    organizer = icalendar.vCalAddress(f"mailto:{address}")
    organizer.params["cn"] = icalendar.vText(name or CLINIC_NAME)
    event.add("organizer", organizer)
    if method != "PUBLISH":
        attendee = icalendar.vCalAddress(f"mailto:{appointment.patient.email}")
        attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
        attendee.params["rsvp"] = icalendar.vText("FALSE")
        event.add("attendee", attendee)
    calendar.add_component(event)
    return calendar.to_ical()


def _subject(kind, start):
    if kind == ReminderKind.BOOKING:
        return f"Your appointment on {start:%A %d %B at %H:%M}"
    if kind == ReminderKind.DAY_BEFORE:
        return f"Reminder: your appointment tomorrow at {start:%H:%M}"
    if kind == ReminderKind.RESCHEDULED:
        return "Your IMS appointment has moved"
    return "Your IMS appointment has been cancelled"


def _manage_link(appointment, kind):
    """The link to the patient's page for the appointment (cancel or move it: services/online_links.py),
    in the e-mails of an appointment still to come while the cut-off is ahead; else None."""
    from .services.online_links import change_refusal, manage_url

    if kind == ReminderKind.CANCELLED or change_refusal(appointment) is not None:
        return None
    return manage_url(appointment)


def _message(appointment, kind, moved_from=None, from_location=None):
    context = {
        "manage_url": _manage_link(appointment, kind),
        "cutoff_hours": settings.ONLINE_CHANGE_CUTOFF_HOURS,
        "link_days": settings.PATIENT_LINK_DAYS,
        "clinic_phone": settings.CLINIC_PHONE,
        "appointment": appointment,
        "patient": appointment.patient,
        "start": timezone.localtime(appointment.start),
        "end": timezone.localtime(appointment.end),
        "moved_from": timezone.localtime(moved_from) if moved_from else None,
        "from_location": from_location,
        "clinic": CLINIC_NAME,
        "kind": kind,
    }
    message = EmailMessage(
        subject=_subject(kind, context["start"]),
        body=render_to_string("appointments/email/appointment.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[appointment.patient.email],
    )
    method = METHODS[kind]
    # The method parameter on the MIME type is what iMIP (RFC 6047) mail clients act on.
    message.attach("appointment.ics", calendar_file(appointment, method), f"text/calendar; method={method}")
    return message


def _send(appointment, kind, moved_from=None, from_location=None):
    """Queue one e-mail of `kind` unless one was already queued (for this start time, for a day-before
    reminder; for this SEQUENCE, for "has moved"); True when this call queued it."""
    if not appointment.patient.email:
        return False
    try:
        with audited_transaction():
            reminder = Reminder.objects.create(
                appointment=appointment,
                kind=kind,
                sent_to=appointment.patient.email,
                appointment_start=appointment.start,
                sequence=appointment.sequence,
            )
            # The outbox sends it once this commits, and retries it while the mail server refuses it.
            queue_email(
                key=f"appointments.reminder:{reminder.pk}",
                message=_message(appointment, kind, moved_from, from_location),
                patient_id=appointment.patient_id,
            )
            record(
                Action.SEND,
                obj=reminder,
                patient_id=appointment.patient_id,
                detail=f"{kind} e-mail for appointment {appointment.pk}",
            )
    except IntegrityError:
        return False
    return True


def _load(pk):
    return Appointment.objects.select_related("patient", "therapist", "type", "location").get(pk=pk)


def send_booking_confirmation(appointment_id):
    """E-mail the patient their new booking (called once the booking commits). Never raises: a mail
    server being down must not lose a booking; the error is logged."""
    try:
        return _send(_load(appointment_id), ReminderKind.BOOKING)
    except Exception:
        logger.exception("Booking confirmation for appointment %s was not sent", appointment_id)
        return False


def send_moved_notice(appointment_id, moved_from=None, from_location=None):
    """E-mail the patient "Your IMS appointment has moved" with the new time and the updated event
    (METHOD:REQUEST, same UID, the raised SEQUENCE); called once a reschedule commits. `moved_from` is
    the start it had; `from_location` the clinic it was at, when the time stays and the place moved
    (booking.change_place()). Sends nothing for an appointment cancelled or missed meanwhile, or one already
    announced at this SEQUENCE. Never raises: the reschedule stands whatever the mail server does; a
    failure is logged."""
    try:
        appointment = _load(appointment_id)
        if not appointment.is_active:
            return False
        return _send(appointment, ReminderKind.RESCHEDULED, moved_from, from_location)
    except Exception:
        logger.exception("Reschedule e-mail for appointment %s was not sent", appointment_id)
        return False


def send_cancellation(appointment_id):
    """E-mail the patient that their appointment is cancelled, with METHOD:CANCEL, STATUS:CANCELLED and
    the same UID so their calendar removes it; called once the cancellation commits (a no-show sends
    nothing). Never raises: the cancellation stands whatever the mail server does; a failure is
    logged."""
    try:
        appointment = _load(appointment_id)
        if appointment.status != Status.CANCELLED:
            return False
        return _send(appointment, ReminderKind.CANCELLED)
    except Exception:
        logger.exception("Cancellation e-mail for appointment %s was not sent", appointment_id)
        return False


def send_day_before_reminders(day=None):
    """Remind every patient with an active appointment on `day` (tomorrow by default) who has an
    e-mail address and was not reminded yet of it at its current time (a reminder sent before a
    reschedule does not count). Returns (sent, skipped)."""
    day = day or timezone.localdate() + timedelta(days=1)
    start, end = local_day_bounds(day)
    sent = skipped = 0
    appointments = (
        Appointment.objects.filter(start__gte=start, start__lt=end, status__in=ACTIVE_STATUSES)
        .exclude(
            Exists(
                Reminder.objects.filter(
                    appointment=OuterRef("pk"),
                    kind=ReminderKind.DAY_BEFORE,
                    appointment_start=OuterRef("start"),
                )
            )
        )
        .select_related("patient", "therapist", "type", "location")
        .order_by("start", "id")
    )
    for appointment in appointments.iterator(chunk_size=500):
        try:
            if _send(appointment, ReminderKind.DAY_BEFORE):
                sent += 1
            else:
                skipped += 1
        except Exception:
            logger.exception("Reminder for appointment %s was not sent", appointment.pk)
            skipped += 1
    return sent, skipped
