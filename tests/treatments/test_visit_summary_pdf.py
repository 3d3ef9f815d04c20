import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import Role
from audit.models import Action, AuditEvent
from consent.models import Region
from tests.factories import AppointmentFactory, complete_session, give_consent, muscle, needle
from treatments.services import add_point, add_side_effect, sign_session

pytestmark = pytest.mark.django_db


def pdf_text(response):
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


@pytest.fixture
def treated(draft, clinician):
    give_consent(draft.patient, accepted=(Region.GENERAL, Region.NECK), declined=(Region.MID_BACK,))
    add_point(
        draft,
        by=clinician,
        muscle=muscle("Upper trapezius"),
        side="R",
        needle_size=needle("0.25", 30),
        depth_mm=15,
        twitch_response="multiple",
        patient_response="familiar",
    )
    add_point(
        draft,
        by=clinician,
        muscle=muscle("Gluteus medius"),
        side="L",
        needle_size=needle("0.30", 60),
        depth_mm=45,
        twitch_response="single",
    )
    add_side_effect(
        draft, by=clinician, type="bruising", severity="mild", onset="immediately", duration="2 days"
    )
    complete_session(draft)
    return draft


def test_the_pdf_holds_patient_clinician_points_consent_and_side_effects(client, treated, clinician):
    client.force_login(clinician)
    AppointmentFactory(
        patient=treated.patient,
        therapist=clinician,
        start=timezone.localtime().replace(hour=10, minute=0) + timedelta(days=8),
    )
    text = " ".join(pdf_text(client.get(reverse("treatments:pdf", args=[treated.pk]))))
    assert "Côté" in text and treated.patient.chart_number in text
    assert clinician.full_name in text and clinician.clinician_profile.registration_number in text
    assert "Upper trapezius" in text and "Gluteus medius" in text and "Multiple" in text
    assert "0.25 x 30 mm" in text
    assert "Declined" in text and "Accepted" in text
    assert "Bruising" in text and "Mild" in text
    assert "short of breath" in text
    assert "Next appointment" in text and "None booked" not in text


def test_a_summary_with_20_points_fits_on_one_page(client, treated, clinician):
    for index in range(18):
        add_point(
            treated,
            by=clinician,
            muscle=muscle("Soleus"),
            side="L",
            needle_size=needle("0.30", 50),
            depth_mm=20 + index % 10,
        )
    complete_session(treated)
    sign_session(treated, by=clinician)
    client.force_login(clinician)
    pages = pdf_text(client.get(reverse("treatments:pdf", args=[treated.pk])))
    assert len(pages) == 1
    assert pages[0].count("Soleus") == 18


def test_an_unsigned_draft_is_marked_draft_on_every_page(client, treated, clinician):
    for index in range(60):  # enough rows for a second page
        add_point(
            treated,
            by=clinician,
            muscle=muscle("Soleus"),
            side="L",
            needle_size=needle("0.30", 50),
            depth_mm=20 + index % 10,
        )
    client.force_login(clinician)
    pages = pdf_text(client.get(reverse("treatments:pdf", args=[treated.pk])))
    assert len(pages) >= 2
    assert all("DRAFT" in page for page in pages)


def test_a_signed_summary_says_who_signed_and_is_not_a_draft(client, treated, clinician):
    sign_session(treated, by=clinician)
    client.force_login(clinician)
    pages = pdf_text(client.get(reverse("treatments:pdf", args=[treated.pk])))
    assert not any("DRAFT" in page for page in pages)
    assert f"Signed electronically by {clinician.full_name}" in " ".join(pages)


def test_every_download_is_audited_as_a_print(client_for, treated):
    client = client_for(Role.ADMIN)
    client.get(reverse("treatments:pdf", args=[treated.pk]))
    client.get(reverse("treatments:pdf", args=[treated.pk]))
    assert (
        AuditEvent.objects.filter(action=Action.PRINT, object_id=str(treated.pk), actor=client.user).count()
        == 2
    )


def test_the_front_desk_gets_403_and_no_pdf(client_for, treated):
    response = client_for(Role.FRONT_DESK).get(reverse("treatments:pdf", args=[treated.pk]))
    assert response.status_code == 403 and response["Content-Type"] != "application/pdf"


def test_next_appointment_is_the_one_after_this_session_not_the_visit_itself(client, treated, clinician):
    """Issue 11, part 6: a session started early for its appointment showed that same appointment as
    the "next" one."""
    visit = AppointmentFactory(
        patient=treated.patient,
        therapist=clinician,
        start=timezone.localtime().replace(hour=10, minute=0) + timedelta(days=1),
        status="arrived",
    )
    treated.__class__.objects.filter(pk=treated.pk).update(
        appointment=visit, started_at=visit.start - timedelta(minutes=10)
    )
    following = AppointmentFactory(
        patient=treated.patient, therapist=clinician, start=visit.start + timedelta(days=7)
    )
    client.force_login(clinician)
    text = " ".join(pdf_text(client.get(reverse("treatments:pdf", args=[treated.pk]))))
    next_line = text[text.index("Next appointment") :]
    assert f"{timezone.localtime(following.start):%-d %B %Y}" in next_line
    assert f"{timezone.localtime(visit.start):%-d %B %Y}" not in next_line[:80]


def test_the_depth_footnote_appears_only_when_a_row_uses_it(client, consented_draft, clinician):
    client.force_login(clinician)
    url = reverse("treatments:pdf", args=[consented_draft.pk])
    assert "advisory maximum, confirmed" not in " ".join(pdf_text(client.get(url)))
    add_point(
        consented_draft,
        by=clinician,
        muscle=muscle("Rhomboid major"),
        side="R",
        needle_size=needle("0.25", 30),
        depth_mm=22,
        depth_confirmed=True,
    )
    assert "depth beyond the muscle's advisory maximum, confirmed" in " ".join(pdf_text(client.get(url)))


def test_each_item_prints_on_its_own_line_and_free_text_keeps_its_line_breaks(client, treated, clinician):
    """The template's own line breaks are only spaces (its lines end in <br>), while a note's line breaks
    print as written."""
    complete_session(treated, history="Fell skiing in January\nWorse since")
    client.force_login(clinician)
    response = client.get(reverse("treatments:pdf", args=[treated.pk]))
    page = PdfReader(io.BytesIO(response.content)).pages[0]
    lines = [line.strip() for line in page.extract_text().splitlines()]
    patient = treated.patient
    heading = f"Patient: {patient.family_name}, {patient.given_name} · chart {patient.chart_number} · born"
    assert any(line.startswith(heading) for line in lines)
    assert "History: Fell skiing in January" in lines and "Worse since" in lines
    assert "Pain before (NRS): 6 / 10" in lines and "Pain after (NRS): 3 / 10" in lines
