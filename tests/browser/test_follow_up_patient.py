"""Issue 15: the day after needling over the mid back, the patient opens the follow-up link in a browser that
never logged in, reports shortness of breath and is told what to do now; the clinician's home page shows the
alert."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

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
from treatments.followup import send_follow_up
from treatments.services import add_point, sign_session

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_warning_sign_tells_the_patient_what_to_do_and_alerts_the_clinician(
    page, log_in, browser, live_server, settings
):
    settings.CLINIC_URL = live_server.url
    physio = PhysioFactory(full_name="Priya Natarajan")
    patient = PatientFactory(given_name="Zoë", family_name="Côté", email="zoe@example.test")
    ScreeningFactory(patient=patient)
    give_consent(patient, by=physio)
    session = NeedlingSessionFactory(patient=patient, clinician=physio)
    add_point(
        session, by=physio, muscle=muscle("Rhomboid major"), side="L", needle_size=needle("0.30", 60),
        depth_mm=10, twitch_response="single",
    )  # fmt: skip
    session = sign_session(complete_session(session), by=physio)
    mail.outbox.clear()
    send_follow_up(session)
    (message,) = mail.outbox
    link = re.search(r"https?://\S+/p/follow-up/\S+/", message.body).group(0)

    patient_browser = browser.new_context()  # a fresh context: never logged in
    try:
        form = patient_browser.new_page()
        form.goto(link)
        expect(form.get_by_role("heading", name="How are you today?")).to_be_visible()
        form.get_by_label("4", exact=True).check()
        form.get_by_label("No", exact=True).check()
        form.get_by_label("Shortness of breath").check()
        form.get_by_role("button", name="Send my answers").click()
        advice = form.get_by_test_id("what-to-do-now")
        expect(advice).to_contain_text("Seek medical care at once")
        expect(advice).to_contain_text("call 9-1-1")
        expect(advice).to_contain_text("dry needling over the chest or neck")
    finally:
        patient_browser.close()

    log_in(physio)
    page.goto("/")
    expect(page.get_by_test_id("incident-banner")).to_contain_text("shortness of breath")
