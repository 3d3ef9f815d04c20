"""Issue 3 item 9: a physiotherapist obtains consent in the browser (declining mid back, accepting the
neck, signing with the mouse on the canvas) and downloads the PDF, whose decisions the test reads back;
the front desk gets 403 on the consent detail and the PDF."""

import re

import pytest
from pypdf import PdfReader

from audit.models import Action, AuditEvent
from consent.models import ConsentRecord, Region
from consent.selectors import allowed_regions
from tests.factories import ConsentFormFactory, FrontDeskFactory, PatientFactory, PhysioFactory

pytestmark = pytest.mark.django_db(transaction=True)


def decide(page, region, choice):
    page.locator(f"[data-testid=risk][data-region={region}]").get_by_label(choice).check()


def draw_signature(page):
    canvas = page.get_by_test_id("signature-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y = box["x"] + 30, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 25):
        page.mouse.move(x + step * 12, y + (18 if step % 4 < 2 else -18), steps=3)
    page.mouse.up()


def test_physio_obtains_consent_declining_mid_back_and_reads_the_pdf(page, log_in):
    consent_form = ConsentFormFactory()
    patient = PatientFactory(given_name="Amélie", family_name="Bélanger")
    physio = PhysioFactory(full_name="Priya Sandhu")
    log_in(physio)

    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="Obtain consent").click()
    assert consent_form.body in page.get_by_test_id("consent-body").inner_text()
    decide(page, Region.GENERAL, "Accept")
    decide(page, Region.NECK, "Accept")
    decide(page, Region.MID_BACK, "Decline")

    # Sent without a signature: a clear message, nothing saved, the decisions kept.
    page.get_by_role("button", name="Save signed consent").click()
    assert page.get_by_test_id("signature-error").inner_text().startswith("The signer has not signed")
    assert not ConsentRecord.objects.exists()
    assert page.locator("[data-testid=risk][data-region=mid_back]").get_by_label("Decline").is_checked()

    draw_signature(page)
    page.get_by_role("button", name="Save signed consent").click()
    page.wait_for_selector("[data-testid=decisions]")

    consent = ConsentRecord.objects.get(patient=patient)
    assert consent.explained_by == physio and consent.signature.startswith("data:image/svg+xml;base64,")
    assert allowed_regions(patient) == {Region.GENERAL, Region.NECK}
    assert page.get_by_test_id("signature").is_visible()

    with page.expect_download() as download_info:
        page.get_by_test_id("consent-pdf").click()
    download = download_info.value
    assert download.suggested_filename == f"consent-{patient.chart_number}-{consent.pk}.pdf"
    reader = PdfReader(download.path())
    text = "\n".join(p.extract_text() for p in reader.pages)
    rows = "\n".join(re.sub(r"\s+", "", line) for line in text.split("Risks and decisions")[1].splitlines())
    decisions = re.findall(r"^(General|Neck|Midback).*?(Accepted|Declined)$", rows, re.S | re.M)
    assert decisions == [("General", "Accepted"), ("Neck", "Accepted"), ("Midback", "Declined")]
    assert "PriyaSandhu" in re.sub(r"\s+", "", text)
    assert AuditEvent.objects.filter(action=Action.PRINT, object_id=str(consent.pk), actor=physio).exists()

    # The front desk: 403 on the consent detail and on the PDF; the chart says only what is on file.
    page.get_by_role("button", name="Log out").click()
    log_in(FrontDeskFactory())
    assert page.goto(f"/consent/{consent.pk}/").status == 403
    assert page.request.get(f"/consent/{consent.pk}/pdf/").status == 403
    page.goto(f"/patients/{patient.pk}/")
    panel = page.get_by_test_id("consent-panel").inner_text()
    assert panel.count("Not on file") == 1 and panel.count("On file") == 2
    assert "Declined" not in panel
