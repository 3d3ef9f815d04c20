"""The desk e-mails a receipt to the patient: a signed, expiring link to the PDF (clinic/patient_links.py),
nothing clinical in the e-mail, once per page it was sent from, audited; the link opens the receipt
without logging in, and an expired, altered or unknown link answers the one refused page."""

import io
import re
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from appointments.models import AppointmentType
from appointments.receipts import LINK_PURPOSE, link_path, send_receipt
from appointments.services import payments
from audit.models import Action, AuditEvent
from clinic.patient_links import make_token
from outbox.models import OutboundEmail
from patients.models import Patient
from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    FrontDeskFactory,
    PatientFactory,
    PhysioFactory,
)
from tests.markup import without_links

pytestmark = pytest.mark.django_db

CLINICAL_WORDS = ["needle", "muscle", "neck", "back", "pain", "ims", "treatment", "session"]


@pytest.fixture
def paid(settings):
    settings.CLINIC_PHONE = "604-555-0134"
    settings.CLINIC_NAME = "Kitsilano Physio"
    therapist = PhysioFactory(full_name="Priya Natarajan", clinician_profile__registration_number="12345")
    patient = PatientFactory(given_name="Jane", family_name="Doe", email="jane@example.test")
    kind = AppointmentTypeFactory(name="IMS follow-up", default_minutes=30)
    AppointmentType.objects.filter(pk=kind.pk).update(fee=Decimal("95.00"))
    kind.refresh_from_db()
    visit = AppointmentFactory(patient=patient, therapist=therapist, type=kind, status="arrived")
    return payments.record_payment(visit, amount="95.00", method="debit", by=FrontDeskFactory())


@pytest.fixture
def emailing(client, paid, django_capture_on_commit_callbacks):
    desk = FrontDeskFactory(full_name="Dee Desk")
    client.force_login(desk)
    url = reverse("appointments:receipt_email", args=[paid.appointment_id, paid.pk])

    def send(sent_from=None):
        with django_capture_on_commit_callbacks(execute=True):
            data = {"sent_from": str(sent_from or uuid.uuid4())}
            return client.post(url, data, follow=True)

    return send


def test_the_appointment_offers_to_e_mail_each_receipt(client, paid):
    client.force_login(FrontDeskFactory())
    page = client.get(reverse("appointments:detail", args=[paid.appointment_id])).content.decode()
    assert reverse("appointments:receipt_email", args=[paid.appointment_id, paid.pk]) in page
    Patient.objects.filter(pk=paid.appointment.patient_id).update(email="")
    page = client.get(reverse("appointments:detail", args=[paid.appointment_id])).content.decode()
    assert reverse("appointments:receipt_email", args=[paid.appointment_id, paid.pk]) not in page


def test_the_e_mail_carries_a_link_that_opens_the_receipt_without_logging_in(client, paid, emailing):
    response = emailing()
    assert f"Receipt {paid.receipt_number} is on its way to jane@example.test" in response.content.decode()
    (message,) = mail.outbox
    assert message.to == ["jane@example.test"] and not message.attachments
    assert "$95.00" in message.body and f"receipt {paid.receipt_number}" in message.body
    assert "604-555-0134" in message.body
    for word in CLINICAL_WORDS:
        assert word not in without_links(message.body).lower(), word
        assert word not in message.subject.lower(), word
    assert AuditEvent.objects.filter(
        action=Action.SEND, detail=f"receipt {paid.receipt_number} e-mailed to the patient"
    ).exists()
    link = re.search(r"http://testserver(/p/receipt/\S+/)", message.body).group(1)
    client.logout()
    opened = client.get(link)
    assert opened.status_code == 200 and opened["Content-Type"] == "application/pdf"
    assert "no-store" in opened["Cache-Control"]
    text = PdfReader(io.BytesIO(opened.content)).pages[0].extract_text()
    assert "Priya Natarajan" in text and "12345" in text and "95.00" in text
    assert AuditEvent.objects.filter(
        action=Action.VIEW, detail=f"receipt {paid.receipt_number} opened from the patient's link"
    ).exists()


def test_one_page_sends_once_and_a_fresh_page_sends_again(paid, emailing):
    page = uuid.uuid4()
    emailing(page)
    response = emailing(page)
    assert len(mail.outbox) == 1
    assert "already sent from this page" in response.content.decode()
    emailing()
    assert len(mail.outbox) == 2


@pytest.mark.parametrize("sent_from", ["", "x", "1' OR 1=1", "9" * 5000])
def test_a_send_without_its_page_id_is_refused_with_a_message(client, paid, sent_from):
    client.force_login(FrontDeskFactory())
    url = reverse("appointments:receipt_email", args=[paid.appointment_id, paid.pk])
    response = client.post(url, {"sent_from": sent_from}, follow=True)
    assert response.status_code == 200
    assert "send the receipt from there" in response.content.decode()
    assert not OutboundEmail.objects.exists()


def test_a_patient_without_e_mail_is_refused(paid, emailing):
    Patient.objects.filter(pk=paid.appointment.patient_id).update(email="")
    response = emailing()
    assert "no e-mail address on file" in response.content.decode()
    assert not OutboundEmail.objects.exists()
    paid.appointment.patient.refresh_from_db()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        send_receipt(paid, by=FrontDeskFactory(), link_url="http://x/", sent_from=uuid.uuid4())


def test_a_receipt_of_another_appointment_is_not_found(client, paid):
    client.force_login(FrontDeskFactory())
    other = AppointmentFactory()
    url = reverse("appointments:receipt_email", args=[other.pk, paid.pk])
    assert client.post(url, {"sent_from": str(uuid.uuid4())}).status_code == 404


@pytest.mark.clock
def test_the_link_expires_after_patient_link_days(client, paid, settings):
    settings.PATIENT_LINK_DAYS = 14
    with time_machine.travel("2026-03-02 10:00 -08:00", tick=False):
        link = link_path(paid)
    with time_machine.travel("2026-03-15 10:00 -08:00", tick=False):
        assert client.get(link).status_code == 200
    with time_machine.travel("2026-03-16 10:01 -08:00", tick=False):
        expired = client.get(link)
    assert expired.status_code == 410
    assert "604-555-0134" in expired.content.decode()


def test_an_altered_or_other_purpose_link_answers_the_refused_page(client, paid):
    token = make_token(LINK_PURPOSE, paid.pk)
    for bad in [token[:-2] + "xx", make_token("aftercare", paid.pk), make_token(LINK_PURPOSE, paid.pk + 999)]:
        response = client.get(reverse("receipt:pdf", args=[bad]))
        assert response.status_code == 410
        assert "This link has expired" in response.content.decode()


def test_the_link_queries_a_fixed_number_of_times(client, paid, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        assert client.get(link_path(paid)).status_code == 200


def test_the_link_has_no_login_and_no_other_receipts(client, paid):
    """A token names one receipt: an id guessed in the path is not a token."""
    assert client.get(f"/p/receipt/{paid.pk}/").status_code == 410
