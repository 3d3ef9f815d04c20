"""The patient's copy of a consent as a PDF: printed from the consent's page, and attached to the consent in
the FHIR export (interop), so both carry the very same document."""

from django.utils import timezone

from clinic.pdf import render_pdf


def decisions_of(consent):
    return list(consent.decisions.select_related("risk_item").order_by("risk_item__order", "risk_item_id"))


def consent_pdf(consent, request=None):
    """The PDF bytes of the patient's copy of a consent (the print, and the FHIR export's attachment)."""
    return render_pdf(
        "pdf/consent_record.html",
        {
            "consent": consent,
            "patient": consent.patient,
            "decisions": decisions_of(consent),
            "printed_at": timezone.now(),
        },
        request=request,
    )
