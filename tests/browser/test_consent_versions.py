"""Issue 14 part 4: the administrator drafts a consent form version in the app, not in the Django admin:
a new draft from the current one (text and risks copied), an edit refused with a message then saved, a
preview as the patient sees it, the changes from the current version, then Publish; a physiotherapist
then obtains consent on it. Other roles get 403."""

import re

import pytest

from audit.models import Action, AuditEvent
from consent.models import ConsentForm
from tests.factories import AdminFactory, ConsentFormFactory, ManagerFactory, PatientFactory, PhysioFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_administrator_drafts_previews_compares_and_publishes(page, log_in):
    current = ConsentFormFactory(version="2026.1", body="What IMS is.\nIts benefits and its risks.")
    admin = AdminFactory(full_name="Alex Chen")
    log_in(admin)

    page.get_by_test_id("home-consent-versions").get_by_role("link", name="Consent form versions").click()
    assert page.locator("tr[data-version='2026.1']").get_by_text("In effect").is_visible()
    page.get_by_role("button", name="New draft from the current version").click()
    page.wait_for_url(re.compile(r"/consent/versions/\d+/$"))
    assert "copied from the current version" in page.locator("body").inner_text()
    assert page.get_by_label("Version").input_value() == "2026.2"
    assert page.get_by_label("Body").input_value() == current.body
    assert page.locator("#id_risks-1-title").input_value() == current.risks.get(region="neck").title

    # Bad input: the text emptied and the general risk removed; a message, nothing saved.
    page.get_by_label("Body").fill("")
    page.locator("#id_risks-0-DELETE").check()
    page.get_by_role("button", name="Save draft").click()
    errors = page.get_by_test_id("form-errors").inner_text()
    assert "Nothing was saved" in errors and "general risks of needling" in errors
    draft = ConsentForm.objects.get(version="2026.2")
    assert draft.body == current.body and draft.risks.count() == 3

    page.get_by_label("Body").fill("What IMS is.\nIts benefits, its risks <and> what to expect afterwards.")
    page.locator("#id_risks-0-DELETE").uncheck()
    page.locator("#id_risks-3-order").fill("3")
    page.locator("#id_risks-3-region").select_option("general")
    page.locator("#id_risks-3-title").fill("Fainting")
    page.locator("#id_risks-3-description").fill("Some people feel faint during needling.")
    page.get_by_role("button", name="Save draft").click()
    assert "Draft version 2026.2 saved." in page.locator("body").inner_text()
    assert draft.risks.count() == 4

    page.get_by_role("link", name="Preview as the patient sees it").click()
    assert "Nothing can be signed here" in page.get_by_test_id("preview-note").inner_text()
    assert "what to expect afterwards" in page.get_by_test_id("consent-body").inner_text()
    assert page.get_by_test_id("risk").count() == 4
    assert page.locator("[data-testid=risk] input[type=radio]").first.is_disabled()

    page.goto(f"/consent/versions/{draft.pk}/publish/")
    assert "Compared with version 2026.1" in page.locator("main, body").first.inner_text()
    added = page.locator("[data-change=added]").all_inner_texts()
    removed = page.locator("[data-change=removed]").all_inner_texts()
    assert any("Its benefits, its risks <and> what to expect afterwards." in row for row in added)
    assert any("Its benefits and its risks." in row for row in removed)
    assert any("Risk (General): Fainting" in row for row in added)
    page.get_by_role("button", name="Publish version 2026.2").click()
    page.wait_for_url(re.compile(r"/consent/versions/$"))
    assert "Version 2026.2 published." in page.locator("body").inner_text()
    draft.refresh_from_db()
    assert draft.is_published and draft.published_by == admin
    assert AuditEvent.objects.filter(action=Action.PUBLISH, object_id=str(draft.pk)).exists()

    # Published: its page shows it read-only; nothing to edit.
    page.goto(f"/consent/versions/{draft.pk}/")
    assert "never changes" in page.get_by_test_id("published-note").inner_text()
    assert page.locator("textarea, input[name=version]").count() == 0

    # A physiotherapist now obtains consent on it, with the risk the draft added.
    page.get_by_role("button", name="Log out").click()
    patient = PatientFactory()
    log_in(PhysioFactory())
    page.goto(f"/consent/patient/{patient.pk}/new/")
    assert "version 2026.2" in page.locator("h1").inner_text()
    assert page.locator("[data-testid=risk]").get_by_text("General: Fainting").is_visible()


@pytest.mark.parametrize("factory", [ManagerFactory, PhysioFactory])
def test_other_roles_get_403_on_the_version_pages(page, log_in, factory):
    draft = ConsentFormFactory(published_at=None)
    log_in(factory())
    for url in (
        "/consent/versions/",
        f"/consent/versions/{draft.pk}/",
        f"/consent/versions/{draft.pk}/preview/",
    ):
        assert page.goto(url).status == 403
    assert page.get_by_role("link", name="Consent form versions").count() == 0
