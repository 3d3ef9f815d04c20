"""The administrator's main flow in a real browser: draft a consent form version with its risks in the
administration, publish it, and see it become what a physiotherapist opens for a patient; a published
version can no longer be edited there."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from consent.models import ConsentForm
from tests.factories import AdminFactory, PatientFactory, PhysioFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_administrator_drafts_and_publishes_a_version_that_physios_then_use(page, log_in, live_server):
    admin = AdminFactory(full_name="Alex Chen")
    log_in(admin)

    page.goto("/admin/consent/consentform/add/")
    page.get_by_label("Title").fill("Consent to IMS / dry needling")
    page.get_by_label("Version").fill("2026.2")
    page.get_by_label("Effective date").fill((timezone.localdate() - timedelta(days=1)).isoformat())
    page.get_by_label("Body").fill("What IMS is, its benefits and risks; accept or decline each risk.")
    risks = [
        ("general", "Soreness, bruising, fainting"),
        ("neck", "Neck: collapsed lung (pneumothorax)"),
        ("mid_back", "Mid back: collapsed lung (pneumothorax)"),
    ]
    for row, (region, title) in enumerate(risks):
        page.locator(f"#id_risks-{row}-order").fill(str(row))
        page.locator(f"#id_risks-{row}-region").select_option(region)
        page.locator(f"#id_risks-{row}-title").fill(title)
        page.locator(f"#id_risks-{row}-description").fill(title + ".")
    page.locator("input[name=_save]").click()
    page.wait_for_url(re.compile(r"/admin/consent/consentform/$"))
    draft = ConsentForm.objects.get(version="2026.2")
    assert draft.published_at is None and draft.risks.count() == 3

    # Publish it with the list's action.
    page.locator(f"input[name=_selected_action][value='{draft.pk}']").check()
    page.locator("select[name=action]").select_option("publish_selected")
    page.locator("button[name=index]").click()
    assert "Version 2026.2 published." in page.locator(".messagelist").inner_text()
    draft.refresh_from_db()
    assert draft.published_at is not None and draft.published_by == admin

    # Published: its text and risks are shown, no longer editable, in the administration.
    page.goto(f"/admin/consent/consentform/{draft.pk}/change/")
    assert page.locator("textarea[name=body], input[name=title], input[name=version]").count() == 0
    assert page.locator("#id_risks-0-title").count() == 0
    assert "accept or decline each risk" in page.locator("#content").inner_text()

    # A physiotherapist now obtains consent on this version.
    page.get_by_role("button", name="Log out").click()
    patient = PatientFactory()
    log_in(PhysioFactory())
    page.goto(f"/consent/patient/{patient.pk}/new/")
    assert "version 2026.2" in page.locator("h1").inner_text()
    assert "Neck: collapsed lung (pneumothorax)" in page.locator("main, #content, body").first.inner_text()
