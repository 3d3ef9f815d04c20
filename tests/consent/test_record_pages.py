"""The consent detail page, the patient's PDF copy and withdrawal (issue 3 items 6 and 7)."""

import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import Role
from audit.models import Action, AuditEvent
from consent.models import ConsentRecord, Region
from consent.selectors import allowed_regions
from tests.factories import PhysioFactory, give_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def consent(consent_form, patient, physio):
    return give_consent(patient, declined=(Region.MID_BACK,), by=physio)


def decisions_in(text):
    """[(region, "Accepted" | "Declined")] in the order the PDF's decisions table lists them."""
    rows = squash(text.split("Risks and decisions")[1].split("\nSignature")[0])
    return re.findall(r"^(General|Neck|Midback).*?(Accepted|Declined)$", rows, re.S | re.M)


def squash(text):
    """The text without spaces inside lines: pypdf splits kerned pairs ("T anya")."""
    return "\n".join(re.sub(r"\s+", "", line) for line in text.splitlines())


def pdf_text(response):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_detail_shows_decisions_signature_and_names_and_is_audited(client_for, physio, consent):
    response = client_for(physio).get(reverse("consent:detail", args=[consent.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert consent.signer_name in html and str(consent.explained_by) in html
    assert f'src="{consent.signature}"' in html
    assert html.count("Accepted</span>") == 2 and html.count("Declined</span>") == 1
    event = AuditEvent.objects.get(action=Action.VIEW, object_id=str(consent.pk))
    assert (event.actor, event.patient_id) == (physio, consent.patient_id)


def test_the_pdf_carries_the_exact_text_every_decision_the_signature_names_and_times(
    client_for, physio, consent, consent_form
):
    response = client_for(physio).get(reverse("consent:pdf", args=[consent.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    text = pdf_text(response)
    assert squash(consent_form.body) in squash(text.replace("\n", " "))
    assert f"Version {consent_form.version}" in text
    assert decisions_in(text) == [("General", "Accepted"), ("Neck", "Accepted"), ("Midback", "Declined")]
    flat = squash(text)
    assert squash(f"Signed by {consent.signer_name} (Patient)") in flat
    assert squash(consent.explained_by.full_name) in flat and consent.patient.chart_number in text
    signed = consent.signed_at.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d %H:%M")
    assert squash(f"Signed {signed}") in flat
    # The drawn signature itself: signature_pad's curve, drawn by WeasyPrint as vector strokes.
    content = PdfReader(io.BytesIO(response.content)).pages[0].get_contents().get_data().decode("latin1")
    assert "40 10 65 10 95 60 c" in content


def test_printing_the_pdf_is_audited(client_for, physio, consent):
    client_for(physio).get(reverse("consent:pdf", args=[consent.pk]))
    event = AuditEvent.objects.get(action=Action.PRINT)
    assert (event.actor, event.patient_id, event.object_id) == (physio, consent.patient_id, str(consent.pk))


def test_the_pdf_of_a_withdrawn_consent_says_so(client_for, physio, consent):
    from consent.services.obtaining import withdraw_consent

    withdraw_consent(consent, by=physio, reason="Patient moved to another clinic")
    text = pdf_text(client_for(physio).get(reverse("consent:pdf", args=[consent.pk])))
    assert "WITHDRAWN" in text and squash("Patient moved to another clinic") in squash(text.replace("\n", ""))


def test_a_physio_withdraws_with_a_reason(client_for, consent):
    therapist = PhysioFactory()
    response = client_for(therapist).post(
        reverse("consent:withdraw", args=[consent.pk]), {"reason": "Does not want neck needling any more"}
    )
    assert response.status_code == 302
    consent.refresh_from_db()
    assert (
        consent.withdrawn_by == therapist
        and consent.withdrawal_reason == "Does not want neck needling any more"
    )
    assert allowed_regions(consent.patient) == frozenset()
    event = AuditEvent.objects.get(action=Action.WITHDRAW)
    assert (event.actor, event.patient_id) == (therapist, consent.patient_id)


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_a_withdrawal_without_a_reason_is_refused_and_nothing_saved(client_for, physio, consent, reason):
    response = client_for(physio).post(reverse("consent:withdraw", args=[consent.pk]), {"reason": reason})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert "required" in response.content.decode() or "Give the reason" in response.content.decode()
    assert ConsentRecord.objects.get(pk=consent.pk).withdrawn_at is None
    assert not AuditEvent.objects.filter(action=Action.WITHDRAW).exists()


def test_a_second_withdrawal_is_refused_with_a_message(client_for, physio, consent):
    client = client_for(physio)
    client.post(reverse("consent:withdraw", args=[consent.pk]), {"reason": "First"})
    response = client.post(reverse("consent:withdraw", args=[consent.pk]), {"reason": "Second"})
    assert response.status_code == 200 and "already withdrawn" in response.content.decode().lower()
    assert ConsentRecord.objects.get(pk=consent.pk).withdrawal_reason == "First"


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.MANAGER])
@pytest.mark.parametrize("name", ["consent:detail", "consent:pdf", "consent:withdraw"])
def test_front_desk_and_manager_get_403_on_consent_pages(client_for, consent, role, name):
    client = client_for(role)
    assert client.get(reverse(name, args=[consent.pk])).status_code == 403
    assert client.post(reverse(name, args=[consent.pk]), {"reason": "x"}).status_code == 403
    assert ConsentRecord.objects.get(pk=consent.pk).withdrawn_at is None
    assert not AuditEvent.objects.filter(action__in=[Action.PRINT, Action.VIEW, Action.WITHDRAW]).exists()


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.MANAGER])
def test_front_desk_and_manager_get_403_on_obtain(client_for, consent_form, patient, role):
    client = client_for(role)
    url = reverse("consent:obtain", args=[patient.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {}).status_code == 403


def test_the_administrator_may_read_but_not_withdraw(client_for, consent):
    client = client_for(Role.ADMIN)
    assert client.get(reverse("consent:detail", args=[consent.pk])).status_code == 200
    assert client.get(reverse("consent:pdf", args=[consent.pk])).status_code == 200
    assert client.post(reverse("consent:withdraw", args=[consent.pk]), {"reason": "x"}).status_code == 403


def test_an_unknown_consent_is_404(client_for, physio):
    assert client_for(physio).get(reverse("consent:detail", args=[999999])).status_code == 404
