"""Issue 11 in a real browser: a contraindicated point refused with the item named (and a point entered in
error removed), a precaution acknowledged before a neck point, and an incident opened by a serious side
effect, seen and closed by the manager."""

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.factories import (
    ConsentFormFactory,
    ManagerFactory,
    PatientFactory,
    PhysioFactory,
    ScreeningFactory,
    give_consent,
)
from treatments.models import Incident, NeedlePoint, NeedlingSession, PointRemoval

pytestmark = pytest.mark.django_db(transaction=True)
LUNG_FIELD = " · lung field: angle away, bracket the rib"


def add_point(page, muscle_name, *, side, depth, needle_size):
    form = page.locator("#point-form")
    form.get_by_label("Muscle").select_option(label=muscle_name)
    form.get_by_label("Side").select_option(label=side)
    form.get_by_label("Needle size").select_option(label=needle_size)
    form.locator("#id_depth_mm").fill(str(depth))
    form.get_by_role("button", name="Add point").click()


def start_session(page, patient):
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_test_id("sessions-panel").get_by_role("button", name="Start a session").click()
    page.wait_for_selector("[data-testid=points-section]")
    return NeedlingSession.objects.get(patient=patient)


def test_a_right_calf_point_under_cellulitis_of_the_right_calf_is_refused_naming_it(page, log_in):
    patient = PatientFactory(given_name="Noor", family_name="Haddad")
    ScreeningFactory(
        patient=patient,
        infection_at_site=True,
        infection_at_site_note="Cellulitis right calf",
        infection_at_site_site=["calf"],
        infection_at_site_side="R",
    )
    give_consent(patient, form=ConsentFormFactory())
    physio = PhysioFactory(full_name="Daniel Okafor")
    log_in(physio)
    session = start_session(page, patient)

    # Said before any point is tried.
    expect(page.get_by_test_id("contraindication")).to_contain_text(
        "Infection at the site (Cellulitis right calf) · Calf, right: no needling at the site: calf, right."
    )
    page.evaluate("window.noReload = true")
    add_point(page, "Gastrocnemius (lateral head)", side="Right", depth=25, needle_size="0.30 x 50 mm")
    errors = page.get_by_test_id("point-errors")
    errors.wait_for()
    assert "Infection at the site (Cellulitis right calf)" in errors.inner_text()
    assert "is a contraindication" in errors.inner_text()
    assert not NeedlePoint.objects.exists()

    # The other calf is needled; entered on the wrong side by mistake, it is removed with a reason.
    add_point(page, "Gastrocnemius (lateral head)", side="Left", depth=25, needle_size="0.30 x 50 mm")
    page.get_by_test_id("point-row").first.wait_for()
    assert page.evaluate("window.noReload") is True
    page.get_by_test_id("remove-point").locator("summary").click()
    page.get_by_label("Why is point 1 removed?").fill("Entered in error: the left calf was not needled")
    page.get_by_role("button", name="Remove point 1").click()
    page.get_by_test_id("removed-point-row").wait_for()
    expect(page.get_by_test_id("removed-point-row")).to_contain_text("Entered in error: the left calf")
    assert PointRemoval.objects.get().point.session == session
    assert page.locator("#body-chart .chart-point").count() == 0


def test_a_precaution_is_acknowledged_before_a_neck_point_and_shown_on_the_visit_summary(page, log_in):
    patient = PatientFactory(given_name="Thảo", family_name="Nguyễn")
    ScreeningFactory(patient=patient, previous_pneumothorax=True, previous_pneumothorax_note="Left, 2019")
    give_consent(patient, form=ConsentFormFactory())
    physio = PhysioFactory(full_name="Priya Natarajan")
    log_in(physio)
    session = start_session(page, patient)
    precaution = page.get_by_test_id("precaution")
    expect(precaution).to_contain_text("Previous pneumothorax (Left, 2019) (neck and mid back points)")
    expect(precaution).to_contain_text("not acknowledged for this session")

    add_point(
        page, "Upper trapezius (risk: neck)" + LUNG_FIELD, side="Right", depth=12, needle_size="0.25 x 30 mm"
    )
    errors = page.get_by_test_id("point-errors")
    errors.wait_for()
    assert "acknowledge it for this session" in errors.inner_text()
    assert not NeedlePoint.objects.exists()

    page.get_by_test_id("acknowledge-form").get_by_label("Previous pneumothorax").check()
    page.get_by_role("button", name="Acknowledge for this session").click()
    page.get_by_test_id("precaution-acknowledged").wait_for()
    add_point(
        page, "Upper trapezius (risk: neck)" + LUNG_FIELD, side="Right", depth=12, needle_size="0.25 x 30 mm"
    )
    page.get_by_test_id("point-row").first.wait_for()
    assert session.points.count() == 1

    with page.expect_download() as download_info:
        page.get_by_test_id("pdf-link").click()
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(download_info.value.path()).pages)
    assert (
        "Precaution: Previous pneumothorax (Left, 2019) (neck and mid back points): acknowledged by Priya"
        in text
    )


def test_a_serious_side_effect_opens_an_incident_that_the_manager_sees_follows_up_and_closes(
    page, log_in, mailoutbox
):
    patient = PatientFactory(given_name="Ben", family_name="Carter")
    ScreeningFactory(patient=patient)
    give_consent(patient, form=ConsentFormFactory())
    physio = PhysioFactory(full_name="Priya Natarajan")
    manager = ManagerFactory(full_name="Grace Whitfield", email="grace@clinic.test")
    log_in(physio)
    session = start_session(page, patient)

    effects = page.get_by_test_id("side-effects-section")
    effects.get_by_label("Type").select_option(label="Suspected pneumothorax")
    effects.get_by_label("Severity").select_option("serious")
    effects.get_by_label("Action taken").fill("Sent to the emergency department")
    effects.get_by_role("button", name="Record side effect").click()
    page.get_by_test_id("side-effect-incident").wait_for()
    incident = Incident.objects.get(session=session)
    assert incident.is_open
    assert any("grace@clinic.test" in mail.to for mail in mailoutbox)

    # The clinician's home page says so at once.
    page.goto("/")
    expect(page.get_by_test_id("incident-banner")).to_contain_text("Suspected pneumothorax (serious)")

    # So does the manager's, who follows it up and closes it.
    page.get_by_role("button", name="Log out").click()
    log_in(manager)
    banner = page.get_by_test_id("incident-banner")
    expect(banner).to_contain_text(patient.chart_number)
    banner.get_by_test_id("incident-link").click()
    page.locator("#id_kind").select_option(label="Follow-up contact with the patient")
    page.locator("#id_contact_method").select_option(label="Phone")
    page.locator("#id_text").fill("Called the next morning: chest drain out, breathing well")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_test_id("incident-entries")).to_contain_text("chest drain out, breathing well")
    page.locator("#id_note").fill("Admitted overnight; recovered fully.")
    page.get_by_role("button", name="Close the incident").click()
    expect(page.get_by_test_id("incident-status")).to_contain_text("Closed")
    incident.refresh_from_db()
    assert incident.closed_by == manager and not incident.is_open

    page.goto("/reports/safety/")
    expect(page.get_by_test_id("open-incidents")).to_contain_text("No open incident")
