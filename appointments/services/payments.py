"""Fees and receipts (issue 15 part 4b): the desk records what a patient paid for a visit, or gives some
back, each with the next receipt number.

Receipt numbers run without gaps: next_receipt_number() raises the one ReceiptCounter row under
SELECT ... FOR UPDATE inside the payment's own transaction, so a second desk waits for the first, and a
payment that rolls back gives its number back. Payments are never changed or deleted (the database
refuses: migration 0006); a refund is a new entry naming the payment it gives back, never more than what
remains of it.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from audit.models import Action
from audit.services import audited_transaction, record

from ..models import (
    MAX_PAYMENT,
    PAYABLE_STATUSES,
    Appointment,
    Payment,
    PaymentKind,
    PaymentMethod,
    ReceiptCounter,
)


class PaymentError(ValidationError):
    """A payment or refund refused, with a message for the person at the desk."""


def clean_amount(value):
    """The amount as a Decimal of cents: refuses anything not a number, zero or less, more than two
    decimals, or more than MAX_PAYMENT."""
    try:
        amount = Decimal(str(value).strip().lstrip("$").strip())
    except (InvalidOperation, ValueError):
        raise PaymentError(
            "Enter the amount as a number of dollars, such as 95.00.", code="not_a_number"
        ) from None
    if not amount.is_finite():
        raise PaymentError("Enter the amount as a number of dollars, such as 95.00.", code="not_a_number")
    if amount <= 0:
        raise PaymentError("The amount must be more than $0.00.", code="not_positive")
    # The bound first: quantizing a huge number (1e999) would itself fail.
    if amount > MAX_PAYMENT:
        raise PaymentError(f"An amount over ${MAX_PAYMENT:,} is refused: check the figure.", code="too_large")
    if amount != amount.quantize(Decimal("0.01")):
        raise PaymentError("Enter the amount in dollars and cents: at most two decimals.", code="decimals")
    return amount.quantize(Decimal("0.01"))


def next_receipt_number():
    """The next receipt number, taken in the caller's transaction (the counter row stays locked until it
    ends: a rollback gives the number back). The row is seeded by migration 0006; it is recreated, once,
    if a table owner emptied the table (the test runner truncates)."""
    ReceiptCounter.objects.bulk_create([ReceiptCounter(id=1, last_number=0)], ignore_conflicts=True)
    counter = ReceiptCounter.objects.select_for_update().get(id=1)
    number = counter.last_number + 1
    ReceiptCounter.objects.filter(id=1).update(last_number=number)
    return number


def paid_total(appointment):
    """What the patient has paid for the appointment, refunds taken off."""
    return sum((p.amount for p in appointment.payments.all()), Decimal("0.00"))


def refundable(payment):
    """What remains of a payment to give back."""
    return payment.amount + sum((r.amount for r in payment.refunds.all()), Decimal("0.00"))


def record_payment(appointment, *, amount, method, by, request=None):
    """Record a payment for a visit the patient came to (arrived, in treatment or completed) and give it
    the next receipt number, with its audit event, in one transaction. Refuses another status, an
    unknown method and a bad amount (clean_amount())."""
    amount = clean_amount(amount)
    if method not in PaymentMethod.values:
        raise PaymentError("Choose how the patient paid.", code="method")
    with audited_transaction():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.status not in PAYABLE_STATUSES:
            raise PaymentError(
                f"This appointment is {locked.get_status_display().lower()}: payment is taken once the "
                "patient has checked in.",
                code="status",
            )
        payment = Payment.objects.create(
            appointment=locked,
            kind=PaymentKind.PAYMENT,
            amount=amount,
            method=method,
            receipt_number=next_receipt_number(),
            recorded_by=by,
        )
        record(
            Action.CREATE,
            request=request,
            user=by,
            obj=payment,
            patient_id=locked.patient_id,
            detail=f"payment ${amount} by {payment.get_method_display()}, receipt {payment.receipt_number}",
        )
    return payment


def refund(payment, *, amount, reason, by, request=None):
    """Give back part or all of a payment, as a new entry with its own receipt number that names the
    payment (same method). Refuses an empty reason, a refund of a refund, a bad amount, and more than
    what remains of the payment (earlier refunds counted, on the locked row)."""
    amount = clean_amount(amount)
    reason = " ".join((reason or "").split())[:300]
    if not reason:
        raise PaymentError("Give a reason for the refund.", code="no_reason")
    with audited_transaction():
        # Locking the payment makes two refunds of it wait for each other, so they cannot together
        # give back more than was paid.
        original = Payment.objects.select_for_update().select_related("appointment").get(pk=payment.pk)
        if original.kind != PaymentKind.PAYMENT:
            raise PaymentError("A refund cannot itself be refunded.", code="refund_of_refund")
        remaining = refundable(original)
        if amount > remaining:
            raise PaymentError(
                f"At most ${remaining} of receipt {original.receipt_number} remains to refund.",
                code="over_paid",
            )
        entry = Payment.objects.create(
            appointment=original.appointment,
            kind=PaymentKind.REFUND,
            amount=-amount,
            method=original.method,
            refund_of=original,
            reason=reason,
            receipt_number=next_receipt_number(),
            recorded_by=by,
        )
        record(
            Action.CREATE,
            request=request,
            user=by,
            obj=entry,
            patient_id=original.appointment.patient_id,
            detail=f"refund ${amount} of receipt {original.receipt_number}, receipt {entry.receipt_number}: "
            f"{reason}",
        )
    return entry
