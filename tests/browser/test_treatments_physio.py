"""Issue 4 item 7: a physiotherapist's needling session in a real browser, from a refused neck point to
a signed, read-only session with an addendum and its PDF; the front desk gets 403 on both."""

import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from consent.models import Region
from tests.browser.test_consent_physio import decide, draw_signature
from tests.factories import (
    ConsentFormFactory,
    FrontDeskFactory,
    PatientFactory,
    PhysioFactory,
    ScreeningFactory,
    give_consent,
)
from treatments.models import NeedlePoint, NeedlingSession, SideEffect

pytestmark = pytest.mark.django_db(transaction=True)
LUNG_FIELD = " · lung field: angle away, bracket the rib"


@pytest.fixture(autouse=True)
def catalogue():
    """Browser tests empty every table between tests, the seeded muscles and needles too."""
    from treatments.catalogue import ensure_catalogue

    ensure_catalogue()


def add_point(page, muscle_name, *, side, depth, twitch, response="None", needle_size=None, submit="click"):
    form = page.locator("#point-form")
    form.get_by_label("Muscle").select_option(label=muscle_name)
    form.get_by_label("Side").select_option(label=side)
    if needle_size:
        form.get_by_label("Needle size").select_option(label=needle_size)
    form.locator("#id_depth_mm").fill(str(depth))
    form.get_by_label("Twitch response").select_option(label=twitch)
    form.get_by_label("Patient response").select_option(label=response)
    if submit == "enter":
        form.locator("#id_depth_mm").press("Enter")
    else:
        form.get_by_role("button", name="Add point").click()


def test_physio_session_from_refused_neck_point_to_signed_pdf(page, log_in):
    consent_form = ConsentFormFactory()
    patient = PatientFactory(given_name="Zoë", family_name="Côté")
    ScreeningFactory(patient=patient)  # screened today, nothing found
    give_consent(
        patient, accepted=(Region.GENERAL, Region.MID_BACK), declined=(Region.NECK,), form=consent_form
    )
    physio = PhysioFactory(full_name="Priya Natarajan")
    log_in(physio)

    # Start a session from the chart.
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_test_id("sessions-panel").get_by_role("button", name="Start a session").click()
    page.wait_for_selector("[data-testid=points-section]")
    session = NeedlingSession.objects.get(patient=patient)
    assert "Neck (cervical): Declined" in page.get_by_test_id("consent-status").inner_text()
    page.evaluate("window.noReload = true")

    # An upper trapezius point (neck) is refused with the consent message; nothing is saved.
    add_point(
        page,
        "Upper trapezius (risk: neck)" + LUNG_FIELD,
        side="Right",
        depth=15,
        twitch="None",
        needle_size="0.25 x 30 mm",
    )
    errors = page.get_by_test_id("point-errors")
    errors.wait_for()
    assert "declined" in errors.inner_text().lower() and "neck" in errors.inner_text().lower()
    assert not NeedlePoint.objects.exists()

    # Obtain consent accepting the neck, then back to the session.
    page.goto(f"/consent/patient/{patient.pk}/new/")
    for region in (Region.GENERAL, Region.NECK, Region.MID_BACK):
        decide(page, region, "Accept")
    draw_signature(page)
    page.get_by_role("button", name="Save signed consent").click()
    page.wait_for_selector("[data-testid=decisions]")
    page.goto(f"/sessions/{session.pk}/")
    assert "Neck (cervical): Accepted" in page.get_by_test_id("consent-status").inner_text()
    page.evaluate("window.noReload = true")

    # Three points with twitch responses, added in place (htmx): from the body chart, by Enter, by click.
    page.locator("a.chart-zone[data-region=neck_posterior][data-side=R]").click()
    page.locator("#point-form input[name=region][value=neck_posterior]").wait_for(state="attached")
    assert "Gluteus medius" not in page.locator("#point-form").get_by_label("Muscle").inner_text()
    add_point(
        page,
        "Upper trapezius (risk: neck)" + LUNG_FIELD,
        side="Right",
        depth=15,
        twitch="Multiple",
        response="Familiar pain reproduced",
        needle_size="0.25 x 30 mm",
    )
    page.get_by_test_id("point-row").first.wait_for()
    # Keyboard friendly: the muscle is focused again; the needle size is carried over and says so, and
    # the side is asked again (no silent default).
    # Locator waits, not wait_for_function: the page's Content-Security-Policy forbids the eval() it uses.
    expect(page.locator("#id_muscle")).to_be_focused()
    assert page.locator("#id_needle_size option:checked").inner_text() == "0.25 x 30 mm"
    expect(page.locator("#point-form")).to_contain_text("Carried over from your last point (0.25 x 30 mm)")
    assert page.locator("#id_side option:checked").inner_text() == "Choose side"
    add_point(
        page,
        "Levator scapulae (risk: neck)" + LUNG_FIELD,
        side="Left",
        depth=12,
        twitch="Single",
        submit="enter",
    )
    expect(page.get_by_test_id("point-row")).to_have_count(2)
    add_point(
        page,
        "Gluteus medius",
        side="Left",
        depth=45,
        twitch="Single",
        response="Referred pain",
        needle_size="0.30 x 60 mm",
    )
    expect(page.get_by_test_id("point-row")).to_have_count(3)
    assert page.evaluate("window.noReload") is True
    assert page.locator("#body-chart .chart-point").count() == 3
    points = list(session.points.order_by("order").values_list("muscle__name", "twitch_response"))
    assert points == [
        ("Upper trapezius", "multiple"),
        ("Levator scapulae", "single"),
        ("Gluteus medius", "single"),
    ]

    # A mild side effect, in place.
    effects = page.get_by_test_id("side-effects-section")
    effects.get_by_label("Type").select_option(label="Bruising")
    effects.get_by_label("Severity").select_option("mild")
    effects.get_by_role("button", name="Record side effect").click()
    page.get_by_test_id("side-effect-row").wait_for()
    assert SideEffect.objects.get(session=session).severity == "mild"
    assert page.evaluate("window.noReload") is True

    # The assessment, with one needle still out: signing is refused with the message.
    page.get_by_label("Presenting complaint").fill("Right neck pain for 3 months")
    page.get_by_label("Pain before (NRS 0-10)").fill("6")
    page.get_by_label("Screening reviewed with the patient").check()
    page.get_by_label("Impression").fill("Myofascial pain, upper trapezius and levator scapulae")
    page.get_by_label("Plan").fill("IMS weekly x4, home exercises")
    page.get_by_label("Pain after (NRS 0-10)").fill("3")
    page.get_by_label("Immediate response").fill("Rotation improved")
    page.get_by_label(re.compile("heat and hydration")).check()
    page.get_by_label(re.compile("warning signs")).check()
    page.get_by_label("Needles in").fill("3")
    page.get_by_label("Needles out").fill("2")
    page.get_by_label("Sharps disposed").check()
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Session saved.").wait_for()
    page.get_by_role("button", name="Sign session").click()
    page.get_by_role("alert").filter(has_text="Needles out (2) differ from needles in (3)").wait_for()
    assert NeedlingSession.objects.get(pk=session.pk).signed_at is None

    page.get_by_label("Needles out").fill("3")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Session saved.").wait_for()
    page.get_by_role("button", name="Sign session").click()
    page.get_by_text("Session signed.").wait_for()
    session.refresh_from_db()
    assert session.signed_at is not None and session.signed_by == physio and len(session.content_hash) == 64

    # Read-only now: no forms to change it, only addenda.
    assert page.get_by_role("button", name="Add point").count() == 0
    assert page.get_by_role("button", name="Save draft").count() == 0
    assert page.get_by_role("button", name="Record side effect").count() == 0
    page.get_by_label("Addendum").fill("Phoned next day: soreness settled.")
    page.get_by_role("button", name="Add addendum").click()
    expect(page.get_by_test_id("addenda")).to_contain_text("Phoned next day: soreness settled.")

    # The PDF: the points read back from it.
    with page.expect_download() as download_info:
        page.get_by_test_id("pdf-link").click()
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(download_info.value.path()).pages)
    for name in ("Upper trapezius", "Levator scapulae", "Gluteus medius"):
        assert name in text
    assert text.count("Multiple") == 1 and text.count("Single") == 2
    assert "Bruising" in text and "Signed electronically by Priya Natarajan" in text and "DRAFT" not in text

    # The front desk: 403 on the session and its PDF.
    page.get_by_role("button", name="Log out").click()
    log_in(FrontDeskFactory())
    assert page.goto(f"/sessions/{session.pk}/").status == 403
    assert page.request.get(f"/sessions/{session.pk}/visit-summary.pdf").status == 403


def test_physio_starts_a_session_without_consent_and_cannot_add_any_point_until_it_is_on_file(page, log_in):
    consent_form = ConsentFormFactory()
    patient = PatientFactory(given_name="Zoë", family_name="Côté")
    ScreeningFactory(patient=patient)
    physio = PhysioFactory(full_name="Priya Natarajan")
    log_in(physio)

    # The session starts (assessment first); the screen says plainly that no point can be added.
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_test_id("sessions-panel").get_by_role("button", name="Start a session").click()
    page.wait_for_selector("[data-testid=points-section]")
    session = NeedlingSession.objects.get(patient=patient)
    warning = page.get_by_test_id("no-needling-consent")
    expect(warning).to_contain_text("No point can be added until consent is on file")
    assert "General: No consent" in page.get_by_test_id("consent-status").inner_text()
    page.evaluate("window.noReload = true")

    # A gluteus medius point (no risk region) is refused in place with the consent message.
    add_point(page, "Gluteus medius", side="Left", depth=45, twitch="Single", needle_size="0.30 x 60 mm")
    errors = page.get_by_test_id("point-errors")
    errors.wait_for()
    assert "No consent for needling is on file for Zoë Côté" in errors.inner_text()
    assert page.evaluate("window.noReload") is True
    assert not NeedlePoint.objects.exists()

    # Consent obtained during the visit (the general risks only): the same point is now added.
    give_consent(patient, accepted=(Region.GENERAL,), form=consent_form)
    page.goto(f"/sessions/{session.pk}/")
    expect(page.get_by_test_id("no-needling-consent")).to_have_count(0)
    assert "General: Accepted" in page.get_by_test_id("consent-status").inner_text()
    add_point(page, "Gluteus medius", side="Left", depth=45, twitch="Single", needle_size="0.30 x 60 mm")
    page.get_by_test_id("point-row").first.wait_for()
    assert list(session.points.values_list("muscle__name", flat=True)) == ["Gluteus medius"]
