"""Issue 6 item 6: the manager filters one month, reads a figure the test counts itself, downloads the CSV
and the XLSX and the test checks their rows; the front desk and physiotherapists get 403 on exports."""

import csv
import io
import os
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from appointments.models import Appointment
from tests.factories import (
    AppointmentFactory,
    FrontDeskFactory,
    ManagerFactory,
    PatientFactory,
    PhysioFactory,
)
from tests.reports.conftest import add_session
from treatments.models import NeedlingSession

pytestmark = pytest.mark.django_db(transaction=True)
# The README's screenshot; rewritten only when asked (UPDATE_DOCS_SCREENSHOT=1), so a test run leaves the
# checkout as it found it.
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "reports.png"


def last_month():
    first_this = timezone.localdate().replace(day=1)
    end = first_this - timedelta(days=1)
    return end.replace(day=1), end


def at(day, hour):
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


def a_month_of_work(start, end):
    anna, ben = PhysioFactory(full_name="Anna Lee"), PhysioFactory(full_name="Ben Okafor")
    statuses = ["completed", "completed", "completed", "no_show", "cancelled", "completed"]
    day, n = start, 0
    while day <= end:
        if day.weekday() < 5:
            for hour, therapist in ((9, anna), (10, ben), (11, anna)):
                patient = PatientFactory()
                status = statuses[n % len(statuses)]
                AppointmentFactory(
                    patient=patient,
                    therapist=therapist,
                    start=at(day, hour),
                    status=status,
                    cancel_reason="Unwell" if status == "cancelled" else "",
                )
                if status == "completed":
                    points = [("Gluteus medius", "single"), ("Infraspinatus", "none")][: 1 + n % 2]
                    effects = [("bruising", "mild")] if n % 5 == 0 else []
                    # History loaded from the clinic's previous system (consent was on paper then).
                    add_session(
                        patient, therapist, at(day, hour), points, pain=(6, 3), effects=effects, legacy=True
                    )
                n += 1
        day += timedelta(days=1)
    # One session with a neck point and no consent on file: the consent coverage alarm.
    add_session(
        PatientFactory(),
        anna,
        at(start + timedelta(days=2), 13),
        [("Upper trapezius", "single")],
        legacy=True,
    )
    # Work either side of the month, which the month's figures must leave out.
    for day in (start - timedelta(days=1), end + timedelta(days=1)):
        add_session(PatientFactory(), anna, at(day, 9), [("Gluteus medius", "none")], legacy=True)
    return anna


def test_the_manager_reads_a_month_and_downloads_its_rows(page, log_in, tmp_path):
    start, end = last_month()
    a_month_of_work(start, end)
    expected_sessions = NeedlingSession.objects.filter(
        started_at__gte=at(start, 0), started_at__lt=at(end + timedelta(days=1), 0)
    )
    appointments = Appointment.objects.filter(
        start__gte=at(start, 0), start__lt=at(end + timedelta(days=1), 0)
    )
    no_show = appointments.filter(status="no_show").count() / appointments.count()

    log_in(ManagerFactory())
    page.get_by_role("link", name="Activity and outcomes").first.click()
    page.locator("#id_start").fill(start.isoformat())
    page.locator("#id_end").fill(end.isoformat())
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"start="))

    assert page.get_by_test_id("figure-sessions").inner_text() == str(expected_sessions.count())
    assert page.get_by_test_id("figure-appointments").inner_text() == str(appointments.count())
    assert page.get_by_test_id("figure-no-show").inner_text() == f"{100 * no_show:.1f}%"
    assert page.locator("svg[data-chart=activity] circle").count() == 2 * ((end - start).days + 1)
    assert "0 of 1 sessions with neck or mid back points" in page.get_by_test_id("consent-alarm").inner_text()
    screenshot = DOCS_SCREENSHOT if os.environ.get("UPDATE_DOCS_SCREENSHOT") else tmp_path / "reports.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000

    page.get_by_role("link", name="Exports", exact=True).last.click()
    with page.expect_download() as csv_download:
        page.get_by_test_id("csv-sessions").click()
    body = Path(csv_download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:2] == ["Session", "Chart number"]
    assert sorted(int(r[0]) for r in rows[1:]) == sorted(expected_sessions.values_list("id", flat=True))
    charts = dict(expected_sessions.values_list("id", "patient__chart_number"))
    assert all(charts[int(r[0])] == r[1] for r in rows[1:])

    with page.expect_download() as xlsx_download:
        page.get_by_test_id("xlsx-appointments").click()
    sheet = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()), read_only=True).active
    cells = list(sheet.iter_rows(values_only=True))
    assert cells[0][0] == "Appointment"
    assert sorted(r[0] for r in cells[1:]) == sorted(appointments.values_list("id", flat=True))
    assert xlsx_download.value.suggested_filename == f"appointments-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"


@pytest.mark.parametrize("factory", [FrontDeskFactory, PhysioFactory])
def test_front_desk_and_physiotherapists_get_403_on_exports(page, log_in, factory):
    log_in(factory())
    start, end = date(2026, 10, 1), date(2026, 10, 31)
    for url in ("/reports/exports/", f"/reports/exports/sessions/?start={start}&end={end}"):
        response = page.goto(url)
        assert response.status == 403
    assert page.get_by_role("link", name="Exports").count() == 0


def test_exports_open_on_the_last_90_days_with_labels_and_codes_for_analysts(page, log_in):
    """Issue 14 part 4: no dates to type (the last 90 days, like the dashboards); the files hold the labels
    people read; "Codes instead of labels" gives the codes, and the XLSX has its "codes" sheet."""
    yesterday = timezone.localdate() - timedelta(days=1)
    therapist = PhysioFactory(full_name="Anna Lee")
    AppointmentFactory(therapist=therapist, start=at(yesterday, 9), status="completed")
    add_session(
        PatientFactory(),
        therapist,
        at(yesterday, 9),
        [("Upper trapezius", "single")],
        effects=[("bruising", "mild")],
        legacy=True,
    )
    log_in(ManagerFactory())
    page.goto("/reports/exports/")
    start = timezone.localdate() - timedelta(days=89)
    assert page.locator("#id_start").input_value() == start.isoformat()

    with page.expect_download() as points_download:
        page.get_by_test_id("csv-needle_points").click()
    rows = list(csv.DictReader(io.StringIO(Path(points_download.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == 1
    assert rows[0]["Muscle"] == "Upper trapezius"
    assert rows[0]["Body region"] == "Back of neck and upper trapezius"
    assert rows[0]["Risk region"] == "Neck (cervical)"
    assert rows[0]["Side"] in ("Left", "Right", "Bilateral")

    with page.expect_download() as appointments_download:
        page.get_by_test_id("csv-appointments").click()
    body = Path(appointments_download.value.path()).read_text(encoding="utf-8")
    assert [r["Status"] for r in csv.DictReader(io.StringIO(body))] == ["Completed"]

    with page.expect_download() as effects_download:
        page.get_by_test_id("xlsx-side_effects").click()
    workbook = load_workbook(io.BytesIO(Path(effects_download.value.path()).read_bytes()), read_only=True)
    assert workbook.sheetnames == ["Side effects", "codes"]
    sheet = [list(r) for r in workbook["Side effects"].iter_rows(values_only=True)]
    row = dict(zip(sheet[0], sheet[1], strict=True))
    assert (row["Type"], row["Severity"], row["Resolved"]) == ("Bruising", "Mild", "No")
    assert ["Resolved", "f", "No"] in [list(r) for r in workbook["codes"].iter_rows(values_only=True)]

    page.get_by_label("Codes instead of labels").check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"codes=on"))
    with page.expect_download() as coded_download:
        page.get_by_test_id("csv-needle_points").click()
    body = Path(coded_download.value.path()).read_text(encoding="utf-8")
    coded = list(csv.DictReader(io.StringIO(body)))
    assert (coded[0]["Body region"], coded[0]["Risk region"]) == ("neck_posterior", "neck")
    assert coded[0]["Side"] in ("L", "R", "B")
