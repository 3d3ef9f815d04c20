"""The aftercare handout (issue 15): one page in plain words, apart from the clinical visit summary."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from audit.models import Action, AuditEvent
from tests.factories import AppointmentFactory, complete_session, muscle, needle
from treatments.aftercare import NOTES_FIT, handout_pdf, what_was_done
from treatments.services import add_point, sign_session

pytestmark = pytest.mark.django_db

# What the visit summary says and the handout must not: muscles, technique, needle sizes, the hash.
JARGON = [
    "SHA-256",
    "trapezius",
    "Rhomboid",
    "Gluteus",
    "twitch",
    "pistoning",
    "NRS",
    "0.25",
    "mm",
    "Technique",
]


def text_of(pdf):
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def needle_points(session, by, places, **fields):
    for name, side, depth in places:
        add_point(
            session, by=by, muscle=muscle(name), side=side, needle_size=needle("0.30", 60), depth_mm=depth,
            twitch_response="single",
        )  # fmt: skip
    return complete_session(session, **fields)


@pytest.fixture
def neck_session(consented_draft, clinician):
    """Six needles in the upper back and neck, on both sides; signed."""
    places = [
        (name, side, depth)
        for name, depth in [("Upper trapezius", 12), ("Levator scapulae", 12), ("Rhomboid major", 10)]
        for side in "LR"
    ]
    return sign_session(needle_points(consented_draft, clinician, places), by=clinician)


@pytest.fixture
def calf_session(draft, clinician):
    """Two needles in the right calf and buttock: no risk region, no warning signs given; signed."""
    places = [("Gastrocnemius (medial head)", "R", 20), ("Gluteus medius", "R", 40)]
    session = needle_points(draft, clinician, places, aftercare_warning_signs=False)
    return sign_session(session, by=clinician)


def test_it_says_what_was_done_in_plain_words(neck_session):
    pages, text = text_of(handout_pdf(neck_session))
    assert pages == 1
    assert "We placed six fine needles in the muscles of your neck and upper back, on both sides." in text
    assert "Soreness" in text and "20 minutes" in text and "2 days" in text
    assert "Heat" in text and "water" in text and "Gentle movement" in text


def test_it_holds_no_jargon_of_the_visit_summary(neck_session):
    _pages, text = text_of(handout_pdf(neck_session))
    for word in JARGON:
        assert word.lower() not in text.lower(), word
    assert neck_session.content_hash not in text.replace(" ", "")


def test_neck_and_mid_back_points_bring_the_warning_signs(neck_session):
    _pages, text = text_of(handout_pdf(neck_session))
    assert "Warning signs: get help at once" in text
    for sign in ["shortness of breath", "chest pain", "pain when you breathe in", "9-1-1", "next 2 days"]:
        assert sign in text
    assert "Say that you had dry needling over the chest or neck" in text


def test_a_session_away_from_the_chest_has_only_when_to_call_us(calf_session):
    _pages, text = text_of(handout_pdf(calf_session))
    assert "Warning signs" not in text and "shortness of breath" not in text
    assert "When to call us" in text
    assert "calf" in text and "buttock" in text and "on the right side" in text


def test_a_long_session_with_both_risk_regions_still_fits_one_page(consented_draft, clinician, settings):
    settings.CLINIC_ADDRESS = "1234 West Broadway, Suite 200\nVancouver, BC V6H 1G9"
    names = ["Upper trapezius", "Levator scapulae", "Rhomboid major", "Middle trapezius", "Lower trapezius",
             "Pectoralis major", "Infraspinatus", "Supraspinatus", "Gluteus medius", "Quadratus lumborum",
             "Triceps brachii", "Extensor digitorum"]  # fmt: skip
    places = [(name, side, 10) for name in names for side in "LR"]
    notes = ("Walk for 20 minutes each day. " * 30)[:NOTES_FIT]
    session = sign_session(
        needle_points(consented_draft, clinician, places, aftercare_notes=notes), by=clinician
    )
    pages, text = text_of(handout_pdf(session))
    assert pages == 1
    assert "24 fine needles" in text and "Warning signs" in text and "Vancouver, BC" in text
    assert "Walk for 20 minutes each day." in text


def test_notes_longer_than_the_page_holds_are_asked_for(consented_draft, clinician):
    places = [("Rhomboid major", "L", 10)]
    session = needle_points(consented_draft, clinician, places, aftercare_notes="Stretch gently. " * 600)
    pages, text = text_of(handout_pdf(sign_session(session, by=clinician)))
    assert pages == 1
    assert "Stretch gently" not in text
    assert "more advice for you than fits on this page: ask us for a copy" in text


def test_it_shows_the_clinic_and_the_next_appointment(neck_session, clinician, settings):
    settings.CLINIC_NAME = "Kitsilano Physio"
    settings.CLINIC_ADDRESS = "1234 West Broadway, Vancouver"
    settings.CLINIC_PHONE = "604-555-0134"
    start = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=8)
    AppointmentFactory(patient=neck_session.patient, therapist=clinician, start=start)
    _pages, text = text_of(handout_pdf(neck_session))
    assert "Kitsilano Physio" in text and "1234 West Broadway, Vancouver" in text and "604-555-0134" in text
    # pypdf splits some kerned pairs ("T uesday"): compare without spaces.
    expected = f"{start:%A} {start.day} {start:%B %Y} at 10:00 with Priya Natarajan"
    assert expected.replace(" ", "") in text.replace(" ", "")


def test_without_a_booking_it_asks_the_patient_to_call(neck_session):
    _pages, text = text_of(handout_pdf(neck_session))
    assert "None booked yet: call us to book one." in text


def test_what_was_done_counts_one_needle_in_words():
    class Point:
        side = "L"

        class muscle:  # noqa: N801
            body_region = "calf"

    assert (
        what_was_done([Point()]) == "We placed one fine needle in the muscles of your calf, on the left side."
    )
    assert what_was_done([]) == "No needles were placed today."


def test_the_clinician_prints_it_audited(client, neck_session, clinician):
    client.force_login(clinician)
    response = client.get(reverse("treatments:aftercare", args=[neck_session.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith("inline")
    assert text_of(response.content)[0] == 1
    assert AuditEvent.objects.filter(
        action=Action.PRINT, object_id=str(neck_session.pk), detail="aftercare handout"
    ).exists()


def test_a_signed_session_screen_links_the_handout_and_a_draft_does_not(client, neck_session, clinician):
    from tests.factories import NeedlingSessionFactory

    client.force_login(clinician)
    url = reverse("treatments:aftercare", args=[neck_session.pk])
    assert url in client.get(reverse("treatments:session", args=[neck_session.pk])).content.decode()
    draft = NeedlingSessionFactory(patient=neck_session.patient, clinician=clinician)
    page = client.get(reverse("treatments:session", args=[draft.pk])).content.decode()
    assert reverse("treatments:aftercare", args=[draft.pk]) not in page
