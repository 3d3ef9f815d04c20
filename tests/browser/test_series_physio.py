"""Issue 14 part 2, "A series of treatments", in a real browser: repeating the last session with the
refused points listed, the chart's course of care (pain before and after, points, regions, side effects,
the plan's review date), the Patient-Specific Functional Scale scored, trended and exported."""

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from consent.models import Region
from tests.factories import (
    ManagerFactory,
    NeedlingSessionFactory,
    PatientFactory,
    PhysioFactory,
    ScreeningFactory,
    complete_session,
    give_consent,
    muscle,
    needle,
)
from treatments.models import NeedlingSession, OutcomeMeasure, SideEffect
from treatments.outcomes import record_psfs
from treatments.services import add_point, sign_session

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def catalogue():
    """Browser tests empty every table between tests, the seeded muscles and needles too."""
    from treatments.catalogue import ensure_catalogue

    ensure_catalogue()


@pytest.fixture
def physio():
    return PhysioFactory(full_name="Priya Natarajan")


@pytest.fixture
def patient():
    patient = PatientFactory(given_name="Zoë", family_name="Côté")
    ScreeningFactory(patient=patient, answered_at=timezone.now() - timedelta(days=8))
    give_consent(patient)
    return patient


def signed_session(patient, physio, days_ago, points, pain=(6, 3), effects=(), review_in=None):
    started = timezone.now() - timedelta(days=days_ago)
    session = NeedlingSessionFactory(patient=patient, clinician=physio, started_at=started)
    for name, side, size, depth in points:
        add_point(
            session, by=physio, muscle=muscle(name), side=side, needle_size=needle(*size), depth_mm=depth
        )
    for kind in effects:
        SideEffect.objects.create(session=session, type=kind, severity="mild")
    review = timezone.localdate() + timedelta(days=review_in) if review_in is not None else None
    complete_session(session, pain_before=pain[0], pain_after=pain[1], review_on=review)
    return sign_session(session, by=physio)


GLUTEUS = ("Gluteus medius", "R", ("0.30", 60), 40)
NECK = ("Upper trapezius", "L", ("0.25", 30), 15)
CALF = ("Gastrocnemius (lateral head)", "R", ("0.30", 50), 25)


def test_repeat_last_session_lists_the_points_today_refuses(page, log_in, physio, patient):
    signed_session(patient, physio, 7, [GLUTEUS, NECK, CALF])
    # Since then the patient declined the neck risk, and a new screening found cellulitis of the right calf.
    give_consent(patient, accepted=(Region.GENERAL, Region.MID_BACK), declined=(Region.NECK,))
    ScreeningFactory(
        patient=patient,
        infection_at_site=True,
        infection_at_site_note="Cellulitis right calf",
        infection_at_site_site=["calf"],
        infection_at_site_side="R",
    )
    log_in(physio)
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_test_id("sessions-panel").get_by_role("button", name="Repeat last session").click()

    refused = page.get_by_test_id("repeat-refused")
    expect(refused).to_be_visible()
    items = page.get_by_test_id("repeat-refused-point").all_inner_texts()
    assert len(items) == 2
    assert items[0].startswith("2. Upper trapezius (Left)") and "declined the neck risk" in items[0]
    assert (
        items[1].startswith("3. Gastrocnemius (lateral head) (Right)") and "Cellulitis right calf" in items[1]
    )
    rows = page.get_by_test_id("point-row")
    expect(rows).to_have_count(1)
    assert "Gluteus medius" in rows.first.inner_text()
    draft = NeedlingSession.objects.get(patient=patient, signed_at__isnull=True)
    assert [p.muscle.name for p in draft.points.all()] == ["Gluteus medius"]
    # A reload keeps the list; the empty-draft button is gone now the draft has a point.
    page.reload()
    expect(page.get_by_test_id("repeat-refused")).to_be_visible()
    expect(page.get_by_test_id("repeat-form")).to_have_count(0)


def test_an_empty_draft_repeats_the_last_session_when_today_allows_every_point(page, log_in, physio, patient):
    signed_session(patient, physio, 7, [GLUTEUS, CALF])
    log_in(physio)
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_test_id("sessions-panel").get_by_role("button", name="Start a session").click()
    page.get_by_test_id("repeat-form").get_by_role("button").click()
    expect(page.get_by_test_id("point-row")).to_have_count(2)
    expect(page.get_by_test_id("repeat-refused")).to_have_count(0)


def test_the_course_of_care_draws_the_sessions_with_their_table_and_review_date(
    page, log_in, physio, patient
):
    signed_session(patient, physio, 14, [GLUTEUS, NECK], pain=(7, 4), effects=["bruising"])
    signed_session(patient, physio, 7, [GLUTEUS], pain=(5, 2), review_in=10)
    log_in(physio)
    page.goto(f"/patients/{patient.pk}/")
    course = page.get_by_test_id("course-of-care")
    expect(course).to_be_visible()
    review = timezone.localdate() + timedelta(days=10)
    expect(course.get_by_test_id("plan-review-date")).to_contain_text(f"{review:%Y-%m-%d} (in 10 days)")
    chart = course.locator("svg[data-chart=course-pain]")
    assert chart.locator("g[data-series='Pain before'] circle").count() == 2
    assert [
        c.get_attribute("data-value") for c in chart.locator("g[data-series='Pain after'] circle").all()
    ] == [
        "4",
        "2",
    ]
    assert chart.locator("g[data-marker=side-effect]").count() == 1
    rows = course.get_by_test_id("table-course-pain").locator("tbody tr")
    expect(rows).to_have_count(2)
    first = rows.first.inner_text()
    assert "Bruising (Mild)" in first and "Back of neck and upper trapezius" in first and "Buttock" in first
    assert rows.nth(1).locator("td").nth(2).inner_text() == "1"  # one point at the second session


def test_the_psfs_is_scored_refused_when_wrong_and_trended_per_activity(page, log_in, physio, patient):
    log_in(physio)
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_test_id("psfs-link").click()
    page.get_by_label("Activity 1").fill("Reaching overhead")
    page.get_by_label("Score 1 (0-10)").fill("3")
    page.get_by_label("Activity 2").fill("Sleeping on the right side")
    page.get_by_label("Score 2 (0-10)").fill("11")
    page.get_by_role("button", name="Record the PSFS").click()
    expect(page.get_by_test_id("psfs-form")).to_contain_text("whole number from 0 (unable) to 10")
    assert not OutcomeMeasure.objects.exists()
    page.get_by_label("Score 2 (0-10)").fill("4")
    page.get_by_role("button", name="Record the PSFS").click()
    table = page.get_by_test_id("table-course-psfs")
    expect(table).to_contain_text("3.50")

    # The next scoring offers the same activities, word for word.
    page.get_by_test_id("psfs-link").click()
    expect(page.get_by_label("Activity 1")).to_have_value("Reaching overhead")
    expect(page.get_by_label("Activity 2")).to_have_value("Sleeping on the right side")
    page.get_by_label("Score 1 (0-10)").fill("6")
    page.get_by_label("Score 2 (0-10)").fill("7")
    page.get_by_role("button", name="Record the PSFS").click()
    expect(page.get_by_test_id("table-course-psfs").locator("tbody tr")).to_have_count(2)
    line = page.locator("svg[data-chart=course-psfs] g[data-series='Reaching overhead'] circle")
    assert [c.get_attribute("data-value") for c in line.all()] == ["3", "6"]


def test_the_manager_exports_the_psfs(page, log_in, physio, patient):
    record_psfs(patient=patient, by=physio, activities=[("Reaching overhead", 3), ("Stairs", 8)])
    log_in(ManagerFactory())
    today = timezone.localdate()
    page.goto("/reports/exports/")
    page.locator("#id_start").fill(f"{today - timedelta(days=7):%Y-%m-%d}")
    page.locator("#id_end").fill(f"{today:%Y-%m-%d}")
    page.get_by_role("button", name="Apply").click()
    with page.expect_download() as download:
        page.get_by_test_id("csv-psfs").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert [(r["Activity"], r["Activity score (0-10)"], r["PSFS score"]) for r in rows] == [
        ("Reaching overhead", "3", "5.50"),
        ("Stairs", "8", "5.50"),
    ]
    assert {r["Chart number"] for r in rows} == {patient.chart_number}
