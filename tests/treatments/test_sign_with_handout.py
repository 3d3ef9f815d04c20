"""Signing offers what to do with the aftercare handout: print it, e-mail the patient a link or the PDF, or
nothing now. The e-mail is sent once, and its body carries no clinical detail."""

import io
import re
from uuid import uuid4

import pytest
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from outbox.models import OutboundEmail
from patients.models import Patient
from tests.factories import complete_session, muscle, needle
from tests.markup import without_links
from treatments.aftercare import HandoutChoice, send_handout
from treatments.services import add_point, sign_session

pytestmark = pytest.mark.django_db

# Words of the clinical record that must never be in an e-mail's body.
CLINICAL_WORDS = ["rhomboid", "trapezius", "muscle", "needle", "neck", "back", "point", "pain", "chest", "mm"]


@pytest.fixture
def ready(consented_draft, clinician):
    """A complete draft with one mid back point, ready to sign."""
    add_point(
        consented_draft, by=clinician, muscle=muscle("Rhomboid major"), side="L",
        needle_size=needle("0.30", 60), depth_mm=10, twitch_response="single",
    )  # fmt: skip
    return complete_session(consented_draft)


@pytest.fixture
def signing(client, clinician, ready, django_capture_on_commit_callbacks, settings):
    settings.CLINIC_PHONE = "604-555-0134"
    client.force_login(clinician)

    def sign(choice):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("treatments:sign", args=[ready.pk]), {"handout": choice})

    return sign


def test_the_sign_form_offers_every_choice_when_the_patient_has_an_e_mail(client, clinician, ready):
    client.force_login(clinician)
    page = client.get(reverse("treatments:session", args=[ready.pk])).content.decode()
    for label in ["Print", "E-mail to patient (link)", "E-mail as attachment", "Not now"]:
        assert label in page
    assert re.search(r'value="none"[^>]*checked', page)
    assert not re.search(r'value="(print|link|attach)"[^>]*checked', page)


def test_without_an_e_mail_only_print_and_not_now_are_offered(client, clinician, ready):
    Patient.objects.filter(pk=ready.patient_id).update(email="")
    client.force_login(clinician)
    page = client.get(reverse("treatments:session", args=[ready.pk])).content.decode()
    assert "Print" in page and "Not now" in page
    assert "E-mail to patient (link)" not in page and "E-mail as attachment" not in page
    assert "No e-mail address on file" in page


def test_an_e_mail_choice_for_a_patient_without_e_mail_is_refused_and_nothing_is_signed(signing, ready):
    Patient.objects.filter(pk=ready.patient_id).update(email="")
    response = signing(HandoutChoice.LINK)
    assert response.status_code == 302
    ready.refresh_from_db()
    assert not ready.is_signed
    assert not OutboundEmail.objects.exists()


def test_an_unknown_choice_signs_nothing(signing, ready, client):
    response = signing("fax")
    ready.refresh_from_db()
    assert not ready.is_signed
    page = client.get(response.url).content.decode()
    assert "Choose what to do with the aftercare handout." in page


def test_print_signs_and_opens_the_handout(signing, ready):
    response = signing(HandoutChoice.PRINT)
    assert response.status_code == 302
    assert response.url == reverse("treatments:aftercare", args=[ready.pk])
    ready.refresh_from_db()
    assert ready.is_signed
    assert not mail.outbox


def test_not_now_signs_and_sends_nothing(signing, ready):
    response = signing(HandoutChoice.NONE)
    assert response.url == reverse("treatments:session", args=[ready.pk])
    ready.refresh_from_db()
    assert ready.is_signed and not mail.outbox


def test_a_sign_form_without_the_choice_signs_as_not_now(signing, ready):
    signing("")
    ready.refresh_from_db()
    assert ready.is_signed and not mail.outbox


def test_e_mail_with_a_link_sends_the_link_and_no_clinical_detail(signing, ready, client):
    signing(HandoutChoice.LINK)
    ready.refresh_from_db()
    assert ready.is_signed
    (message,) = mail.outbox
    assert message.to == ["pat@example.test"]
    assert not message.attachments
    body = message.body
    assert body.startswith("Hello Zoë,")
    assert "604-555-0134" in body and "14 days" in body
    for word in CLINICAL_WORDS:
        assert word not in without_links(body).lower(), word
        assert word not in message.subject.lower(), word
    link = re.search(r"http://testserver(/p/aftercare/\S+/)", body).group(1)
    client.logout()
    response = client.get(link)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_e_mail_as_attachment_carries_the_pdf(signing, ready):
    signing(HandoutChoice.ATTACH)
    (message,) = mail.outbox
    ((filename, content, mimetype),) = message.attachments
    assert filename.startswith("aftercare-") and mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 1 and "Warning signs" in reader.pages[0].extract_text()
    assert "/p/aftercare/" not in message.body and "attached" in message.body
    for word in CLINICAL_WORDS:
        assert word not in without_links(message.body).lower(), word


def test_the_handout_is_e_mailed_once(ready, clinician, django_capture_on_commit_callbacks):
    signed = sign_session(ready, by=clinician)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_handout(signed, choice=HandoutChoice.LINK, by=clinician, link_url="http://x/p/1/")
        assert not send_handout(signed, choice=HandoutChoice.ATTACH, by=clinician)
    assert len(mail.outbox) == 1
    assert OutboundEmail.objects.get().key == f"aftercare:{signed.pk}"


def test_the_service_refuses_a_draft_and_a_patient_without_e_mail(ready, clinician):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="once the session is signed"):
        send_handout(ready, choice=HandoutChoice.LINK, by=clinician, link_url="http://x/")
    signed = sign_session(ready, by=clinician)
    Patient.objects.filter(pk=signed.patient_id).update(email="")
    signed.patient.refresh_from_db()
    with pytest.raises(ValidationError, match="no e-mail address"):
        send_handout(signed, choice=HandoutChoice.ATTACH, by=clinician)
    assert not OutboundEmail.objects.exists()


# Later: the clinician chose "Not now" or printed it, or the patient asks for the handout again.


@pytest.fixture
def later(client, clinician, ready, django_capture_on_commit_callbacks):
    signed = sign_session(ready, by=clinician)
    client.force_login(clinician)

    def send(**data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("treatments:aftercare_send", args=[signed.pk]), data, follow=True)

    return signed, send


def test_a_signed_session_offers_to_e_mail_the_handout_later(client, later):
    signed, _send = later
    page = client.get(reverse("treatments:session", args=[signed.pk])).content.decode()
    assert reverse("treatments:aftercare_send", args=[signed.pk]) in page
    assert "pat@example.test" in page


def test_no_offer_on_a_draft_or_without_an_e_mail(client, clinician, ready, later):
    signed, _send = later
    draft_page = client.get(reverse("treatments:session", args=[ready.pk]))
    Patient.objects.filter(pk=signed.patient_id).update(email="")
    page = client.get(reverse("treatments:session", args=[signed.pk])).content.decode()
    assert reverse("treatments:aftercare_send", args=[signed.pk]) not in page
    assert draft_page.status_code == 200


def test_e_mailed_later_as_a_link_and_audited(later, client):
    from audit.models import Action, AuditEvent

    signed, send = later
    response = send(handout="link")
    assert "on its way to pat@example.test" in response.content.decode()
    (message,) = mail.outbox
    assert "/p/aftercare/" in message.body
    for word in CLINICAL_WORDS:
        assert word not in without_links(message.body).lower(), word
    assert AuditEvent.objects.filter(
        action=Action.SEND,
        object_id=str(signed.pk),
        detail="aftercare handout e-mailed (e-mail to patient (link))",
    ).exists()


def test_a_second_send_says_when_and_sends_nothing_unless_asked_again(later):
    signed, send = later
    send(handout="attach")
    response = send(handout="link")
    assert len(mail.outbox) == 1
    assert "was e-mailed on" in response.content.decode() and "Send it again" in response.content.decode()
    first, second = uuid4(), uuid4()
    send(handout="link", again="on", resend_id=first)
    assert len(mail.outbox) == 2
    send(handout="attach", again="on", resend_id=second)
    assert len(mail.outbox) == 3
    keys = set(OutboundEmail.objects.values_list("key", flat=True))
    key = f"aftercare:{signed.pk}"
    assert keys == {key, f"{key}:again:{first}", f"{key}:again:{second}"}


def test_one_resend_page_posted_twice_sends_once(later):
    _signed, send = later
    send(handout="link")
    resend = uuid4()
    send(handout="link", again="on", resend_id=resend)
    response = send(handout="link", again="on", resend_id=resend)
    assert len(mail.outbox) == 2
    assert "was e-mailed on" in response.content.decode()


def test_a_resend_without_its_page_id_is_refused(later):
    _signed, send = later
    send(handout="link")
    for resend_id in ["", "not-a-uuid"]:
        response = send(handout="link", again="on", resend_id=resend_id)
        assert response.status_code == 200
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("data", [{}, {"handout": "print"}, {"handout": "none"}, {"handout": "x" * 5000}])
def test_a_send_without_a_way_to_send_is_refused_with_a_message(later, data):
    _signed, send = later
    response = send(**data)
    assert response.status_code == 200
    assert "Choose how to e-mail the aftercare handout" in response.content.decode()
    assert not mail.outbox and not OutboundEmail.objects.exists()


def test_a_draft_is_not_e_mailed(client, clinician, ready):
    client.force_login(clinician)
    response = client.post(
        reverse("treatments:aftercare_send", args=[ready.pk]), {"handout": "link"}, follow=True
    )
    assert "once the session is signed" in response.content.decode()
    assert not OutboundEmail.objects.exists()
