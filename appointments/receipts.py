"""The receipt of a payment or refund, as a PDF a patient sends their extended health insurer: the clinic
(name, the visit's location and address, CLINIC_PHONE), the clinician with their registration number,
the patient, date of service, service, amount, method and receipt number. A refund's receipt says so and
names the receipt it refunds.

The desk may also e-mail a receipt to the patient: the e-mail says which visit and amount it is for and
carries a signed link (clinic/patient_links.py, PATIENT_LINK_DAYS) to the PDF, nothing clinical."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone

from audit.models import Action
from audit.services import audited_transaction, record
from clinic.patient_links import make_token
from clinic.pdf import render_pdf
from outbox.services import queue_email

# The purpose of a receipt's patient link (clinic.patient_links): a token for it opens nothing else.
LINK_PURPOSE = "receipt"


def receipt_context(payment):
    appointment = payment.appointment
    therapist = appointment.therapist
    return {
        "payment": payment,
        "appointment": appointment,
        "patient": appointment.patient,
        "clinician": therapist,
        "profile": getattr(therapist, "clinician_profile", None),
        "location": appointment.location,
        "clinic_phone": settings.CLINIC_PHONE,
        "service_date": timezone.localtime(appointment.start),
        "issued_at": timezone.localtime(payment.recorded_at),
        "amount": abs(payment.amount),
    }


def receipt_pdf(payment, request=None):
    return render_pdf("pdf/receipt.html", receipt_context(payment), request=request)


def receipt_filename(payment):
    return f"receipt-{payment.receipt_number}.pdf"


def link_path(payment):
    """The patient's link to the receipt (a path: the caller makes it absolute)."""
    return reverse("receipt:pdf", args=[make_token(LINK_PURPOSE, payment.pk)])


def email_message(payment, link_url):
    patient = payment.appointment.patient
    visit = timezone.localtime(payment.appointment.start)
    what = "refund" if payment.amount < 0 else "payment"
    lines = [
        f"Hello {patient.display_given_name},",
        "",
        f"Here is the receipt of your {what} of ${abs(payment.amount)} for your visit to"
        f" {settings.CLINIC_NAME} on {visit:%Y-%m-%d} (receipt {payment.receipt_number}), for your records"
        f" or your extended health insurer. It opens at this link for {settings.PATIENT_LINK_DAYS} days:",
        "",
        link_url,
        "",
        "If you have any questions, please call us"
        + (f" at {settings.CLINIC_PHONE}." if settings.CLINIC_PHONE else "."),
        "",
        settings.CLINIC_NAME,
    ]
    return EmailMessage(
        subject=f"Your receipt {payment.receipt_number} from {settings.CLINIC_NAME}",
        body="\n".join(lines) + "\n",
        to=[patient.email],
    )


def send_receipt(payment, *, by, link_url, sent_from, request=None):
    """E-mail the receipt's link to the patient, once per `sent_from` (the id of the page it was sent from,
    so a double click sends one, and sending again from a fresh page sends again). Refuses
    (ValidationError) a patient without an e-mail. Returns True when this call queued the e-mail."""
    patient = payment.appointment.patient
    if not patient.email:
        raise ValidationError("The patient has no e-mail address on file: print the receipt instead.")
    with audited_transaction():
        queued = queue_email(
            key=f"receipt:{payment.pk}:{sent_from}",
            message=email_message(payment, link_url),
            patient_id=patient.pk,
        )
        if queued is not None:
            record(
                Action.SEND,
                request=request,
                user=by,
                obj=payment,
                patient_id=patient.pk,
                detail=f"receipt {payment.receipt_number} e-mailed to the patient",
            )
    return queued is not None
