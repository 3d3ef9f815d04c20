"""Issue 15: the physiotherapist signs a session choosing to e-mail the aftercare handout as a link; the
patient opens the link in a browser that never logged in and gets the handout."""

import io
import re

import pytest
from django.core import mail
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.factories import (
    NeedlingSessionFactory,
    PatientFactory,
    PhysioFactory,
    ScreeningFactory,
    complete_session,
    give_consent,
    muscle,
    needle,
)
from treatments.services import add_point

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_and_e_mail_the_handout_link_which_opens_without_login(page, log_in, browser):
    physio = PhysioFactory(full_name="Priya Natarajan")
    patient = PatientFactory(given_name="Zoë", family_name="Côté", email="zoe@example.test")
    ScreeningFactory(patient=patient)
    give_consent(patient, by=physio)
    session = NeedlingSessionFactory(patient=patient, clinician=physio)
    add_point(
        session, by=physio, muscle=muscle("Upper trapezius"), side="R", needle_size=needle("0.30", 60),
        depth_mm=12, twitch_response="single",
    )  # fmt: skip
    complete_session(session)
    mail.outbox.clear()

    log_in(physio)
    page.goto(f"/sessions/{session.pk}/")
    choices = page.get_by_test_id("handout-choice")
    expect(choices).to_contain_text("E-mail as attachment")
    choices.get_by_label("E-mail to patient (link)").check()
    page.get_by_role("button", name="Sign session").click()
    expect(page.get_by_test_id("signed-status")).to_contain_text("Signed")
    expect(page.get_by_role("alert").filter(has_text="aftercare handout is on its way")).to_contain_text(
        "zoe@example.test"
    )

    (message,) = mail.outbox
    link = re.search(r"https?://\S+/p/aftercare/\S+/", message.body).group(0)
    assert "trapezius" not in message.body.lower()

    # The patient's browser: a fresh context, never logged in.
    patient_browser = browser.new_context()
    try:
        response = patient_browser.request.get(link)
        assert response.status == 200
        assert response.headers["content-type"] == "application/pdf"
        text = PdfReader(io.BytesIO(response.body())).pages[0].extract_text()
        assert "Your aftercare" in text and "Warning signs" in text
        # An altered link gets the plain "expired" page, in the same fresh browser.
        page_of_patient = patient_browser.new_page()
        page_of_patient.goto(link[:-3] + "x/")
        expect(page_of_patient.get_by_role("heading")).to_have_text("This link has expired")
    finally:
        patient_browser.close()
