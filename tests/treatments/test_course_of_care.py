"""The chart's course of care (issue 14 part 2): sessions over time with pain before and after, points
and body regions, side effects, the PSFS trended by activity, each as a chart with its table, and the
plan's review date, set in the session's plan. A constant number of queries whatever the number of
sessions."""

import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tests.factories import NeedlingSessionFactory, complete_session, give_consent, muscle, needle
from treatments.course import course_panel, psfs_trend
from treatments.models import NeedlingSession, SideEffect
from treatments.outcomes import psfs_history, record_psfs
from treatments.services import add_point, content_hash, save_draft, sign_session

pytestmark = [pytest.mark.django_db, pytest.mark.clock]
SVG = "{http://www.w3.org/2000/svg}"


def clinic_time(*args):
    return datetime(*args, tzinfo=ZoneInfo(settings.TIME_ZONE))


@pytest.fixture
def course(clinician, patient):
    """Three sessions a week apart: pain 7 -> 4, 5 -> 3, and a draft with no pain scored yet; the first
    with a gluteus and an upper trapezius point and a bruise, the second with one calf point."""
    give_consent(patient)
    start = timezone.now() - timedelta(days=14)
    sessions = []
    for week, (before, after) in enumerate([(7, 4), (5, 3), (None, None)]):
        sessions.append(
            NeedlingSessionFactory(
                patient=patient,
                clinician=clinician,
                started_at=start + timedelta(days=7 * week),
                pain_before=before,
                pain_after=after,
            )
        )
    first, second, _third = sessions
    for spec in [("Gluteus medius", "R", ("0.30", 60), 40), ("Upper trapezius", "L", ("0.25", 30), 15)]:
        add_point(first, by=clinician, muscle=muscle(spec[0]), side=spec[1], needle_size=needle(*spec[2]),
                  depth_mm=spec[3])  # fmt: skip
    add_point(
        second, by=clinician, muscle=muscle("Soleus"), side="R", needle_size=needle("0.30", 50), depth_mm=20
    )
    SideEffect.objects.create(session=first, type="bruising", severity="mild")
    return sessions


def chart(client, patient):
    return client.get(reverse("patients:chart", args=[patient.pk])).content.decode()


def test_the_table_lists_each_session_with_pain_points_regions_and_side_effects(
    client, clinician, patient, course
):
    client.force_login(clinician)
    panel = course_panel(type("Request", (), {"user": clinician})(), patient)
    rows = [row["cells"] for row in panel["context"]["pain_trend"].rows]
    days = [f"{timezone.localtime(s.started_at):%Y-%m-%d}" for s in course]
    assert rows == [
        [
            days[0],
            7,
            4,
            2,
            "Buttock and hip (back), Back of neck and upper trapezius",
            "Bruising (Mild)",
            "draft",
        ],
        [days[1], 5, 3, 1, "Calf", "None", "draft"],
        [days[2], "–", "–", 0, "–", "None", "draft"],
    ]
    page = chart(client, patient)
    assert 'data-testid="course-of-care"' in page and 'data-testid="table-course-pain"' in page


def test_the_chart_draws_pain_before_and_after_and_marks_the_side_effect(clinician, patient, course):
    panel = course_panel(type("Request", (), {"user": clinician})(), patient)
    root = ET.fromstring(panel["context"]["pain_trend"].svg)
    series = {g.get("data-series"): g for g in root.iter(f"{SVG}g") if g.get("data-series")}
    assert set(series) == {"Pain before", "Pain after"}
    assert [c.get("data-value") for c in series["Pain before"].iter(f"{SVG}circle")] == ["7", "5"]
    assert [c.get("data-value") for c in series["Pain after"].iter(f"{SVG}circle")] == ["4", "3"]
    markers = [g for g in root.iter(f"{SVG}g") if g.get("data-marker") == "side-effect"]
    assert len(markers) == 1 and "Bruising (Mild)" in markers[0].find(f"{SVG}title").text
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "2 pts" in texts and "1 pt" in texts


def test_the_psfs_is_trended_per_activity_whatever_its_case_and_spacing(clinician, patient):
    record_psfs(patient=patient, by=clinician, activities=[("Running", 2), ("Stairs", 6)])
    record_psfs(patient=patient, by=clinician, activities=[("running ", 5), ("Golf", 4)])
    trend = psfs_trend(psfs_history(patient.pk))
    assert trend.columns[1:] == ["PSFS score", "running", "Stairs", "Golf"]
    assert [row["cells"][1:] for row in trend.rows] == [
        [pytest.approx(4), 2, 6, "–"],
        [pytest.approx(4.5), 5, "–", 4],
    ]
    root = ET.fromstring(trend.svg)
    lines = {g.get("data-series"): g for g in root.iter(f"{SVG}g") if g.get("data-series")}
    assert [c.get("data-value") for c in lines["running"].iter(f"{SVG}circle")] == ["2", "5"]


def test_an_activity_that_prints_as_markup_comes_out_as_text(clinician, patient):
    hostile = '"><script>alert(1)</script>'
    record_psfs(patient=patient, by=clinician, activities=[(hostile, 2)])
    root = ET.fromstring(psfs_trend(psfs_history(patient.pk)).svg)
    assert root.find(f".//{SVG}script") is None
    assert hostile in [g.get("data-series") for g in root.iter(f"{SVG}g")]


def test_the_chart_page_takes_the_same_queries_for_3_sessions_as_for_12(
    client, clinician, patient, course, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    record_psfs(patient=patient, by=clinician, activities=[("Running", 2)])
    client.force_login(clinician)
    chart(client, patient)  # the first view warms the session and the chain
    with CaptureQueriesContext(connection) as few:
        chart(client, patient)
    for n in range(9):
        session = NeedlingSessionFactory(patient=patient, clinician=clinician, pain_before=n, pain_after=1)
        add_point(session, by=clinician, muscle=muscle("Soleus"), side="L", needle_size=needle("0.30", 50),
                  depth_mm=20)  # fmt: skip
        SideEffect.objects.create(session=session, type="bruising", severity="mild")
        record_psfs(patient=patient, by=clinician, activities=[("Running", n), ("Stairs", 1)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = chart(client, patient)
    assert page.count('data-testid="table-course-pain"') == 1


# --- the plan's review date ----------------------------------------------------------------------------
def test_the_review_date_is_saved_with_the_plan_and_shown_on_the_chart(client, clinician, patient):
    with time_machine.travel(clinic_time(2026, 12, 7, 10), tick=False):
        session = NeedlingSessionFactory(patient=patient, clinician=clinician)
        client.force_login(clinician)
        response = client.post(
            reverse("treatments:save", args=[session.pk]),
            {"plan": "IMS weekly for 4 weeks", "review_on": "2026-12-28", "version": 1},
        )
        assert response.status_code == 302
        assert NeedlingSession.objects.get(pk=session.pk).review_on == date(2026, 12, 28)
        page = chart(client, patient)
        assert "2026-12-28</strong> (in 21 days)" in page
    with time_machine.travel(clinic_time(2027, 1, 2, 9), tick=False):
        client.force_login(clinician)  # a new day's login
        page = chart(client, patient)
        assert "overdue" in page and "was due 2026-12-28 (5 days ago)" in page


@pytest.mark.parametrize(
    ("review_on", "message"),
    [
        ("2026-12-06", "cannot be before the session (2026-12-07)"),
        ("2028-01-10", "more than a year after the session"),
        ("28/12/2026", "Enter a valid date"),
    ],
)
def test_a_review_date_before_the_session_or_far_ahead_is_refused(
    client, clinician, patient, review_on, message
):
    with time_machine.travel(clinic_time(2026, 12, 7, 10), tick=False):
        session = NeedlingSessionFactory(patient=patient, clinician=clinician)
        client.force_login(clinician)
        response = client.post(
            reverse("treatments:save", args=[session.pk]), {"review_on": review_on, "version": 1}
        )
        assert response.status_code == 422 and message in response.content.decode()
        assert NeedlingSession.objects.get(pk=session.pk).review_on is None


def test_the_service_refuses_a_review_date_before_the_session(clinician, patient):
    from django.core.exceptions import ValidationError

    session = NeedlingSessionFactory(patient=patient, clinician=clinician)
    yesterday = timezone.localdate() - timedelta(days=1)
    with pytest.raises(ValidationError, match="cannot be before the session"):
        save_draft(session, {"review_on": yesterday}, expected_version=1, by=clinician)


def test_the_signed_content_hash_covers_the_review_date(clinician, patient):
    give_consent(patient)
    session = NeedlingSessionFactory(patient=patient, clinician=clinician)
    without = content_hash(session)
    NeedlingSession.objects.filter(pk=session.pk).update(review_on=timezone.localdate() + timedelta(days=14))
    assert content_hash(session) != without
    complete_session(session)
    signed = sign_session(session, by=clinician)
    page_review = NeedlingSession.objects.get(pk=signed.pk).review_on
    assert page_review is not None and signed.content_hash == content_hash(signed)


def test_the_visit_summary_pdf_says_the_plan_review_date(client, clinician, patient):
    import io

    from pypdf import PdfReader

    session = NeedlingSessionFactory(patient=patient, clinician=clinician)
    review = timezone.localdate() + timedelta(days=21)
    client.force_login(clinician)
    before = client.get(reverse("treatments:pdf", args=[session.pk]))
    assert "Plan review" not in " ".join(
        p.extract_text() for p in PdfReader(io.BytesIO(before.content)).pages
    )
    NeedlingSession.objects.filter(pk=session.pk).update(review_on=review)
    response = client.get(reverse("treatments:pdf", args=[session.pk]))
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(response.content)).pages)
    assert f"Plan review: {review:%Y-%m-%d}" in text
