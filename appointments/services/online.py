"""Online booking: the one door every booking from the public page (/book/) goes through.

book_online() takes what a person typed and the time they chose, and answers an OnlineOutcome whose public
side (`public`) is the same whether the person is a known patient or not (docs/online-booking.md):

- the honeypot filled, the rate limits reached, bad or over-long text, a time outside the window the clinic
  allows or no longer free: refused (OnlineBookingRefused) with a clear message; nothing saved but the
  attempt the rate limits count;
- a known patient (exact name, date of birth, and e-mail or phone) books any type bookable online;
- anyone else books only a type open to new patients, as a new patient marked "booked online, not yet
  verified" that the front desk verifies or merges (verify_online_patient, merge_online_patient);
- anyone else asking for a returning patients' type, or a known patient already booked at that time, books
  nothing and gets the same "request received" answer; the e-mail to the address they gave says why and
  asks them to call.

The booking itself is the desk's (booking.book): working hours, breaks, time off, the needling
authorisation and the exclusion constraints all apply; 50 people racing for one time give one booking.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Func, Q, TextField, Value
from django.utils import timezone

from accounts.models import Role, User, needling_authorised_q
from audit.models import Action
from audit.services import audited_transaction, record
from outbox.services import queue_email
from patients.models import Patient

from ..models import (
    INACTIVE_STATUSES,
    Appointment,
    AppointmentType,
    Location,
    OnlineBookingAttempt,
    overlapping,
)
from ..selectors import available_slots, working_blocks
from .booking import BookingError, book, hold_parties, retry_deadlocked
from .online_links import send_booking_confirmation

# The lengths the public form takes (the model's own limits, or shorter): bounded free text.
MAX_NAME = 100
MAX_EMAIL = 254
MAX_NOTE = 300
SLOTS_SHOWN = 12

TAKEN = "That time was just taken by someone else. Here are the next free times: pick another one."
RATE_LIMITED = (
    "We have received several booking requests from here in a short time. Please try again in an hour, or "
    "call the clinic to book."
)


class OnlineBookingRefused(ValidationError):
    """A booking the public page refuses, with a message for the person booking. `code` says why."""


@dataclass(frozen=True)
class OnlineOutcome:
    """What book_online() did. `public` is all the public page may show: the same for a known patient and
    a stranger. `appointment` (or None) and `matched` are for the service's callers and tests only."""

    public: dict
    appointment: object = None
    matched: bool = False


def _keyed_hash(value):
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def _folded(expression):
    # The folding the patients' search uses (patients_fold: lower-cased, accent-free; migration 0002).
    return Func(expression, function="patients_fold", output_field=TextField())


def online_types():
    """The appointment types the public page offers, by name."""
    return list(AppointmentType.objects.filter(active=True, bookable_online=True).order_by("name"))


def therapists_at(location, type=None):
    """The physiotherapists a person may choose at `location` (for `type`: a needling type only those
    authorised to needle today), by name. One query."""
    people = User.objects.filter(role=Role.PHYSIO, is_active=True, working_hours__location=location)
    if type is not None and type.needling:
        people = people.filter(needling_authorised_q(timezone.localdate()))
    return list(people.distinct().order_by("full_name", "id"))


def window():
    """(earliest, latest) start a patient may book online, from the clinic's settings."""
    now = timezone.now()
    return (
        now + timedelta(hours=settings.ONLINE_BOOKING_MIN_NOTICE_HOURS),
        now + timedelta(days=settings.ONLINE_BOOKING_MAX_DAYS_AHEAD),
    )


def free_times(*, location, type, therapist=None, limit=SLOTS_SHOWN):
    """The next free times for `type` at `location` with `therapist` (or anyone), inside the online window:
    the desk's own search (selectors.available_slots), so the same rules apply."""
    earliest, latest = window()
    days = max(0, (timezone.localtime(latest).date() - timezone.localtime(earliest).date()).days)
    slots = available_slots(
        type=type, therapist=therapist, after=earliest, days=days, limit=limit, location=location
    )
    return [slot for slot in slots if slot.start <= latest]


def _check_text(*, given_name, family_name, email, phone, note):
    problems = {}
    for field, value, label, most in (
        ("given_name", given_name, "Given name", MAX_NAME),
        ("family_name", family_name, "Family name", MAX_NAME),
        ("email", email, "E-mail", MAX_EMAIL),
    ):
        if not value or not value.strip():
            problems[field] = f"{label}: this is needed to book."
        elif len(value) > most:
            problems[field] = f"{label}: at most {most} characters."
    if len(note or "") > MAX_NOTE:
        problems["note"] = f"Note: at most {MAX_NOTE} characters."
    if not phone:
        problems["phone"] = "Phone: this is needed to book."
    if problems:
        raise OnlineBookingRefused(problems, code="invalid")


def count_attempt(client_address, email):
    """Record this attempt (an online booking, or joining the waitlist from the public page) and refuse
    (rate_limited) when the address or the e-mail has sent more than the clinic allows within the window.
    Committed on its own, so a refused booking still counts."""
    address_hash, email_hash = _keyed_hash(client_address or "unknown"), _keyed_hash(email.strip().lower())
    since = timezone.now() - timedelta(minutes=settings.ONLINE_BOOKING_WINDOW_MINUTES)
    with transaction.atomic():
        OnlineBookingAttempt.objects.create(address_hash=address_hash, email_hash=email_hash)
        recent = OnlineBookingAttempt.objects.filter(at__gte=since)
        from_address = recent.filter(address_hash=address_hash).count()
        for_email = recent.filter(email_hash=email_hash).count()
    limits = settings.ONLINE_BOOKING_ADDRESS_LIMIT, settings.ONLINE_BOOKING_EMAIL_LIMIT
    if from_address > limits[0] or for_email > limits[1]:
        raise OnlineBookingRefused(RATE_LIMITED, code="rate_limited")


def prune_attempts(now=None):
    """Delete the attempts no window counts any more (older than a day, or than the window if longer): the
    rows exist only to be counted. Returns how many were deleted."""
    now = now or timezone.now()
    keep = max(timedelta(days=1), timedelta(minutes=settings.ONLINE_BOOKING_WINDOW_MINUTES))
    deleted, _ = OnlineBookingAttempt.objects.filter(at__lt=now - keep).delete()
    return deleted


def _check_choice(*, location, type, therapist, start):
    """The type, person and time chosen are ones the public page offers: refuses anything else."""
    if not isinstance(location, Location) or location.pk is None:
        raise OnlineBookingRefused("Choose one of the clinic's locations.", code="location")
    if not isinstance(type, AppointmentType) or not (type.active and type.bookable_online):
        raise OnlineBookingRefused("This type of appointment cannot be booked online.", code="not_bookable")
    if not isinstance(therapist, User) or therapist.pk is None or not therapist.has_role(Role.PHYSIO):
        raise OnlineBookingRefused("Choose one of the times offered.", code="no_time")
    earliest, latest = window()
    if start is None or start < earliest:
        hours = settings.ONLINE_BOOKING_MIN_NOTICE_HOURS
        raise OnlineBookingRefused(
            f"Online bookings must be at least {hours} hours ahead. Pick a later time, or call the clinic.",
            code="too_soon",
        )
    if start > latest:
        raise OnlineBookingRefused(
            f"Online bookings go up to {settings.ONLINE_BOOKING_MAX_DAYS_AHEAD} days ahead. Pick an earlier "
            "time, or call the clinic.",
            code="too_far",
        )
    end = start + timedelta(minutes=type.default_minutes)
    day = timezone.localtime(start).date()
    blocks = working_blocks([therapist], day, day)[therapist.pk]
    if not any(s <= start and end <= e and where.pk == location.pk for s, e, where in blocks):
        raise OnlineBookingRefused(TAKEN, code="taken")
    return end


def match_patient(*, given_name, family_name, date_of_birth, email, phone):
    """The known patient these details name, or None. Only an exact match counts: the whole given and family
    names (ignoring case and accents, as the patients' search folds them), the date of birth, and the
    e-mail or a phone number. Archived records and records made by an earlier online booking and not yet
    verified are not known patients."""
    same_contact = Q(email__iexact=email.strip())
    if phone:
        same_contact |= Q(phone=phone) | Q(phone_alternate=phone)
    return (
        Patient.objects.annotate(
            given_folded=_folded(F("given_name")), family_folded=_folded(F("family_name"))
        )
        .filter(
            same_contact,
            date_of_birth=date_of_birth,
            given_folded=_folded(Value(given_name.strip())),
            family_folded=_folded(Value(family_name.strip())),
            archived_at__isnull=True,
            online_unverified=False,
        )
        .order_by("chart_number")
        .first()
    )


def unverified_patient(
    *, given_name, family_name, date_of_birth, email, phone, request,
    detail="registered by an online booking; not yet verified",
):  # fmt: skip
    """The unverified record for someone not matched: the one an earlier online booking (or waitlist
    acceptance) of theirs made (same names, date of birth and e-mail), or a new one. Audited."""
    earlier = (
        Patient.objects.annotate(
            given_folded=_folded(F("given_name")), family_folded=_folded(F("family_name"))
        )
        .filter(
            online_unverified=True,
            archived_at__isnull=True,
            date_of_birth=date_of_birth,
            email__iexact=email.strip(),
            given_folded=_folded(Value(given_name.strip())),
            family_folded=_folded(Value(family_name.strip())),
        )
        .order_by("chart_number")
        .first()
    )
    if earlier is not None:
        return earlier
    patient = Patient(
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        date_of_birth=date_of_birth,
        email=email.strip(),
        phone=phone,
        online_unverified=True,
    )
    patient.full_clean(exclude=["phn"])
    patient.save()
    record(
        Action.CREATE,
        request=request,
        obj=patient,
        patient_id=patient.pk,
        detail=detail,
    )
    return patient


def _received(*, location, type, therapist, start, anyone):
    """The public answer to a booking sent: the same for every outcome that is not refused."""
    return {
        "location": location.name,
        "type": type.name,
        "therapist": "" if anyone else therapist.full_name,
        "start": timezone.localtime(start),
    }


def _email(to, key, subject, body):
    queue_email(
        key=key,
        message=EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]),
    )


def _confirm(appointment):
    """The online booking's confirmation: the desk's own booking e-mail (appointments/reminders.py, through
    online_links), with the .ics and the signed link to cancel or reschedule up to the cut-off, queued in
    the booking's transaction (so a booking that rolls back sends nothing) and once per appointment."""
    send_booking_confirmation(appointment)


def _call_us(to, given_name, attempt_key, reason):
    phone = f" at {settings.CLINIC_PHONE}" if settings.CLINIC_PHONE else ""
    _email(
        to,
        f"online-request-{attempt_key}",
        f"Your booking request at {settings.CLINIC_NAME}",
        f"Hello {given_name},\n\nThank you for your booking request. {reason} Please call us{phone} and we "
        f"will find you a time.\n\n{settings.CLINIC_NAME}\n",
    )


def book_online(
    *,
    location,
    type,
    therapist,
    start,
    given_name,
    family_name,
    date_of_birth,
    email,
    phone,
    note="",
    honeypot="",
    anyone=False,
    client_address="",
    request=None,
):
    """Book `type` at `location` with `therapist` at `start` for the person described (the module's
    docstring says what happens when). Returns an OnlineOutcome; raises OnlineBookingRefused."""
    _check_text(given_name=given_name, family_name=family_name, email=email, phone=phone, note=note)
    count_attempt(client_address, email)
    public = _received(location=location, type=type, therapist=therapist, start=start, anyone=anyone)
    if honeypot:
        # A bot: nothing booked, nothing sent, and nothing to tell it apart from a booking received.
        return OnlineOutcome(public=public)
    end = _check_choice(location=location, type=type, therapist=therapist, start=start)
    # Whether the time is free for the physiotherapist is said before anyone is looked up, and the same
    # to everyone: answered after, it could tell a known patient's booking from a stranger's.
    if _busy(Q(therapist=therapist), start, end) or (type.needling and not therapist.may_needle(start)):
        raise OnlineBookingRefused(TAKEN, code="taken")
    patient = match_patient(
        given_name=given_name, family_name=family_name, date_of_birth=date_of_birth, email=email, phone=phone
    )
    attempt_key = _keyed_hash(f"{email.strip().lower()}|{start.isoformat()}|{type.pk}")[:32]
    if patient is None and not type.new_patients_online:
        # Not a patient the clinic knows, asking for a returning patients' type: answered exactly as a
        # booking; the e-mail to the address typed says why nothing was booked.
        _call_us(
            email.strip(),
            given_name.strip(),
            attempt_key,
            f"We could not book {type.name} online for you: online, it is for patients we have seen before.",
        )
        return OnlineOutcome(public=public)
    try:
        with audited_transaction():
            matched = patient is not None
            if not matched:
                patient = unverified_patient(
                    given_name=given_name,
                    family_name=family_name,
                    date_of_birth=date_of_birth,
                    email=email,
                    phone=phone,
                    request=request,
                )
            appointment = book(
                patient=patient,
                therapist=therapist,
                type=type,
                start=start,
                end=end,
                location=location,
                by=None,
                notes=note.strip(),
                request=request,
                booked_online=True,
                confirm=False,
            )
            _confirm(appointment)
    except BookingError as error:
        if error.code == "overlap" and _patient_clash(patient, start, end):
            # The patient already has an appointment then: answered as a booking, explained by e-mail.
            _call_us(
                email.strip(),
                given_name.strip(),
                attempt_key,
                "You already have an appointment with us at that time.",
            )
            return OnlineOutcome(public=public, matched=matched)
        if error.code in {"overlap", "taken", "outside_hours", "not_authorised", "past"}:
            raise OnlineBookingRefused(TAKEN, code="taken") from error
        raise OnlineBookingRefused(
            "We could not book this time online. Please call the clinic.", code="refused"
        ) from error
    except ValidationError as error:
        raise OnlineBookingRefused(error.messages, code="invalid") from error
    return OnlineOutcome(public=public, appointment=appointment, matched=matched)


def _busy(condition, start, end):
    return (
        overlapping(Appointment.objects.filter(condition), start, end)
        .exclude(status__in=INACTIVE_STATUSES)
        .exists()
    )


def _patient_clash(patient, start, end):
    return patient is not None and patient.pk is not None and _busy(Q(patient=patient), start, end)


# --- the front desk: verify or merge a record an online booking made ------------------------------
def unverified_patients():
    """Patients registered by an online booking and not yet verified, oldest first, with their
    appointments: two queries."""
    from django.db.models import Prefetch

    booked = Appointment.objects.select_related("type", "therapist").order_by("start")
    return list(
        Patient.objects.filter(online_unverified=True, archived_at__isnull=True)
        .prefetch_related(Prefetch("appointments", queryset=booked))
        .order_by("created_at", "id")
    )


def verify_online_patient(patient, *, request):
    """The desk has checked the person's details: the record becomes an ordinary patient's. Audited."""
    if not patient.online_unverified:
        raise ValidationError("This patient's record is already verified.", code="verified")
    with audited_transaction():
        Patient.objects.filter(pk=patient.pk).update(online_unverified=False)
        record(
            Action.UPDATE,
            request=request,
            obj=patient,
            patient_id=patient.pk,
            detail="verified the record an online booking made",
        )
    patient.online_unverified = False
    return patient


def merge_online_patient(patient, into, *, request):
    """The person who booked online is the known patient `into`: their appointments move to `into`, and the
    record the booking made is archived (patients are never deleted), marked verified. Audited on both.
    Refuses a record that is not an online booking's, one that already holds anything but appointments, an
    archived or unverified target, and a move that would double-book `into`."""
    if not patient.online_unverified:
        raise ValidationError("Only a record made by an online booking, not yet verified, is merged here.")
    if into is None or into.pk == patient.pk:
        raise ValidationError("Choose the existing patient this person is.")
    if into.archived_at is not None or into.online_unverified:
        raise ValidationError(f"{into.full_name} is archived or not yet verified: choose another patient.")
    for relation in Patient._meta.related_objects:
        if relation.related_model is Appointment or relation.many_to_many:
            continue
        if relation.related_model._base_manager.filter(**{relation.field.name: patient}).exists():
            raise ValidationError(
                f"This record already holds {relation.related_model._meta.verbose_name_plural}: merge it "
                "by hand (an administrator), not here."
            )

    def move():
        with audited_transaction():
            hold_parties(patients=[into.pk])
            now = timezone.now()
            moved = Appointment.objects.filter(patient=patient).update(patient=into, updated_at=now)
            Patient.objects.filter(pk=patient.pk).update(online_unverified=False, archived_at=now)
            record(
                Action.ARCHIVE,
                request=request,
                obj=patient,
                patient_id=patient.pk,
                detail=f"merged into {into.chart_number}: the record an online booking made",
            )
            record(
                Action.UPDATE,
                request=request,
                obj=into,
                patient_id=into.pk,
                detail=f"merged {patient.chart_number} (online booking) into this record: "
                f"{moved} appointment(s)",
            )

    try:
        retry_deadlocked(move)
    except IntegrityError as error:
        raise ValidationError(
            f"{into.full_name} already has an appointment at the time of one of this record's bookings. "
            "Cancel one of them first."
        ) from error
    return into
