"""E-mails to patients about their appointments, each with an .ics file for their calendar.

One Reminder row per appointment and kind (unique in the database) is written in the same transaction
as the e-mail is handed to the backend, so running the daily job twice, or on two servers at once,
sends nothing twice. The messages say when and where, never why: no clinical content by e-mail.
"""

import logging
from datetime import timedelta

import icalendar
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from audit.models import Action
from audit.services import record

from .models import ACTIVE_STATUSES, Appointment, Reminder, ReminderKind
from .services import local_day_bounds

logger = logging.getLogger(__name__)
CLINIC_NAME = "IMS Clinic"


def calendar_file(appointment):
    """The appointment as an iCalendar (.ics) document, bytes."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//IMS Clinic//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"appointment-{appointment.pk}@ims-clinic")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", appointment.start)
    event.add("dtend", appointment.end)
    event.add("summary", f"{appointment.type.name} with {appointment.therapist}")
    location = appointment.location.name
    if appointment.location.address:
        location += ", " + " ".join(appointment.location.address.split())
    event.add("location", location)
    calendar.add_component(event)
    return calendar.to_ical()


def _message(appointment, kind):
    context = {
        "appointment": appointment,
        "patient": appointment.patient,
        "start": timezone.localtime(appointment.start),
        "end": timezone.localtime(appointment.end),
        "clinic": CLINIC_NAME,
        "kind": kind,
    }
    subject = (
        f"Your appointment on {context['start']:%A %d %B at %H:%M}"
        if kind == ReminderKind.BOOKING
        else f"Reminder: your appointment tomorrow at {context['start']:%H:%M}"
    )
    message = EmailMessage(
        subject=subject,
        body=render_to_string("appointments/email/appointment.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[appointment.patient.email],
    )
    message.attach("appointment.ics", calendar_file(appointment), "text/calendar")
    return message


def _send(appointment, kind):
    """Send one e-mail of `kind` unless one was already sent; True when this call sent it."""
    if not appointment.patient.email:
        return False
    try:
        with transaction.atomic():
            reminder = Reminder.objects.create(
                appointment=appointment, kind=kind, sent_to=appointment.patient.email
            )
            # A backend failure rolls the Reminder row back, so the next run tries again.
            _message(appointment, kind).send()
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


def send_day_before_reminders(day=None):
    """Remind every patient with an active appointment on `day` (tomorrow by default) who has an
    e-mail address and was not reminded yet. Returns (sent, skipped)."""
    day = day or timezone.localdate() + timedelta(days=1)
    start, end = local_day_bounds(day)
    sent = skipped = 0
    appointments = (
        Appointment.objects.filter(start__gte=start, start__lt=end, status__in=ACTIVE_STATUSES)
        .exclude(reminders__kind=ReminderKind.DAY_BEFORE)
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
