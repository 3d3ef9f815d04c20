"""The waitlist (issue 15): people who found no suitable time wait for one; when an appointment is cancelled
or moved away from its time, the oldest matching entries are offered the freed time by e-mail, and the first
to accept gets it booked.

Two hooks, one mechanism: status_changes.change_status() calls offer_freed_time() once a cancellation
commits, booking.reschedule() calls offer_moved_time() with the old time once a reschedule commits (every
door that moves an appointment goes through it: the desk's form, the patient's link). Both offer only a time
still to come that the physiotherapist is free for when the offer is made (a reschedule to a time
overlapping the old one, with the same physiotherapist, frees nothing offered). Each writes one
WaitlistOffer per entry offered (unique per entry, freeing appointment and start, so the offer goes once
whatever calls it twice) and queues its e-mail in the outbox in the same transaction. A no-show frees
nothing: its time has passed. Accepting books through booking.book() inside a transaction that locks the
entry: two people accepting the same time at once meet the database's exclusion constraint, which lets one
booking through; the other is told the time was taken and stays on the list.
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from audit.models import Action
from audit.services import audited_transaction, record
from clinic.patient_links import LinkRefused, make_token, read_token
from outbox.services import queue_email

from ..models import (
    INACTIVE_STATUSES,
    Appointment,
    Status,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
    overlapping,
)
from . import online
from .booking import BookingError, book

logger = logging.getLogger(__name__)
OFFER_PURPOSE = "waitlist-offer"


class OfferTaken(Exception):
    """The offered time went to someone else, or the entry was already booked or removed."""


def join_waitlist(
    *,
    given_name,
    family_name,
    email,
    type,
    location,
    phone="",
    date_of_birth=None,
    therapist=None,
    earliest=None,
    latest=None,
    patient=None,
    by=None,
    request=None,
    client_address=None,
):
    """Put someone on the waitlist for `type` at `location` (with `therapist`, or anyone), between
    `earliest` and `latest` (either empty: open). From the public page (no patient named) or the desk (a
    registered patient, `by` the person at the desk). Refuses (ValidationError) dates out of order or
    in the past, a missing e-mail, and an archived patient. From the public page, each request counts
    against the online booking's rate limits (per `client_address` and per e-mail; services/online.py)."""
    if patient is not None and patient.archived_at is not None:
        raise ValidationError(f"{patient.full_name} is archived. Restore the record first.")
    if not email:
        raise ValidationError({"email": "Give an e-mail address: the offer of a time is sent there."})
    if patient is None and date_of_birth is None:
        raise ValidationError({"date_of_birth": "Give your date of birth."})
    if patient is None and by is None:  # the public page: nobody at the desk, no patient named
        online.count_attempt(client_address, email)
    today = timezone.localdate()
    if latest is not None and latest < today:
        raise ValidationError({"latest": "This date is in the past."})
    if earliest is not None and latest is not None and latest < earliest:
        raise ValidationError({"latest": "The last date must come on or after the first."})
    entry = WaitlistEntry(
        patient=patient,
        given_name=given_name.strip()[:100],
        family_name=family_name.strip()[:100],
        date_of_birth=date_of_birth,
        email=email,
        phone=str(phone or "")[:40],
        type=type,
        location=location,
        therapist=therapist,
        earliest=earliest,
        latest=latest,
        added_by=by,
    )
    entry.full_clean()
    with audited_transaction():
        entry.save()
        record(
            Action.CREATE,
            request=request,
            user=by,
            obj=entry,
            patient_id=patient.pk if patient else None,
            detail=f"joined the waitlist for {type.name}" + (" (by the desk)" if by else " (public page)"),
        )
    return entry


def remove_entry(entry, *, by, request=None):
    """The desk takes someone off the waitlist (kept, marked removed). Refuses an entry already booked
    or removed."""
    with audited_transaction():
        locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.status != WaitlistStatus.WAITING:
            raise ValidationError(f"This entry is already {locked.get_status_display().lower()}.")
        WaitlistEntry.objects.filter(pk=entry.pk).update(
            status=WaitlistStatus.REMOVED, closed_at=timezone.now(), closed_by=by
        )
        record(
            Action.UPDATE, request=request, user=by, obj=entry, patient_id=entry.patient_id,
            detail="removed from the waitlist",
        )  # fmt: skip
    entry.refresh_from_db()
    return entry


def matching_entries(appointment, limit=None, *, start=None, therapist_id=None, location_id=None):
    """The waiting entries a freed appointment's time suits, oldest first: the same type and location,
    its physiotherapist or anyone, its day inside their dates. `start`, `therapist_id` and `location_id`
    name the freed time when it is not the appointment's own (a reschedule frees the old one)."""
    day = timezone.localtime(start or appointment.start).date()
    therapist_id = therapist_id or appointment.therapist_id
    found = (
        WaitlistEntry.objects.filter(
            status=WaitlistStatus.WAITING,
            type_id=appointment.type_id,
            location_id=location_id or appointment.location_id,
        )
        .filter(Q(therapist__isnull=True) | Q(therapist_id=therapist_id))
        .filter(Q(earliest__isnull=True) | Q(earliest__lte=day))
        .filter(Q(latest__isnull=True) | Q(latest__gte=day))
        .exclude(patient_id=appointment.patient_id)
        .order_by("created_at", "id")
    )
    return list(found[:limit] if limit else found)


def offer_path(offer):
    return reverse("waitlist:offer", args=[make_token(OFFER_PURPOSE, offer.pk)])


def _offer_message(offer):
    start = timezone.localtime(offer.start)
    context = {
        "entry": offer.entry,
        "offer": offer,
        "start": start,
        "end": timezone.localtime(offer.end),
        "link": settings.CLINIC_URL + offer_path(offer),
        "clinic": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
    }
    return EmailMessage(
        subject=f"A time has come free: {start:%A %d %B at %H:%M}",
        body=render_to_string("appointments/email/waitlist_offer.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[offer.entry.email],
    )


def offer_freed_time(appointment_id):
    """Offer a cancelled appointment's time, by e-mail, to the first WAITLIST_OFFERS_AT_ONCE matching
    entries (oldest first) not offered it yet. Offers nothing for a time already past or taken again.
    Returns the offers made. Never raises (called once the cancellation commits): a failure is logged."""
    try:
        appointment = Appointment.objects.select_related("type").get(pk=appointment_id)
        if appointment.status != Status.CANCELLED:
            return []
        return _offer(
            appointment,
            start=appointment.start,
            end=appointment.end,
            therapist_id=appointment.therapist_id,
            location_id=appointment.location_id,
            detail=f"waitlist offer of the time of appointment {appointment.pk}",
        )
    except Exception:
        logger.exception("Waitlist offers for appointment %s were not made", appointment_id)
        return []


def offer_moved_time(appointment_id, *, start, end, therapist_id, location_id):
    """Offer the time a reschedule freed (the appointment's old `start` to `end` with the old physiotherapist
    at the old location), by e-mail, to the first WAITLIST_OFFERS_AT_ONCE matching entries (oldest first)
    not offered it yet. Offers nothing for a time already past, nor while any active appointment of that
    physiotherapist still overlaps it: the moved appointment itself when it moved to an overlapping time
    with the same physiotherapist (what is left of the old time is not a slot of the type's length), or a
    booking made since. Returns the offers made. Never raises (called once the reschedule commits)."""
    try:
        appointment = Appointment.objects.select_related("type").get(pk=appointment_id)
        return _offer(
            appointment,
            start=start,
            end=end,
            therapist_id=therapist_id,
            location_id=location_id,
            detail=f"waitlist offer of {timezone.localtime(start):%Y-%m-%d %H:%M}, "
            f"freed when appointment {appointment.pk} was rescheduled",
        )
    except Exception:
        logger.exception("Waitlist offers for the old time of appointment %s were not made", appointment_id)
        return []


def _offer(appointment, *, start, end, therapist_id, location_id, detail):
    """Offer [start, end) with that physiotherapist at that location, freed by `appointment`, to the first
    matching entries not offered it yet; nothing when the time has begun or the physiotherapist is busy."""
    if start <= timezone.now():
        return []
    busy = overlapping(Appointment.objects.filter(therapist_id=therapist_id), start, end).exclude(
        status__in=INACTIVE_STATUSES
    )
    if busy.exists():
        return []
    made = []
    entries = matching_entries(
        appointment,
        limit=settings.WAITLIST_OFFERS_AT_ONCE,
        start=start,
        therapist_id=therapist_id,
        location_id=location_id,
    )
    for entry in entries:
        try:
            with audited_transaction():
                offer = WaitlistOffer.objects.create(
                    entry=entry,
                    freed_by=appointment,
                    therapist_id=therapist_id,
                    location_id=location_id,
                    start=start,
                    end=end,
                )
                queue_email(
                    key=f"appointments.waitlist_offer:{offer.pk}",
                    message=_offer_message(offer),
                    patient_id=entry.patient_id,
                )
                record(Action.SEND, obj=offer, patient_id=entry.patient_id, detail=detail)
        except IntegrityError:
            continue  # offered this time already
        made.append(offer)
    return made


def offer_from_token(token):
    """The offer a link names. Refuses (LinkRefused) a token that is not ours, expired, or names none."""
    pk = read_token(OFFER_PURPOSE, token)
    offer = (
        WaitlistOffer.objects.select_related("entry", "entry__type", "therapist", "location")
        .filter(pk=pk)
        .first()
    )
    if offer is None:
        raise LinkRefused("The token names no offer.")
    return offer


def _patient_for(entry, request=None):
    """The registered patient the entry is for: the desk's choice; else the online booking's own rules
    (services/online.py): a known patient only on an exact match of name, date of birth and e-mail or
    phone (never told to the person), otherwise a record marked "booked online, not yet verified" for the
    desk to verify or merge."""
    if entry.patient_id:
        return entry.patient
    phone = entry.phone or ""
    if entry.date_of_birth is not None:
        known = online.match_patient(
            given_name=entry.given_name,
            family_name=entry.family_name,
            date_of_birth=entry.date_of_birth,
            email=entry.email,
            phone=phone,
        )
        if known is not None:
            return known
    return online.unverified_patient(
        given_name=entry.given_name,
        family_name=entry.family_name,
        date_of_birth=entry.date_of_birth,
        email=entry.email,
        phone=phone,
        request=request,
        detail="registered from the waitlist; not yet verified",
    )


def accept_offer(offer, *, request=None):
    """Book the offered time for the entry's person and close the entry, in one transaction. Refuses
    (OfferTaken) a time booked meanwhile by anyone (the exclusion constraint decides a race), a time
    already past, and an entry already booked or removed; the entry then stays as it was."""
    try:
        with audited_transaction():
            entry = WaitlistEntry.objects.select_for_update().get(pk=offer.entry_id)
            if entry.status != WaitlistStatus.WAITING:
                raise OfferTaken(f"already {entry.get_status_display().lower()}")
            patient = _patient_for(entry, request)
            appointment = book(
                patient=patient,
                therapist=offer.therapist,
                type=entry.type,
                start=offer.start,
                end=offer.end,
                location=offer.location,
                by=None,
                request=request,
                notes="booked from the waitlist",
            )
            WaitlistEntry.objects.filter(pk=entry.pk).update(
                status=WaitlistStatus.BOOKED,
                appointment=appointment,
                patient=patient,
                closed_at=timezone.now(),
            )
            WaitlistOffer.objects.filter(pk=offer.pk).update(accepted_at=timezone.now())
    except BookingError as error:
        raise OfferTaken(" ".join(error.messages)) from error
    except IntegrityError as error:
        raise OfferTaken("taken") from error
    return appointment
