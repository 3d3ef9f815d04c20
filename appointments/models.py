from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from clinic.fields import LimitedTextField, length_limits


class TimeRange(models.Func):
    """tstzrange(start, end, '[)'): an appointment ending at 10:00 does not overlap one starting then."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class Location(models.Model):
    """A clinic site where appointments take place (at least one; seeded by migration 0002)."""

    name = models.CharField(max_length=120, unique=True)
    address = LimitedTextField(blank=True, max_length=500)

    class Meta:
        ordering = ["name"]
        constraints = length_limits(address=500)

    def __str__(self):
        return self.name


class Room(models.Model):
    """A treatment room at a location; optional on an appointment."""

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["location__name", "name"]
        constraints = [models.UniqueConstraint(fields=["location", "name"], name="room_unique_per_location")]

    def __str__(self):
        return f"{self.location} / {self.name}"


class AppointmentType(models.Model):
    """What is booked and how long it takes by default (editable by the clinic). A needling type is
    booked only with a physiotherapist authorised to needle on that day (DESIGN.md rule 4)."""

    name = models.CharField(max_length=120, unique=True)
    default_minutes = models.PositiveSmallIntegerField()
    needling = models.BooleanField(
        default=True,
        help_text="The visit includes IMS / dry needling: only physiotherapists with a current needling "
        "authorisation are booked or offered for it.",
    )
    active = models.BooleanField(default=True)
    fee = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
        help_text="What the visit costs, in Canadian dollars: the desk's payment form starts from it.",
    )
    bookable_online = models.BooleanField(
        default=False,
        help_text="Patients may book this type themselves on the public booking page (/book/).",
    )
    new_patients_online = models.BooleanField(
        "new patients may book online",
        default=False,
        help_text="Someone who is not yet a patient of the clinic may book this type online (an initial "
        "assessment, say). Without it, only people the clinic already knows can book it online.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(default_minutes__gte=5, default_minutes__lte=480),
                name="appointment_type_minutes_sane",
            ),
            models.CheckConstraint(condition=models.Q(fee__gte=0), name="appointment_type_fee_not_negative"),
            models.CheckConstraint(
                condition=models.Q(new_patients_online=False) | models.Q(bookable_online=True),
                name="appointment_type_new_patients_only_online",
                violation_error_message="A type open to new patients online must be bookable online: tick "
                "“bookable online” as well.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.default_minutes} min)"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WorkingHours(models.Model):
    """One block of a therapist's regular week, in the clinic's local time (Monday 08:00-16:00 at Main)."""

    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name_plural = "working hours"
        ordering = ["therapist", "weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="working_hours_end_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6), name="working_hours_weekday"
            ),
        ]
        indexes = [models.Index(fields=["therapist", "weekday"], name="working_hours_lookup_idx")]

    def __str__(self):
        return f"{self.therapist} {self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"

    def clean(self):
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "The end must come after the start."})
        if self.therapist_id is not None and self.start and self.end:
            clash = (
                WorkingHours.objects.filter(
                    therapist_id=self.therapist_id,
                    weekday=self.weekday,
                    start__lt=self.end,
                    end__gt=self.start,
                )
                .exclude(pk=self.pk)
                .first()
            )
            if clash is not None:
                raise ValidationError(f"These hours overlap {clash}.")


class Break(models.Model):
    """A break inside a block of working hours (lunch 12:00-12:30): nothing is offered then."""

    working_hours = models.ForeignKey(WorkingHours, on_delete=models.CASCADE, related_name="breaks")
    start = models.TimeField()
    end = models.TimeField()
    label = models.CharField(max_length=60, blank=True, default="Break")

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="break_end_after_start"
            )
        ]

    def __str__(self):
        return f"{self.label or 'Break'} {self.start:%H:%M}-{self.end:%H:%M}"

    def clean(self):
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "The end must come after the start."})
        hours = getattr(self, "working_hours", None) if self.working_hours_id else None
        if hours and self.start and self.end and (self.start < hours.start or self.end > hours.end):
            raise ValidationError("A break must lie inside its working hours.")


class TimeOff(models.Model):
    """A therapist away (holiday, course, sick): no appointments are offered from start to end."""

    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name_plural = "time off"
        ordering = ["-start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="time_off_end_after_start"
            )
        ]
        indexes = [models.Index(fields=["therapist", "start"], name="time_off_lookup_idx")]

    def __str__(self):
        return f"{self.therapist} away {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M}"

    def clean(self):
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "The end must come after the start."})


class Status(models.TextChoices):
    BOOKED = "booked", "Booked"
    CONFIRMED = "confirmed", "Confirmed"
    ARRIVED = "arrived", "Arrived"
    IN_TREATMENT = "in_treatment", "In treatment"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


# A cancelled or missed appointment frees its time: only these statuses hold the slot.
INACTIVE_STATUSES = (Status.CANCELLED, Status.NO_SHOW)
ACTIVE_STATUSES = tuple(s for s in Status if s not in INACTIVE_STATUSES)
HOLDS_SLOT = ~models.Q(status__in=INACTIVE_STATUSES)


# No appointment lasts longer (services refuse it; the database too).
MAX_LENGTH = timedelta(hours=8)


def overlapping(queryset, start, end):
    """Rows of `queryset` (appointments) overlapping [start, end). The lower bound on start is what
    lets the (start, therapist) index find one day's rows among millions: end > start alone cannot."""
    return queryset.filter(start__lt=end, start__gt=start - MAX_LENGTH, end__gt=start)


class Appointment(models.Model):
    """A patient booked with a therapist. Cancelled and missed ones stay, with their reason and history."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="appointments")
    # Indexed with start (appointment_therapist_idx), which serves every per-therapist lookup.
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments", db_index=False
    )
    type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="appointments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="appointments")
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BOOKED)
    cancel_reason = models.CharField(max_length=300, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Booked by the patient on the public page (appointments/services/online.py), not at the desk.
    booked_online = models.BooleanField(default=False, db_default=False, editable=False)
    notes = LimitedTextField(
        blank=True,
        max_length=2_000,
        help_text="Booking notes only (parking, interpreter): nothing clinical, the front desk reads it.",
    )
    # The SEQUENCE of the appointment's calendar event (its UID is fixed): raised by every reschedule
    # and by cancellation, so the patient's calendar app replaces the entry it imported, not adds one.
    # db_default: the demo inserts appointments with set-based SQL.
    sequence = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            *length_limits(notes=2_000),
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="appointment_end_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="appointment_status_known"
            ),
            # Bounded length lets "what overlaps this day" read an index range on start (overlapping()).
            models.CheckConstraint(
                condition=models.Q(end__lte=models.F("start") + MAX_LENGTH), name="appointment_length_bounded"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=Status.CANCELLED) | ~models.Q(cancel_reason=""),
                name="appointment_cancel_has_reason",
            ),
            # DESIGN.md rule 3: the database refuses overlapping active appointments, whatever the door.
            ExclusionConstraint(
                name="appointment_therapist_no_overlap",
                violation_error_message="The physiotherapist already has an appointment at that time.",
                expressions=[
                    ("therapist", RangeOperators.EQUAL),
                    (TimeRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=HOLDS_SLOT,
            ),
            ExclusionConstraint(
                name="appointment_patient_no_overlap",
                violation_error_message="The patient already has an appointment at that time.",
                expressions=[
                    ("patient", RangeOperators.EQUAL),
                    (TimeRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=HOLDS_SLOT,
            ),
            ExclusionConstraint(
                name="appointment_room_no_overlap",
                violation_error_message="The room is already booked at that time.",
                expressions=[
                    ("room", RangeOperators.EQUAL),
                    (TimeRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=HOLDS_SLOT & models.Q(room__isnull=False),
            ),
        ]
        indexes = [
            # The day view and "My day": one therapist's (or every therapist's) appointments in a range.
            models.Index(fields=["start", "therapist"], name="appointment_day_idx"),
            models.Index(fields=["patient", "start"], name="appointment_patient_idx"),
            # One therapist's day or week ("My day", the week view, next available).
            models.Index(fields=["therapist", "start"], name="appointment_therapist_idx"),
        ]

    def __str__(self):
        local = timezone.localtime(self.start)
        return f"{self.type.name if self.type_id else 'Appointment'} {local:%Y-%m-%d %H:%M}"

    @property
    def is_active(self):
        return self.status not in INACTIVE_STATUSES

    @property
    def minutes(self):
        return int((self.end - self.start).total_seconds() // 60)

    def clean(self):
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "The end must come after the start."})

    def validate_constraints(self, exclude=None):
        if self.start and self.end and self.end <= self.start:
            return  # clean() says so; the overlap checks cannot build a backwards time range.
        # The overlap constraints only count active appointments, so their check reads the status even
        # on forms that do not show it (the admin's); without it Django cannot evaluate the condition.
        super().validate_constraints(exclude=set(exclude or ()) - {"status"})

    def delete(self, *args, **kwargs):
        # The booking history is part of the record: cancel or mark a no-show instead.
        raise PermissionDenied("Appointments are cancelled, never deleted.")


class AppointmentStatusChange(models.Model):
    """One step of an appointment's history: from which status to which, who, when, and why."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["appointment", "at"], name="status_change_history_idx")]

    def __str__(self):
        return f"{self.from_status or 'new'} -> {self.to_status}"

    @property
    def is_reschedule(self):
        """A move in time, not of status: booking.reschedule() writes the same status twice, the times in
        its note ("rescheduled from ... to ...")."""
        return self.from_status == self.to_status and self.note.startswith("rescheduled from")


class ReminderKind(models.TextChoices):
    BOOKING = "booking", "Booking confirmation"
    DAY_BEFORE = "day_before", "Reminder the day before"
    RESCHEDULED = "rescheduled", "Moved to a new time"
    CANCELLED = "cancelled", "Cancellation"


class Reminder(models.Model):
    """An e-mail sent about an appointment, with the start and calendar SEQUENCE it announced.

    The database keeps each from going out twice: one booking confirmation and one cancellation per
    appointment, one day-before reminder per appointment *time* (moved to another day, it is reminded
    again), one "has moved" e-mail per reschedule (SEQUENCE)."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="reminders")
    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    sent_to = models.EmailField()
    sent_at = models.DateTimeField(default=timezone.now)
    appointment_start = models.DateTimeField(help_text="When the appointment started as this e-mail said.")
    sequence = models.PositiveIntegerField(default=0, help_text="The calendar event's SEQUENCE it carried.")

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "kind"],
                condition=models.Q(kind__in=[ReminderKind.BOOKING, ReminderKind.CANCELLED]),
                name="reminder_once_per_kind",
            ),
            models.UniqueConstraint(
                fields=["appointment", "appointment_start"],
                condition=models.Q(kind=ReminderKind.DAY_BEFORE),
                name="reminder_day_before_once_per_time",
            ),
            models.UniqueConstraint(
                fields=["appointment", "sequence"],
                condition=models.Q(kind=ReminderKind.RESCHEDULED),
                name="reminder_moved_once_per_sequence",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.sent_to}"


class PaymentMethod(models.TextChoices):
    DEBIT = "debit", "Debit"
    CREDIT_CARD = "credit_card", "Credit card"
    CASH = "cash", "Cash"
    E_TRANSFER = "e_transfer", "E-transfer"
    DIRECT_BILLING = "direct_billing", "Insurer direct billing"


class PaymentKind(models.TextChoices):
    PAYMENT = "payment", "Payment"
    REFUND = "refund", "Refund"


# Appointments the desk may take payment for: the patient came (checked in, treated or checked out).
PAYABLE_STATUSES = ("arrived", "in_treatment", "completed")
# Larger than any visit's fee: a typo (an extra zero or two) is refused rather than receipted.
MAX_PAYMENT = Decimal("10000.00")


class ReceiptCounter(models.Model):
    """The one row that hands out receipt numbers: read and raised under SELECT ... FOR UPDATE in the
    payment's own transaction, so numbers run without gaps (a rolled-back payment gives its number back,
    which a PostgreSQL sequence would not). Seeded by the migration; never deleted."""

    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="receipt_counter_single_row")]

    def __str__(self):
        return f"Last receipt {self.last_number}"


class Payment(models.Model):
    """Money taken for a visit (kind payment, amount > 0) or given back (kind refund, amount < 0, naming
    the payment it refunds). Each has its receipt number, gapless. Never changed or deleted (the database
    refuses: migration 0006); a mistake is corrected by a refund, which is a new entry."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(max_length=10, choices=PaymentKind.choices, default=PaymentKind.PAYMENT)
    amount = models.DecimalField(max_digits=8, decimal_places=2)
    method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    refund_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    reason = models.CharField(max_length=300, blank=True)
    receipt_number = models.PositiveIntegerField(unique=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["receipt_number"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=PaymentKind.values), name="payment_kind_known"
            ),
            models.CheckConstraint(
                condition=models.Q(method__in=PaymentMethod.values), name="payment_method_known"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind=PaymentKind.PAYMENT, amount__gt=0, refund_of__isnull=True)
                    | models.Q(kind=PaymentKind.REFUND, amount__lt=0, refund_of__isnull=False)
                ),
                name="payment_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__lte=MAX_PAYMENT, amount__gte=-MAX_PAYMENT),
                name="payment_amount_sane",
            ),
        ]
        indexes = [models.Index(fields=["recorded_at"], name="payment_recorded_idx")]

    def __str__(self):
        return f"Receipt {self.receipt_number}: {self.get_kind_display()} ${self.amount}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionDenied("Payments are never changed: record a refund instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("Payments are never deleted: record a refund instead.")

    @property
    def is_refund(self):
        return self.kind == PaymentKind.REFUND


class OnlineBookingAttempt(models.Model):
    """One booking sent from the public page: what the rate limits count (appointments/services/online.py).
    Kept in PostgreSQL, not in a process's memory, so every app server counts the same attempts. The client
    address and the e-mail are kept only as keyed hashes: enough to count, nothing to read back."""

    at = models.DateTimeField(default=timezone.now)
    address_hash = models.CharField(max_length=64)
    email_hash = models.CharField(max_length=64)

    class Meta:
        indexes = [
            models.Index(fields=["address_hash", "at"], name="online_attempt_address_idx"),
            models.Index(fields=["email_hash", "at"], name="online_attempt_email_idx"),
        ]

    def __str__(self):
        return f"Online booking attempt {timezone.localtime(self.at):%Y-%m-%d %H:%M}"


# --- the waitlist -----------------------------------------------------------------------------------
class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    BOOKED = "booked", "Booked"
    REMOVED = "off_list", "Removed"


class WaitlistEntry(models.Model):
    """Someone waiting for a time of one type at one location (with one physiotherapist, or anyone),
    between two dates or any time. Joined by the patient on the public page (contact details only: the
    entry names no patient until a time is accepted) or by the desk for a registered patient. When an
    appointment is cancelled, the oldest matching entries are offered its time (services/waitlist.py)."""

    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    email = models.EmailField("e-mail")
    phone = models.CharField(max_length=40, blank=True)
    type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    earliest = models.DateField(null=True, blank=True, help_text="Empty: from today.")
    latest = models.DateField(null=True, blank=True, help_text="Empty: any time.")
    status = models.CharField(max_length=20, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING)
    created_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The appointment it became.",
    )  # fmt: skip
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "waitlist entries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(earliest__isnull=True)
                | models.Q(latest__isnull=True)
                | models.Q(latest__gte=models.F("earliest")),
                name="waitlist_dates_in_order",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="booked") | models.Q(appointment__isnull=False),
                name="waitlist_booked_names_appointment",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "type", "location", "created_at"], name="waitlist_match_idx")
        ]

    def __str__(self):
        return f"{self.given_name} {self.family_name} waiting for {self.type}"

    @property
    def full_name(self):
        return f"{self.given_name} {self.family_name}"


class WaitlistOffer(models.Model):
    """A freed time offered to one waitlist entry by e-mail: once per entry, freeing appointment and start
    (the database holds it, so the offer e-mail goes once). An appointment frees a time when it is cancelled
    and each time it is rescheduled away from one, so one appointment may free several."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.PROTECT, related_name="offers")
    freed_by = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="+")
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    sent_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "freed_by", "start"], name="waitlist_offer_once_per_freed_time"
            ),
        ]

    def __str__(self):
        return f"Offer of {self.start:%Y-%m-%d %H:%M} to {self.entry}"
