"""The receipt of a payment or refund, as a PDF a patient sends their extended health insurer: the clinic
(name, the visit's location and address, CLINIC_PHONE), the clinician with their registration number,
the patient, date of service, service, amount, method and receipt number. A refund's receipt says so and
names the receipt it refunds."""

from django.conf import settings
from django.utils import timezone

from clinic.pdf import render_pdf


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
